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

static int
token_list(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	pt_json *arr = NULL;
	enum pt_err rc;

	if (argc == 3 && strcmp(argv[2], "--json") == 0) {
		if ((arr = pt_json_new_array()) == NULL)
			ctl_die("out of memory");
	} else if (argc != 2)
		ctl_die("usage: porterctl token list [--json]");
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_token_list(txn, print_token, arr);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading tokens: %s", pt_strerror(rc));
	if (arr != NULL)
		ctl_print_json(arr, PT_JSON_PRETTY);
	pt_json_put(arr);
	pt_store_close(s);
	return 0;
}

static int
token_create(int argc, char *argv[])
{
	char text[PT_TOKEN_LEN + 1];
	const char *name = NULL;
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;
	int i, flags = 0;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--read-only") == 0)
			flags |= PT_TOKEN_READ_ONLY;
		else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			ctl_die("usage: porterctl token create NAME [--read-only]");
	if (name == NULL)
		ctl_die("usage: porterctl token create NAME [--read-only]");
	if (!pt_token_name_valid(name))
		ctl_die("token name %s: 1 to %d letters, digits, \".\", \"_\" or "
		    "\"-\"", name, PT_TOKEN_NAME_MAX);
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

static int
token_revoke(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;

	if (argc != 3)
		ctl_die("usage: porterctl token revoke NAME");
	s = ctl_open_store(0);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = pt_token_revoke(txn, argv[2])) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("token %s: %s", argv[2], rc == PT_ENOTFOUND ? "no such "
		    "token" : pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s (%s)", pt_strerror(rc), pt_store_errstr());
	pt_store_close(s);
	printf("token %s revoked\n", argv[2]);
	return 0;
}

int
cmd_token(int argc, char *argv[])
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return token_create(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return token_revoke(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return token_list(argc, argv);
	ctl_die("usage: porterctl token create NAME [--read-only] | "
	    "token revoke NAME | token list [--json]");
}
