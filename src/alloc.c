/*
 * alloc.c - allocation wrappers with fault injection (see alloc.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* Allocations left before failing; -1 = never fail. */
static long fail_after = -1;
/* One allocation to fail, counting down; -1 = none. */
static long fail_nth = -1;
/* Allocations made since the last pt_alloc_fail_after() call. */
static long count;

static int
should_fail(void)
{
	count++;
	if (fail_nth >= 0 && fail_nth-- == 0)
		return 1;
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

void
pt_alloc_fail_nth(long n)
{
	fail_nth = n;
}

long
pt_alloc_fail_after(long n)
{
	long c = count;

	fail_after = n;
	count = 0;
	return c;
}

int
pt_alloc_fault(void)
{
	return should_fail();
}

void *
pt_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *
pt_calloc(size_t n, size_t size)
{
	if (should_fail())
		return NULL;
	if (n == 0 || size == 0)
		n = size = 1;
	return calloc(n, size);
}

void *
pt_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

char *
pt_strndup(const char *s, size_t n)
{
	char *p;

	if ((p = pt_malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
pt_strdup(const char *s)
{
	return pt_strndup(s, strlen(s));
}

void
pt_free(void *p)
{
	free(p);
}

void
pt_wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
#endif
}
