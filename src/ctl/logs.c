/*
 * logs.c - porterctl logs, log and events: reading the event log.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "eventlog.h"
#include "ids.h"
#include "inspect.h"
#include "json.h"
#include "store.h"
#include "timeutil.h"

/* Parse "--since": a duration back from now ("2h") or an RFC 3339 time. */
static int64_t
parse_since(const char *s)
{
	int64_t secs, us;

	if (pt_parse_duration(s, &secs) == 0)
		return pt_now_us() - secs * 1000000;
	if (pt_parse_rfc3339(s, strlen(s), &us) == 0)
		return us;
	ctl_die("--since %s: want a duration (90s, 15m, 2h, 7d) or an RFC 3339 "
	    "time", s);
}

struct logs_out {
	int	 json;
	size_t	 n;
};

static int
print_log_line(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t body_len)
{
	struct logs_out *o = arg;
	pt_json *vf = pt_json_get(meta, "verification");
	const char *type = pt_json_str(pt_json_get(meta, "event_type"), NULL);
	const char *reason = pt_json_str(pt_json_get(vf, "reason"), NULL);
	char typebuf[PT_EVENT_TYPE_MAX + 16];

	(void)id;
	(void)body;
	(void)body_len;
	o->n++;
	if (o->json) {
		ctl_print_json(meta, PT_JSON_PLAIN);
		return 0;
	}
	/* A rejected request's type is only what its body claims. */
	if (type != NULL && pt_json_get_ex(meta, "event_type_unverified",
	    NULL)) {
		snprintf(typebuf, sizeof(typebuf), "%s (unverified)", type);
		type = typebuf;
	}
	printf("%s  %s  %s/%s  %-24s %-14s %s%s%s\n",
	    pt_json_str(pt_json_get(meta, "received_at"), NULL),
	    pt_json_str(pt_json_get(meta, "id"), NULL),
	    pt_json_str(pt_json_get(meta, "source"), NULL),
	    pt_json_str(pt_json_get(meta, "environment"), NULL),
	    type ? type : "-", pt_json_str(pt_json_get(meta, "status"), NULL),
	    pt_json_str(pt_json_get(vf, "status"), NULL), reason ? " " : "",
	    reason ? reason : "");
	return 0;
}

int
cmd_logs(int argc, char *argv[])
{
	struct pt_log_query q;
	struct logs_out o = { 0, 0 };
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN];
	char why[512];
	enum pt_err rc;
	int ch;
	long lim;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "type", required_argument, NULL, 't' },
		{ "status", required_argument, NULL, 'S' },
		{ "verification", required_argument, NULL, 'V' },
		{ "since", required_argument, NULL, 'w' },
		{ "before", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	memset(&q, 0, sizeof(q));
	while ((ch = getopt_long(argc, argv, "s:e:t:S:V:w:b:n:j", opts,
	    NULL)) != -1)
		switch (ch) {
		case 's': q.source = optarg; break;
		case 'e': q.environment = optarg; break;
		case 't': q.event_type = optarg; break;
		case 'S': q.status = optarg; break;
		case 'V': q.verify_status = optarg; break;
		case 'w': q.since = parse_since(optarg); break;
		case 'b':
			if (pt_id_parse("evt", optarg, before) < 0)
				ctl_die("--before %s: not an event id", optarg);
			q.before = before;
			break;
		case 'n':
			lim = strtol(optarg, NULL, 10);
			if (lim < 1 || lim > 100000)
				ctl_die("--limit: 1 to 100000");
			q.limit = (size_t)lim;
			break;
		case 'j': o.json = 1; break;
		default: return 2;
		}
	if (optind != argc)
		ctl_usage_die("usage: porterctl logs [filters] [--json]");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	/* A filter that cannot match is a mistake, not "no events". */
	rc = pt_eventlog_check_filters(txn, cfg, &q, why, sizeof(why));
	pt_config_free(cfg);
	if (rc == PT_EINVAL)
		ctl_usage_die("logs: %s", why);
	if (rc == PT_OK)
		rc = pt_eventlog_query(txn, &q, print_log_line, &o);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading the log: %s", pt_strerror(rc));
	if (!o.json && o.n == 0)
		printf("no events\n");
	pt_store_close(s);
	return 0;
}

int
cmd_log(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	enum pt_err rc;
	pt_json *m;
	int json = 0;

	if (argc == 3 && strcmp(argv[2], "--json") == 0)
		json = 1;
	else if (argc == 3 && strcmp(argv[1], "--json") == 0) {
		json = 1;
		argv[1] = argv[2];
	} else if (argc != 2)
		ctl_die("usage: porterctl log EVT_ID [--json]");
	if (pt_id_parse("evt", argv[1], id) < 0)
		ctl_die("%s: not an event id", argv[1]);
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	/* Shared with the admin API (inspect.c). */
	if ((rc = pt_inspect_event(txn, id, 0, &m)) != PT_OK)
		ctl_die("%s: %s", argv[1], rc == PT_ENOTFOUND ? "no such event" :
		    rc == PT_ECORRUPT ? "stored record does not decode" :
		    pt_strerror(rc));
	pt_txn_abort(txn);
	if (json)
		ctl_print_json(m, PT_JSON_PLAIN);
	else {
		struct pt_json_iter it = { 0 };
		const char *k;
		pt_json *v;

		while (pt_json_iter_next(m, &it, &k, &v)) {
			if (strcmp(k, "body") == 0 ||
			    strcmp(k, "action_logs") == 0) {
				printf("%s:\n", k);
				ctl_print_json(v, PT_JSON_PRETTY);
			} else if (strcmp(k, "event_type") == 0 &&
			    pt_json_get_ex(m, "event_type_unverified", NULL))
				printf("%s: %s (unverified: the request failed "
				    "its signature check)\n", k,
				    pt_json_str(v, NULL));
			else if (pt_json_type(v) == PT_J_STRING)
				printf("%s: %s\n", k, pt_json_str(v, NULL));
			else {
				printf("%s: ", k);
				ctl_print_json(v, PT_JSON_PLAIN);
			}
		}
	}
	pt_json_put(m);
	pt_store_close(s);
	return 0;
}

struct types_out {
	int	 json;
	pt_json	*arr;
};

static int
print_type(void *arg, const char *type, uint64_t count, int64_t first,
    int64_t last)
{
	struct types_out *o = arg;
	char f[PT_RFC3339_LEN], l[PT_RFC3339_LEN];
	pt_json *obj;

	pt_fmt_rfc3339(first, f);
	pt_fmt_rfc3339(last, l);
	if (!o->json) {
		printf("%-32s %10llu  first %s  last %s\n", type,
		    (unsigned long long)count, f, l);
		return 0;
	}
	if ((obj = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	pt_json_append(o->arr, obj);
	pt_json_set(obj, "event_type", pt_json_new_cstr(type));
	pt_json_set(obj, "count", pt_json_new_int((int64_t)count));
	pt_json_set(obj, "first_seen", pt_json_new_cstr(f));
	pt_json_set(obj, "last_seen", pt_json_new_cstr(l));
	return 0;
}

int
cmd_events(int argc, char *argv[])
{
	const char *source = NULL, *env = NULL;
	struct types_out o = { 0, NULL };
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;
	int ch;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	while ((ch = getopt_long(argc, argv, "s:e:j", opts, NULL)) != -1)
		switch (ch) {
		case 's': source = optarg; break;
		case 'e': env = optarg; break;
		case 'j': o.json = 1; break;
		default: return 2;
		}
	if (source == NULL || env == NULL || optind != argc)
		ctl_die("usage: porterctl events --source S --env E [--json]");
	if ((o.arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_eventlog_types(txn, source, env, print_type, &o);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading event types: %s", pt_strerror(rc));
	if (o.json)
		ctl_print_json(o.arr, PT_JSON_PRETTY);
	pt_json_put(o.arr);
	pt_store_close(s);
	return 0;
}
