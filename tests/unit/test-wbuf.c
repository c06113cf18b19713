/*
 * test-wbuf.c - held-back writes (wbuf.h): how a key's writes merge, and
 * the arrays they are sent as, table-driven.
 */
#include "config.h"

#include <string.h>

#include "nitems.h"
#include "tap.h"
#include "wbuf.h"

#define NONE	UINT64_MAX	/* no 8-byte value expected */

static void
be(uint8_t *p, uint64_t n)
{
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		p[i] = (uint8_t)n;
}

static uint64_t
u64(const unsigned char *p)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 8; i++)
		n = n << 8 | p[i];
	return n;
}

int
main(void)
{
	/* Two writes to one key: what is held after, or that they cannot
	 * merge (the caller sends the first). */
	static const struct {
		const char	*what;
		enum pt_wop	 op1;
		uint64_t	 v1;	/* NONE: the 3-byte value "abc" */
		enum pt_wop	 op2;
		uint64_t	 v2;
		int		 rc2;
		enum pt_wop	 held;
		uint64_t	 want;	/* NONE: "abc" or the second's bytes */
	} cases[] = {
		{ "put, put", PT_WOP_PUT, 1, PT_WOP_PUT, 2, 0, PT_WOP_PUT, 2 },
		{ "put, add", PT_WOP_PUT, 5, PT_WOP_ADD, 7, 0, PT_WOP_PUT, 12 },
		{ "add, add", PT_WOP_ADD, 5, PT_WOP_ADD, 7, 0, PT_WOP_ADD, 12 },
		{ "add, put", PT_WOP_ADD, 5, PT_WOP_PUT, 7, 0, PT_WOP_PUT, 7 },
		{ "max, max up", PT_WOP_MAX, 5, PT_WOP_MAX, 7, 0, PT_WOP_MAX, 7 },
		{ "max, max down", PT_WOP_MAX, 9, PT_WOP_MAX, 7, 0, PT_WOP_MAX,
		  9 },
		{ "put, max lower", PT_WOP_PUT, 9, PT_WOP_MAX, 7, 0, PT_WOP_PUT,
		  9 },
		{ "put, max higher", PT_WOP_PUT, 3, PT_WOP_MAX, 7, 0,
		  PT_WOP_PUT, 7 },
		{ "a short put, add: as 0", PT_WOP_PUT, NONE, PT_WOP_ADD, 4, 0,
		  PT_WOP_PUT, 4 },
		{ "insert, put: still an insert", PT_WOP_INSERT, 1, PT_WOP_PUT,
		  2, 0, PT_WOP_INSERT, 2 },
		{ "insert, add", PT_WOP_INSERT, 1, PT_WOP_ADD, 2, 0,
		  PT_WOP_INSERT, 3 },
		{ "add, max: cannot", PT_WOP_ADD, 1, PT_WOP_MAX, 2, 1,
		  PT_WOP_ADD, 1 },
		{ "max, add: cannot", PT_WOP_MAX, 1, PT_WOP_ADD, 2, 1,
		  PT_WOP_MAX, 1 },
		{ "put, insert: cannot", PT_WOP_PUT, 1, PT_WOP_INSERT, 2, 1,
		  PT_WOP_PUT, 1 },
	};
	const struct pt_wbuf_write *w;
	struct pt_wbuf *b;
	struct pt_buf keys = { 0 }, vals = { 0 };
	uint8_t v1[8], v2[8];
	size_t i, n;
	int rc;

	for (i = 0; i < nitems(cases); i++) {
		if ((b = pt_wbuf_new()) == NULL)
			return 1;
		be(v1, cases[i].v1);
		be(v2, cases[i].v2);
		pt_wbuf_add(b, PT_T_AUX, cases[i].op1, "k", 1,
		    cases[i].v1 == NONE ? (const void *)"abc" : v1,
		    cases[i].v1 == NONE ? 3 : 8);
		rc = pt_wbuf_add(b, PT_T_AUX, cases[i].op2, "k", 1, v2, 8);
		w = pt_wbuf_find(b, PT_T_AUX, "k", 1);
		ok(rc == cases[i].rc2 && w != NULL && w->op == cases[i].held &&
		    w->len == 8 && u64(w->val) == cases[i].want &&
		    pt_wbuf_count(b, PT_T_AUX) == 1, "%s", cases[i].what);
		pt_wbuf_free(b);
	}

	/* Keys are per table; clear forgets, but what find gave lives on. */
	b = pt_wbuf_new();
	pt_wbuf_add(b, PT_T_AUX, PT_WOP_PUT, "a", 1, "1", 1);
	pt_wbuf_add(b, PT_T_RUNS, PT_WOP_PUT, "a", 1, "2", 1);
	pt_wbuf_add(b, PT_T_AUX, PT_WOP_ADD, "c", 1, v1, 8);
	pt_wbuf_add(b, PT_T_AUX, PT_WOP_PUT, "b", 1, "33", 2);
	w = pt_wbuf_find(b, PT_T_RUNS, "a", 1);
	ok(w != NULL && w->len == 1 && *w->val == '2' &&
	    pt_wbuf_count(b, PT_T_AUX) == 3 && pt_wbuf_count(b, PT_T__MAX) ==
	    4, "a key is per table");
	n = pt_wbuf_arrays(b, PT_T_AUX, PT_WOP_PUT, &keys, &vals);
	/* bytea[]: 5 header words, then a length word and the bytes each. */
	ok(n == 2 && keys.len == 20 + 2 * (4 + 1) && vals.len == 20 + (4 + 1) +
	    (4 + 2) && memcmp(keys.data + 8, "\0\0\0\x11", 4) == 0 &&
	    memcmp(keys.data + 12, "\0\0\0\x02", 4) == 0 &&
	    memcmp(vals.data + 20 + 5, "\0\0\0\x02" "33", 6) == 0,
	    "the puts of a table as two bytea[] of 2 (the add apart)");
	pt_wbuf_clear(b, PT_T_AUX);
	ok(pt_wbuf_find(b, PT_T_AUX, "a", 1) == NULL &&
	    pt_wbuf_count(b, PT_T__MAX) == 1 && w->len == 1 && *w->val == '2',
	    "clear forgets a table's; another table's stays");
	pt_buf_free(&keys);
	pt_buf_free(&vals);
	pt_wbuf_free(b);
	return tap_done();
}
