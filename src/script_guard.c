/*
 * script_guard.c - a deadline for a script run on the caller's thread
 * (script_guard.h says how and why it is safe).
 */
#include "config.h"

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc.h"
#include "nitems.h"
#include "script_guard.h"

#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__)
#define HAVE_PC 1
#endif

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* While the interrupted thread is outside Duktape: look again this soon. */
#define RETRY_NS	1000000L

/* The executable segments of libduktape.so. */
struct range {
	uintptr_t	lo, hi;
};

static struct range	 engine[4];
static size_t		 nengine;
static int		 guard_sig;
static pthread_key_t	 thread_key;
static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 init_rc = -1;
static char		 init_why[200];

/* One guarded run, on the stack of pt_sguard_run. */
struct run {
	sigjmp_buf		 jb;
	volatile sig_atomic_t	 armed;
};

/* A thread's timer, made on its first run. */
struct thread_state {
	timer_t			 timer;
	struct run *volatile	 run;
};

static __thread struct thread_state *self;

#ifdef HAVE_PC
static uintptr_t
pc_of(void *ucv)
{
	ucontext_t *uc = ucv;

#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.pc;
#else
	return (uintptr_t)uc->uc_mcontext.gregs[REG_EIP];
#endif
}
#endif

#ifdef HAVE_PC
static int
in_engine(uintptr_t pc)
{
	size_t i;

	for (i = 0; i < nengine; i++)
		if (pc >= engine[i].lo && pc < engine[i].hi)
			return 1;
	return 0;
}
#endif

static void
set_timer(struct thread_state *t, time_t sec, long nsec)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = sec;
	its.it_value.tv_nsec = nsec;
	(void)timer_settime(t->timer, 0, &its, NULL);
}

static void
on_deadline(int sig, siginfo_t *si, void *ucv)
{
	struct thread_state *t = self;
	struct run *r;
	int saved = errno;

	(void)sig;
	if (t == NULL || si->si_code != SI_TIMER ||
	    si->si_value.sival_ptr != t || (r = t->run) == NULL || !r->armed)
		goto out;
#ifdef HAVE_PC
	if (in_engine(pc_of(ucv))) {
		r->armed = 0;
		siglongjmp(r->jb, PT_SGUARD_TIMEOUT);
	}
#else
	(void)ucv;
#endif
	set_timer(t, 0, RETRY_NS);
out:
	errno = saved;
}

static int
find_engine(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph;
	ElfW(Half) i;

	(void)size;
	(void)arg;
	if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libduktape") ==
	    NULL)
		return 0;
	for (i = 0; i < info->dlpi_phnum && nengine < nitems(engine); i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		engine[nengine].lo = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
		engine[nengine].hi = engine[nengine].lo + ph->p_memsz;
		nengine++;
	}
	return 1;
}

static void
thread_gone(void *p)
{
	struct thread_state *t = p;

	(void)timer_delete(t->timer);
	pt_free(t);
}

static void
init_once(void)
{
	struct sigaction sa;

#ifndef HAVE_PC
	snprintf(init_why, sizeof(init_why), "this machine's signal context "
	    "is not known to Porter");
	return;
#endif
	(void)dl_iterate_phdr(find_engine, NULL);
	if (nengine == 0) {
		snprintf(init_why, sizeof(init_why), "Duktape's code was not "
		    "found among the shared libraries (linked statically?)");
		return;
	}
	if (pthread_key_create(&thread_key, thread_gone) != 0) {
		snprintf(init_why, sizeof(init_why), "pthread_key_create "
		    "failed");
		return;
	}
	guard_sig = SIGRTMIN + 4;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_deadline;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (guard_sig > SIGRTMAX || sigaction(guard_sig, &sa, NULL) == -1) {
		snprintf(init_why, sizeof(init_why), "no real-time signal for "
		    "the script timer");
		return;
	}
	/* Local time is UTC for every script, as in the worker processes. */
	(void)setenv("TZ", "UTC", 1);
	tzset();
	init_rc = 0;
}

int
pt_sguard_init(char *why, size_t whylen)
{
	(void)pthread_once(&once, init_once);
	if (init_rc == -1)
		snprintf(why, whylen, "%s", init_why);
	return init_rc;
}

/* This thread's state, its timer made on first use; NULL if it cannot. */
static struct thread_state *
thread_state(void)
{
	struct thread_state *t;
	struct sigevent sev;

	if (self != NULL)
		return self;
	if (init_rc == -1 || (t = pt_calloc(1, sizeof(*t))) == NULL)
		return NULL;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = guard_sig;
	sev.sigev_value.sival_ptr = t;
	sev.sigev_notify_thread_id = (pid_t)gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) == -1) {
		pt_free(t);
		return NULL;
	}
	if (pthread_setspecific(thread_key, t) != 0) {
		thread_gone(t);
		return NULL;
	}
	self = t;
	return t;
}

enum pt_sguard_res
pt_sguard_run(unsigned timeout_ms, void (*fn)(void *), void *arg)
{
	struct thread_state *volatile t;
	struct run run;
	sigset_t set;
	int j;

	if ((t = thread_state()) == NULL || t->run != NULL)
		return PT_SGUARD_UNAVAILABLE;
	run.armed = 0;
	t->run = &run;
	/* Without the signal mask (no system call a run); the jump leaves
	 * the handler's signal blocked, so that path unblocks it. */
	if ((j = sigsetjmp(run.jb, 0)) != 0) {
		set_timer(t, 0, 0);
		t->run = NULL;
		sigemptyset(&set);
		sigaddset(&set, guard_sig);
		(void)pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		return (enum pt_sguard_res)j;
	}
	run.armed = 1;
	set_timer(t, (time_t)(timeout_ms / 1000),
	    (long)(timeout_ms % 1000) * 1000000L);
	fn(arg);
	/* Disarmed first: a signal now only finds the run over. */
	run.armed = 0;
	set_timer(t, 0, 0);
	t->run = NULL;
	return PT_SGUARD_OK;
}

void
pt_sguard_fatal(void)
{
	struct thread_state *t = self;
	struct run *r;

	if (t == NULL || (r = t->run) == NULL || !r->armed)
		return;
	r->armed = 0;
	siglongjmp(r->jb, PT_SGUARD_FATAL);
}
