/*
 * intake.c - one event on its way in (see intake.h): its headers, its
 * identification and idempotency key, its log record.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "alloc.h"
#include "eventlog.h"
#include "evrec.h"
#include "idem.h"
#include "identify.h"
#include "intake.h"
#include "metrics.h"
#include "path.h"
#include "timeutil.h"

#define MAX_LOGGED_HEADERS	64
#define MAX_HEADER_VALUE	1024

/*
 * Headers whose values are credentials: never written to the log.  Those
 * the environment's scheme reads its secret from, whatever their name
 * (conf.h, credential_headers), and a fixed list of names that usually
 * carry one.
 */
static int
secret_header(const struct pt_env *env, const char *name)
{
	static const char *const exact[] = {
		"authorization", "proxy-authorization", "cookie", "set-cookie",
		"x-webhook-secret", "x-api-key", "api-key", "apikey", NULL
	};
	static const char *const parts[] = {
		"secret", "token", "password", "passwd", "api-key", "apikey",
		"credential", "session", NULL
	};
	size_t i;

	if (env != NULL && pt_env_names_have(env->credential_headers,
	    env->ncredential_headers, name))
		return 1;
	for (i = 0; exact[i]; i++)
		if (strcmp(name, exact[i]) == 0)
			return 1;
	for (i = 0; parts[i]; i++)
		if (strstr(name, parts[i]) != NULL)
			return 1;
	return 0;
}

/*
 * Build the two header objects: every header (paths such as headers.x-id
 * read these) and the bounded, redacted copy the log keeps.  A name that
 * comes twice keeps its first value, the one the verifier reads (scheme.h);
 * where that matters, ingest refused the request already.
 */
enum pt_err
pt_intake_headers(const struct pt_req *req, struct intake *in)
{
	const struct pt_header *h;
	size_t i, kept = 0;
	pt_json *v;

	if ((in->headers = pt_json_new_object()) == NULL ||
	    (in->logged = pt_json_new_object()) == NULL)
		return PT_ENOMEM;
	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (pt_json_get_ex(in->headers, h->name, NULL))
			continue;
		if ((v = pt_json_new_str(h->value, h->value_len)) == NULL ||
		    pt_json_set(in->headers, h->name, v) != PT_OK)
			return PT_ENOMEM;
		if (kept == MAX_LOGGED_HEADERS)
			continue;
		if (secret_header(in->env, h->name) ||
		    pt_intake_holds_var(in->vars, h->value, h->value_len))
			v = pt_json_new_cstr("[redacted]");
		else if (pt_utf8_valid(h->value, h->value_len >
		    MAX_HEADER_VALUE ? MAX_HEADER_VALUE : h->value_len))
			v = pt_json_new_str(h->value, h->value_len >
			    MAX_HEADER_VALUE ? MAX_HEADER_VALUE : h->value_len);
		else
			/* The log is JSON text: keep it valid UTF-8. */
			v = pt_json_new_cstr("[not UTF-8]");
		if (v == NULL || pt_json_set(in->logged, h->name, v) != PT_OK)
			return PT_ENOMEM;
		kept++;
	}
	return PT_OK;
}

static enum pt_err __attribute__((format(printf, 2, 3)))
warn(struct intake *in, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pt_json_append(in->warnings, pt_json_new_cstr(msg));
}

/*
 * Write the event record in "txn" and count it (an execution waiting for
 * its handlers is counted when they are done, with its final status).
 */
pt_json *
pt_intake_answer(int status, const char *code, int64_t retry)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	if (pt_json_set(o, "status", pt_json_new_int(status)) != PT_OK ||
	    pt_json_set_cstr(o, "error", code) != PT_OK ||
	    (retry > 0 ? pt_json_set(o, "retry_after", pt_json_new_int(retry)) :
	    pt_json_set_null(o, "retry_after")) != PT_OK) {
		pt_json_put(o);
		return NULL;
	}
	return o;
}

void
pt_intake_pack(struct pt_store *st, struct intake *in)
{
	pt_buf_reset(&in->packed);
	pt_buf_reset(&in->guess);
	pt_buf_reset(&in->meta_packed);
	if (pt_evrec_prepack(st, in->body, in->body_len, &in->packed) !=
	    PT_OK)
		pt_buf_reset(&in->packed);
}

void
pt_intake_pack_meta(struct pt_store *st, struct intake *in,
    const struct pt_event *ev)
{
	struct pt_event e = *ev;

	pt_buf_reset(&in->guess);
	pt_buf_reset(&in->meta_packed);
	/* As pt_intake_log will have it. */
	e.headers = in->logged;
	e.body_len = in->body_len;
	if (in->packed.len == 0 || pt_eventlog_prepack(st, &e, &in->guess,
	    &in->meta_packed) != PT_OK) {
		pt_buf_reset(&in->guess);
		pt_buf_reset(&in->meta_packed);
	}
}

enum pt_err
pt_intake_log(struct pt_txn *txn, struct intake *in)
{
	enum pt_err rc;

	if (in->answer != 0 && (in->extra == NULL ||
	    pt_json_set(in->extra, "response", pt_intake_answer(in->answer,
	    in->answer_code, in->answer_retry)) != PT_OK))
		return PT_ENOMEM;
	in->ev.headers = in->logged;
	in->ev.warnings = in->warnings;
	in->ev.extra = in->extra;
	in->ev.body = in->body;
	in->ev.body_len = in->body_len;
	in->ev.packed_body = in->packed.len ? in->packed.data : NULL;
	in->ev.packed_body_len = in->packed.len;
	in->ev.packed_meta = in->packed.len && in->meta_packed.len ?
	    in->meta_packed.data : NULL;
	in->ev.packed_meta_len = in->meta_packed.len;
	in->ev.guess = in->guess.data;
	in->ev.guess_len = in->guess.len;
	if ((rc = pt_eventlog_append(txn, &in->ev)) != PT_OK)
		return rc;
	if (strcmp(in->ev.status, "pending") == 0)
		return PT_OK;
	return pt_metrics_event(txn, &in->ev, in->now ? in->now() :
	    pt_now_us());
}

struct pt_roots
pt_intake_roots(const struct intake *in)
{
	struct pt_roots r = { in->doc, in->headers, in->pre };

	return r;
}

/* Identify the event (identify.h): its type, its time, warnings. */
enum pt_err
pt_intake_identify(struct intake *in)
{
	enum pt_err rc;

	struct pt_roots r = pt_intake_roots(in);

	rc = pt_identify(in->env, &r, &in->type, &in->ev.event_time,
	    in->warnings);
	if (rc == PT_OK && in->type.len > 0)
		in->ev.event_type = in->type.data;
	return rc;
}

/* A variable this short is masked only where a text is all of it. */
#define VAR_PART_MIN	6

int
pt_intake_holds_var(const pt_json *vars, const char *s, size_t n)
{
	struct pt_json_iter it = { 0 };
	const char *k, *v;
	pt_json *val;
	size_t vn;

	while (vars != NULL && pt_json_iter_next(vars, &it, &k, &val)) {
		if ((v = pt_json_str(val, &vn)) == NULL || vn == 0)
			continue;
		if (vn == n && memcmp(s, v, n) == 0)
			return 1;
		if (vn >= VAR_PART_MIN && vn <= n && memmem(s, n, v, vn) != NULL)
			return 1;
	}
	return 0;
}

/* Scalars, null included, go through as they are. */
static int
masked_scalar(const pt_json *j)
{
	return pt_json_type(j) != PT_J_STRING &&
	    pt_json_type(j) != PT_J_ARRAY && pt_json_type(j) != PT_J_OBJECT;
}

pt_json *
pt_intake_mask(const pt_json *vars, const pt_json *j)
{
	struct pt_json_iter it = { 0 };
	pt_json *out, *v;
	const char *k, *s;
	enum pt_err rc;
	size_t i, n;

	if (pt_json_type(j) == PT_J_STRING) {
		s = pt_json_str(j, &n);
		return pt_intake_holds_var(vars, s, n) ?
		    pt_json_new_cstr("[redacted]") : pt_json_copy(j);
	}
	if (pt_json_type(j) == PT_J_ARRAY) {
		if ((out = pt_json_new_array()) == NULL)
			return NULL;
		for (i = 0; i < pt_json_len(j); i++) {
			v = pt_json_index(j, i);
			rc = masked_scalar(v) ? pt_json_append_copy(out, v) :
			    pt_json_append(out, pt_intake_mask(vars, v));
			if (rc != PT_OK) {
				pt_json_put(out);
				return NULL;
			}
		}
		return out;
	}
	if ((out = pt_json_new_object()) == NULL)
		return NULL;
	while (pt_json_iter_next(j, &it, &k, &v)) {
		rc = masked_scalar(v) ? pt_json_set_copy(out, k, v) :
		    pt_json_set(out, k, pt_intake_mask(vars, v));
		if (rc != PT_OK) {
			pt_json_put(out);
			return NULL;
		}
	}
	return out;
}

void
pt_intake_free(struct intake *in)
{
	pt_free(in->body);
	pt_buf_free(&in->packed);
	pt_buf_free(&in->guess);
	pt_buf_free(&in->meta_packed);
	pt_json_put(in->doc);
	pt_json_put(in->headers);
	pt_json_put(in->pre);
	pt_json_put(in->logged);
	pt_json_put(in->warnings);
	pt_json_put(in->extra);
	pt_buf_free(&in->type);
	pt_buf_free(&in->idem_key);
	pt_action_logs_free(in->logs, in->nlogs);
	pt_action_preps_free(&in->preps);
}

/*
 * The idempotency key, when the environment has one: a valid key is kept
 * in in->idem_key; an invalid one is dropped with a warning that does not
 * repeat it; no value means no key.
 */
enum pt_err
pt_intake_idem_key(struct intake *in)
{
	const struct pt_env *env = in->env;
	struct pt_roots r;
	char why[200];
	pt_json *v;
	const char *s;
	size_t n;

	if (!env->idem_enabled || env->idem_key_path == NULL ||
	    in->ev.event_type == NULL)
		return PT_OK;
	r = pt_intake_roots(in);
	if (pt_path_resolve(env->idem_key_path, &r, &v, why, sizeof(why)) !=
	    PT_PATH_FOUND || v == NULL)
		return PT_OK;
	if (!pt_idem_key_valid(v, why, sizeof(why)))
		return warn(in, "invalid idempotency key at %s dropped: %s; the "
		    "event ran without idempotency", env->idem_key_path->text,
		    why);
	s = pt_json_str(v, &n);
	if (pt_buf_add(&in->idem_key, s, n) != PT_OK)
		return PT_ENOMEM;
	in->has_idem = 1;
	return PT_OK;
}
