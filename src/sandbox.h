/*
 * sandbox.h - confine porter.fcgi once it is set up: a seccomp filter on
 * Linux (sandbox.c, built with "configure --with-seccomp", libseccomp).
 *
 * The responder calls pt_sandbox() once, after the store is open and
 * before the first request (the order slowcgi and kcgi use: acquire, then
 * confine); `porterctl replay` calls it before it runs the handlers, so
 * that they are confined as the responder's are.  From then on a system call outside the allow-list kills the
 * whole process with SIGSYS; the web server starts a new one and its
 * error log gets the kernel's audit line.  Threads started later, and the
 * workflow handlers the responder executes, inherit the filter: it can
 * never be lifted.
 */
#ifndef PT_SANDBOX_H
#define PT_SANDBOX_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sanitizer runtimes need more system calls (LeakSanitizer stops the
 * world with ptrace at exit; reports read /proc); only those test builds
 * get them. */
#if defined(__SANITIZE_ADDRESS__)
#define PT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define PT_SANITIZED 1
#endif
#endif

/*
 * The one call: confine the process as the environment says.
 * PORTER_SECCOMP "0" leaves it alone; unset or "1" installs the filter.
 * Returns 1 when the filter is installed, 0 when it was switched off (or
 * Porter was built without seccomp), -1 when it was wanted but cannot be
 * had, with the reason in "why"; the caller must then refuse to start.
 * NOTE: PORTER_SECCOMP=1 in a build without seccomp is an error, so that
 * asking for the filter never silently runs without it.
 */
#ifdef HAVE_SECCOMP
int	pt_sandbox(char *why, size_t whylen);
/*
 * Install the filter unconditionally (pt_sandbox without the switch; the
 * unit test uses it).  Returns 0, or -1 with the reason in "why".
 */
int	pt_sandbox_install(char *why, size_t whylen);
/*
 * The much narrower filter of a script worker (script_pool.c), which runs
 * hostile input through a JavaScript engine: read and write on its socket
 * "fd" (and write on stderr), memory without PROT_EXEC, its CPU timer,
 * exit.  PORTER_SECCOMP "0" leaves it alone, as for pt_sandbox().
 * Returns 0, or -1 with the reason in "why".
 */
int	pt_sandbox_script_worker(int fd, char *why, size_t whylen);
#else
static inline int
pt_sandbox_script_worker(int fd, char *why, size_t whylen)
{
	(void)fd;
	return pt_sandbox(why, whylen) == -1 ? -1 : 0;
}

static inline int
pt_sandbox(char *why, size_t whylen)
{
	const char *s = getenv("PORTER_SECCOMP");

	if (s != NULL && strcmp(s, "1") == 0) {
		snprintf(why, whylen, "PORTER_SECCOMP=1 but porter.fcgi was "
		    "built without seccomp (configure --with-seccomp, "
		    "libseccomp-dev)");
		return -1;
	}
	return 0;
}
#endif

#endif
