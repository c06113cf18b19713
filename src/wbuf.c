/*
 * wbuf.c - a transaction's held-back writes (wbuf.h).
 *
 * A table's writes are an array searched from its end (the few dozen a
 * batch of events writes to one table); keys and values live in blocks
 * kept until the buffer is freed, since a read may have been handed one.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "wbuf.h"

#define BLOCK		(64u << 10)
#define BYTEA_OID	17

struct went {
	const unsigned char	*key;
	size_t			 klen;
	struct pt_wbuf_write	 w;
};

struct block {
	struct block	*next;
	size_t		 used, size;
	unsigned char	 data[];
};

struct wtab {
	struct went	*e;
	size_t		 n, cap;
};

struct pt_wbuf {
	struct wtab	 t[PT_T__MAX];
	struct block	*blocks;
	size_t		 count, bytes;
};

struct pt_wbuf *
pt_wbuf_new(void)
{
	return pt_calloc(1, sizeof(struct pt_wbuf));
}

void
pt_wbuf_free(struct pt_wbuf *b)
{
	struct block *k;
	int t;

	if (b == NULL)
		return;
	for (t = 0; t < PT_T__MAX; t++)
		pt_free(b->t[t].e);
	while ((k = b->blocks) != NULL) {
		b->blocks = k->next;
		pt_free(k);
	}
	pt_free(b);
}

/* "n" bytes that live as long as the buffer. */
static unsigned char *
keep(struct pt_wbuf *b, const void *p, size_t n)
{
	struct block *k = b->blocks;
	unsigned char *at;
	size_t size;

	if (k == NULL || k->size - k->used < n) {
		size = n > BLOCK ? n : BLOCK;
		if ((k = pt_malloc(sizeof(*k) + size)) == NULL)
			return NULL;
		k->used = 0;
		k->size = size;
		k->next = b->blocks;
		b->blocks = k;
	}
	at = k->data + k->used;
	k->used += n;
	if (n > 0)
		memcpy(at, p, n);
	return at;
}

static struct went *
lookup(struct pt_wbuf *b, enum pt_table t, const void *key, size_t klen)
{
	struct wtab *w = &b->t[t];
	size_t i;

	for (i = w->n; i-- > 0;)
		if (w->e[i].klen == klen && memcmp(w->e[i].key, key, klen) == 0)
			return &w->e[i];
	return NULL;
}

static uint64_t
u64(const unsigned char *p, size_t len)
{
	uint64_t n = 0;
	size_t i;

	if (len != 8)
		return 0;
	for (i = 0; i < 8; i++)
		n = n << 8 | p[i];
	return n;
}

/* Replace e's value by the 8 bytes of "n". */
static int
set_u64(struct pt_wbuf *b, struct went *e, uint64_t n)
{
	uint8_t be[8];
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		be[i] = (uint8_t)n;
	if ((e->w.val = keep(b, be, 8)) == NULL)
		return -1;
	e->w.len = 8;
	return 0;
}

/* Merge write "op" of "val" into the key's held one: 0, or 1: cannot. */
static int
merge(struct pt_wbuf *b, struct went *e, enum pt_wop op,
    const unsigned char *val, size_t vallen)
{
	int held_value = e->w.op == PT_WOP_PUT || e->w.op == PT_WOP_INSERT;
	uint64_t have = u64(e->w.val, e->w.len), n = u64(val, vallen);

	switch (op) {
	case PT_WOP_PUT:
		/* A new key's insert stays one: its test is not yet made. */
		if ((e->w.val = keep(b, val, vallen)) == NULL)
			return -1;
		e->w.len = vallen;
		if (e->w.op != PT_WOP_INSERT)
			e->w.op = PT_WOP_PUT;
		return 0;
	case PT_WOP_ADD:
		if (!held_value && e->w.op != PT_WOP_ADD)
			return 1;
		return set_u64(b, e, have + n);
	case PT_WOP_MAX:
		if (!held_value && e->w.op != PT_WOP_MAX)
			return 1;
		if (held_value && e->w.len == 8 && have >= n)
			return 0;
		return set_u64(b, e, e->w.op == PT_WOP_MAX && have > n ? have : n);
	default:
		return 1;	/* an insert after any write */
	}
}

int
pt_wbuf_add(struct pt_wbuf *b, enum pt_table t, enum pt_wop op,
    const void *key, size_t keylen, const void *val, size_t vallen)
{
	struct wtab *w = &b->t[t];
	struct went *e, *grown;
	int r;

	if ((e = lookup(b, t, key, keylen)) != NULL) {
		if ((r = merge(b, e, op, val, vallen)) == 0)
			b->bytes += vallen;
		return r;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;

		if ((grown = pt_realloc(w->e, cap * sizeof(*grown))) == NULL)
			return -1;
		w->e = grown;
		w->cap = cap;
	}
	e = &w->e[w->n];
	e->w.op = op;
	e->klen = keylen;
	e->w.len = vallen;
	if ((e->key = keep(b, key, keylen)) == NULL ||
	    (e->w.val = keep(b, val, vallen)) == NULL)
		return -1;
	w->n++;
	b->count++;
	b->bytes += keylen + vallen;
	return 0;
}

const struct pt_wbuf_write *
pt_wbuf_find(struct pt_wbuf *b, enum pt_table t, const void *key,
    size_t keylen)
{
	struct went *e = lookup(b, t, key, keylen);

	return e != NULL ? &e->w : NULL;
}

size_t
pt_wbuf_count(const struct pt_wbuf *b, enum pt_table t)
{
	return t == PT_T__MAX ? b->count : b->t[t].n;
}

size_t
pt_wbuf_bytes(const struct pt_wbuf *b)
{
	return b->bytes;
}

static void
be32(struct pt_buf *o, uint32_t v)
{
	char p[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8),
	    (char)v };

	(void)pt_buf_add(o, p, 4);
}

/* The header of a one-dimensional bytea[] of "n" elements. */
static void
array_head(struct pt_buf *o, size_t n)
{
	be32(o, 1);		/* dimensions */
	be32(o, 0);		/* no NULLs */
	be32(o, BYTEA_OID);
	be32(o, (uint32_t)n);
	be32(o, 1);		/* lower bound */
}

size_t
pt_wbuf_arrays(const struct pt_wbuf *b, enum pt_table t, enum pt_wop op,
    struct pt_buf *keys, struct pt_buf *vals)
{
	const struct wtab *w = &b->t[t];
	size_t i, n = 0;

	for (i = 0; i < w->n; i++)
		n += w->e[i].w.op == op;
	if (n == 0)
		return 0;
	array_head(keys, n);
	array_head(vals, n);
	for (i = 0; i < w->n; i++) {
		if (w->e[i].w.op != op)
			continue;
		be32(keys, (uint32_t)w->e[i].klen);
		(void)pt_buf_add(keys, w->e[i].key, w->e[i].klen);
		be32(vals, (uint32_t)w->e[i].w.len);
		(void)pt_buf_add(vals, w->e[i].w.val, w->e[i].w.len);
	}
	return n;
}

void
pt_wbuf_clear(struct pt_wbuf *b, enum pt_table t)
{
	int i;

	if (t == PT_T__MAX) {
		for (i = 0; i < PT_T__MAX; i++)
			b->t[i].n = 0;
		b->count = 0;
		b->bytes = 0;
		return;
	}
	b->count -= b->t[t].n;
	b->t[t].n = 0;
	if (b->count == 0)
		b->bytes = 0;
}
