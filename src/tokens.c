/*
 * tokens.c - admin API tokens, stored as hashes (see tokens.h).
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "ids.h"
#include "sig.h"
#include "tokens.h"

#define REC_VERSION	1
#define REC_LEN		(2 + 8 + PT_SHA256_LEN)

int
pt_token_name_valid(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > PT_TOKEN_NAME_MAX ||
	    name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Decode a stored record into "out" (name set by the caller). */
static int
decode(const struct pt_val *v, struct pt_token_info *out,
    const uint8_t **hash)
{
	const uint8_t *p = v->data;

	if (v->len != REC_LEN || p[0] != REC_VERSION)
		return -1;
	out->read_only = (p[1] & PT_TOKEN_READ_ONLY) != 0;
	out->created_at = (int64_t)pt_be64_get(p + 2);
	*hash = p + 10;
	return 0;
}

enum pt_err
pt_token_create(struct pt_txn *txn, const char *name, int flags, int64_t now,
    char text[PT_TOKEN_LEN + 1])
{
	uint8_t rec[REC_LEN];
	enum pt_err rc;

	text[0] = '\0';
	if (!pt_token_name_valid(name))
		return PT_EINVAL;
	memcpy(text, PT_TOKEN_PREFIX, 4);
	if ((rc = pt_random_b32(text + 4, PT_TOKEN_B32)) != PT_OK)
		return rc;
	rec[0] = REC_VERSION;
	rec[1] = (uint8_t)(flags & PT_TOKEN_READ_ONLY);
	pt_be64_put(rec + 2, (uint64_t)now);
	pt_sha256(text, PT_TOKEN_LEN, rec + 10);
	rc = pt_put(txn, PT_T_TOKENS, name, strlen(name), rec, sizeof(rec),
	    PT_PUT_NOOVERWRITE);
	pt_wipe(rec, sizeof(rec));
	if (rc != PT_OK)
		pt_wipe(text, PT_TOKEN_LEN + 1);
	return rc;
}

enum pt_err
pt_token_revoke(struct pt_txn *txn, const char *name)
{
	if (!pt_token_name_valid(name))
		return PT_ENOTFOUND;
	return pt_del(txn, PT_T_TOKENS, name, strlen(name));
}

enum pt_err
pt_token_list(struct pt_txn *txn, pt_token_cb cb, void *arg)
{
	struct pt_cursor *cur = NULL;
	struct pt_token_info info;
	struct pt_val k, v;
	const uint8_t *hash;
	enum pt_err rc;

	if ((rc = pt_cursor_open(txn, PT_T_TOKENS, &cur)) != PT_OK)
		return rc;
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		memset(&info, 0, sizeof(info));
		if (k.len > PT_TOKEN_NAME_MAX || decode(&v, &info, &hash) < 0)
			continue;
		memcpy(info.name, k.data, k.len);
		if (cb(arg, &info))
			break;
	}
	pt_cursor_close(cur);
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

enum pt_err
pt_token_check(struct pt_txn *txn, const char *text, size_t len,
    struct pt_token_info *out)
{
	struct pt_cursor *cur = NULL;
	struct pt_token_info info;
	struct pt_val k, v;
	uint8_t want[PT_SHA256_LEN];
	const uint8_t *hash;
	enum pt_err rc;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (text == NULL || len != PT_TOKEN_LEN ||
	    memcmp(text, PT_TOKEN_PREFIX, 4) != 0)
		return PT_ENOTFOUND;
	pt_sha256(text, len, want);
	if ((rc = pt_cursor_open(txn, PT_T_TOKENS, &cur)) != PT_OK)
		goto out;
	/*
	 * Compare with every stored hash in constant time and go on after a
	 * match, so that the time taken says nothing about which token (or
	 * how much of a hash) matched.
	 */
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		memset(&info, 0, sizeof(info));
		if (k.len > PT_TOKEN_NAME_MAX || decode(&v, &info, &hash) < 0)
			continue;
		if (pt_memeql_sec(hash, want, PT_SHA256_LEN) && !found) {
			memcpy(info.name, k.data, k.len);
			*out = info;
			found = 1;
		}
	}
	if (rc == PT_ENOTFOUND)
		rc = found ? PT_OK : PT_ENOTFOUND;
out:
	pt_cursor_close(cur);
	pt_wipe(want, sizeof(want));
	return rc;
}
