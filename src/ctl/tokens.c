/*
 * tokens.c - porterctl token create, revoke and list: the admin API's
 * bearer tokens.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "timeutil.h"
#include "tokens.h"

static int
print_token(void *arg, const struct pt_token_info *t)
{
	pt_json *arr = arg, *o;
	char when[PT_RFC3339_LEN];

	pt_fmt_rfc3339(t->created_at, when);
	if (arr == NULL) {
		printf("%-24s %-10s created %s\n", t->name, t->read_only ?
		    "read-only" : "full", when);
		return 0;
	}
	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_append(arr, o) != PT_OK)
		ctl_die("out of memory");
	pt_json_set(o, "name", pt_json_new_cstr(t->name));
	pt_json_set(o, "read_only", pt_json_new_bool(t->read_only));
	pt_json_set(o, "created_at", pt_json_new_cstr(when));
	return 0;
}

int
cmd_token_list(const struct ctl_args *a)
{
	struct pt_store *s;
	struct pt_txn *txn;
	pt_json *arr = NULL;
	enum pt_err rc;

	if (a->given[CTL_K_JSON] && (arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_token_list(txn, print_token, arr);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading tokens: %s", pt_strerror(rc));
	if (arr != NULL)
		ctl_json_doc(arr);
	pt_json_put(arr);
	pt_store_close(s);
	return 0;
}

int
cmd_token_create(const struct ctl_args *a)
{
	char text[PT_TOKEN_LEN + 1];
	const char *name = a->pos[0];	/* ctl_check_token_name */
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;
	int flags = a->given[CTL_K_READ_ONLY] ? PT_TOKEN_READ_ONLY : 0;

	s = ctl_open_store(0);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = pt_token_create(txn, name, flags, pt_now_us(), text)) !=
	    PT_OK) {
		pt_txn_abort(txn);
		ctl_die("token %s: %s", name, rc == PT_EEXIST ? "exists (revoke "
		    "it first)" : pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s (%s)", pt_strerror(rc), pt_store_errstr());
	pt_store_close(s);
	/* The only time the token is shown: the store keeps its hash. */
	printf("%s\n", text);
	fflush(stdout);
	pt_wipe(text, sizeof(text));
	fprintf(stderr, "%s: %s token %s created; it is shown only now: keep "
	    "it (use it as \"Authorization: Bearer <token>\")\n", "porterctl",
	    flags & PT_TOKEN_READ_ONLY ? "read-only" : "full", name);
	return 0;
}

int
cmd_token_revoke(const struct ctl_args *a)
{
	const char *name = a->pos[0];
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;

	s = ctl_open_store(0);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = pt_token_revoke(txn, name)) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("token %s: %s", name, rc == PT_ENOTFOUND ? "no such "
		    "token" : pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s (%s)", pt_strerror(rc), pt_store_errstr());
	pt_store_close(s);
	printf("token %s revoked\n", name);
	return 0;
}
