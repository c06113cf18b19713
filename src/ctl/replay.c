/*
 * replay.c - porterctl replay: run a logged event's mappings again, as
 * configured now.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "handler.h"
#include "http.h"
#include "nitems.h"
#include "path.h"
#include "replays.h"
#include "sandbox.h"

/*
 * Replay a logged event through the mappings as they are configured now
 * (pt_replay): the new run is a new event linked by "replay_of".  It runs
 * workflow handlers, so only as the store's owner and under the
 * responder's seccomp filter; --force replays an event that was not
 * verified where verification is enforced.
 */
/*
 * How many of "keys" (the bulk replay's filters, or its other options)
 * were given.
 */
static const int filter_keys[] = { CTL_K_SOURCE, CTL_K_ENV, CTL_K_TYPE,
    CTL_K_STATUS, CTL_K_SINCE, CTL_K_WHERE };
static const int bulk_keys[] = { CTL_K_LIMIT, CTL_K_DRY_RUN };

static size_t
given(const struct ctl_args *a, const int *keys, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += a->given[keys[i]] > 0;
	return c;
}

/* "  evt_... (type, status)" for the report's lists, one a line. */
static void
print_items(const char *head, const pt_json *arr, const char *k1,
    const char *k2)
{
	size_t i;

	if (pt_json_len(arr) == 0)
		return;
	printf("%s (%zu):\n", head, pt_json_len(arr));
	for (i = 0; i < pt_json_len(arr); i++) {
		const pt_json *o = pt_json_index(arr, i), *v2 = pt_json_get(o,
		    k2);

		printf("  %s  %s%s%s\n", pt_json_str(pt_json_get(o,
		    "event_id"), NULL), pt_json_str(pt_json_get(o, k1), NULL) ?
		    pt_json_str(pt_json_get(o, k1), NULL) : "-",
		    v2 ? "  " : "", v2 == NULL ? "" : pt_json_str(v2, NULL) ?
		    pt_json_str(v2, NULL) : "");
	}
}

/*
 * porterctl replay --status failed --since 7d [--where P=V] [--dry-run]:
 * the newest --limit events the filters select, replayed oldest first
 * (replays.h); a summary, or with --json the report.  Exit 1 when one
 * failed.
 */
static int
bulk(const struct ctl_args *a, struct pt_ctx *ctx)
{
	struct pt_replays_req r;
	struct pt_path *where = NULL;
	pt_json *rep;
	char why[512];
	size_t nfailed;

	memset(&r, 0, sizeof(r));
	r.q.source = a->str[CTL_K_SOURCE];
	r.q.environment = a->str[CTL_K_ENV];
	r.q.event_type = a->str[CTL_K_TYPE];
	r.q.status = a->str[CTL_K_STATUS];
	if (a->given[CTL_K_SINCE])
		r.q.since = ctl_since_us(a->str[CTL_K_SINCE]);
	if (a->given[CTL_K_WHERE])
		r.where = where = ctl_where(a->str[CTL_K_WHERE], &r.value);
	r.limit = a->given[CTL_K_LIMIT] ? (size_t)a->num[CTL_K_LIMIT] : 100;
	if (r.limit > PT_REPLAYS_MAX)
		ctl_usage_die("replay: --limit is at most %d in bulk",
		    PT_REPLAYS_MAX);
	r.dry_run = a->given[CTL_K_DRY_RUN] > 0;
	r.force = a->given[CTL_K_FORCE] > 0;
	r.who = "porterctl";
	if (pt_replays(ctx, &r, &rep, why, sizeof(why)) != PT_OK)
		ctl_die("replay: %s", why);
	pt_path_free(where);
	nfailed = pt_json_len(pt_json_get(rep, "failed"));
	if (a->given[CTL_K_JSON])
		ctl_json_doc(rep);
	else {
		print_items(r.dry_run ? "would replay" : "replayed",
		    pt_json_get(rep, r.dry_run ? "would_replay" : "replayed"),
		    r.dry_run ? "event_type" : "replay_id", "status");
		print_items("failed", pt_json_get(rep, "failed"), "error",
		    "message");
		print_items("skipped", pt_json_get(rep, "skipped"), "reason",
		    "none");
		printf("%s %zu, failed %zu, skipped %zu of %lld matched%s\n",
		    r.dry_run ? "dry run: would replay" : "replayed",
		    pt_json_len(pt_json_get(rep, r.dry_run ? "would_replay" :
		    "replayed")), nfailed, pt_json_len(pt_json_get(rep,
		    "skipped")), (long long)pt_json_int(pt_json_get(rep,
		    "matched")), pt_json_bool(pt_json_get(rep, "more")) ?
		    " (more match: raise --limit)" : "");
	}
	pt_json_put(rep);
	return nfailed ? 1 : 0;
}

int
cmd_replay(const struct ctl_args *a)
{
	struct pt_json_error jerr;
	struct pt_resp resp;
	struct pt_store *s;
	struct pt_ctx ctx;
	const char *id = a->pos[0];
	pt_json *j = NULL;
	char why[512];
	int json = a->given[CTL_K_JSON] > 0, force = a->given[CTL_K_FORCE] > 0;
	int status;

	if (id != NULL && given(a, filter_keys, nitems(filter_keys)) +
	    given(a, bulk_keys, nitems(bulk_keys)) > 0)
		ctl_usage_die("replay: give EVT_ID or the filters of a bulk "
		    "replay, not both");
	/* A bulk replay of everything is never what was meant. */
	if (id == NULL && given(a, filter_keys, nitems(filter_keys)) == 0)
		ctl_usage_die("replay: give EVT_ID, or filters (--status failed "
		    "--since 1d, --where ...) for a bulk replay");
	s = ctl_open_store(0);
	ctl_require_owner("replay");
	/* The handlers get the responder's seccomp filter too (sandbox.h). */
	if (pt_sandbox(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	ctl_ctx_init(&ctx, s);
	if (id == NULL) {
		status = bulk(a, &ctx);
		pt_ctx_free(&ctx);
		pt_store_close(s);
		return status;
	}
	status = pt_replay(&ctx, id, "porterctl", force, &resp);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	if (pt_json_parse(resp.body.data ? resp.body.data : "", resp.body.len,
	    PT_JSON_MAX_DEPTH, &j, &jerr) != PT_OK) {
		if (json)	/* not JSON: as it came */
			fwrite(resp.body.data ? resp.body.data : "", 1,
			    resp.body.len, stdout);
	} else if (json)
		ctl_json_doc(j);
	else {
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
