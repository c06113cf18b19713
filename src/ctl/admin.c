/*
 * ctl_admin.c - porterctl commands for the operators' console (issue 6):
 * admin tokens, replay, and log retention for `porterctl prune`.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "handler.h"
#include "http.h"
#include "retention.h"
#include "sandbox.h"
#include "timeutil.h"
#include "tokens.h"

/* Events deleted per transaction by `porterctl prune`. */
#define PRUNE_BATCH	5000

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

/*
 * Replay a logged event through the mappings as they are configured now
 * (pt_replay): the new run is a new event linked by "replay_of".  It runs
 * workflow handlers, so only as the store's owner and under the
 * responder's seccomp filter; --force replays an event that was not
 * verified where verification is enforced.
 */
int
cmd_replay(int argc, char *argv[])
{
	struct pt_json_error jerr;
	struct pt_resp resp;
	struct pt_store *s;
	struct pt_ctx ctx;
	const char *id = NULL;
	pt_json *j = NULL;
	char why[512];
	int i, json = 0, force = 0, status, nargs = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else {
			id = argv[i];
			nargs++;
		}
	if (nargs != 1)
		ctl_die("usage: porterctl replay EVT_ID [--force] [--json]");
	s = ctl_open_store(0);
	ctl_require_owner("replay");
	/* The handlers get the responder's seccomp filter too (sandbox.h). */
	if (pt_sandbox(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	ctl_ctx_init(&ctx, s);
	status = pt_replay(&ctx, id, "porterctl", force, &resp);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	if (json) {
		fwrite(resp.body.data ? resp.body.data : "", 1, resp.body.len,
		    stdout);
	} else if (pt_json_parse(resp.body.data ? resp.body.data : "",
	    resp.body.len, PT_JSON_MAX_DEPTH, &j, &jerr) == PT_OK) {
		if (status == 200)
			printf("%s replayed as %s: %s\n", id, pt_json_str(
			    pt_json_get(j, "id"), NULL), pt_json_str(pt_json_get(
			    j, "status"), NULL));
		else
			fprintf(stderr, "porterctl: replay %s: %d %s: %s\n", id,
			    status, pt_json_str(pt_json_get(j, "error"), NULL),
			    pt_json_str(pt_json_get(j, "message"), NULL));
	}
	pt_json_put(j);
	pt_resp_free(&resp);
	return status == 200 ? 0 : 1;
}

/*
 * Retention for `porterctl prune`: every event and action log older than
 * log_retention_days, PRUNE_BATCH events per transaction so that no
 * single write grows large.  Prints what went.
 */
void
ctl_prune_logs(struct pt_store *s)
{
	struct pt_retention_stats st;
	struct pt_config *cfg;
	struct pt_txn *txn;
	enum pt_err rc;
	size_t events = 0, actions = 0;
	int64_t days, now = pt_now_us();

	cfg = ctl_load_config(s);
	days = cfg->log_retention_days > 0 ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT;
	pt_config_free(cfg);
	do {
		memset(&st, 0, sizeof(st));
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
			ctl_die("store: %s", pt_strerror(rc));
		if ((rc = pt_retention_prune(txn, now, days, PRUNE_BATCH,
		    &st)) != PT_OK) {
			pt_txn_abort(txn);
			ctl_die("pruning logs: %s (%s)", pt_strerror(rc),
			    pt_store_errstr());
		}
		if ((rc = pt_txn_commit(txn)) != PT_OK)
			ctl_die("commit: %s (%s)", pt_strerror(rc),
			    pt_store_errstr());
		events += st.events;
		actions += st.actions;
	} while (st.more);
	printf("%zu event log%s and %zu action log%s older than %lld day%s "
	    "removed\n", events, events == 1 ? "" : "s", actions, actions == 1 ?
	    "" : "s", (long long)days, days == 1 ? "" : "s");
}
