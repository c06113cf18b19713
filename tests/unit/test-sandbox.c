/*
 * test-sandbox.c - the seccomp filter (sandbox.c).  Each case runs in a
 * forked child that installs the filter the way porter.fcgi does (after
 * opening a store) and then makes one call: a forbidden one must kill the
 * child with SIGSYS, the allowed work of a responder (the store, threads,
 * handlers through pt_exec, files, randomness, client sockets) must pass.
 * Skipped when Porter is built without seccomp.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#ifndef HAVE_SECCOMP
int
main(void)
{
	tap_skip_all("built without seccomp (configure --with-seccomp, "
	    "libseccomp-dev)");
}
#else

#include <linux/netlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include "exec.h"
#include "nitems.h"
#include "sandbox.h"
#include "store.h"

/* PT_SANITIZED (sandbox.h): ASan builds allow ptrace for LeakSanitizer. */

/* Exit codes of a child that did not get as far as its call. */
#define EX_NOSANDBOX	90
#define EX_SETUP	91

static char tmpdir[] = "/tmp/porter-sandbox-XXXXXX";
static struct pt_store *store;	/* opened in the child, before the filter */

/* The "Seccomp:" mode of this process from /proc (2 = filter), or -1. */
static int
seccomp_mode(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int mode = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/* ---------------------------------------------------- forbidden calls */

static int
do_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int
do_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_RAW, 0);
}

static int
do_netlink_audit(void)
{
	return socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
}

static int
do_unshare(void)
{
	return unshare(CLONE_NEWUSER);
}

static int
do_clone_newnet(void)
{
	/* A fork-like clone into a new network namespace. */
	long pid = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL,
	    NULL, NULL);

	if (pid == 0)
		_exit(0);
	return (int)pid;
}

static int
do_mount(void)
{
	return mount("none", tmpdir, "tmpfs", 0, NULL);
}

static int
do_bind(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		return EX_SETUP;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static int
do_setuid(void)
{
	return setuid(getuid());
}

static int
do_tiocsti(void)
{
	char c = 'x';

	return ioctl(STDIN_FILENO, TIOCSTI, &c);
}

static int
do_prctl_other(void)
{
	return prctl(PR_SET_MM, 0, 0, 0, 0);
}

static int
do_bpf(void)
{
	return (int)syscall(SYS_bpf, 0, NULL, 0);
}

static int
do_keyctl(void)
{
	return (int)syscall(SYS_keyctl, 0, 0, 0, 0, 0);
}

static int
do_handler_forbidden(void)
{
	/* A handler inherits the filter: its forbidden call kills it. */
	char *argv[] = { "/bin/sh", "-c", "exec unshare -U true", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct pt_exec_result res;
	int sig;

	if (pt_exec(argv, envp, NULL, 0, 10000, 4096, &res) != PT_OK)
		return EX_SETUP;
	sig = res.signal;
	pt_exec_result_free(&res);
	return sig == SIGSYS ? 0 : 1;
}

/* ------------------------------------------------------ allowed work */

/* The store opened before the filter: a write and a read after it. */
static int
do_store(void)
{
	struct pt_txn *txn;
	struct pt_val v;

	if (pt_txn_begin(store, NULL, PT_TXN_WRITE, &txn) != PT_OK ||
	    pt_put(txn, PT_T_META, "sandbox", 7, "ok", 2, 0) != PT_OK ||
	    pt_txn_commit(txn) != PT_OK)
		return 1;
	if (pt_txn_begin(store, NULL, PT_TXN_READ, &txn) != PT_OK)
		return 2;
	if (pt_get(txn, PT_T_META, "sandbox", 7, &v) != PT_OK ||
	    v.len != 2 || memcmp(v.data, "ok", 2) != 0) {
		pt_txn_abort(txn);
		return 3;
	}
	pt_txn_abort(txn);
	return 0;
}

static void *
thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static int
do_threads(void)
{
	pthread_t t[4];
	int vals[4] = { 0 }, i;

	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_main, &vals[i]) != 0)
			return 1;
	for (i = 0; i < 4; i++)
		if (pthread_join(t[i], NULL) != 0 || vals[i] != 42)
			return 2;
	return 0;
}

static int
do_files(void)
{
	char a[512], b[512], buf[16];
	int fd;

	snprintf(a, sizeof(a), "%s/a", tmpdir);
	snprintf(b, sizeof(b), "%s/b", tmpdir);
	if ((fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, "hello", 5) != 5 || fsync(fd) != 0 || close(fd) != 0)
		return 1;
	if (rename(a, b) != 0)
		return 2;
	if ((fd = open(b, O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, buf, sizeof(buf)) != 5 || close(fd) != 0)
		return 3;
	return unlink(b) == 0 ? 0 : 4;
}

static int
do_handler(void)
{
	char out[256], script[1200];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct pt_exec_result res;
	int rc;

	/* What append-run does: read stdin, flock, append, grep. */
	snprintf(out, sizeof(out), "%s/runs.ndjson", tmpdir);
	snprintf(script, sizeof(script), "run=$(cat); (flock 9; printf "
	    "'%%s\\n' \"$run\" >> %s; grep -q run_1 %s) 9>>%s.lock && "
	    "echo appended", out, out, out);
	if (pt_exec(argv, envp, "{\"id\":\"run_1\"}", 14, 10000, 4096,
	    &res) != PT_OK)
		return 1;
	rc = res.exited && res.exit_code == 0 && res.out.len >= 8 &&
	    memcmp(res.out.data, "appended", 8) == 0 ? 0 : 2;
	if (rc != 0)
		printf("# handler: exited %d code %d signal %d: %.*s\n",
		    res.exited, res.exit_code, res.signal, (int)res.err.len,
		    res.err.data ? res.err.data : "");
	pt_exec_result_free(&res);
	return rc;
}

/* Ordinary programs a handler may run (cp tries ioctl FICLONE first). */
static int
do_coreutils(void)
{
	char script[1200];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct pt_exec_result res;
	int rc;

	snprintf(script, sizeof(script), "cd %s && echo x > f && cp -p f g && "
	    "mv g h && ls -la >/dev/null && sort f >/dev/null && date "
	    ">/dev/null && timeout 5 sleep 0.01 && rm f h && echo done",
	    tmpdir);
	if (pt_exec(argv, envp, NULL, 0, 10000, 4096, &res) != PT_OK)
		return 1;
	rc = res.exited && res.exit_code == 0 ? 0 : 2;
	if (rc != 0)
		printf("# coreutils: exited %d code %d signal %d: %.*s\n",
		    res.exited, res.exit_code, res.signal, (int)res.err.len,
		    res.err.data ? res.err.data : "");
	pt_exec_result_free(&res);
	return rc;
}

static int
do_random_time(void)
{
	unsigned char b[32];
	struct timespec ts = { 0, 1000000 };

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return 1;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 2;
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	return nanosleep(&ts, NULL) == 0 ? 0 : 3;
}

static int
do_client_sockets(void)
{
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 1;
	if (write(sv[0], "x", 1) != 1)
		return 2;
	close(sv[0]);
	close(sv[1]);
	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 &&
	    errno != EAFNOSUPPORT)
		return 3;
	if (fd >= 0)
		close(fd);
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) >= 0)
		close(fd);
	return 0;
}

static int
do_errno_calls(void)
{
	char path[512];
	int fd;

	/* clone3 and chown are refused with an error, not a kill. */
	errno = 0;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 1;
	snprintf(path, sizeof(path), "%s/c", tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return 2;
	close(fd);
	errno = 0;
	if (chown(path, getuid(), getgid()) != -1 || errno != EPERM)
		return 3;
	unlink(path);
	/* isatty() asks TCGETS, which is allowed. */
	(void)isatty(STDOUT_FILENO);
	return 0;
}

/*
 * Leave through exit(), as a CGI responder does: atexit handlers and, in
 * sanitizer builds, LeakSanitizer's check (ptrace, getdents) run under
 * the filter.  The alarm turns a hang into a failure.
 */
static int
do_normal_exit(void)
{
	alarm(20);
	exit(0);
}

static int
do_seccomp_mode(void)
{
	return seccomp_mode() == 2 ? 0 : 1;
}

/* ----------------------------------------------------------- driver */

struct sbcase {
	const char	*desc;
	int		(*fn)(void);
	int		 killed;	/* expect death by SIGSYS */
	int		 sanitized_ok;	/* allowed in ASan builds */
};

static const struct sbcase cases[] = {
	{ "ptrace(PTRACE_TRACEME) is killed", do_ptrace, 1, 1 },
	{ "socket(AF_PACKET) is killed", do_packet_socket, 1, 0 },
	{ "socket(AF_NETLINK, NETLINK_AUDIT) is killed", do_netlink_audit, 1, 0 },
	{ "unshare(CLONE_NEWUSER) is killed", do_unshare, 1, 0 },
	{ "clone(CLONE_NEWNET) is killed", do_clone_newnet, 1, 0 },
	{ "mount is killed", do_mount, 1, 0 },
	{ "bind (a listener of its own) is killed", do_bind, 1, 0 },
	{ "setuid is killed", do_setuid, 1, 0 },
	{ "ioctl(TIOCSTI) is killed", do_tiocsti, 1, 0 },
	{ "prctl(PR_SET_MM) is killed", do_prctl_other, 1, 1 },
	{ "bpf is killed", do_bpf, 1, 0 },
	{ "keyctl is killed", do_keyctl, 1, 0 },
	{ "a handler inherits the filter: unshare(1) dies of SIGSYS",
	    do_handler_forbidden, 0, 0 },
	{ "Seccomp: 2 in /proc/self/status", do_seccomp_mode, 0, 0 },
	{ "the store opened before: write and read", do_store, 0, 0 },
	{ "threads start and join", do_threads, 0, 0 },
	{ "files: create, fsync, rename, read, unlink", do_files, 0, 0 },
	{ "a shell handler through pt_exec (cat, flock, >>, grep)",
	    do_handler, 0, 0 },
	{ "a handler running cp -p, mv, ls, sort, date, timeout, rm",
	    do_coreutils, 0, 0 },
	{ "getrandom, clock_gettime, nanosleep", do_random_time, 0, 0 },
	{ "client sockets: socketpair, AF_INET6, NETLINK_ROUTE",
	    do_client_sockets, 0, 0 },
	{ "clone3 is ENOSYS, chown EPERM, isatty works", do_errno_calls, 0, 0 },
	{ "exit() with atexit handlers (LeakSanitizer in ASan builds)",
	    do_normal_exit, 0, 0 },
};

/*
 * Run "c" in a child: open the store, install the filter, call.  Returns
 * the wait status.
 */
static int
run_case(const struct sbcase *c)
{
	char why[512], db[512];
	struct pt_store_opts opts = { 0 };
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		snprintf(db, sizeof(db), "%s/db", tmpdir);
		opts.map_size = 1 << 20;
		if (pt_store_open(db, &opts, &store, why, sizeof(why)) != PT_OK)
			_exit(EX_SETUP);
		if (pt_sandbox_install(why, sizeof(why)) == -1) {
			fprintf(stderr, "%s\n", why);
			_exit(EX_NOSANDBOX);
		}
		_exit(c->fn() == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return status;
}

static void
describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status %#x", status);
}

/* pt_sandbox() honours PORTER_SECCOMP; checked in children too. */
static int
switch_case(const char *value, int want_rc, int want_mode)
{
	char why[512];
	pid_t pid;
	int status, rc;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (value)
			setenv("PORTER_SECCOMP", value, 1);
		else
			unsetenv("PORTER_SECCOMP");
		rc = pt_sandbox(why, sizeof(why));
		_exit(rc == want_rc && seccomp_mode() == want_mode ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
rm_tree(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
}

int
main(void)
{
	char got[128];
	size_t i;
	int status, base;

	if ((base = seccomp_mode()) != 0) {
		printf("1..0 # SKIP this process is already under seccomp "
		    "(mode %d)\n", base);
		return 0;
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		printf("1..0 # SKIP the kernel has no seccomp\n");
		return 0;
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* A probe: can a filter be installed here at all? */
	status = run_case(&(struct sbcase){ "probe", do_seccomp_mode, 0, 0 });
	if (WIFEXITED(status) && WEXITSTATUS(status) == EX_NOSANDBOX) {
		rm_tree();
		printf("1..0 # SKIP seccomp filters cannot be installed here\n");
		return 0;
	}
	for (i = 0; i < nitems(cases); i++) {
		const struct sbcase *c = &cases[i];
		int want_kill = c->killed;

#ifdef PT_SANITIZED
		if (c->sanitized_ok) {
			printf("ok %d - %s # SKIP allowed in sanitizer builds\n",
			    ++tap_n, c->desc);
			continue;
		}
#endif
		status = run_case(c);
		describe(status, got, sizeof(got));
		if (want_kill) {
			if (!ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
			    "%s", c->desc))
				diag("got %s, want signal %d (SIGSYS)", got,
				    SIGSYS);
		} else if (!ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s", c->desc))
			diag("got %s, want exit 0", got);
	}
	ok(switch_case("0", 0, 0), "PORTER_SECCOMP=0: no filter");
	ok(switch_case(NULL, 1, 2), "PORTER_SECCOMP unset: filter on");
	ok(switch_case("1", 1, 2), "PORTER_SECCOMP=1: filter on");
	ok(switch_case("yes", -1, 0), "PORTER_SECCOMP=yes: refused, no filter");
	rm_tree();
	return tap_done();
}
#endif
