/*
 * tap.h - a tiny TAP producer for the unit tests (automake's tap-driver.sh
 * reads it).  Each test program calls ok()/is_int()/is_str() and ends with
 * "return tap_done();", which prints the plan.
 *	ok(cond, "description %d", n)
 *	is_int(got, want, "description")
 *	is_str(got, want, "description")	(NULL-safe)
 * A failure prints file:line, the description, and got/want as TAP
 * diagnostics ("# ...").
 */
#ifndef PT_TAP_H
#define PT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nitems.h"

static int tap_n, tap_failed;

static int __attribute__((format(printf, 4, 5), unused))
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);	\
	if (!tap_ok(tap_g_ == tap_w_, __FILE__, __LINE__, __VA_ARGS__))	\
		printf("#   got %lld, want %lld\n", tap_g_, tap_w_);	\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	int tap_c_ = (tap_g_ == NULL || tap_w_ == NULL) ?		\
	    tap_g_ == tap_w_ : strcmp(tap_g_, tap_w_) == 0;		\
	if (!tap_ok(tap_c_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");	\
} while (0)

#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

/* Skip the whole program (automake counts it as SKIP). */
#define tap_skip_all(why) do { printf("1..0 # SKIP %s\n", why); exit(0); } while (0)


static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
