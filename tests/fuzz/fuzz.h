/*
 * fuzz.h - helpers shared by the libFuzzer targets: a private,
 * NUL-terminated copy of the input and a cursor that splits it into lines
 * and parts.  Header-only; each target includes it once.
 *
 * Every target is one LLVMFuzzerTestOneInput().  Built with --enable-fuzz
 * it links libFuzzer's main; otherwise replay.c's main feeds it the files of
 * tests/fuzz/corpus/<target>/ under `make check`.
 */
#ifndef PT_FUZZ_H
#define PT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A finding that is no sanitizer report: print it and crash loudly. */
#define FZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* The input, copied so that it can be cut up; always NUL-terminated. */
struct fz_cur {
	char	*buf;
	char	*p;		/* next unread byte */
	char	*end;		/* one past the last byte (a NUL) */
	int	 done;		/* fz_part returned the last part */
};

static __attribute__((unused)) void
fz_open(struct fz_cur *c, const uint8_t *data, size_t size)
{
	if ((c->buf = malloc(size + 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(c->buf, data, size);
	c->buf[size] = '\0';
	c->p = c->buf;
	c->end = c->buf + size;
	c->done = 0;
}

static __attribute__((unused)) void
fz_close(struct fz_cur *c)
{
	free(c->buf);
	c->buf = c->p = c->end = NULL;
}

/*
 * The next line, without its "\n" (and a "\r" before it), NUL-terminated in
 * place; *lenp gets its length (it may hold NUL bytes).  NULL at the end.
 */
static __attribute__((unused)) char *
fz_line(struct fz_cur *c, size_t *lenp)
{
	char *s = c->p, *nl;
	size_t n;

	if (c->p >= c->end)
		return NULL;
	if ((nl = memchr(c->p, '\n', (size_t)(c->end - c->p))) == NULL) {
		n = (size_t)(c->end - c->p);
		c->p = c->end;
	} else {
		n = (size_t)(nl - c->p);
		*nl = '\0';
		c->p = nl + 1;
	}
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return s;
}

/*
 * The next part up to the separator "sep" (or the end), NUL-terminated in
 * place; *lenp gets its length.  NULL when nothing is left.
 */
static __attribute__((unused)) char *
fz_part(struct fz_cur *c, const char *sep, size_t *lenp)
{
	size_t seplen = strlen(sep), n;
	char *s = c->p, *hit = NULL, *q;

	if (c->done)
		return NULL;
	for (q = c->p; q + seplen <= c->end; q++)
		if (memcmp(q, sep, seplen) == 0) {
			hit = q;
			break;
		}
	if (hit == NULL) {
		n = (size_t)(c->end - c->p);
		c->p = c->end;
		c->done = 1;
	} else {
		n = (size_t)(hit - c->p);
		*hit = '\0';
		c->p = hit + seplen;
	}
	*lenp = n;
	return s;
}

/* The rest of the input (possibly empty). */
static __attribute__((unused)) char *
fz_rest(struct fz_cur *c, size_t *lenp)
{
	char *s = c->p;

	*lenp = (size_t)(c->end - s);
	c->p = c->end;
	return s;
}

/*
 * A header name as the FastCGI layer builds it from HTTP_* variables:
 * lower case, "_" as "-".  In place.
 */
static __attribute__((unused)) void
fz_header_name(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
		else if (*s == '_')
			*s = '-';
	}
}

#endif
