/*
 * sandbox.c - the seccomp filter of porter.fcgi (see sandbox.h).  The only
 * file that includes libseccomp; built only with "configure --with-seccomp".
 *
 * An allow-list.  Every system call Porter needs is listed below in
 * groups, each with the reason it is needed; anything else kills the whole
 * process (SECCOMP_RET_KILL_PROCESS, seen as SIGSYS).  A few calls are
 * narrowed by their arguments (clone, socket, ioctl, prctl), and a few are
 * refused with an error instead of a kill, where callers cope with the
 * error and a kill would only make an ordinary program fail harder
 * (clone3, the chown family).
 *
 * NOTE: workflow handlers inherit the filter across execve, and
 * no_new_privs with it (set-id programs they run get no privilege, e.g.
 * the postdrop behind Postfix's sendmail).  The list therefore admits what
 * ordinary programs -- sh, coreutils, python, an SMTP client -- need for
 * file and network I/O, which file permissions bound anyway (only the DB
 * directory is writable; README "Least privilege").  What it keeps out is
 * what a compromised responder would use to reach the kernel or other
 * processes: ptrace and process_vm_*, namespaces (unshare, setns, clone
 * with CLONE_NEW*), mount, bpf, perf_event_open, kernel modules, keyrings,
 * io_uring, userfaultfd, raw and packet sockets, bind and listen,
 * identity changes (setuid...), clocks, reboot, swap, kexec.
 */
#include "config.h"

#include <errno.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

#include <seccomp.h>

#include "nitems.h"
#include "sandbox.h"


/*
 * Ending the process and signals: SIGTERM finishes the request in hand
 * (fcgi_main.c), SIGPIPE is ignored, exec.c blocks signals around fork and
 * kills a handler's process group at its timeout; abort() raises with
 * tgkill; sleep and timeout(1) in handlers use timers.
 */
static const int sys_signals[] = {
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending),
	SCMP_SYS(rt_sigsuspend), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(sigaltstack), SCMP_SYS(kill), SCMP_SYS(tgkill),
	SCMP_SYS(tkill), SCMP_SYS(pause), SCMP_SYS(alarm),
	SCMP_SYS(getitimer), SCMP_SYS(setitimer), SCMP_SYS(timer_create),
	SCMP_SYS(timer_settime), SCMP_SYS(timer_gettime),
	SCMP_SYS(timer_delete),
};

/*
 * Memory: malloc, thread stacks, LMDB's map of the store (mmap, msync),
 * and the dynamic loader of every program a handler runs (mprotect).
 */
static const int sys_memory[] = {
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(msync),
};

/*
 * Threads, locks and time: PORTER_THREADS workers and the group committer
 * (condition variables with timeouts), LMDB's process-shared robust
 * mutexes in lock.mdb (futex, the robust list), glibc registering rseq
 * for each thread; event times, timeouts and durations.  clone itself is
 * narrowed below.
 */
static const int sys_threads[] = {
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(set_tid_address), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time),
};

/*
 * Questions about the process: log lines carry the pid, LMDB's reader
 * table records it; shells and the dynamic loader of a handler ask the
 * rest at start-up (arch_prctl sets up thread-local storage on x86-64).
 */
static const int sys_identity[] = {
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getgroups),
	SCMP_SYS(getpgrp), SCMP_SYS(getpgid), SCMP_SYS(getsid),
	SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit),
	SCMP_SYS(prlimit64), SCMP_SYS(getrusage), SCMP_SYS(times),
	SCMP_SYS(getcwd), SCMP_SYS(chdir), SCMP_SYS(fchdir), SCMP_SYS(umask),
	SCMP_SYS(arch_prctl), SCMP_SYS(getpriority),
};

/*
 * Files: LMDB opens data.mdb and lock.mdb, writes pages with pwrite,
 * syncs with fdatasync, locks with fcntl; the store directory is created
 * on first use; FastCGI and CGI read and write their streams; handlers
 * read and write their own files (append-run: flock, >>, rename; "cp -p"
 * copies modes as ACL xattrs; ls and LeakSanitizer list directories with
 * the old getdents); OpenSSL reads CA certificates for httpc.c's TLS.
 * What may be written is bounded by file permissions, not here.
 */
static const int sys_files[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(open), SCMP_SYS(openat),
	SCMP_SYS(creat),
	SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(dup), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(fcntl), SCMP_SYS(flock), SCMP_SYS(fstat),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
	SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
	SCMP_SYS(chmod), SCMP_SYS(fchmod), SCMP_SYS(fchmodat),
	SCMP_SYS(ftruncate), SCMP_SYS(truncate), SCMP_SYS(fsync),
	SCMP_SYS(fdatasync), SCMP_SYS(fadvise64), SCMP_SYS(fallocate),
	SCMP_SYS(utimensat), SCMP_SYS(utime), SCMP_SYS(utimes),
	SCMP_SYS(futimesat), SCMP_SYS(copy_file_range), SCMP_SYS(sendfile),
	SCMP_SYS(splice), SCMP_SYS(getxattr), SCMP_SYS(lgetxattr),
	SCMP_SYS(fgetxattr), SCMP_SYS(listxattr), SCMP_SYS(llistxattr),
	SCMP_SYS(flistxattr), SCMP_SYS(setxattr), SCMP_SYS(lsetxattr),
	SCMP_SYS(fsetxattr), SCMP_SYS(removexattr), SCMP_SYS(lremovexattr),
	SCMP_SYS(fremovexattr),
};

/*
 * Workflow handlers (exec.c): fork twice (a watcher leading the handler's
 * process group, then the handler in it), execve, pipes for stdin,
 * stdout, stderr and the watcher's lifeline, then waitid or a pidfd to
 * learn that it exited and to kill the group at the timeout.  The handler
 * asks for a parent-death signal (prctl, below) and checks getppid.
 * Shells do the same.
 */
static const int sys_exec[] = {
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(execve),
	SCMP_SYS(execveat), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(setpgid), SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_send_signal),
	SCMP_SYS(pipe), SCMP_SYS(pipe2),
};

/*
 * Waiting for descriptors: exec.c polls the handler's pipes; libfcgi and
 * handler programs (python's selectors) use the others.
 */
static const int sys_poll[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(eventfd2),
};

/*
 * Sockets, for use only: FastCGI accepts on the listening socket the web
 * server handed over as fd 0 (libfcgi checks the peer and sets options);
 * the responder's own HTTP calls (httpc.c: libcurl connects, polls, and
 * resolves names in a thread of its own, over UDP to the DNS server) and
 * handlers connect onwards (an SMTP client, syslog).  No bind, no
 * listen: Porter never opens a listener of its own.  socket itself is
 * narrowed below.  test-httpc posts over HTTP and HTTPS inside the filter.
 */
static const int sys_sockets[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(shutdown),
	SCMP_SYS(getpeername), SCMP_SYS(getsockname), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(connect), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(socketpair),
};

/* Randomness: event and endpoint ids come from the kernel's CSPRNG. */
static const int sys_random[] = {
	SCMP_SYS(getrandom),
};

/*
 * A narrower filter on top (a script worker, sandbox.h): seccomp(2) can
 * only add filters, never lift one.
 */
static const int sys_filter[] = {
	SCMP_SYS(seccomp),
};

#ifdef PT_SANITIZED
/*
 * Test builds with AddressSanitizer: LeakSanitizer stops the world with
 * ptrace at exit and sets itself up with prctl (any option; the narrowed
 * prctl rules are not added in these builds).
 */
static const int sys_sanitizer[] = {
	SCMP_SYS(ptrace), SCMP_SYS(prctl), SCMP_SYS(process_vm_readv),
	SCMP_SYS(mincore),
};
#endif

struct sys_group {
	const char	*name;
	const int	*nrs;
	size_t		 n;
};

#define GROUP(name, arr) { (name), (arr), nitems(arr) }

static const struct sys_group groups[] = {
	GROUP("signals", sys_signals),
	GROUP("memory", sys_memory),
	GROUP("threads", sys_threads),
	GROUP("identity", sys_identity),
	GROUP("files", sys_files),
	GROUP("exec", sys_exec),
	GROUP("poll", sys_poll),
	GROUP("sockets", sys_sockets),
	GROUP("random", sys_random),
	GROUP("filter", sys_filter),
#ifdef PT_SANITIZED
	GROUP("sanitizer", sys_sanitizer),
#endif
};

/*
 * clone: threads (CLONE_VM|CLONE_THREAD...) and fork (SIGCHLD) but never
 * a new namespace.  The flags are the first argument except on s390.
 */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG SCMP_A1
#else
#define CLONE_FLAGS_ARG SCMP_A0
#endif
#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
	CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/*
 * socket: AF_UNIX (syslog, a local MTA), AF_INET and AF_INET6 (a handler
 * posting onwards), and AF_NETLINK only for NETLINK_ROUTE, which
 * getaddrinfo(AI_ADDRCONFIG) reads.  Not AF_PACKET, not other netlink
 * families (audit, netfilter, ...), not AF_ALG, AF_VSOCK, ...
 */
static const int socket_domains[] = { AF_UNIX, AF_INET, AF_INET6 };

/*
 * ioctl: isatty() and the terminal's size and process group (stdio
 * buffering, shells, python, ls), descriptor flags, and FICLONE, which
 * cp(1) tries first (it shares data between two files already open).
 * Not TIOCSTI (typing into a terminal), not device ioctls.  The kernel
 * takes the request as 32 bits, so only those are compared.
 */
static const unsigned long ioctl_requests[] = {
	TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
	FICLONE,
};

/*
 * prctl: naming threads, parent-death signals (exec.c: a handler dies with
 * its responder), read-only queries, and another filter on top of this
 * one (a script worker started on demand, script_pool.c: filters only
 * ever narrow what a process may do).  PR_SET_DUMPABLE is not here: the
 * responder clears it before the filter goes on (fcgi_main.c).
 */
static const int prctl_options[] = {
	PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG, PR_GET_PDEATHSIG,
	PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_SET_NO_NEW_PRIVS,
	PR_GET_SECCOMP, PR_SET_SECCOMP, PR_CAPBSET_READ,
};

/*
 * Refused with an errno rather than a kill.  clone3 passes its flags in
 * memory, where a filter cannot see them: ENOSYS makes glibc fall back to
 * clone, which is checked above.  chown: a handler's "cp -p" or "install"
 * gets EPERM, as it would as an unprivileged user.
 */
static const int sys_enosys[] = { SCMP_SYS(clone3) };
static const int sys_eperm[] = {
	SCMP_SYS(chown), SCMP_SYS(fchown), SCMP_SYS(lchown),
	SCMP_SYS(fchownat),
};

/* "nr" as a name, for messages. */
static void
sys_name(int nr, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	snprintf(buf, len, "%s", name ? name : "?");
	free(name);
}

/*
 * Add rule "action" for every call of "nrs".  A call this architecture
 * does not have (libseccomp's negative pseudo-numbers: open, fork, ... on
 * arm64) is skipped.  Returns 0, or -1 with the reason in "why".
 */
static int
add_list(scmp_filter_ctx ctx, uint32_t action, const char *group,
    const int *nrs, size_t n, char *why, size_t whylen)
{
	char name[64];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (nrs[i] < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, action, nrs[i], 0)) < 0) {
			sys_name(nrs[i], name, sizeof(name));
			snprintf(why, whylen, "seccomp: group %s, %s: %s", group,
			    name, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* The rules that look at arguments (see above).  0, or -1 and "why". */
static int
add_narrowed(scmp_filter_ctx ctx, char *why, size_t whylen)
{
	const char *what;
	size_t i;
	int rc;

	what = "clone";
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    CLONE_FLAGS_ARG(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0))) < 0)
		goto fail;
	what = "socket";
	for (i = 0; i < nitems(socket_domains); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
		    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_domains[i]))) < 0)
			goto fail;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE))) < 0)
		goto fail;
	what = "ioctl";
	for (i = 0; i < nitems(ioctl_requests); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl),
		    1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
		    (scmp_datum_t)ioctl_requests[i]))) < 0)
			goto fail;
#ifndef PT_SANITIZED
	what = "prctl";
	for (i = 0; i < nitems(prctl_options); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl),
		    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_options[i]))) < 0)
			goto fail;
#else
	(void)prctl_options;
#endif
	return 0;
fail:
	snprintf(why, whylen, "seccomp: %s rule: %s", what, strerror(-rc));
	return -1;
}

/*
 * A new filter that kills the whole process on any call not allowed,
 * made through any ABI; no_new_privs (the default) lets an unprivileged
 * process install it.  "tsync": every thread gets it.  NULL and "why".
 */
static scmp_filter_ctx
new_filter(int tsync, char *why, size_t whylen)
{
	scmp_filter_ctx ctx;
	int rc;

	/* SECCOMP_RET_KILL_PROCESS needs API level 3 (Linux 4.14). */
	if (seccomp_api_get() < 3) {
		snprintf(why, whylen, "seccomp: the kernel cannot kill a whole "
		    "process on a filtered call (Linux 4.14 or later needed)");
		return NULL;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(why, whylen, "seccomp: cannot initialise a filter");
		return NULL;
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (tsync && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0) {
		snprintf(why, whylen, "seccomp: filter attributes: %s",
		    strerror(-rc));
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* Load "ctx" and release it.  0, or -1 and "why". */
static int
load_filter(scmp_filter_ctx ctx, char *why, size_t whylen)
{
	int rc;

	if ((rc = seccomp_load(ctx)) < 0) {
		snprintf(why, whylen, "seccomp: cannot load the filter: %s",
		    strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

int
pt_sandbox_install(char *why, size_t whylen)
{
	scmp_filter_ctx ctx;
	size_t i;

	if ((ctx = new_filter(1, why, whylen)) == NULL)
		return -1;
	for (i = 0; i < nitems(groups); i++)
		if (add_list(ctx, SCMP_ACT_ALLOW, groups[i].name, groups[i].nrs,
		    groups[i].n, why, whylen) == -1)
			goto fail;
	if (add_narrowed(ctx, why, whylen) == -1 ||
	    add_list(ctx, SCMP_ACT_ERRNO(ENOSYS), "enosys", sys_enosys,
	    nitems(sys_enosys), why, whylen) == -1 ||
	    add_list(ctx, SCMP_ACT_ERRNO(EPERM), "eperm", sys_eperm,
	    nitems(sys_eperm), why, whylen) == -1)
		goto fail;
	return load_filter(ctx, why, whylen);
fail:
	seccomp_release(ctx);
	return -1;
}

/*
 * A script worker, once set up (script_pool.c): ending, glibc's malloc
 * (brk, mmap and friends; mmap is narrowed below), the CPU-time timer
 * each run arms, what abort() does, and glibc's internal locks.  No
 * open, no socket, no fork or exec, no clock, no signal handlers: a
 * compromised engine can only talk to the responder over its socket.
 */
static const int script_calls[] = {
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(setitimer),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(futex),
};

#ifdef PT_SANITIZED
/* AddressSanitizer's report of a fault in a worker: it reads the maps,
 * symbolises and writes to stderr, on its own stack. */
static const int script_sanitizer[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(read),
	SCMP_SYS(write), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(readlink), SCMP_SYS(mprotect), SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction), SCMP_SYS(getppid), SCMP_SYS(sched_yield),
	SCMP_SYS(prctl), SCMP_SYS(ptrace), SCMP_SYS(mincore),
	SCMP_SYS(process_vm_readv), SCMP_SYS(clock_gettime),
};
#endif

int
pt_sandbox_script_worker(int fd, char *why, size_t whylen)
{
	const char *s = getenv("PORTER_SECCOMP");
	scmp_filter_ctx ctx;
	int rc;

	if (s != NULL && strcmp(s, "0") == 0)
		return 0;
	if ((ctx = new_filter(0, why, whylen)) == NULL)
		return -1;
	if (add_list(ctx, SCMP_ACT_ALLOW, "script", script_calls,
	    nitems(script_calls), why, whylen) == -1)
		goto fail;
#ifdef PT_SANITIZED
	if (add_list(ctx, SCMP_ACT_ALLOW, "sanitizer", script_sanitizer,
	    nitems(script_sanitizer), why, whylen) == -1)
		goto fail;
#endif
	/* Frames come in with read and go out with send, on "fd" only;
	 * Duktape's fatal message goes to stderr. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd))) < 0 ||
#ifndef PT_SANITIZED	/* the sanitizer list has them unconditionally */
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
	    SCMP_A0(SCMP_CMP_EQ, 2))) < 0 ||
#endif
	    /* Memory, never executable: the engine is an interpreter. */
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0) {
		snprintf(why, whylen, "seccomp: script worker rule: %s",
		    strerror(-rc));
		goto fail;
	}
	return load_filter(ctx, why, whylen);
fail:
	seccomp_release(ctx);
	return -1;
}

int
pt_sandbox(char *why, size_t whylen)
{
	const char *s = getenv("PORTER_SECCOMP");
	size_t n;

	if (s != NULL && strcmp(s, "0") == 0)
		return 0;
	if (s != NULL && *s != '\0' && strcmp(s, "1") != 0) {
		snprintf(why, whylen, "PORTER_SECCOMP=%s: want 0 (off) or 1 "
		    "(on, the default)", s);
		return -1;
	}
	if (pt_sandbox_install(why, whylen) == -1) {
		n = strlen(why);
		if (n < whylen)
			snprintf(why + n, whylen - n, " (PORTER_SECCOMP=0 runs "
			    "without the filter)");
		return -1;
	}
	return 1;
}
