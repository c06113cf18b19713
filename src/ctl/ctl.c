/*
 * ctl.c - what every porterctl command calls: messages and exits, the
 * store and its configuration, reading files, signing, printing JSON.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actidx.h"
#include "alloc.h"
#include "conf.h"
#include "ctl.h"
#include "handler.h"
#include "ids.h"
#include "json.h"
#include "path.h"
#include "retention.h"
#include "scheme.h"
#include "store.h"
#include "timeutil.h"
#include "tokens.h"

#define MAX_INPUT (64 * 1024 * 1024)

const char *ctl_db_dir;
uint64_t ctl_map_size;
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
	/* One command, one thread: a script worker starts if one is needed. */
	ctx->scripts_on_demand = 1;
}

void
ctl_usage_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, fmt, ap);
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

struct index_progress {
	struct ctl_progress	pr;
	size_t			done;
};

static void
index_progress(void *arg, size_t done)
{
	struct index_progress *ip = arg;

	ip->done = done;
	ctl_progress(&ip->pr, (uint64_t)done);
}

/* The room a write command makes sure of before it writes. */
#define CTL_WRITE_ROOM	((uint64_t)256 << 10)

struct pt_store *
ctl_open_at(const char *name, int how)
{
	struct pt_store_opts opts = { 0 };
	struct pt_store *s;
	char err[512], shown[512];
	enum pt_err rc;
	struct index_progress ip;

	opts.read_only = how == CTL_OPEN_READ;
	opts.map_size = ctl_map_size;
	rc = pt_store_open(name, &opts, &s, err, sizeof(err));
	/* (A database's own message says what to run: migrate.) */
	if (rc == PT_ENOTFOUND && opts.read_only && !pt_store_is_uri(name))
		ctl_die("%s: no store there yet (run porterctl apply first)",
		    pt_store_display(name, shown, sizeof(shown)));
	if (rc != PT_OK)
		ctl_die("%s", err);
	/* Bare: grows as it must, and nothing in it is deleted for room. */
	if (how == CTL_OPEN_BARE)
		return s;
	pt_store_set_make_room(s, pt_retention_make_room, NULL);
	if (opts.read_only)
		return s;
	/*
	 * Room for this command's writes, which are not the committer's
	 * (that grows the map when a write finds it full): an operator
	 * raising max_store_bytes on a full store must get the apply in.
	 */
	if (pt_store_reserve(s, CTL_WRITE_ROOM) != PT_OK)
		fprintf(stderr, "porterctl: the store is full: %s\n",
		    pt_store_errstr());
	/*
	 * A store from before the action index gets it on the first write
	 * open; until it is complete, action queries read the log instead.
	 */
	memset(&ip, 0, sizeof(ip));
	ctl_progress_start(&ip.pr, "indexing the action log");
	rc = pt_actions_index_build(s, 0, index_progress, &ip);
	ctl_progress_end(&ip.pr, (uint64_t)ip.done);
	if (rc != PT_OK)
		fprintf(stderr, "porterctl: cannot index the action log: %s "
		    "(%s); action queries read the log instead\n",
		    pt_strerror(rc), pt_store_errstr());
	return s;
}

struct pt_store *
ctl_open_store(int read_only)
{
	struct stat st;
	char shown[512];
	int dflt = 0;

	if (ctl_db_dir == NULL && (ctl_db_dir = getenv("PORTER_DB")) == NULL) {
		/* The installed state directory, the unit's PORTER_DB. */
		ctl_db_dir = PT_LOCALSTATEDIR "/lib/porter";
		dflt = 1;
	}
	/* A default is used, never made: that is the package's to do. */
	if (dflt && stat(ctl_db_dir, &st) == -1)
		ctl_die("no store at %s (the default): give --db DIR or set "
		    "PORTER_DB", pt_store_display(ctl_db_dir, shown,
		    sizeof(shown)));
	return ctl_open_at(ctl_db_dir, read_only ? CTL_OPEN_READ :
	    CTL_OPEN_WRITE);
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

	/*
	 * A database has no owner on this machine: refuse root only (the
	 * responder never runs as root).
	 */
	if (pt_store_is_uri(ctl_db_dir)) {
		if (geteuid() == 0)
			ctl_die("%s runs workflow handlers: not as root; run it "
			    "as the user the responder runs as, or replay "
			    "through the admin API", what);
		return;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", ctl_db_dir);
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

void
ctl_json_line(pt_json *j)
{
	ctl_print_json(j, PT_JSON_PLAIN);
}

void
ctl_json_doc(pt_json *j)
{
	ctl_print_json(j, PT_JSON_PRETTY);
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

/* ------------------------------------------- values the table checks */

/* An id with "prefix" ("evt_..."); "what" names it when it is not one. */
static int
check_id(const char *s, const char *prefix, const char *what, char *why,
    size_t whylen)
{
	uint8_t id[PT_ID_BIN];

	if (pt_id_parse(prefix, s, id) < 0)
		return ctl_refuse(why, whylen, "not %s id", what);
	return 0;
}

int
ctl_check_evt_id(const char *s, char *why, size_t whylen)
{
	return check_id(s, "evt", "an event", why, whylen);
}

int
ctl_check_act_id(const char *s, char *why, size_t whylen)
{
	return check_id(s, "act", "an action", why, whylen);
}

/* A duration back from now ("2h") or an RFC 3339 time: 0, or -1. */
static int
parse_since(const char *s, int64_t *us)
{
	int64_t secs;

	if (pt_parse_duration(s, &secs) == 0) {
		*us = pt_now_us() - secs * 1000000;
		return 0;
	}
	return pt_parse_rfc3339(s, strlen(s), us);
}

int
ctl_check_since(const char *s, char *why, size_t whylen)
{
	int64_t us;

	if (parse_since(s, &us) < 0)
		return ctl_refuse(why, whylen, "want a duration (90s, 15m, 2h, "
		    "7d) or an RFC 3339 time");
	return 0;
}

/* PATH=VALUE, PATH a dot path (path.h); the value may be empty. */
int
ctl_check_where(const char *s, char *why, size_t whylen)
{
	const char *eq = strchr(s, '='), *msg = NULL;
	struct pt_path *p = NULL;

	if (eq == NULL || eq == s)
		return ctl_refuse(why, whylen, "want PATH=VALUE, such as "
		    "body.data.object.customer=cus_123");
	if (pt_path_compile(s, (size_t)(eq - s), &p, &msg) != PT_OK)
		return ctl_refuse(why, whylen, "%.*s: %s", (int)(eq - s), s,
		    msg ? msg : "out of memory");
	pt_path_free(p);
	return 0;
}

struct pt_path *
ctl_where(const char *s, const char **value)
{
	const char *eq = strchr(s, '=');
	struct pt_path *p = NULL;

	if (eq == NULL || pt_path_compile(s, (size_t)(eq - s), &p, NULL) !=
	    PT_OK)
		ctl_die("--where %s: not checked", s);
	*value = eq + 1;
	return p;
}

int64_t
ctl_since_us(const char *s)
{
	int64_t us = 0;

	if (parse_since(s, &us) < 0)
		ctl_die("--since %s: not checked", s);
	return us;
}

/*
 * "Name: value": a header name (RFC 9110 token characters), a colon and
 * a value, with no line break anywhere (it goes into a request as is).
 */
int
ctl_check_header(const char *s, char *why, size_t whylen)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t n = strspn(s, tchar);

	if (n == 0 || s[n] != ':' || strpbrk(s, "\r\n") != NULL)
		return ctl_refuse(why, whylen, "want 'Name: value'");
	return 0;
}

int
ctl_check_method(const char *s, char *why, size_t whylen)
{
	if (*s == '\0' || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	    strlen(s))
		return ctl_refuse(why, whylen, "want an upper-case HTTP "
		    "method");
	return 0;
}

int
ctl_check_path(const char *s, char *why, size_t whylen)
{
	if (*s != '\0' && (*s != '/' || strpbrk(s, " \t\r\n") != NULL))
		return ctl_refuse(why, whylen, "want a path starting with /");
	return 0;
}

int
ctl_check_token_name(const char *s, char *why, size_t whylen)
{
	if (!pt_token_name_valid(s))
		return ctl_refuse(why, whylen, "a token name is 1 to %d "
		    "letters, digits, \".\", \"_\" or \"-\"", PT_TOKEN_NAME_MAX);
	return 0;
}

/* Forget ids older than the window. */
static void
seen_prune(struct ctl_seen *w, int64_t lag)
{
	size_t i = 0;

	while (i < w->n && pt_id_time(w->ids[i]) < w->newest - lag)
		i++;
	memmove(w->ids[0], w->ids[i], (w->n - i) * PT_ID_BIN);
	w->n -= i;
}

int
ctl_seen_add(struct ctl_seen *w, const uint8_t id[PT_ID_BIN], int64_t lag)
{
	size_t lo = 0, hi, mid;
	int c;
	void *p;

	if (pt_id_time(id) > w->newest)
		w->newest = pt_id_time(id);
	if (w->n == w->cap && w->n > 0)
		seen_prune(w, lag);	/* before it grows */
	hi = w->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = memcmp(w->ids[mid], id, PT_ID_BIN)) == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		if ((p = pt_realloc(w->ids, w->cap * PT_ID_BIN)) == NULL)
			ctl_die("out of memory");
		w->ids = p;
	}
	memmove(w->ids[lo + 1], w->ids[lo], (w->n - lo) * PT_ID_BIN);
	memcpy(w->ids[lo], id, PT_ID_BIN);
	w->n++;
	return 1;
}

const uint8_t *
ctl_seen_cursor(const struct ctl_seen *w, int64_t lag,
    uint8_t after[PT_ID_BIN])
{
	memset(after, 0, PT_ID_BIN);
	if (w->newest <= lag)
		return NULL;
	pt_be64_put(after, (uint64_t)(w->newest - lag));
	return after;
}

int
ctl_tty(void)
{
	return isatty(STDOUT_FILENO);
}

/* Colour, on a terminal only: NO_COLOR (any value) and TERM=dumb say no. */
static int
colour(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return ctl_tty() && (nc == NULL || *nc == '\0') &&
	    !(term != NULL && strcmp(term, "dumb") == 0);
}

/* The colour a status word is shown in: good, doubtful, bad. */
static const char *
status_colour(const char *s)
{
	static const char *const good[] = { "accepted", "success",
	    "enforced:verified", "not_enforced:verified", "completed", NULL };
	static const char *const bad[] = { "failed", "rejected", "invalid",
	    "script_failed", "interrupted", "enforced:failed",
	    "not_enforced:failed", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		if (strcmp(s, good[i]) == 0)
			return "\033[32m";
	for (i = 0; bad[i] != NULL; i++)
		if (strcmp(s, bad[i]) == 0)
			return "\033[31m";
	return "\033[33m";
}

void
ctl_print_status(const char *s, int width)
{
	int n;

	if (s == NULL)
		s = "-";
	n = (int)strlen(s);
	if (colour())
		printf("%s%s\033[0m", status_colour(s), s);
	else
		fputs(s, stdout);
	if (width > n)
		printf("%*s", width - n, "");
}

void
ctl_progress_start(struct ctl_progress *p, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->on = isatty(STDERR_FILENO);
	p->start = pt_mono_ms();
}

/* "\rloading: 120000 (41200/s)", at most four times a second. */
void
ctl_progress(struct ctl_progress *p, uint64_t done)
{
	int64_t now;

	if (!p->on || (now = pt_mono_ms()) - p->last < 250)
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %llu (%llu/s)   ", p->what,
	    (unsigned long long)done, (unsigned long long)(now > p->start ?
	    done * 1000 / (uint64_t)(now - p->start) : 0));
	fflush(stderr);
}

void
ctl_progress_end(struct ctl_progress *p, uint64_t done)
{
	if (!p->on || p->last == 0)
		return;
	p->last = 0;
	ctl_progress(p, done);
	fputc('\n', stderr);
	fflush(stderr);
}
