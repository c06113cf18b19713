/*
 * script_pool.c - where preprocess scripts run (script_pool.h is the
 * interface): engines on the callers' own threads, or helper processes.
 *
 * On the callers' threads (PT_SCRIPT_THREAD), a "worker" is a Duktape
 * engine that one caller at a time borrows and runs under
 * script_guard.h's deadline; an engine whose run was abandoned is freed
 * without Duktape and replaced on demand.  The rest of this comment is
 * about the helper processes (PT_SCRIPT_PROCESS; script.h says why they
 * exist):
 *
 *	responder --ctl socket--> zygote --fork--> worker, worker, ...
 *	    \________________ one socket per worker ______/
 *
 * The zygote is forked once, at pool start, while the responder is still
 * one thread with no store open; it only ever forks workers and kills
 * them, on the responder's word.  Forking from it rather than from the
 * responder means no worker is a copy of a process with 32 threads (and
 * their locks), an open LMDB environment or the FastCGI socket.  A worker
 * that ended stays a zombie until the responder retires it, so its pid
 * cannot be reused by another process before the zygote kills it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "nitems.h"
#include "sandbox.h"
#include "script_duk.h"
#include "script_guard.h"
#include "script_pool.h"
#include "script_wire.h"
#include "timeutil.h"

/* Where the zygote and every worker keep their one socket. */
#define CTL_FD		3
/* How long a new worker may take to say it is ready (ASan, loaded CI). */
#define START_TIMEOUT_MS 10000
/* Address space a worker may add to what it inherits: the largest
 * memory_kb, with room for the engine and the frames. */
#define WORKER_AS_HEADROOM (512UL * 1024 * 1024)

enum { ZCMD_SPAWN = 1, ZCMD_RETIRE = 2 };

struct zcmd {
	int32_t	op;
	int32_t	pid;
};

struct zreply {
	int32_t	pid;	/* the new worker, or -1 */
	int32_t	err;	/* errno when pid is -1 */
};

struct worker {
	int		 fd;
	pid_t		 pid;
	unsigned	 timeo_ms;	/* SO_RCVTIMEO and SO_SNDTIMEO now */
	struct pt_sduk	*eng;		/* PT_SCRIPT_THREAD: the engine */
	int		 abandoned;	/* ... after a run was abandoned */
	struct worker	*next;
};

struct pt_script_pool {
	pthread_mutex_t			 mu;	/* all below but ctl */
	pthread_cond_t			 cv;	/* a worker came free */
	struct worker			*idle;
	int				 threads; /* PT_SCRIPT_THREAD */
	unsigned			 alive;	/* idle, busy or starting */
	unsigned			 max;
	int				 broken; /* the zygote is gone */
	struct pt_script_pool_stats	 st;
	pthread_mutex_t			 ctl_mu; /* one command at a time */
	int				 ctl;
	pid_t				 zygote;
};

static int
write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Close every descriptor from "lo" up. */
static void
close_from(int lo)
{
	int i;

#ifdef HAVE_CLOSE_RANGE
	if (close_range((unsigned)lo, ~0U, 0) == 0)
		return;
#endif
	for (i = lo; i < 65536; i++)
		(void)close(i);
}

/*
 * In a new zygote or worker: the socket "fd" becomes CTL_FD, 0 and 1
 * /dev/null (fd 0 may be the FastCGI listener), 2 stays the error log,
 * nothing else stays open.
 */
static void
settle_fds(int fd)
{
	int null;

	if (fd != CTL_FD) {
		if (dup2(fd, CTL_FD) == -1)
			_exit(72);
		if (fd > 2)
			(void)close(fd);
	}
	if ((null = open("/dev/null", O_RDWR)) == -1)
		_exit(72);
	(void)dup2(null, 0);
	(void)dup2(null, 1);
	if (fd == 2)
		(void)dup2(null, 2);
	close_from(CTL_FD + 1);
}

/*
 * What both kinds of child do first: default signals (the responder's
 * handlers mean nothing here; SIGPROF must end a worker), nothing
 * blocked, and death when "parent" dies.
 */
static void
child_common(pid_t parent, const char *name)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
	    SIGUSR2, SIGCHLD, SIGALRM, SIGPROF, SIGXCPU };
	sigset_t none;
	size_t i;

	for (i = 0; i < nitems(sigs); i++)
		(void)signal(sigs[i], SIG_DFL);
	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, name);
}

#ifndef PT_SANITIZED
/* The address space in use now, in bytes (0 when unknown). */
static unsigned long
vm_size(void)
{
	unsigned long pages = 0;
	FILE *f;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}
#endif

/*
 * A worker's rlimits: no core file (it would hold the variables, which
 * are secrets), no file written, and an address-space ceiling above what
 * the engine needs for the largest memory_kb (the per-run budget itself
 * is the allocator's; this stops anything the allocator does not see).
 * Sanitizer runtimes reserve terabytes of shadow memory: no ceiling there.
 */
static void
worker_limits(void)
{
	struct rlimit zero = { 0, 0 };
#ifndef PT_SANITIZED
	struct rlimit as;
	unsigned long now = vm_size();

	if (now > 0) {
		as.rlim_cur = as.rlim_max = now + WORKER_AS_HEADROOM;
		(void)setrlimit(RLIMIT_AS, &as);
	}
#endif
	(void)setrlimit(RLIMIT_CORE, &zero);
	(void)setrlimit(RLIMIT_FSIZE, &zero);
}

/*
 * The worker's own bound: SIGPROF (whose default action ends the process)
 * after twice the run's timeout of CPU time.  Armed at every run, never
 * disarmed: an idle worker uses no CPU, and the next run re-arms it.
 */
static void
arm_cpu_timer(uint32_t timeout_ms)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	uint64_t ms = (uint64_t)timeout_ms * 2 + 50;

	it.it_value.tv_sec = (time_t)(ms / 1000);
	it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	(void)setitimer(ITIMER_PROF, &it, NULL);
}

/*
 * Read one frame (length word first) into "in"; -1 at EOF or on error.
 * One read usually brings the whole frame (the buffer keeps the size of
 * the largest so far); nothing follows it, since the responder sends the
 * next request only after the reply.
 */
static int
read_frame(int fd, struct pt_buf *in)
{
	uint32_t n;
	ssize_t got;

	pt_buf_reset(in);
	if (pt_buf_reserve(in, 65536) != PT_OK)
		return -1;
	while ((got = read(fd, in->data, in->cap - 1)) == -1 && errno == EINTR)
		;
	if (got < (ssize_t)sizeof(n))
		return -1;
	memcpy(&n, in->data, sizeof(n));
	if (n < PT_SW_REQ_HEAD - 4 || n > PT_SW_MAX_FRAME ||
	    (size_t)got > (size_t)n + 4)
		return -1;
	in->len = (size_t)got;
	if (pt_buf_reserve(in, (size_t)n + 4 - in->len) != PT_OK ||
	    read_full(fd, in->data + in->len, (size_t)n + 4 - in->len) == -1)
		return -1;
	in->len = (size_t)n + 4;
	return 0;
}

/* Tell the pool that this worker cannot start, and why; then end. */
static void __attribute__((noreturn))
worker_refuse(const char *why)
{
	uint32_t n = (uint32_t)strlen(why);

	(void)write_full(CTL_FD, &n, sizeof(n));
	(void)write_full(CTL_FD, why, n);
	_exit(73);
}

static void __attribute__((noreturn))
worker_main(int fd, pid_t zygote)
{
	struct pt_buf in = { 0 }, out = { 0 };
	struct pt_sduk *e;
	uint32_t ready = 0, timeout_ms;
	char why[256];

	child_common(zygote, "porter-script");
	settle_fds(fd);
	/* Local time is UTC for every script, read before the filter. */
	(void)setenv("TZ", "UTC", 1);
	tzset();
	worker_limits();
	if ((e = pt_sduk_new(why, sizeof(why))) == NULL)
		worker_refuse(why);
	if (pt_sandbox_script_worker(CTL_FD, why, sizeof(why)) == -1)
		worker_refuse(why);
	if (write_full(CTL_FD, &ready, sizeof(ready)) == -1)
		_exit(0);
	for (;;) {
		if (read_frame(CTL_FD, &in) == -1)
			_exit(0);
		memcpy(&timeout_ms, in.data + 12, sizeof(timeout_ms));
		arm_cpu_timer(timeout_ms);
		if (pt_sduk_handle(e, (const uint8_t *)in.data + 4, in.len - 4,
		    &out) == -1)
			_exit(75);
		if (write_full(CTL_FD, out.data, out.len) == -1)
			_exit(0);
	}
}

/* Send the reply of a spawn, with the worker's socket when there is one. */
static void
zygote_reply(const struct zreply *rep, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(CTL_FD, &mh, MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			_exit(0);
}

static void
zygote_spawn(void)
{
	struct zreply rep = { -1, 0 };
	pid_t pid, self = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		rep.err = errno;
		zygote_reply(&rep, -1);
		return;
	}
	if ((pid = fork()) == 0) {
		(void)close(sv[0]);
		worker_main(sv[1], self);
	}
	(void)close(sv[1]);
	if (pid == -1) {
		rep.err = errno;
		zygote_reply(&rep, -1);
	} else {
		rep.pid = (int32_t)pid;
		zygote_reply(&rep, sv[0]);
	}
	(void)close(sv[0]);
}

/* Kill and reap "pid" if it is one of our workers; others are ignored. */
static void
zygote_retire(pid_t pid)
{
	pid_t r;

	if (pid <= 0)
		return;
	while ((r = waitpid(pid, NULL, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r != 0)
		return;		/* already reaped now, or not our child */
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static void __attribute__((noreturn))
zygote_main(int fd, pid_t parent)
{
	struct zcmd cmd;

	child_common(parent, "porter-scripts");
	settle_fds(fd);
	for (;;) {
		if (read_full(CTL_FD, &cmd, sizeof(cmd)) == -1)
			_exit(0);	/* the responder is gone */
		if (cmd.op == ZCMD_SPAWN)
			zygote_spawn();
		else if (cmd.op == ZCMD_RETIRE)
			zygote_retire((pid_t)cmd.pid);
	}
}

static void
set_timeo(int fd, unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The zygote is gone: no worker can be started any more. */
static void
mark_broken(struct pt_script_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->broken = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Ask the zygote to kill and reap "pid".  Caller holds no lock. */
static void
zygote_kill(struct pt_script_pool *p, pid_t pid)
{
	struct zcmd cmd = { ZCMD_RETIRE, (int32_t)pid };
	int rc;

	pthread_mutex_lock(&p->ctl_mu);
	rc = write_full(p->ctl, &cmd, sizeof(cmd));
	pthread_mutex_unlock(&p->ctl_mu);
	if (rc == -1)
		mark_broken(p);
}

/* Receive the zygote's answer to a spawn: the pid and socket. */
static int
zygote_answer(struct pt_script_pool *p, struct zreply *rep, int *fdp)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	*fdp = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	while ((n = recvmsg(p->ctl, &mh, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*rep))
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fdp, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* A new engine for the callers' threads (its heap set up: 3-8 ms). */
static struct worker *
spawn_engine(struct pt_script_pool *p, char *why, size_t whylen)
{
	struct worker *w;

	if ((w = pt_calloc(1, sizeof(*w))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	w->fd = -1;
	if ((w->eng = pt_sduk_new(why, whylen)) == NULL) {
		pt_free(w);
		return NULL;
	}
	pthread_mutex_lock(&p->mu);
	p->st.started++;
	pthread_mutex_unlock(&p->mu);
	return w;
}

/*
 * A new worker, ready to run (it said so).  NULL with "why" when the
 * zygote cannot fork or the worker could not set itself up.
 */
static struct worker *
spawn(struct pt_script_pool *p, char *why, size_t whylen)
{
	struct zcmd cmd = { ZCMD_SPAWN, 0 };
	struct zreply rep;
	struct worker *w;
	uint32_t n;
	char text[256];
	int fd = -1, rc;

	if (p->threads)
		return spawn_engine(p, why, whylen);
	pthread_mutex_lock(&p->ctl_mu);
	rc = write_full(p->ctl, &cmd, sizeof(cmd));
	if (rc == 0)
		rc = zygote_answer(p, &rep, &fd);
	pthread_mutex_unlock(&p->ctl_mu);
	if (rc == -1) {
		mark_broken(p);
		snprintf(why, whylen, "the script supervisor process is gone");
		return NULL;
	}
	if (rep.pid <= 0 || fd < 0) {
		snprintf(why, whylen, "cannot start a script worker: %s",
		    strerror(rep.pid <= 0 ? rep.err : EBADF));
		if (fd >= 0)
			(void)close(fd);
		if (rep.pid > 0)
			zygote_kill(p, rep.pid);
		return NULL;
	}
	set_timeo(fd, START_TIMEOUT_MS);
	if (read_full(fd, &n, sizeof(n)) == -1) {
		snprintf(why, whylen, "a script worker did not start: %s",
		    errno == EAGAIN || errno == EWOULDBLOCK ? "no word in time" :
		    "it ended (see the error log)");
		goto fail;
	}
	if (n != 0) {
		if (n >= sizeof(text))
			n = sizeof(text) - 1;
		if (read_full(fd, text, n) == -1)
			n = 0;
		text[n] = '\0';
		snprintf(why, whylen, "a script worker cannot start: %s", text);
		goto fail;
	}
	if ((w = pt_calloc(1, sizeof(*w))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	w->fd = fd;
	w->pid = rep.pid;
	w->timeo_ms = START_TIMEOUT_MS;
	pthread_mutex_lock(&p->mu);
	p->st.started++;
	pthread_mutex_unlock(&p->mu);
	return w;
fail:
	(void)close(fd);
	zygote_kill(p, rep.pid);
	return NULL;
}

/* A free worker, started if need be; NULL with "why". */
static struct worker *
take(struct pt_script_pool *p, char *why, size_t whylen)
{
	struct worker *w;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if ((w = p->idle) != NULL) {
			p->idle = w->next;
			pthread_mutex_unlock(&p->mu);
			return w;
		}
		if (p->broken) {
			pthread_mutex_unlock(&p->mu);
			snprintf(why, whylen, "the script supervisor process is "
			    "gone");
			return NULL;
		}
		if (p->alive < p->max)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	p->alive++;
	pthread_mutex_unlock(&p->mu);
	if ((w = spawn(p, why, whylen)) == NULL) {
		pthread_mutex_lock(&p->mu);
		p->alive--;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return w;
}

/* "w" free again; "ran": it answered a run. */
static void
give_back(struct pt_script_pool *p, struct worker *w, int ran)
{
	pthread_mutex_lock(&p->mu);
	w->next = p->idle;
	p->idle = w;
	p->st.runs += ran ? 1 : 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Kill a worker and forget it; "res" says why, for the counters. */
static void
retire(struct pt_script_pool *p, struct worker *w, enum pt_spool_res res)
{
	if (p->threads) {
		if (w->abandoned)
			pt_sduk_abandon(w->eng);
		else
			pt_sduk_free(w->eng);
	} else {
		zygote_kill(p, w->pid);
		(void)close(w->fd);
	}
	pthread_mutex_lock(&p->mu);
	p->alive--;
	if (res == PT_SPOOL_TIMEOUT)
		p->st.killed++;
	else if (res == PT_SPOOL_DIED)
		p->st.died++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pt_free(w);
}

/*
 * Read the reply frame by "deadline" (mono_ms).  The first read blocks
 * (SO_RCVTIMEO bounds it: one system call when the reply is whole); a
 * reply that comes in pieces is waited for with poll.
 */
static enum pt_spool_res
receive(struct worker *w, int64_t deadline, struct pt_buf *reply,
    char *why, size_t whylen)
{
	size_t need = PT_SW_REPLY_HEAD;
	struct pollfd pfd;
	uint32_t flen;
	int64_t left;
	ssize_t n;
	int first = 1;

	pt_buf_reset(reply);
	while (reply->len < need) {
		if (pt_buf_reserve(reply, need - reply->len < 4096 ? 4096 :
		    need - reply->len) != PT_OK) {
			snprintf(why, whylen, "out of memory");
			return PT_SPOOL_DIED;
		}
		if (!first) {
			if ((left = deadline - pt_mono_ms()) <= 0)
				return PT_SPOOL_TIMEOUT;
			pfd.fd = w->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)left) == 0)
				return PT_SPOOL_TIMEOUT;
		}
		n = recv(w->fd, reply->data + reply->len, reply->cap -
		    reply->len - 1, first ? 0 : MSG_DONTWAIT);
		first = 0;
		if (n == 0) {
			snprintf(why, whylen, "the script worker ended "
			    "(killed by its CPU limit or a fault)");
			return PT_SPOOL_DIED;
		}
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			snprintf(why, whylen, "reading from the script worker: %s",
			    strerror(errno));
			return PT_SPOOL_DIED;
		}
		reply->len += (size_t)n;
		if (need == PT_SW_REPLY_HEAD && reply->len >= sizeof(flen)) {
			memcpy(&flen, reply->data, sizeof(flen));
			if (flen < PT_SW_REPLY_HEAD - 4 || flen > PT_SW_MAX_FRAME)
				goto garbage;
			need = (size_t)flen + 4;
		}
	}
	if (reply->len != need)
		goto garbage;
	reply->data[reply->len] = '\0';
	return PT_SPOOL_OK;
garbage:
	snprintf(why, whylen, "the script worker answered garbage");
	return PT_SPOOL_DIED;
}

/* One run on an engine, on this thread (pt_sguard_run's fn). */
struct engine_job {
	struct pt_sduk		*eng;
	const uint8_t		*req;
	size_t			 len;
	struct pt_buf		*reply;
	int			 rc;
};

static void
engine_run(void *arg)
{
	struct engine_job *j = arg;

	j->rc = pt_sduk_handle(j->eng, j->req + 4, j->len - 4, j->reply);
}

static enum pt_spool_res
call_engine(struct pt_script_pool *p, const void *req, size_t len,
    unsigned timeout_ms, struct pt_buf *reply, char *why, size_t whylen)
{
	struct engine_job j;
	enum pt_spool_res res = PT_SPOOL_OK;
	struct worker *w;

	if (len < 4) {
		snprintf(why, whylen, "the script request is cut short");
		return PT_SPOOL_DIED;
	}
	if ((w = take(p, why, whylen)) == NULL)
		return PT_SPOOL_UNAVAILABLE;
	j.eng = w->eng;
	j.req = req;
	j.len = len;
	j.reply = reply;
	j.rc = 0;
	switch (pt_sguard_run(timeout_ms, engine_run, &j)) {
	case PT_SGUARD_OK:
		if (j.rc == -1 || pt_buf_reserve(reply, 1) != PT_OK) {
			snprintf(why, whylen, "out of memory in the script "
			    "engine");
			res = PT_SPOOL_DIED;
		} else
			reply->data[reply->len] = '\0';
		break;
	case PT_SGUARD_TIMEOUT:
		snprintf(why, whylen, "ran longer than %u ms", timeout_ms);
		w->abandoned = 1;
		res = PT_SPOOL_TIMEOUT;
		break;
	case PT_SGUARD_FATAL:
		snprintf(why, whylen, "the script engine failed (a fatal "
		    "error; see the error log)");
		w->abandoned = 1;
		res = PT_SPOOL_DIED;
		break;
	default:
		snprintf(why, whylen, "no script timer for this thread");
		give_back(p, w, 0);
		return PT_SPOOL_UNAVAILABLE;
	}
	if (res == PT_SPOOL_OK)
		give_back(p, w, 1);
	else
		retire(p, w, res);
	return res;
}

enum pt_spool_res
pt_spool_call(struct pt_script_pool *p, const void *req, size_t len,
    unsigned timeout_ms, struct pt_buf *reply, char *why, size_t whylen)
{
	enum pt_spool_res res;
	struct worker *w;
	int64_t deadline;
	int tries = 0;

	if (timeout_ms == 0)
		timeout_ms = 1;
	if (p->threads)
		return call_engine(p, req, len, timeout_ms, reply, why, whylen);
again:
	if ((w = take(p, why, whylen)) == NULL)
		return PT_SPOOL_UNAVAILABLE;
	if (w->timeo_ms != timeout_ms) {
		set_timeo(w->fd, timeout_ms);
		w->timeo_ms = timeout_ms;
	}
	deadline = pt_mono_ms() + timeout_ms;
	if (write_full(w->fd, req, len) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			res = PT_SPOOL_TIMEOUT;
		else if ((errno == EPIPE || errno == ECONNRESET) &&
		    (unsigned)tries++ <= p->max) {
			/* It ended while idle (a worker runs nothing before
			 * it has the whole frame): not this run's doing.
			 * Each try retires one, so this ends. */
			retire(p, w, PT_SPOOL_DIED);
			goto again;
		} else {
			snprintf(why, whylen, "writing to the script worker: %s",
			    strerror(errno));
			res = PT_SPOOL_DIED;
		}
	} else
		res = receive(w, deadline, reply, why, whylen);
	if (res == PT_SPOOL_TIMEOUT)
		snprintf(why, whylen, "ran longer than %u ms", timeout_ms);
	if (res == PT_SPOOL_OK)
		give_back(p, w, 1);
	else
		retire(p, w, res);
	return res;
}

/* The pool of engines on the callers' threads. */
static enum pt_err
start_engines(unsigned max_workers, struct pt_script_pool **out, char *why,
    size_t whylen)
{
	struct pt_script_pool *p;
	struct worker *w;

	if ((p = pt_calloc(1, sizeof(*p))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return PT_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->ctl_mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threads = 1;
	p->max = max_workers;
	p->ctl = -1;
	/* The first engine now, so that a set-up failure shows at start. */
	p->alive = 1;
	if ((w = spawn_engine(p, why, whylen)) == NULL) {
		p->alive = 0;
		pt_script_pool_stop(p);
		return PT_EIO;
	}
	give_back(p, w, 0);
	*out = p;
	return PT_OK;
}

enum pt_err
pt_script_pool_start(enum pt_script_where where, unsigned max_workers,
    struct pt_script_pool **out, char *why, size_t whylen)
{
	struct pt_script_pool *p;
	struct worker *w;
	pid_t self = getpid(), zygote;
	char gwhy[200];
	int sv[2];

	*out = NULL;
	if (max_workers == 0) {
		snprintf(why, whylen, "a script pool needs at least one worker");
		return PT_EINVAL;
	}
	if (where != PT_SCRIPT_PROCESS) {
		if (pt_sguard_init(gwhy, sizeof(gwhy)) == 0)
			return start_engines(max_workers, out, why, whylen);
		if (where == PT_SCRIPT_THREAD) {
			snprintf(why, whylen, "scripts cannot run on the "
			    "responder's threads here: %s", gwhy);
			return PT_EINVAL;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return PT_EIO;
	}
	/* Forked before the pool exists: the zygote inherits no copy of it. */
	if ((zygote = fork()) == 0) {
		(void)close(sv[0]);
		zygote_main(sv[1], self);
	}
	(void)close(sv[1]);
	if (zygote == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		(void)close(sv[0]);
		return PT_EIO;
	}
	if ((p = pt_calloc(1, sizeof(*p))) == NULL) {
		snprintf(why, whylen, "out of memory");
		(void)close(sv[0]);
		while (waitpid(zygote, NULL, 0) == -1 && errno == EINTR)
			;
		return PT_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->ctl_mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max = max_workers;
	p->zygote = zygote;
	p->ctl = sv[0];
	/* The first worker now, so that a set-up failure shows at start. */
	p->alive = 1;
	if ((w = spawn(p, why, whylen)) == NULL)
		goto fail;
	give_back(p, w, 0);
	*out = p;
	return PT_OK;
fail:
	p->alive = 0;
	pt_script_pool_stop(p);
	return PT_EIO;
}

void
pt_script_pool_stop(struct pt_script_pool *p)
{
	struct worker *w;

	if (p == NULL)
		return;
	while ((w = p->idle) != NULL) {
		p->idle = w->next;
		retire(p, w, PT_SPOOL_OK);
	}
	if (p->ctl >= 0)
		(void)close(p->ctl);
	if (p->zygote > 0)
		while (waitpid(p->zygote, NULL, 0) == -1 && errno == EINTR)
			;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->ctl_mu);
	pthread_mutex_destroy(&p->mu);
	pt_free(p);
}

void
pt_script_pool_stats(struct pt_script_pool *p, struct pt_script_pool_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	st->alive = p->alive;
	st->threads = p->threads;
	pthread_mutex_unlock(&p->mu);
}
