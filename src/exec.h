/*
 * exec.h - run a workflow handler: fixed argv, no shell, a clean
 * environment, input on stdin, output captured up to a bound, killed at the
 * timeout.
 */
#ifndef PT_EXEC_H
#define PT_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct pt_exec_result {
	int		 exited;	/* exited normally: exit_code is valid */
	int		 exit_code;
	int		 signal;	/* killed by this signal, or 0 */
	int		 timed_out;	/* we killed it at the timeout */
	int64_t		 duration_ms;
	struct pt_buf	 out;		/* stdout, at most max_output bytes */
	struct pt_buf	 err;		/* stderr, at most max_output bytes */
	int		 out_truncated;
	int		 err_truncated;
	char		 error[256];	/* why it could not run, or "" */
	int		 http_status;	/* an HTTP handler's answer (then
					   "out" is its body), or 0 */
};

/*
 * Run argv[0] (an absolute path) with "argv" and the NULL-terminated
 * "envp" (the caller builds it; nothing is inherited), "input" on stdin.
 * The child gets its own process group, which is killed (SIGKILL) when
 * "timeout_ms" passes.  No descriptor but 0-2 reaches the child.
 * Returns PT_OK when the program ran (whatever its exit status), else an
 * error with "error" set (fork or exec failed).
 * NOTE: never call this while holding a write transaction.
 */
enum pt_err	pt_exec(char *const argv[], char *const envp[], const void *input,
		    size_t input_len, int64_t timeout_ms, size_t max_output,
		    struct pt_exec_result *res);
void		pt_exec_result_free(struct pt_exec_result *);

/* "exit 3", "killed by signal 9", "timed out after 5000 ms", ... */
void		pt_exec_describe(const struct pt_exec_result *, char *buf,
		    size_t len);

#endif
