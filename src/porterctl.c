/*
 * porterctl.c - the operator's command line (porterctl(1)).
 *
 * Each command is one function in the table at the bottom (cgit's cmd.c).
 * Commands that only read open the store read-only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "actions.h"
#include "catalog.h"
#include "check.h"
#include "conf.h"
#include "ctl.h"
#include "dumpable.h"
#include "eventlog.h"
#include "handler.h"
#include "idem.h"
#include "ids.h"
#include "inspect.h"
#include "json.h"
#include "path.h"
#include "scheme.h"
#include "sig.h"
#include "size.h"
#include "store.h"
#include "timeutil.h"

#define MAX_INPUT (64 * 1024 * 1024)

static const char *db_dir;
static uint64_t opt_map_size;
static const char *progname = "porterctl";

static void __attribute__((noreturn))
vdie(int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(status);
}

void
ctl_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, fmt, ap);
}

/*
 * The core's log lines ("porter[pid]: 404 not_found ...") are for a web
 * server's error log.  Every porterctl command reports its outcome
 * itself, from the answer the line describes (replay prints the status,
 * code and message, and names `porterctl log` for a handler's failure),
 * so here they would only repeat it in the responder's voice.
 */
static void
ctl_log(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

void
ctl_ctx_init(struct pt_ctx *ctx, struct pt_store *s)
{
	pt_ctx_init(ctx, s);
	ctx->log = ctl_log;
}

/* A usage error (porterctl(1) EXIT STATUS): the message, exit 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
usage_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, fmt, ap);
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: porterctl [--db DIR] [--map-size SIZE] COMMAND [ARGS]\n"
"\n"
"Configuration\n"
"  apply [--dry-run] FILE       validate FILE (\"-\" = stdin) and make it the\n"
"                               configuration; prints what changed\n"
"  export [--with-secrets]      print the configuration (secrets masked)\n"
"  sources [--json] [--types]   each environment's endpoint; --types lists\n"
"                               the source types and their defaults\n"
"  sign --source S --env E [--url URL] FILE\n"
"                               print the headers a sender would send\n"
"  send --source S --env E [--url http://HOST:PORT/PREFIX] [--method M]\n"
"       [--path SUFFIX] [--header 'Name: value']... FILE\n"
"                               sign FILE and post it to the endpoint;\n"
"                               prints the answer, fails unless 2xx\n"
"  rehearse --source S --env E --body FILE [--content-type CT]\n"
"       [--header 'Name: value']...\n"
"                               run the mappings on a payload (JSON or a\n"
"                               form, as CT says or as it looks), no effects\n"
"Event log\n"
"  logs [--source S] [--env E] [--type T] [--status ST] [--verification V]\n"
"       [--since 2h|TIME] [--before EVT_ID] [--limit N] [--json]\n"
"                               events, newest first\n"
"  log EVT_ID [--json]          one event, everything, body pretty-printed\n"
"  replay EVT_ID [--force] [--json]\n"
"                               run a logged event's mappings again, as\n"
"                               configured now: a new event (replay_of);\n"
"                               as the store's owner only; --force for an\n"
"                               event not verified where it is enforced\n"
"  events --source S --env E [--json]\n"
"                               received event types: count, first, last\n"
"Data the actions made\n"
"  users [ID]  objects COLLECTION [ID]  tenants [ID]\n"
"  subscriptions COLLECTION ID  audiences [KEY]\n"
"  runs [--workflow K] [--status S] [--limit N] [--follow]\n"
"                               all with --json\n"
"Store\n"
"  status [--json]              store size, map use, record counts\n"
"  check                        verify that indexes agree with records\n"
"  load --source S --env E --count N [--days D] [--body-bytes B]\n"
"                               fill the log with synthetic events (benchmarks)\n"
"  prune                        remove expired idempotency records and\n"
"                               logs older than log_retention_days\n"
"  recover                      mark executions whose process died\n"
"                               while their handlers ran as interrupted\n"
"Admin API and console\n"
"  token create NAME [--read-only]\n"
"                               print a new admin API token (shown once)\n"
"  token revoke NAME            delete a token: its next call is refused\n"
"  token list [--json]          token names and rights (never the tokens)\n"
"\n"
"The store is --db DIR, else $PORTER_DB.  PORTER_CORE_DUMPS=1 allows core\n"
"dumps (off by default: they would hold the secrets).  See porterctl(1),\n"
"porter.conf(5).\n");
}

/* Read a whole file ("-" = stdin) into a NUL-terminated buffer. */
char *
ctl_read_file(const char *path, size_t *lenp)
{
	struct pt_buf b = { 0 };
	char chunk[65536];
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		ctl_die("%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ctl_die("%s: %s", path, strerror(errno));
		}
		if (b.len + (size_t)n > MAX_INPUT)
			ctl_die("%s: larger than 64 MiB", path);
		if (pt_buf_add(&b, chunk, (size_t)n) != PT_OK)
			ctl_die("out of memory");
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return pt_buf_take(&b, lenp);
}

struct pt_store *
ctl_open_store(int read_only)
{
	struct pt_store_opts opts = { 0 };
	struct pt_store *s;
	char err[512];
	enum pt_err rc;

	if (db_dir == NULL && (db_dir = getenv("PORTER_DB")) == NULL)
		ctl_die("no store: give --db DIR or set PORTER_DB");
	opts.read_only = read_only;
	opts.map_size = opt_map_size;
	rc = pt_store_open(db_dir, &opts, &s, err, sizeof(err));
	if (rc == PT_ENOTFOUND && read_only)
		ctl_die("%s: no store there yet (run porterctl apply first)",
		    db_dir);
	if (rc != PT_OK)
		ctl_die("%s", err);
	return s;
}

/*
 * Exit unless we run as the owner of the store's data file, the user the
 * responder runs as: "what" runs workflow handlers, which must get no
 * more privilege than the responder gives them (root running porterctl
 * would run them as root).  Call after ctl_open_store.
 */
void
ctl_require_owner(const char *what)
{
	struct passwd *pw;
	struct stat st;
	char path[4096], name[64];

	snprintf(path, sizeof(path), "%s/data.mdb", db_dir);
	if (stat(path, &st) == -1)
		ctl_die("%s: %s", path, strerror(errno));
	if (st.st_uid == geteuid())
		return;
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "#%lu", (unsigned long)st.st_uid);
	ctl_die("%s runs workflow handlers, so it must run as the store's "
	    "owner, the user the responder runs as (%s, uid %lu), not as uid "
	    "%lu: run it as that user (sudo -u %s porterctl ...) or replay "
	    "through the admin API", what, name, (unsigned long)st.st_uid,
	    (unsigned long)geteuid(), name);
}

/* Load the stored configuration (an empty one when none was applied). */
struct pt_config *
ctl_load_config(struct pt_store *s)
{
	struct pt_config *cfg;
	struct pt_txn *txn;
	char err[512];
	enum pt_err rc;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_config_load(txn, &cfg, err, sizeof(err));
	pt_txn_abort(txn);
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		ctl_die("stored configuration: %s", err);
	return cfg;
}

void
ctl_print_json(pt_json *j, int flags)
{
	size_t n;
	const char *s = pt_json_text(j, flags, &n);

	if (s == NULL)
		ctl_die("out of memory");
	fwrite(s, 1, n, stdout);
	fputc('\n', stdout);
}

static int
cmd_apply(int argc, char *argv[])
{
	struct pt_config *old, *next = NULL;
	struct pt_json_error jerr;
	struct pt_store *s;
	struct pt_txn *txn;
	struct pt_buf diff = { 0 };
	pt_json *doc;
	char *text, err[1024];
	size_t len, changes;
	enum pt_err rc;
	int dry = 0, ch;

	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	while ((ch = getopt_long(argc, argv, "n", opts, NULL)) != -1)
		if (ch == 'n')
			dry = 1;
		else
			return 2;
	if (optind != argc - 1)
		ctl_die("usage: porterctl apply [--dry-run] FILE");
	text = ctl_read_file(argv[optind], &len);
	if (pt_json_parse(text, len, PT_JSON_MAX_DEPTH, &doc, &jerr) != PT_OK)
		ctl_die("%s: not valid JSON: %s", argv[optind], jerr.message);
	pt_free(text);

	s = ctl_open_store(0);
	/*
	 * Validate against the current config (for kept endpoint ids and
	 * redacted secrets) inside the write transaction, so two applies
	 * cannot interleave.
	 */
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_config_load(txn, &old, err, sizeof(err));
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		ctl_die("stored configuration: %s", err);
	if ((rc = pt_config_parse(doc, old, PT_CFG_OPERATOR, &next, err,
	    sizeof(err))) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("%s: %s", argv[optind], err);
	}
	changes = pt_config_diff(old, next, &diff);
	fwrite(diff.data, 1, diff.len, stdout);
	if (dry || changes == 0) {
		pt_txn_abort(txn);
		if (dry)
			printf("dry run: nothing applied\n");
	} else {
		if ((rc = pt_config_save(txn, next)) != PT_OK) {
			pt_txn_abort(txn);
			ctl_die("saving: %s (%s)", pt_strerror(rc), pt_store_errstr());
		}
		if ((rc = pt_txn_commit(txn)) != PT_OK)
			ctl_die("commit: %s (%s)", pt_strerror(rc), pt_store_errstr());
		printf("applied (generation %llu)\n",
		    (unsigned long long)next->gen);
	}
	pt_buf_free(&diff);
	pt_config_free(old);
	pt_config_free(next);
	pt_json_put(doc);
	pt_store_close(s);
	return 0;
}

static int
cmd_export(int argc, char *argv[])
{
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *doc;
	int with = 0;

	if (argc == 2 && strcmp(argv[1], "--with-secrets") == 0)
		with = 1;
	else if (argc != 1)
		ctl_die("usage: porterctl export [--with-secrets]");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if (!cfg->fp_key_stored && cfg->nenvs > 0 && !with) {
		/*
		 * A store from before keyed fingerprints: make its key
		 * first, or this export's fingerprints would match nothing
		 * when applied back.
		 */
		pt_config_free(cfg);
		pt_store_close(s);
		s = ctl_open_store(0);
		if (pt_config_fp_key_init(s) != PT_OK)
			ctl_die("cannot make the store's fingerprint key: %s",
			    pt_store_errstr());
		cfg = ctl_load_config(s);
	}
	if ((doc = pt_config_export(cfg, with)) == NULL)
		ctl_die("out of memory");
	ctl_print_json(doc, PT_JSON_PRETTY);
	pt_json_put(doc);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

static int
cmd_sources(int argc, char *argv[])
{
	const struct pt_source_type *types;
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *arr, *o;
	size_t i, n;
	int json = 0, list_types = 0;

	for (i = 1; i < (size_t)argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--types") == 0)
			list_types = 1;
		else
			ctl_die("usage: porterctl sources [--json] [--types]");
	if (list_types) {
		types = pt_catalog_all(&n);
		if ((arr = pt_json_new_array()) == NULL)
			ctl_die("out of memory");
		for (i = 0; i < n; i++) {
			const struct pt_scheme *sch = types[i].scheme ?
			    pt_scheme_preset(types[i].scheme) : NULL;

			if (!json) {
				printf("%-12s %-15s signature=%s type=%s%s%s "
				    "idempotency=%s\n    %s\n", types[i].name,
				    types[i].category, types[i].scheme ?
				    types[i].scheme : "none",
				    types[i].event_type_template ?
				    types[i].event_type_template :
				    types[i].event_type_rule ?
				    types[i].event_type_rule :
				    types[i].event_type_path,
				    types[i].batch_path ? " batch=" : "",
				    types[i].batch_path ? types[i].batch_path : "",
				    types[i].idempotency_key_path ?
				    types[i].idempotency_key_path : "none",
				    types[i].notes);
				continue;
			}
			if ((o = pt_json_new_object()) == NULL)
				ctl_die("out of memory");
			pt_json_append(arr, o);
			pt_json_set(o, "type", pt_json_new_cstr(types[i].name));
			pt_json_set(o, "title", pt_json_new_cstr(types[i].title));
			pt_json_set(o, "category",
			    pt_json_new_cstr(types[i].category));
			if (sch != NULL)
				pt_json_set(o, "signature", pt_scheme_to_json(sch));
			else
				pt_json_set_null(o, "signature");
			pt_json_set(o, "event_type_path",
			    pt_json_new_cstr(types[i].event_type_path));
			if (types[i].event_type_template != NULL)
				pt_json_set(o, "event_type_template",
				    pt_json_parse_trusted(
				    types[i].event_type_template,
				    strlen(types[i].event_type_template)));
			else
				pt_json_set_null(o, "event_type_template");
			pt_json_set(o, "body_formats", pt_json_parse_trusted(
			    pt_catalog_body_formats(&types[i]),
			    strlen(pt_catalog_body_formats(&types[i]))));
			pt_json_set(o, "form_json_fields", pt_json_parse_trusted(
			    pt_catalog_form_json_fields(&types[i]),
			    strlen(pt_catalog_form_json_fields(&types[i]))));
			pt_json_set_cstr(o, "event_type_rule",
			    types[i].event_type_rule);
			pt_json_set_cstr(o, "batch_path", types[i].batch_path);
			pt_json_set_cstr(o, "timestamp_path",
			    types[i].timestamp_path);
			pt_json_set_cstr(o, "idempotency_key_path",
			    types[i].idempotency_key_path);
			pt_json_set(o, "event_types", pt_json_parse_trusted(
			    types[i].event_types, strlen(types[i].event_types)));
			pt_json_set(o, "default_mappings", pt_json_parse_trusted(
			    types[i].default_mappings,
			    strlen(types[i].default_mappings)));
		}
		if (json)
			ctl_print_json(arr, PT_JSON_PRETTY);
		pt_json_put(arr);
		return 0;
	}
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *e = cfg->envs[i];
		char path[200];

		snprintf(path, sizeof(path), "/receive/%s", e->endpoint_id);
		if (!json) {
			printf("%s/%s\t%s\tPOST %s\tverify=%s\n", e->source_key,
			    e->name, e->source_type, path, e->verify ? "on" :
			    "off");
			continue;
		}
		if ((o = pt_json_new_object()) == NULL)
			ctl_die("out of memory");
		pt_json_append(arr, o);
		pt_json_set(o, "source", pt_json_new_cstr(e->source_key));
		pt_json_set(o, "environment", pt_json_new_cstr(e->name));
		pt_json_set(o, "type", pt_json_new_cstr(e->source_type));
		pt_json_set(o, "endpoint_id", pt_json_new_cstr(e->endpoint_id));
		pt_json_set(o, "path", pt_json_new_cstr(path));
		pt_json_set(o, "verify", pt_json_new_bool(e->verify));
	}
	if (json)
		ctl_print_json(arr, PT_JSON_PRETTY);
	else if (cfg->nenvs == 0)
		printf("no sources configured\n");
	pt_json_put(arr);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

/*
 * Sign "body" as the sender of "env" would, with its first key that has not
 * expired, into "out" (header lines); dies when that cannot be done.
 */
void
ctl_sign(const struct pt_env *env, const char *source, const char *env_name,
    const char *body, size_t len, const char *url, struct pt_buf *out)
{
	int64_t now = pt_now_us() / 1000000;
	size_t i;

	for (i = 0; i < env->nkeys; i++)
		if (env->keys[i].expires_at == 0 ||
		    env->keys[i].expires_at > now)
			break;
	if (i == env->nkeys)
		ctl_die("%s/%s has no active signing key", source, env_name);
	if (pt_scheme_sign(env->scheme, env->keys[i].secret, env->keys[i].len,
	    (const uint8_t *)body, len, url, now, NULL, out) != PT_OK ||
	    out->failed)
		ctl_die("cannot sign with scheme %s", pt_scheme_name(env->scheme));
}

static int
cmd_sign(int argc, char *argv[])
{
	const char *source = NULL, *env_name = NULL, *url = NULL;
	const struct pt_env *env;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_buf out = { 0 };
	char *body;
	size_t len;
	int ch;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "url", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	while ((ch = getopt_long(argc, argv, "s:e:u:", opts, NULL)) != -1)
		switch (ch) {
		case 's': source = optarg; break;
		case 'e': env_name = optarg; break;
		case 'u': url = optarg; break;
		default: return 2;
		}
	if (source == NULL || env_name == NULL || optind != argc - 1)
		ctl_die("usage: porterctl sign --source S --env E [--url URL] FILE");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	if (env->scheme == NULL)
		ctl_die("%s/%s has no signature scheme: nothing to sign", source,
		    env_name);
	body = ctl_read_file(argv[optind], &len);
	ctl_sign(env, source, env_name, body, len, url, &out);
	fwrite(out.data, 1, out.len, stdout);
	pt_buf_free(&out);
	pt_free(body);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

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

static int
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
		usage_die("usage: porterctl logs [filters] [--json]");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	/* A filter that cannot match is a mistake, not "no events". */
	rc = pt_eventlog_check_filters(txn, cfg, &q, why, sizeof(why));
	pt_config_free(cfg);
	if (rc == PT_EINVAL)
		usage_die("logs: %s", why);
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

static int
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

static int
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

static int
cmd_status(int argc, char *argv[])
{
	struct pt_store_stat st;
	struct pt_store *s;
	pt_json *o, *counts;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0, t;
	double pct;

	if (argc > 2 || (argc == 2 && !json))
		ctl_die("usage: porterctl status [--json]");
	s = ctl_open_store(1);
	if (pt_store_stat(s, &st) != PT_OK)
		ctl_die("store: %s", pt_store_errstr());
	pct = st.map_size ? 100.0 * (double)st.used / (double)st.map_size : 0;
	if (json) {
		if ((o = pt_json_new_object()) == NULL ||
		    (counts = pt_json_new_object()) == NULL)
			ctl_die("out of memory");
		pt_json_set(o, "map_size", pt_json_new_int((int64_t)st.map_size));
		pt_json_set(o, "used", pt_json_new_int((int64_t)st.used));
		pt_json_set(o, "map_used_percent", pt_json_new_double(pct));
		pt_json_set(o, "readers", pt_json_new_int(st.readers));
		pt_json_set(o, "max_readers", pt_json_new_int(st.max_readers));
		pt_json_set(o, "entries", counts);
		for (t = 0; t < PT_T__MAX; t++)
			pt_json_set(counts, pt_table_name(t),
			    pt_json_new_int((int64_t)st.entries[t]));
		ctl_print_json(o, PT_JSON_PRETTY);
		pt_json_put(o);
	} else {
		printf("store      %s\n", db_dir);
		printf("map        %.1f MiB used of %.1f MiB (%.1f%%)%s\n",
		    (double)st.used / 1048576.0, (double)st.map_size / 1048576.0,
		    pct, pct >= 90.0 ? "  NEARLY FULL: raise PORTER_MAP_SIZE "
		    "or prune" : "");
		printf("readers    %u of %u\n", st.readers, st.max_readers);
		printf("events     %llu\n",
		    (unsigned long long)st.entries[PT_T_EVENTS]);
		for (t = 0; t < PT_T__MAX; t++)
			if (t != PT_T_EVENTS && st.entries[t])
				printf("%-10.10s %llu  (%s)\n", "", (unsigned long
				    long)st.entries[t], pt_table_name(t));
	}
	pt_store_close(s);
	return 0;
}

static void
print_problem(void *arg, const char *line)
{
	(void)arg;
	printf("problem: %s\n", line);
}

static int
cmd_check(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	size_t problems, events;
	enum pt_err rc;

	(void)argv;
	if (argc != 1)
		ctl_die("usage: porterctl check");
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	problems = pt_check(txn, print_problem, NULL, &events);
	pt_txn_abort(txn);
	pt_store_close(s);
	printf("%zu events checked, %zu problem%s\n", events, problems,
	    problems == 1 ? "" : "s");
	return problems ? 1 : 0;
}

static int
cmd_prune(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	size_t n;
	enum pt_err rc;

	(void)argv;
	if (argc != 1)
		ctl_die("usage: porterctl prune");
	s = ctl_open_store(0);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = pt_idem_prune(txn, pt_now_us(), 0, &n)) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("pruning: %s", pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s", pt_strerror(rc));
	printf("%zu expired idempotency record%s removed\n", n, n == 1 ? "" :
	    "s");
	ctl_prune_logs(s);	/* issue 6: retention (ctl_admin.c) */
	pt_store_close(s);
	return 0;
}

static int
cmd_recover(int argc, char *argv[])
{
	struct pt_store *s;
	struct pt_txn *txn;
	size_t n;
	enum pt_err rc;

	(void)argv;
	if (argc != 1)
		ctl_die("usage: porterctl recover");
	s = ctl_open_store(0);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = pt_recover(txn, pt_now_us(), 0, &n)) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("recovering: %s", pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s", pt_strerror(rc));
	printf("%zu interrupted execution%s marked\n", n, n == 1 ? "" : "s");
	pt_store_close(s);
	return 0;
}

/*
 * Parse, identify and map a payload the way the responder would, with no
 * side effects: print each mapping's resolved payload or field error.
 */
static int
cmd_rehearse(int argc, char *argv[])
{
	const char *source = NULL, *env_name = NULL, *body_path = NULL;
	const char *ctype = NULL;
	const struct pt_env *env;
	struct pt_body_error berr;
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *body, *headers, *out, *maps;
	char *text;
	size_t len, i;
	int ch, json = 0, status;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "body", required_argument, NULL, 'b' },
		{ "header", required_argument, NULL, 'H' },
		{ "content-type", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	if ((headers = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	while ((ch = getopt_long(argc, argv, "s:e:b:H:c:j", opts, NULL)) != -1)
		switch (ch) {
		case 's': source = optarg; break;
		case 'e': env_name = optarg; break;
		case 'b': body_path = optarg; break;
		case 'c': ctype = optarg; break;
		case 'j': json = 1; break;
		case 'H': {
			char *colon = strchr(optarg, ':'), *p, *val;

			if (colon == NULL || colon == optarg)
				ctl_die("--header %s: want 'Name: value'", optarg);
			*colon = '\0';
			for (p = optarg; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
				;
			pt_json_set(headers, optarg, pt_json_new_cstr(val));
			break;
		}
		default: return 2;
		}
	if (source == NULL || env_name == NULL || body_path == NULL ||
	    optind != argc)
		ctl_die("usage: porterctl rehearse --source S --env E --body FILE "
		    "[--content-type CT] [--header 'Name: value']... [--json]");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	text = ctl_read_file(body_path, &len);
	/* JSON or a form: as given, as a Content-Type header says, or seen. */
	if (ctype == NULL)
		ctype = pt_json_str(pt_json_get(headers, "content-type"), NULL);
	if (pt_inspect_body(env, ctype, text, len, &body, &status, &berr) !=
	    PT_OK) {
		if (berr.code == NULL)
			ctl_die("out of memory");
		ctl_die("%s: the responder would answer %d %s: %s", body_path,
		    status, berr.code, berr.message);
	}
	/* Shared with the admin API (inspect.c). */
	if (pt_inspect_rehearse(env, body, headers, &out) != PT_OK)
		ctl_die("out of memory");
	maps = pt_json_get(out, "mappings");
	if (json) {
		ctl_print_json(out, PT_JSON_PLAIN);
	} else {
		printf("event type: %s\n", pt_json_str(pt_json_get(out,
		    "event_type"), NULL) ? pt_json_str(pt_json_get(out,
		    "event_type"), NULL) : "(none)");
		/* The warnings ingest would log; the first names a missing type. */
		for (i = 0; i < pt_json_len(pt_json_get(out, "warnings")); i++)
			printf("%s\n", pt_json_str(pt_json_index(pt_json_get(out,
			    "warnings"), i), NULL));
		if (pt_json_get(out, "message") == NULL && pt_json_len(maps) == 0)
			printf("no mapping for this event type: it would be logged "
			    "as no_mapping\n");
		for (i = 0; i < pt_json_len(maps); i++) {
			pt_json *o = pt_json_index(maps, i);

			printf("\n%s (mapping %lld): %s\n", pt_json_str(pt_json_get(
			    o, "action"), NULL), (long long)pt_json_int(
			    pt_json_get(o, "mapping")), pt_json_str(pt_json_get(o,
			    "status"), NULL));
			if (pt_json_get(o, "payload"))
				ctl_print_json(pt_json_get(o, "payload"),
				    PT_JSON_PRETTY);
			else
				printf("  %s: %s\n", pt_json_str(pt_json_get(
				    pt_json_get(o, "error"), "field"), NULL),
				    pt_json_str(pt_json_get(pt_json_get(o,
				    "error"), "message"), NULL));
		}
	}
	pt_json_put(out);
	pt_json_put(body);
	pt_json_put(headers);
	pt_free(text);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char *[]);
} cmds[] = {
	{ "apply", cmd_apply },
	{ "export", cmd_export },
	{ "sources", cmd_sources },
	{ "sign", cmd_sign },
	{ "send", cmd_send },		/* issue 7: ctl_send.c */
	{ "token", cmd_token },		/* issue 6: ctl_admin.c */
	{ "replay", cmd_replay },	/* issue 6: ctl_admin.c */
	{ "logs", cmd_logs },
	{ "log", cmd_log },
	{ "events", cmd_events },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "prune", cmd_prune },
	{ "recover", cmd_recover },
	{ "rehearse", cmd_rehearse },
	{ "users", cmd_users },
	{ "objects", cmd_objects },
	{ "tenants", cmd_tenants },
	{ "subscriptions", cmd_subscriptions },
	{ "audiences", cmd_audiences },
	{ "runs", cmd_runs },
	{ "load", cmd_load },
};

/* "4G", "512M" -> bytes; a size it cannot read is a usage error (2). */
static uint64_t
parse_size(const char *what, const char *s)
{
	char why[200];
	uint64_t v;

	if (pt_parse_size(s, PT_MAP_SIZE_MIN, &v, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s %s\n", progname, what, why);
		exit(2);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	char why[200];
	size_t i;
	int ch;

	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	/* Stop at the command: its options are its own. */
	while ((ch = getopt_long(argc, argv, "+d:m:hV", opts, NULL)) != -1)
		switch (ch) {
		case 'd': db_dir = optarg; break;
		case 'm': opt_map_size = parse_size("--map-size", optarg);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("porterctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	/* Before the first secret is read: no core dump may hold one. */
	if (pt_dumpable_set(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	/* Empty counts as unset, as in the responder. */
	if (opt_map_size == 0 && getenv("PORTER_MAP_SIZE") &&
	    getenv("PORTER_MAP_SIZE")[0] != '\0')
		opt_map_size = parse_size("PORTER_MAP_SIZE",
		    getenv("PORTER_MAP_SIZE"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			optind = 1;
			return cmds[i].fn(argc, argv);
		}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown command %s\n", progname, argv[0]);
	usage(stderr);
	return 2;
}
