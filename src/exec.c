/*
 * exec.c - run a workflow handler (see exec.h).
 *
 * Two forks.  The first makes the watcher: the leader of a new process
 * group, holding the read end of a "lifeline" pipe whose only write end
 * is ours.  The second makes the handler, in the watcher's group: in the
 * child only async-signal-safe calls, the pipes on 0-2, every other
 * descriptor closed, signal dispositions and mask reset, execve.  An exec
 * failure comes back as an errno through a close-on-exec pipe.  The
 * parent feeds stdin and drains stdout/stderr with poll on non-blocking
 * descriptors (a child that never reads its input cannot block us),
 * bounded by the deadline on CLOCK_MONOTONIC, then SIGKILLs the whole
 * group and reaps both.
 *
 * Why a watcher: when the caller dies (kill -9 of a responder) nobody
 * would kill the group at the timeout, and the handler and whatever it
 * started would run on, past the sender's retry.  The kernel closes the
 * lifeline when the caller's process ends, however it ends; the watcher
 * reads end of file and kills its group.  PR_SET_PDEATHSIG alone would
 * not do: it signals only the direct child (not what a handler starts),
 * and fires when the forking *thread* ends.  The handler gets it as well
 * (SIGKILL), for the case that the watcher itself was killed.
 *
 * NOTE: the caller may be a multi-threaded FastCGI process with an LMDB
 * environment open: the children touch nothing of it (lmdb.h: "do not use
 * an MDB_env after fork"); the watcher closes every descriptor it
 * inherited but the lifeline, so it holds no socket or file of ours.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "exec.h"
#include "nitems.h"
#include "timeutil.h"

#define CHUNK		65536	/* bytes per read/write */
#define LINGER_MS	100	/* output drain after the child exits */
#define POLL_SLICE_MS	10	/* exit checks without a pidfd */

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * A close-on-exec pipe whose both ends are >= 3, so that the child's dup2
 * onto 0-2 never clobbers one of them (a FastCGI process may run with
 * 0-2 closed or used for its socket).  Returns 0 or -1 with errno set.
 */
static int
make_pipe(int p[2])
{
	int i, fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (p[i] >= 3)
			continue;
		if ((fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3)) == -1) {
			close(p[0]);
			close(p[1]);
			p[0] = p[1] = -1;
			return -1;
		}
		close(p[i]);
		p[i] = fd;
	}
	return 0;
}

/* Close every descriptor in [lo, hi] (hi may be ~0U). */
static void
close_from(unsigned lo, unsigned hi, int maxfd)
{
	int fd;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	for (fd = (int)lo; fd < maxfd && (unsigned)fd <= hi; fd++)
		close(fd);
}

/* Close every descriptor from "lo" up but "keep" (>= lo). */
static void
close_all_but(unsigned lo, int keep, int maxfd)
{
	close_from(lo, (unsigned)keep - 1, maxfd);
	close_from((unsigned)keep + 1, ~0U, maxfd);
}

/*
 * Give every signal the disposition "disp" (SIG_DFL or SIG_IGN; SIGKILL
 * and SIGSTOP refuse, as do glibc's own) and unblock them all.
 * Async-signal-safe.
 */
static void
all_signals(void (*disp)(int))
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = disp;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The watcher, after fork: async-signal-safe calls only.  It leads a new
 * process group, the handler's, and kills that group once "fd" (the
 * lifeline's read end) reads end of file, that is once the caller's
 * write end closed: the caller is done with the handler, or died.  It
 * ignores every signal it can, so that a handler's "kill 0" does not take
 * the watcher first; "maxfd" bounds the fallback close loop.
 * NOTE: the kill names the group by our own pid, never "0": were the
 * setpgid to fail, 0 would be the caller's group.
 */
static void __attribute__((noreturn))
watcher(int fd, int maxfd)
{
	ssize_t n;
	char c;

	(void)setpgid(0, 0);	/* the caller does it too; no race */
	close_all_but(0, fd, maxfd);
	all_signals(SIG_IGN);
	do
		n = read(fd, &c, 1);
	while (n > 0 || (n == -1 && errno == EINTR));
	kill(-getpid(), SIGKILL);
	_exit(0);
}

/*
 * The handler, between fork and execve: async-signal-safe calls only.
 * "fds" are stdin's read end, stdout's and stderr's write ends and the
 * exec-error pipe's write end; "maxfd" bounds the fallback close loop.
 * It joins the watcher's process group "group" and asks for SIGKILL when
 * "parent" (the caller's pid) dies; a parent gone before that is seen in
 * getppid.
 */
static void __attribute__((noreturn))
child(char *const argv[], char *const envp[], const int fds[4], int maxfd,
    pid_t group, pid_t parent)
{
	static char *const empty[] = { NULL };
	int e;

	if (setpgid(0, group) == -1)
		goto fail;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		goto fail;
	if (getppid() != parent)
		_exit(127);
	if (dup2(fds[0], 0) == -1 || dup2(fds[1], 1) == -1 ||
	    dup2(fds[2], 2) == -1)
		goto fail;
	/* Keep only 0-2 and the error pipe (close-on-exec). */
	close_all_but(3, fds[3], maxfd);
	/* Handlers would not survive execve; ignored signals would. */
	all_signals(SIG_DFL);
	execve(argv[0], argv, envp ? envp : empty);
fail:
	e = errno;
	while (write(fds[3], &e, sizeof(e)) == -1 && errno == EINTR)
		;
	_exit(127);
}

/* Wait for "pid", retrying on EINTR; 0 or -1. */
static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Record how the child ended. */
static void
set_status(struct pt_exec_result *res, int status)
{
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status))
		res->signal = WTERMSIG(status);
}

/*
 * Read what is available on "*fd" into "b", keeping at most "max" bytes
 * and discarding (and flagging in "*trunc") the rest.  Closes "*fd" at
 * end of file or on an error.
 */
static void
drain(int *fd, struct pt_buf *b, size_t max, int *trunc)
{
	char chunk[CHUNK];
	ssize_t n;
	size_t keep;

	for (;;) {
		n = read(*fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		keep = b->len < max ? max - b->len : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep < (size_t)n)
			*trunc = 1;
		if (keep > 0 && pt_buf_add(b, chunk, keep) != PT_OK)
			*trunc = 1;	/* out of memory: keep what we have */
		if ((size_t)n < sizeof(chunk))
			return;
	}
}

/*
 * Write more of the input to "*fd"; closes it when all is written or the
 * child has closed its end (*epipe set).
 */
static void
feed(int *fd, const char *input, size_t len, size_t *off, int *epipe)
{
	ssize_t n;
	size_t want;

	while (*off < len) {
		want = len - *off > CHUNK ? CHUNK : len - *off;
		n = write(*fd, input + *off, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			if (errno == EPIPE)
				*epipe = 1;
			close_fd(fd);
			return;
		}
		*off += (size_t)n;
	}
	close_fd(fd);
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Run the handler; see exec.h.  "timeout_ms" <= 0 means no limit.
 * NOTE: SIGPIPE stays blocked in the calling thread while we write the
 * input, and one we caused is consumed, so a child that closes its stdin
 * early cannot kill the caller whatever its SIGPIPE disposition.
 * NOTE: when argv[0] exits while something it started still holds its
 * output pipes, we read for LINGER_MS more, then kill the group.
 * NOTE: long because one function owns every descriptor, the signal mask
 * and both children from the first pipe to the last reap, so that the one
 * cleanup at "out" releases all of them whatever failed, and no helper can
 * return with a child or a mask left behind.
 */
enum pt_err
pt_exec(char *const argv[], char *const envp[], const void *input,
    size_t input_len, int64_t timeout_ms, size_t max_output,
    struct pt_exec_result *res)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 },
	    ex_p[2] = { -1, -1 }, life_p[2] = { -1, -1 }, fds[4], pidfd = -1,
	    status = 0, ex_errno = 0,
	    epipe = 0, pipe_pending = 0, exited = 0, lost = 0, lingering = 0,
	    maxfd, e, n;
	siginfo_t info;
	sigset_t all, old, pipeset, pending;
	struct pollfd pfd[4];
	struct rlimit rl;
	int64_t start, now, deadline = 0, linger = 0, wait_ms;
	size_t off = 0;
	ssize_t got;
	pid_t pid = -1, wpid = -1, self = getpid();
	enum pt_err rc = PT_EIO;
	int masked = 0;

	memset(res, 0, sizeof(*res));
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		snprintf(res->error, sizeof(res->error),
		    "the handler path must be absolute");
		return PT_EINVAL;
	}
	start = pt_mono_ms();
	if (timeout_ms > 0 && timeout_ms < INT64_MAX / 4)
		deadline = start + timeout_ms;
	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && rl.rlim_cur < 1048576 ? (int)rl.rlim_cur : 65536;
	if (make_pipe(in_p) == -1 || make_pipe(out_p) == -1 ||
	    make_pipe(err_p) == -1 || make_pipe(ex_p) == -1 ||
	    make_pipe(life_p) == -1 ||
	    set_nonblock(in_p[1]) == -1 || set_nonblock(out_p[0]) == -1 ||
	    set_nonblock(err_p[0]) == -1) {
		e = errno;
		snprintf(res->error, sizeof(res->error), "pipe: %s",
		    strerror(e));
		rc = e == EMFILE || e == ENFILE ? PT_EBUSY : PT_EIO;
		goto out;
	}
	fds[0] = in_p[0];
	fds[1] = out_p[1];
	fds[2] = err_p[1];
	fds[3] = ex_p[1];

	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	masked = 1;
	sigemptyset(&pending);
	sigpending(&pending);
	pipe_pending = sigismember(&pending, SIGPIPE) == 1;
	/* The watcher first: the group exists before the handler runs. */
	if ((wpid = fork()) == 0)
		watcher(life_p[0], maxfd);
	e = errno;
	if (wpid != -1) {
		(void)setpgid(wpid, wpid);
		if ((pid = fork()) == 0)
			child(argv, envp, fds, maxfd, wpid, self);
		e = errno;
	}
	/* Back to the caller's mask, plus SIGPIPE while we write. */
	pipeset = old;
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_SETMASK, &pipeset, NULL);
	close_fd(&life_p[0]);
	if (pid == -1) {
		snprintf(res->error, sizeof(res->error), "fork: %s",
		    strerror(e));
		rc = e == ENOMEM || e == EAGAIN ? PT_EBUSY : PT_EIO;
		goto out;
	}
	(void)setpgid(pid, wpid);	/* the child does it too; no race */
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	close_fd(&ex_p[1]);

	/* End of file: execve worked; an int: its errno. */
	do
		got = read(ex_p[0], &ex_errno, sizeof(ex_errno));
	while (got == -1 && errno == EINTR);
	close_fd(&ex_p[0]);
	if (got == (ssize_t)sizeof(ex_errno)) {
		reap(pid, &status);
		snprintf(res->error, sizeof(res->error), "%s: %s", argv[0],
		    strerror(ex_errno));
		rc = ex_errno == ENOMEM ? PT_ENOMEM : PT_EINVAL;
		goto out;
	}

#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0 && pidfd < 3) {
		/* Harmless, but keep the >= 3 habit of the pipes. */
		e = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
		close(pidfd);
		pidfd = e;
	}
#endif
	if (input_len == 0)
		close_fd(&in_p[1]);

	for (;;) {
		/*
		 * Notice the exit without reaping: the zombie keeps the pid,
		 * and so the group id, from being reused until we kill the
		 * group below.
		 */
		if (!exited) {
			memset(&info, 0, sizeof(info));
			e = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG |
			    WNOWAIT);
			if (e == 0 && info.si_pid == pid)
				exited = 1;
			else if (e == -1 && errno == ECHILD)
				exited = lost = 1;	/* SIGCHLD ignored */
			if (exited) {
				res->duration_ms = pt_mono_ms() - start;
				close_fd(&pidfd);
				close_fd(&in_p[1]);
			}
		}
		if (exited && out_p[0] < 0 && err_p[0] < 0)
			break;
		now = pt_mono_ms();
		if (!exited && deadline && now >= deadline) {
			res->timed_out = 1;
			break;
		}
		if (exited && !lingering) {
			lingering = 1;
			linger = now + LINGER_MS;
		}
		if (exited && now >= linger)
			break;	/* something it left holds the pipes */

		wait_ms = deadline ? deadline - now : -1;
		if (exited)
			wait_ms = linger - now;
		else if (pidfd < 0 && (wait_ms == -1 ||
		    wait_ms > POLL_SLICE_MS))
			wait_ms = POLL_SLICE_MS;
		if (wait_ms > 1000)
			wait_ms = 1000;
		n = 0;
		if (in_p[1] >= 0) {
			pfd[n].fd = in_p[1];
			pfd[n++].events = POLLOUT;
		}
		if (out_p[0] >= 0) {
			pfd[n].fd = out_p[0];
			pfd[n++].events = POLLIN;
		}
		if (err_p[0] >= 0) {
			pfd[n].fd = err_p[0];
			pfd[n++].events = POLLIN;
		}
		if (pidfd >= 0) {
			pfd[n].fd = pidfd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, (int)wait_ms) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(res->error, sizeof(res->error), "poll: %s",
			    strerror(errno));
			rc = PT_EIO;
			break;
		}
		/* Try every descriptor; none of these calls blocks. */
		if (in_p[1] >= 0)
			feed(&in_p[1], input, input_len, &off, &epipe);
		if (out_p[0] >= 0)
			drain(&out_p[0], &res->out, max_output,
			    &res->out_truncated);
		if (err_p[0] >= 0)
			drain(&err_p[0], &res->err, max_output,
			    &res->err_truncated);
	}
	/*
	 * Done, timed out or failed: nothing of the group may outlive the
	 * call.  The unreaped watcher, its leader, still holds the group id,
	 * so this reaches no stranger.
	 */
	if (!lost) {
		kill(-wpid, SIGKILL);
		kill(pid, SIGKILL);
		if (reap(pid, &status) == 0)
			set_status(res, status);
	}
	if (!exited)
		res->duration_ms = pt_mono_ms() - start;
	if (res->error[0] == '\0')
		rc = PT_OK;
out:
	/* The watcher's end of file: it kills the group if we did not. */
	close_fd(&life_p[1]);
	if (wpid > 0 && !lost) {
		kill(-wpid, SIGKILL);
		reap(wpid, NULL);
	}
	close_fd(&in_p[0]);
	close_fd(&in_p[1]);
	close_fd(&out_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[0]);
	close_fd(&err_p[1]);
	close_fd(&ex_p[0]);
	close_fd(&ex_p[1]);
	close_fd(&pidfd);
	if (masked) {
		/* Consume a SIGPIPE we caused, then restore the mask. */
		if (epipe && !pipe_pending) {
			struct timespec zero = { 0, 0 };
			sigset_t only;

			sigemptyset(&only);
			sigaddset(&only, SIGPIPE);
			while (sigtimedwait(&only, NULL, &zero) == -1 &&
			    errno == EINTR)
				;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc == PT_OK) {
		/* Never NULL on success: "" when there was no output. */
		pt_buf_add(&res->out, "", 0);
		pt_buf_add(&res->err, "", 0);
	} else
		pt_exec_result_free(res);
	return rc;
}

void
pt_exec_result_free(struct pt_exec_result *res)
{
	if (res == NULL)
		return;
	pt_buf_free(&res->out);
	pt_buf_free(&res->err);
}

/* "KILL" for SIGKILL, ...; NULL when not one of the usual ones. */
static const char *
sig_name(int sig)
{
	static const struct {
		int		 sig;
		const char	*name;
	} names[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
		{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
		{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
		{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
		{ SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGSYS, "SYS" },
	};
	size_t i;

	for (i = 0; i < nitems(names); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}

void
pt_exec_describe(const struct pt_exec_result *res, char *buf, size_t len)
{
	const char *name;

	if (len == 0)
		return;
	if (res->error[0] != '\0')
		snprintf(buf, len, "could not run: %s", res->error);
	else if (res->timed_out)
		snprintf(buf, len, "timed out after %lld ms",
		    (long long)res->duration_ms);
	else if (res->http_status)
		snprintf(buf, len, "HTTP %d", res->http_status);
	else if (res->signal) {
		name = sig_name(res->signal);
		snprintf(buf, len, "killed by signal %d%s%s%s", res->signal,
		    name ? " (SIG" : "", name ? name : "", name ? ")" : "");
	} else if (res->exited)
		snprintf(buf, len, "exit %d", res->exit_code);
	else
		snprintf(buf, len, "exit status unknown");
}
