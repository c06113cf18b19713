/*
 * tokens.h - admin API tokens (README "Admin API, console and metrics").
 *
 * A token is "ptk_" and 32 characters of Crockford base32 from the
 * kernel's CSPRNG (160 bits).  It is shown once, when created; the store
 * keeps only its SHA-256 (a fast hash is enough for a random secret of
 * this size), under its name in PT_T_TOKENS:
 *	byte 0		record version (1)
 *	byte 1		flags (PT_TOKEN_READ_ONLY)
 *	bytes 2-9	created_at, big-endian µs
 *	bytes 10-41	SHA-256 of the token text
 * A presented token is checked against every stored hash with a
 * constant-time compare (pt_memeql_sec), all of them, whatever matched.
 */
#ifndef PT_TOKENS_H
#define PT_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define PT_TOKEN_PREFIX		"ptk_"
#define PT_TOKEN_B32		32
#define PT_TOKEN_LEN		(4 + PT_TOKEN_B32)	/* "ptk_" + base32 */
#define PT_TOKEN_NAME_MAX	64

#define PT_TOKEN_READ_ONLY	0x1

struct pt_token_info {
	char	 name[PT_TOKEN_NAME_MAX + 1];
	int	 read_only;
	int64_t	 created_at;	/* µs */
};

/* 1-64 characters of [A-Za-z0-9._-], not starting with "." or "-". */
int		pt_token_name_valid(const char *);

/*
 * Create token "name" at "now" (µs) and write its text ("ptk_...", NUL
 * terminated) into "text", which has PT_TOKEN_LEN + 1 bytes.  PT_EINVAL
 * for a bad name, PT_EEXIST when the name is taken.
 */
enum pt_err	pt_token_create(struct pt_txn *, const char *name, int flags,
		    int64_t now, char text[PT_TOKEN_LEN + 1]);

/* Delete token "name"; PT_ENOTFOUND when there is none. */
enum pt_err	pt_token_revoke(struct pt_txn *, const char *name);

/* Every token, in name order; returning nonzero stops the walk. */
typedef int (*pt_token_cb)(void *arg, const struct pt_token_info *);
enum pt_err	pt_token_list(struct pt_txn *, pt_token_cb, void *arg);

/*
 * Which token is "text" ("len" bytes, untrusted)?  PT_OK with "out"
 * filled, PT_ENOTFOUND when it matches none (or is not shaped like a
 * token), a store error otherwise.
 */
enum pt_err	pt_token_check(struct pt_txn *, const char *text, size_t len,
		    struct pt_token_info *out);

#endif
