/*
 * test-exec.c - running handlers (exec.c): exit statuses, stdin, bounded
 * output, timeouts that kill the whole group, a clean environment and
 * descriptor table, reset signals, no zombies.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "tap.h"
#include "testutil.h"

static char *env_min[] = { "PATH=/usr/bin:/bin", NULL };

/* Run "/bin/sh -c script"; returns pt_exec's result code. */
static enum pt_err
sh(const char *script, const void *in, size_t inlen, int64_t timeout_ms,
    size_t max, struct pt_exec_result *res)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };

	return pt_exec(argv, env_min, in, inlen, timeout_ms, max, res);
}

/* Is process "pid" gone (or a zombie nobody has reaped yet)? */
static int
proc_dead(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return 1;
	return p[2] == 'Z' || p[2] == 'X';
}

/*
 * Upper bounds on durations: far below the 30 s sleeps a bug would wait
 * for, far above what a sanitizer build on a loaded machine takes.
 */
#define LATE_MS	10000

/* Wait up to "ms" milliseconds for "pid" to die. */
static int
dies_within(long pid, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i <= ms / 20; i++) {
		if (proc_dead(pid))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Wait up to LATE_MS for "pid" to die. */
static int
dies(long pid)
{
	return dies_within(pid, LATE_MS);
}

static void
test_status(void)
{
	static const struct {
		const char	*script;
		int		 exited, code, sig;
		const char	*describe;
	} cases[] = {
		{ "exit 0", 1, 0, 0, "exit 0" },
		{ "exit 3", 1, 3, 0, "exit 3" },
		{ "exit 255", 1, 255, 0, "exit 255" },
		{ "kill -TERM $$", 0, 0, SIGTERM,
		    "killed by signal 15 (SIGTERM)" },
		{ "kill -KILL $$", 0, 0, SIGKILL,
		    "killed by signal 9 (SIGKILL)" },
	};
	struct pt_exec_result res;
	enum pt_err rc;
	char why[200];
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		rc = sh(cases[i].script, NULL, 0, 5000, 1024, &res);
		ok(rc == PT_OK &&
		    res.exited == cases[i].exited &&
		    res.exit_code == cases[i].code &&
		    res.signal == cases[i].sig && !res.timed_out &&
		    res.error[0] == '\0', "%s: exited %d code %d signal %d",
		    cases[i].script, res.exited, res.exit_code, res.signal);
		pt_exec_describe(&res, why, sizeof(why));
		is_str(why, cases[i].describe, "describe %s", cases[i].script);
		pt_exec_result_free(&res);
	}
}

static void
test_io(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	char *argv_cat[] = { "/bin/cat", NULL };
	char *big;
	size_t i, n = 1 << 20;

	rc = sh("read x; echo \"got $x\"", "hello\n", 6, 5000, 1024, &res);
	ok(rc == PT_OK, "read a line from stdin");
	is_str(res.out.data, "got hello\n", "stdin delivered");
	pt_exec_result_free(&res);

	rc = sh("echo out; echo err >&2", NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK &&
	    res.exit_code == 0, "stdout and stderr");
	is_str(res.out.data, "out\n", "stdout captured");
	is_str(res.err.data, "err\n", "stderr captured");
	ok(!res.out_truncated && !res.err_truncated, "nothing truncated");
	pt_exec_result_free(&res);

	/* 1 MiB both ways at once: a naive write-then-read deadlocks. */
	big = malloc(n);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	rc = pt_exec(argv_cat, env_min, big, n, 10000, 2 * n, &res);
	ok(rc == PT_OK &&
	    res.exited && res.exit_code == 0, "cat 1 MiB");
	ok(res.out.len == n && memcmp(res.out.data, big, n) == 0 &&
	    !res.out_truncated, "cat returned every byte");
	pt_exec_result_free(&res);

	rc = pt_exec(argv_cat, env_min, NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK &&
	    res.exited && res.exit_code == 0 && res.out.data != NULL &&
	    res.out.len == 0 && res.err.data != NULL,
	    "no input: stdin at end of file; empty output is \"\"");
	pt_exec_result_free(&res);

	rc = sh("head -c 100000 /dev/zero; head -c 5000 /dev/zero >&2; exit 4",
	    NULL, 0, 10000, 1000, &res);
	ok(rc == PT_OK && res.exit_code == 4 &&
	    !res.timed_out, "large output, small bound: the child finishes");
	ok(res.out.len == 1000 && res.out_truncated, "stdout cut at 1000 "
	    "(len %zu)", res.out.len);
	ok(res.err.len == 1000 && res.err_truncated, "stderr cut at 1000 "
	    "(len %zu)", res.err.len);
	pt_exec_result_free(&res);

	rc = sh("printf abcde", NULL, 0, 5000, 5, &res);
	ok(rc == PT_OK &&
	    res.out.len == 5 && !res.out_truncated,
	    "output of exactly the bound is not truncated");
	pt_exec_result_free(&res);
	rc = sh("printf abcde", NULL, 0, 5000, 4, &res);
	ok(rc == PT_OK &&
	    res.out.len == 4 && memcmp(res.out.data, "abcd", 4) == 0 &&
	    res.out_truncated, "one byte over is");
	pt_exec_result_free(&res);
	rc = sh("echo hi", NULL, 0, 5000, 0, &res);
	ok(rc == PT_OK && res.out.len == 0 &&
	    res.out_truncated, "bound 0: nothing kept, truncated");
	pt_exec_result_free(&res);

	/* The child never reads 8 MiB of input: no deadlock, no SIGPIPE. */
	free(big);
	n = 8 << 20;
	big = calloc(1, n);
	rc = sh("echo start; sleep 0.3; echo end", big, n, 10000, 1024, &res);
	ok(rc == PT_OK && res.exited && res.exit_code == 0 && !res.timed_out,
	    "a child ignoring 8 MiB of stdin finishes");
	is_str(res.out.data, "start\nend\n", "... and its output is whole");
	pt_exec_result_free(&res);
	rc = sh("exec 0<&-; echo closed", big, n, 10000, 1024, &res);
	ok(rc == PT_OK &&
	    res.exit_code == 0, "a child closing stdin at once (EPIPE for us)");
	pt_exec_result_free(&res);
	{
		sigset_t pend;

		sigemptyset(&pend);
		sigpending(&pend);
		ok(!sigismember(&pend, SIGPIPE), "... we survived SIGPIPE "
		    "(default disposition here) and none is left pending");
	}
	free(big);
}

static void
test_timeouts(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	char *argv_sleep[] = { "/bin/sleep", "30", NULL };
	char why[200];
	long gc;

	rc = pt_exec(argv_sleep, env_min, NULL, 0, 300, 1024, &res);
	ok(rc == PT_OK &&
	    res.timed_out && res.signal == SIGKILL && !res.exited,
	    "sleep 30 with a 300 ms timeout: killed");
	ok(res.duration_ms >= 300 && res.duration_ms < LATE_MS,
	    "... after %lld ms", (long long)res.duration_ms);
	pt_exec_describe(&res, why, sizeof(why));
	ok(strncmp(why, "timed out after ", 16) == 0, "describe: %s", why);
	pt_exec_result_free(&res);

	rc = sh("sleep 30 & echo $!; wait", NULL, 0, 300, 1024, &res);
	ok(rc == PT_OK &&
	    res.timed_out, "a shell waiting on a grandchild: timed out");
	ok(res.duration_ms >= 300 && res.duration_ms < LATE_MS,
	    "... after %lld ms (the grandchild held the pipes)",
	    (long long)res.duration_ms);
	gc = strtol(res.out.data ? res.out.data : "0", NULL, 10);
	ok(gc > 0 && dies(gc), "the grandchild %ld was killed too", gc);
	pt_exec_result_free(&res);

	rc = sh("sleep 30 & echo $!", NULL, 0, 10000, 1024, &res);
	ok(rc == PT_OK &&
	    res.exited && res.exit_code == 0 && !res.timed_out,
	    "a shell that leaves a grandchild behind exits 0");
	ok(res.duration_ms < LATE_MS, "... and we do not wait for the leftover "
	    "(%lld ms)", (long long)res.duration_ms);
	gc = strtol(res.out.data ? res.out.data : "0", NULL, 10);
	ok(gc > 0 && dies(gc), "the leftover %ld was killed", gc);
	pt_exec_result_free(&res);

	rc = sh("sleep 0.2", NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK &&
	    res.duration_ms >= 200 && res.duration_ms < LATE_MS,
	    "duration of sleep 0.2: %lld ms", (long long)res.duration_ms);
	pt_exec_result_free(&res);

	rc = sh("exec 1>&- 2>&-; sleep 0.2; exit 6", NULL, 0, 5000, 1024,
	    &res);
	ok(rc == PT_OK && res.exit_code == 6 && res.duration_ms >= 200,
	    "a child closing its output still gets waited for");
	pt_exec_result_free(&res);
}

/*
 * The caller killed (kill -9 of a responder) while its handler runs, with
 * a grandchild the handler started: both must go with the caller, within
 * two seconds, not at their 60 s timeout.
 */
static void
test_caller_dies(void)
{
	struct pt_exec_result res;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char *dir, file[600], script[2000];
	long handler = 0, grandchild = 0;
	pid_t caller;
	FILE *f;
	int i, status;

	dir = tu_tmpdir();
	snprintf(file, sizeof(file), "%s/pids", dir);
	snprintf(script, sizeof(script), "sleep 60 & echo $$ $! > '%s.tmp' && "
	    "mv '%s.tmp' '%s'; wait", file, file, file);
	if ((caller = fork()) == 0) {
		sh(script, NULL, 0, 60000, 1024, &res);
		_exit(0);
	}
	for (i = 0; i < 500 && (f = fopen(file, "r")) == NULL; i++)
		nanosleep(&ts, NULL);
	if (i < 500) {
		if (fscanf(f, "%ld %ld", &handler, &grandchild) != 2)
			handler = grandchild = 0;
		fclose(f);
	}
	ok(handler > 0 && grandchild > 0, "the handler (%ld) started a "
	    "grandchild (%ld)", handler, grandchild);
	kill(caller, SIGKILL);
	waitpid(caller, &status, 0);
	ok(handler > 0 && dies_within(handler, LATE_MS), "the caller killed: "
	    "its handler is gone within 2 s");
	ok(grandchild > 0 && dies_within(grandchild, LATE_MS), "... and so is "
	    "the grandchild");
	/* Whatever this test finds, leave nothing sleeping behind. */
	if (handler > 0)
		kill((pid_t)handler, SIGKILL);
	if (grandchild > 0)
		kill((pid_t)grandchild, SIGKILL);
	tu_rmdir(dir);
}

static void
test_errors(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	char *missing[] = { "/nonexistent/porter-handler", NULL };
	char *relative[] = { "sh", "-c", "true", NULL };
	char path[] = "/tmp/porter-noexec-XXXXXX";
	char *noexec[] = { path, NULL };
	int fd;
	char why[400];

	rc = pt_exec(missing, env_min, "x", 1, 1000, 100, &res);
	ok(rc != PT_OK &&
	    strstr(res.error, "No such file") != NULL,
	    "a missing program: %s", res.error);
	pt_exec_describe(&res, why, sizeof(why));
	ok(strncmp(why, "could not run: ", 15) == 0, "describe: %s", why);
	pt_exec_result_free(&res);
	rc = pt_exec(relative, env_min, NULL, 0, 1000, 100, &res);
	ok(rc == PT_EINVAL &&
	    res.error[0] != '\0', "a relative path: EINVAL (%s)", res.error);
	pt_exec_result_free(&res);
	/* No execute bit at all: EACCES, even for root. */
	if ((fd = mkstemp(path)) != -1) {
		if (write(fd, "#!/bin/sh\n", 10) != 10 || fchmod(fd, 0600) == -1)
			abort();
		close(fd);
		rc = pt_exec(noexec, env_min, NULL, 0, 1000, 100, &res);
		ok(rc != PT_OK &&
		    strstr(res.error, "Permission denied") != NULL,
		    "a file that is not executable: %s", res.error);
		pt_exec_result_free(&res);
		unlink(path);
	}
}

static void
test_environment(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	char *argv_env[] = { "/usr/bin/env", NULL };
	char *envp[] = { "A=1", "B=two words", NULL };
	char *none[] = { NULL };

	setenv("PORTER_TEST_LEAK", "1", 1);
	rc = pt_exec(argv_env, envp, NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK,
	    "run env");
	is_str(res.out.data, "A=1\nB=two words\n",
	    "the environment is exactly the one given");
	pt_exec_result_free(&res);
	rc = pt_exec(argv_env, none, NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK &&
	    res.out.len == 0, "an empty environment stays empty");
	pt_exec_result_free(&res);
	rc = pt_exec(argv_env, NULL, NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK &&
	    res.out.len == 0, "NULL envp: empty too");
	pt_exec_result_free(&res);
}

static void
test_descriptors(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	int leak, p[2], saved0;

	/* Descriptors without close-on-exec, low and high. */
	leak = open("/dev/null", O_RDONLY);
	dup2(leak, 77);
	dup2(leak, 300);
	if (pipe(p) == -1)
		abort();
	rc = sh("ls /proc/self/fd", NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK,
	    "list the child's descriptors");
	/* 3 is ls's own handle on the directory. */
	is_str(res.out.data, "0\n1\n2\n3\n", "only 0-2 reach the child");
	pt_exec_result_free(&res);
	ok(fcntl(77, F_GETFD) != -1 && fcntl(300, F_GETFD) != -1,
	    "ours are still open");
	close(77);
	close(300);
	close(p[0]);
	close(p[1]);
	close(leak);

	/* A FastCGI process may have 0 (or 0-2) closed or taken. */
	saved0 = dup(0);
	close(0);
	rc = sh("cat; echo; ls /proc/self/fd | wc -l", "in", 2, 5000, 1024,
	    &res);
	ok(rc == PT_OK, "with our fd 0 closed");
	is_str(res.out.data, "in\n4\n", "the pipes still land on 0-2");
	pt_exec_result_free(&res);
	dup2(saved0, 0);
	close(saved0);
}

static void
test_signals(void)
{
	struct pt_exec_result res;
	enum pt_err rc;
	char *argv_grep[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)",
	    "/proc/self/status", NULL };
	sigset_t block, now;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	rc = pt_exec(argv_grep, env_min, NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK,
	    "read the child's signal state");
	{
		/*
		 * glibc reserves signals 32 and 33 (sigaction refuses them),
		 * so a parent that ignores those (seen under make) passes
		 * them on: look at the standard signals 1-31 only.
		 */
		unsigned long long blk = 1, ign = 1;
		const char *p = res.out.data ? strstr(res.out.data, "SigBlk:") :
		    NULL, *q = res.out.data ? strstr(res.out.data, "SigIgn:") :
		    NULL;

		if (p && q) {
			blk = strtoull(p + 7, NULL, 16);
			ign = strtoull(q + 7, NULL, 16);
		}
		ok((blk & 0x7fffffffULL) == 0 && (ign & 0x7fffffffULL) == 0,
		    "nothing blocked or ignored in the child (SIGPIPE "
		    "default)");
	}
	pt_exec_result_free(&res);
	sigprocmask(SIG_SETMASK, NULL, &now);
	ok(sigismember(&now, SIGUSR2) && !sigismember(&now, SIGPIPE) &&
	    !sigismember(&now, SIGTERM), "our own mask is restored");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);

	rc = sh("cut -d' ' -f5 /proc/$$/stat; cut -d' ' -f4 /proc/$(cut "
	    "-d' ' -f5 /proc/$$/stat)/stat", NULL, 0, 5000, 1024, &res);
	ok(rc == PT_OK, "the child's process group");
	{
		long group = -1, leader_parent = -2;

		sscanf(res.out.data, "%ld %ld", &group, &leader_parent);
		ok(group != (long)getpgrp() && leader_parent == (long)getpid(),
		    "a group of its own (%ld), led by our watcher child (its "
		    "parent %ld)", group, leader_parent);
	}
	pt_exec_result_free(&res);
}

int
main(void)
{
	int status;

	signal(SIGPIPE, SIG_DFL);
	test_status();
	test_io();
	test_timeouts();
	test_caller_dies();
	test_errors();
	test_environment();
	test_descriptors();
	test_signals();
	ok(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD,
	    "no child left behind, not even a zombie");
	return tap_done();
}
