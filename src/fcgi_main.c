/*
 * fcgi_main.c - porter.fcgi: the thin loop around pt_handle().  The only
 * file that includes libfcgi.
 *
 * One binary serves FastCGI (spawned by lighttpd, spawn-fcgi, mod_fcgid)
 * and plain CGI: libfcgi tells which (FCGX_IsCGI) from whether stdin is a
 * listening socket.  Each request: fill a struct pt_req from the
 * parameters, let pt_handle() decide, write the response, repeat.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "alloc.h"
#include "commit.h"
#include "conf.h"
#include "dumpable.h"
#include "handler.h"
#include "httpc.h"
#include "http.h"
#include "logline.h"
#include "retention.h"
#include "sandbox.h"
#include "script_guard.h"
#include "script_pool.h"
#include "size.h"
#include "store.h"

extern char **environ;

#define MAX_THREADS	256

static volatile sig_atomic_t in_request, stop_after;
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
/* Preprocess script workers (FastCGI), shared by every thread. */
static struct pt_script_pool *script_pool;
static int cgi_mode;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: porter.fcgi [--help | --version]\n"
"\n"
"Porter's webhook responder.  Run it from a web server as a FastCGI\n"
"application (lighttpd mod_fastcgi, Apache mod_fcgid, spawn-fcgi + nginx)\n"
"or as a plain CGI program; it serves\n"
"  POST <mount>/receive/<endpoint_id>   ingest a webhook\n"
"  GET  <mount>/healthz                 200 when webhooks can be recorded,\n"
"                                       503 when the store is full or not open\n"
"  <mount>/admin/api/..., /admin/, /metrics   admin API, console, metrics\n"
"\n"
"Environment:\n"
"  PORTER_DB          the LMDB directory (required; created 0700), or a\n"
"                     postgresql:// URI (README: More than one machine)\n"
"  PORTER_PG_CONNECTIONS  PostgreSQL connections a process keeps (2-1000,\n"
"                     default 8), and one more that LISTENs for changes\n"
"  PORTER_PG_LISTEN   0: read the configuration at every request instead\n"
"                     (behind pgbouncer in transaction mode)\n"
"  PORTER_MAP_SIZE    largest store size: bytes, or with K, M, G or T\n"
"                     (default 4G, at least 1M); unreadable: every answer\n"
"                     is 503 store_unavailable saying why\n"
"  PORTER_MOUNT       URL prefix Porter is mounted under, when the server\n"
"                     passes no PATH_INFO (e.g. /porter)\n"
"  PORTER_THREADS     requests served at once by this process (default 32);\n"
"                     with more than 1 their writes share durable commits\n"
"                     (group commit)\n"
"  PORTER_SCRIPT_WORKERS preprocess script engines of this process (default\n"
"                     one a thread; worker processes: twice the CPUs)\n"
"  PORTER_SCRIPT_ISOLATION thread (default): scripts run on the request's\n"
"                     thread, stopped by a timer; process: in sandboxed\n"
"                     helper processes (slower, a second wall)\n"
"  PORTER_GROUP_COMMIT 0: one write transaction (and fsync) per request\n"
"  PORTER_METRICS_AUTH token (default) or loopback: who may read /metrics\n"
"  PORTER_CONSOLE_DIR the web console's files\n"
"  PORTER_SECCOMP     0: run without the seccomp filter (on by default when\n"
"                     built with it; see porter.fcgi(8))\n"
"  PORTER_CORE_DUMPS  1: allow core dumps (off by default: they would hold\n"
"                     the secrets)\n"
"  PORTER_HANDLER_DIR the directory of workflow handlers the admin API may\n"
"                     name (unset: only porterctl apply changes handlers)\n"
"Configure sources with porterctl(1); see porter.fcgi(8).\n");
}

/* SIGTERM: finish the request in hand, then leave; idle: leave now. */
static void
on_term(int sig)
{
	(void)sig;
	if (in_request == 0)
		_exit(0);
	stop_after = 1;
	FCGX_ShutdownPending();
}

/*
 * Requests in flight, for SIGTERM: finish them, then leave.  Committed
 * data is in the kernel's hands by then, so _exit loses nothing, even in
 * relaxed durability; other threads may still be blocked in accept().
 */
static void
busy(int delta)
{
	pthread_mutex_lock(&busy_mu);
	in_request += delta;
	if (stop_after && in_request == 0)
		_exit(0);
	pthread_mutex_unlock(&busy_mu);
}

struct body_src {
	FCGX_Stream	*in;	/* FastCGI */
	int		 fd;	/* CGI */
};

static ssize_t
read_fcgi(void *arg, void *buf, size_t len)
{
	struct body_src *src = arg;
	int n = len > 65536 ? 65536 : (int)len;

	return FCGX_GetStr(buf, n, src->in);
}

static ssize_t
read_fd(void *arg, void *buf, size_t len)
{
	struct body_src *src = arg;
	ssize_t n;

	do
		n = read(src->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Fill "req" from CGI-style parameters "envp".  Header names are rebuilt
 * from HTTP_* variables: HTTP_X_KNOCK_SIGNATURE -> "x-knock-signature".
 * The header array and names live in "names" / *hdrs until freed.
 */
static int
fill_req(char **envp, struct pt_req *req, struct pt_header **hdrs,
    struct pt_buf *names)
{
	size_t n = 0, i, cap = 0, *offs = NULL;
	char **e, *eq;
	struct pt_header *h;

	memset(req, 0, sizeof(*req));
	for (e = envp; *e; e++)
		cap++;
	cap += 2;
	if ((h = pt_calloc(cap, sizeof(*h))) == NULL ||
	    (offs = pt_calloc(cap, sizeof(*offs))) == NULL) {
		pt_free(h);
		return -1;
	}
	for (e = envp; *e; e++) {
		if ((eq = strchr(*e, '=')) == NULL)
			continue;
		if (strncmp(*e, "HTTP_", 5) == 0 || strncmp(*e, "CONTENT_TYPE=",
		    13) == 0 || strncmp(*e, "CONTENT_LENGTH=", 15) == 0) {
			const char *s = strncmp(*e, "HTTP_", 5) == 0 ? *e + 5 : *e;

			offs[n] = names->len;
			for (; s < eq; s++)
				pt_buf_addc(names, *s == '_' ? '-' :
				    (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s);
			pt_buf_addc(names, '\0');
			h[n].value = eq + 1;
			h[n].value_len = strlen(eq + 1);
			n++;
		}
#define PARAM(var, field) \
		else if (strncmp(*e, var "=", sizeof(var)) == 0) \
			req->field = eq + 1;
		PARAM("REQUEST_METHOD", method)
		PARAM("PATH_INFO", path_info)
		PARAM("REQUEST_URI", request_uri)
		PARAM("SCRIPT_NAME", script_name)
		PARAM("QUERY_STRING", query)
		PARAM("REMOTE_ADDR", remote_addr)
#undef PARAM
		if (strncmp(*e, "CONTENT_TYPE=", 13) == 0)
			req->content_type = eq + 1;
		else if (strncmp(*e, "CONTENT_LENGTH=", 15) == 0)
			req->content_length = eq + 1;
	}
	if (names->failed) {
		pt_free(h);
		pt_free(offs);
		return -1;
	}
	/* Names were appended to one buffer that may have moved: fix up. */
	for (i = 0; i < n; i++)
		h[i].name = names->data + offs[i];
	pt_free(offs);
	/* CGI servers send an empty CONTENT_LENGTH for bodiless requests. */
	if (req->content_length != NULL && req->content_length[0] == '\0')
		req->content_length = NULL;
	req->mount = getenv("PORTER_MOUNT");
	req->headers = h;
	req->nheaders = n;
	*hdrs = h;
	return 0;
}

/* Open the store; on failure remember why for the 503s. */
static struct pt_store *
open_store(char *why, size_t whylen)
{
	struct pt_store_opts opts = { 0 };
	struct pt_store *s = NULL;
	const char *dir = getenv("PORTER_DB"), *size;
	char err[200];

	if (dir == NULL || dir[0] == '\0') {
		snprintf(why, whylen, "PORTER_DB is not set: the server must "
		    "pass the store directory in the environment");
		return NULL;
	}
	/*
	 * A size that cannot be read is refused, not taken for the default:
	 * the store stays closed and every answer (healthz too) says why.
	 */
	if ((size = getenv("PORTER_MAP_SIZE")) != NULL && size[0] != '\0' &&
	    pt_parse_size(size, PT_MAP_SIZE_MIN, &opts.map_size, err,
	    sizeof(err)) < 0) {
		snprintf(why, whylen, "PORTER_MAP_SIZE %s", err);
		return NULL;
	}
	opts.watch = !cgi_mode;
	if (pt_store_open(dir, &opts, &s, why, whylen) != PT_OK)
		return NULL;
	/* At its ceiling the store makes room by deleting the oldest logs. */
	pt_store_set_make_room(s, pt_retention_make_room, NULL);
	/* A store from before keyed fingerprints gets its key (conf.h). */
	if (pt_config_fp_key_init(s) != PT_OK)
		pt_log_stderr("cannot make the store's fingerprint key: %s; "
		    "secret fingerprints change until it is made",
		    pt_store_errstr());
	return s;
}

/*
 * Serve one request: "write" sends bytes to the client.
 */
static void
serve(struct pt_ctx *ctx, struct pt_store **store, char **envp,
    pt_body_reader rd, void *rdarg,
    int (*write_fn)(void *, const char *, size_t), void *warg)
{
	struct pt_buf names = { 0 }, head = { 0 };
	struct pt_header *hdrs = NULL;
	struct pt_resp resp;
	struct pt_req req;
	char why[512] = "";	/* this call's: threads each serve their own */

	memset(&resp, 0, sizeof(resp));
	if (fill_req(envp, &req, &hdrs, &names) < 0) {
		pt_resp_error(&resp, 500, "internal_error", "out of memory");
		goto send;
	}
	req.read_body = rd;
	req.read_arg = rdarg;
	if (*store == NULL && (*store = open_store(why, sizeof(why))) != NULL) {
		pt_ctx_free(ctx);
		pt_ctx_init(ctx, *store);
	}
	ctx->scripts = script_pool;
	ctx->scripts_on_demand = cgi_mode;
	/* Without a store the core answers 503 store_unavailable, with why. */
	if (*store == NULL)
		ctx->store_error = why;
	pt_handle(ctx, &req, &resp);
	ctx->store_error = NULL;	/* "why" ends with this call */
send:
	if (pt_resp_head(&resp, &head) == PT_OK) {
		write_fn(warg, head.data, head.len);
		write_fn(warg, resp.body.data ? resp.body.data : "",
		    resp.body.len);
	}
	pt_buf_free(&head);
	pt_buf_free(&names);
	pt_free(hdrs);
	pt_resp_free(&resp);
}

static int
write_fcgi(void *arg, const char *p, size_t n)
{
	return FCGX_PutStr(p, (int)n, (FCGX_Stream *)arg) < 0 ? -1 : 0;
}

static int
write_stdout(void *arg, const char *p, size_t n)
{
	ssize_t w;

	(void)arg;
	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* PORTER_THREADS: 1 to MAX_THREADS, default 32. */
static int
thread_count(void)
{
	const char *s = getenv("PORTER_THREADS");
	long n;

	if (s == NULL || *s == '\0')
		return 32;
	n = strtol(s, NULL, 10);
	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/*
 * PORTER_SCRIPT_ISOLATION: "thread" (the default) or "process"
 * (script_pool.h).  Anything else is logged, and the default used.
 */
static enum pt_script_where
script_where(void)
{
	const char *s = getenv("PORTER_SCRIPT_ISOLATION");

	if (s == NULL || *s == '\0' || strcmp(s, "thread") == 0)
		return PT_SCRIPT_AUTO;
	if (strcmp(s, "process") == 0)
		return PT_SCRIPT_PROCESS;
	pt_log_stderr("PORTER_SCRIPT_ISOLATION=%s: not \"thread\" or "
	    "\"process\"; using \"thread\"", s);
	return PT_SCRIPT_AUTO;
}

/*
 * PORTER_SCRIPT_WORKERS: script engines (or worker processes) alive at
 * once, 1 to the thread count.  The default for engines is one per
 * thread (a heap is about 230 kB, plus at most 256 kB of free blocks),
 * so that no request waits for another's script; worker processes
 * default to twice the CPUs (at least 2), since more would only take
 * turns on the same CPUs, and a request whose script finds them all busy
 * waits for one (at most the longest timeout_ms, 1 s).
 */
static unsigned
script_workers(enum pt_script_where where)
{
	const char *s = getenv("PORTER_SCRIPT_WORKERS");
	long n = where == PT_SCRIPT_PROCESS ?
	    sysconf(_SC_NPROCESSORS_ONLN) * 2 : thread_count();

	if (s != NULL && *s != '\0')
		n = strtol(s, NULL, 10);
	if (n < 2)
		n = s != NULL && *s != '\0' && n == 1 ? 1 : 2;
	if (n > thread_count())
		n = thread_count();
	return (unsigned)n;
}

struct worker {
	pthread_t		 thread;
	struct pt_store		*store;
	struct pt_committer	*committer;
};

/*
 * One serving thread: its own request and context (config cache), the
 * shared store and committer.  Accepts are serialised, as libfcgi's
 * threaded example does.
 */
static void *
worker(void *arg)
{
	struct worker *w = arg;
	struct body_src src;
	struct pt_ctx ctx;
	FCGX_Request r;
	int rc;

	pt_ctx_init(&ctx, w->store);
	ctx.committer = w->committer;
	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return NULL;
	while (!stop_after) {
		pthread_mutex_lock(&accept_mu);
		rc = FCGX_Accept_r(&r);
		pthread_mutex_unlock(&accept_mu);
		if (rc < 0)
			break;
		busy(1);
		src.in = r.in;
		serve(&ctx, &w->store, r.envp, read_fcgi, &src, write_fcgi,
		    r.out);
		FCGX_Finish_r(&r);
		/* Another process grew the store: restart to map it all. */
		if (w->store != NULL && pt_store_resized(w->store) &&
		    !stop_after) {
			pt_log_stderr("the store was grown by another "
			    "process; restarting");
			stop_after = 1;
			FCGX_ShutdownPending();
		}
		busy(-1);
		pt_idle(&ctx);
	}
	FCGX_Free(&r, 1);
	pt_ctx_free(&ctx);
	pt_httpc_thread_end();
	return NULL;
}

/* Serve with "n" threads sharing one group committer. */
static int
serve_threads(struct pt_store *store, int n)
{
	struct pt_committer *c = NULL;
	struct worker *w;
	int i;

	if (!(getenv("PORTER_GROUP_COMMIT") && strcmp(getenv(
	    "PORTER_GROUP_COMMIT"), "0") == 0) &&
	    pt_committer_start(store, 64, &c) != PT_OK) {
		pt_log_stderr("cannot start the committer");
		return 1;
	}
	if ((w = pt_calloc((size_t)n, sizeof(*w))) == NULL) {
		pt_committer_stop(c);
		return 1;
	}
	if (c != NULL || n > 1)
		pt_store_set_threaded(store);
	for (i = 0; i < n; i++) {
		w[i].store = store;
		w[i].committer = c;
		if (i > 0 && pthread_create(&w[i].thread, NULL, worker,
		    &w[i]) != 0) {
			pt_log_stderr("only %d threads started", i);
			n = i;
			break;
		}
	}
	worker(&w[0]);
	for (i = 1; i < n; i++)
		pthread_join(w[i].thread, NULL);
	pt_committer_stop(c);
	pt_free(w);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct pt_store *store = NULL;
	struct pt_ctx ctx;
	struct body_src src;
	enum pt_script_where where;
	FCGX_Request r;
	char why[512];
	int rc;

	if (argc > 1) {
		if (strcmp(argv[1], "--version") == 0) {
			printf("porter.fcgi %s\n", PACKAGE_VERSION);
			return 0;
		}
		usage(strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Before the first secret is read: no core dump may hold one. */
	if (pt_dumpable_set(why, sizeof(why)) == -1) {
		fprintf(stderr, "porter[%ld]: %s\n", (long)getpid(), why);
		return 1;
	}

	/* libcurl once, before any thread (HTTP workflow handlers). */
	if (pt_httpc_init(why, sizeof(why)) != PT_OK)
		pt_log_stderr("HTTP handlers unavailable: %s", why);
	/*
	 * The script pool starts before the store is opened and before any
	 * thread starts (script_pool.h: the workers' zygote forks, TZ is
	 * set); a CGI process, one request long, starts its own only if a
	 * script runs.
	 */
	where = script_where();
	if (!(cgi_mode = FCGX_IsCGI()) && pt_script_pool_start(where,
	    script_workers(where), &script_pool, why, sizeof(why)) != PT_OK)
		pt_log_stderr("cannot start the script workers: %s (events of "
		    "environments with a preprocess script answer 503)", why);
	else if (script_pool != NULL && where == PT_SCRIPT_AUTO &&
	    pt_sguard_init(why, sizeof(why)) == -1)
		pt_log_stderr("preprocess scripts run in worker processes: "
		    "%s", why);

	/* The store is opened here, after the server's fork and exec. */
	store = open_store(why, sizeof(why));
	if (store == NULL)
		pt_log_stderr("cannot open the store: %s (answering 503 "
		    "until it opens)", why);
	pt_ctx_init(&ctx, store);
	/* Confine before the first request (sandbox.h). */
	if (pt_sandbox(why, sizeof(why)) == -1) {
		pt_log_stderr("%s", why);
		pt_ctx_free(&ctx);
		pt_store_close(store);
		return 1;
	}

	if (FCGX_IsCGI()) {
		src.fd = STDIN_FILENO;
		serve(&ctx, &store, environ, read_fd, &src, write_stdout, NULL);
		/* The answer is complete: what follows keeps nobody waiting. */
		close(STDOUT_FILENO);
		/* One request per process: count its refusal before leaving. */
		if (store != NULL)
			pt_idle(&ctx);
		goto out;
	}
	signal(SIGTERM, on_term);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) {
		pt_log_stderr("FastCGI initialisation failed");
		return 1;
	}
	/* Threads need the store now; without it, serve 503s until it opens. */
	if (store != NULL && thread_count() > 1) {
		pt_ctx_free(&ctx);
		rc = serve_threads(store, thread_count());
		pt_store_close(store);
		pt_script_pool_stop(script_pool);
		return rc;
	}
	while (FCGX_Accept_r(&r) >= 0) {
		busy(1);
		src.in = r.in;
		serve(&ctx, &store, r.envp, read_fcgi, &src, write_fcgi, r.out);
		FCGX_Finish_r(&r);
		busy(-1);
		if (store != NULL)
			pt_idle(&ctx);
		if (stop_after)
			break;
	}
out:
	pt_ctx_free(&ctx);
	pt_store_close(store);
	pt_script_pool_stop(script_pool);
	return 0;
}
