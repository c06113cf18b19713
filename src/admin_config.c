/*
 * admin_config.c - the configuration over the API: read it, apply a
 * new one as `porterctl apply` does (porter-api(7) "Configuration").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "commit.h"
#include "handlerdir.h"
#include "json.h"

/* -------------------------------------------------------------- config */

int
api_config_get(struct admin *a)
{
	const struct pt_config *cfg;
	enum pt_err rc;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	return adm_send_json(a, 200, pt_config_export(cfg, 0));
}

/* Stored signing keys of source "src", environment "env", or NULL. */
static pt_json *
stored_keys(const struct pt_config *cur, const char *src, const char *env)
{
	pt_json *srcs = pt_json_get(cur->doc, "sources"), *s;
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(srcs); i++) {
		s = pt_json_index(srcs, i);
		if ((k = pt_json_str(pt_json_get(s, "key"), NULL)) != NULL &&
		    strcmp(k, src) == 0)
			return pt_json_get(pt_json_get(pt_json_get(s,
			    "environments"), env), "signing_keys");
	}
	return NULL;
}

/* Does any environment of "c" have a preprocess script? */
static int
has_scripts(const struct pt_config *c)
{
	size_t i;

	for (i = 0; i < c->nenvs; i++)
		if (c->envs[i]->script != NULL)
			return 1;
	return 0;
}

/*
 * A {"file"} or {"env"} secret at holder[member] over HTTP, as keep_refs
 * (below) treats a signing key's: kept only as the stored one it equals
 * ("old", the stored {"secret", "value"}), rewritten to that value's
 * fingerprint; else refused, naming "where".  0, or -1 with "err".
 */
static int
keep_ref(pt_json *holder, const char *member, const pt_json *old,
    const struct pt_config *cur, const char *where, char *err, size_t errlen)
{
	pt_json *spec = pt_json_get(holder, member);
	const char *val;
	size_t n;

	if (pt_json_type(spec) != PT_J_OBJECT ||
	    (pt_json_get(spec, "file") == NULL && pt_json_get(spec, "env") ==
	    NULL))
		return 0;
	if (!pt_json_equal(pt_json_get(old, "secret"), spec) ||
	    (val = pt_json_str(pt_json_get(old, "value"), &n)) == NULL) {
		snprintf(err, errlen, "%s: a file or environment reference is "
		    "resolved by `porterctl apply` on the host; over the API "
		    "give the value itself or {\"redacted\": ...}", where);
		return -1;
	}
	if (pt_json_set(holder, member, pt_secret_redacted(cur,
	    (const uint8_t *)val, n)) != PT_OK) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* keep_ref for the top-level variables and the HTTP handlers' secrets. */
static int
keep_var_refs(pt_json *doc, const struct pt_config *cur, char *err,
    size_t errlen)
{
	struct pt_json_iter it = { 0 };
	pt_json *vars = pt_json_get(doc, "variables"), *spec, *wf;
	const pt_json *sdoc = cur ? cur->doc : NULL;
	const char *name;
	char where[400];

	while (pt_json_iter_next(vars, &it, &name, &spec)) {
		snprintf(where, sizeof(where), "/variables/%s", name);
		if (keep_ref(vars, name, pt_json_get(pt_json_get(sdoc,
		    "variables"), name), cur, where, err, errlen) < 0)
			return -1;
	}
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(pt_json_get(doc, "workflows"), &it, &name,
	    &wf)) {
		snprintf(where, sizeof(where), "/workflows/%s/http/secret",
		    name);
		if (keep_ref(pt_json_get(wf, "http"), "secret", pt_json_get(
		    pt_json_get(pt_json_get(sdoc, "workflows"), name), "http"),
		    cur, where, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * A preprocess {"file"} over HTTP: kept only as the stored environment's,
 * by its stored source.  0, or -1 with "err".
 */
static int
keep_script_file(pt_json *env, const char *src, size_t i,
    const char *envname, const struct pt_config *cur, char *err,
    size_t errlen)
{
	pt_json *pre = pt_json_get(env, "preprocess"), *old;
	const pt_json *file = pt_json_get(pre, "file");
	const struct pt_env *oe;
	const char *text;
	size_t n;

	if (file == NULL)
		return 0;
	oe = pt_config_env(cur, src, envname);
	old = oe ? pt_json_get(oe->norm, "preprocess") : NULL;
	if (!pt_json_equal(pt_json_get(old, "file"), file) || (text =
	    pt_json_str(pt_json_get(old, "script"), &n)) == NULL) {
		snprintf(err, errlen, "/sources/%zu/environments/%s/preprocess/"
		    "file: a script file is read by `porterctl apply` on the "
		    "host; over the API give the script itself", i, envname);
		return -1;
	}
	pt_json_del(pre, "file");
	if (pt_json_set(pre, "script", pt_json_new_str(text, n)) != PT_OK) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Secret references over HTTP.  {"file": ...} and {"env": ...} name
 * files and variables of the host `porterctl apply` runs on; the
 * responder does not read them for a remote caller.  A reference the
 * current configuration already has (an export shows it as it was
 * written) is kept, by rewriting it to that key's {"redacted": ...}
 * fingerprint; any other is refused.  Returns 0, or -1 with "err".
 */
static int
keep_refs(pt_json *doc, const struct pt_config *cur, char *err,
    size_t errlen)
{
	struct pt_json_iter it;
	pt_json *srcs = pt_json_get(doc, "sources"), *envs, *keys, *old, *sec;
	const char *src, *envname, *val;
	size_t i, j, m, n;

	for (i = 0; i < pt_json_len(srcs); i++) {
		src = pt_json_str(pt_json_get(pt_json_index(srcs, i), "key"),
		    NULL);
		envs = pt_json_get(pt_json_index(srcs, i), "environments");
		if (src == NULL || pt_json_type(envs) != PT_J_OBJECT)
			continue;	/* pt_config_parse says why */
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &envname, &keys)) {
			if (keep_script_file(keys, src, i, envname, cur, err,
			    errlen) < 0)
				return -1;
			keys = pt_json_get(keys, "signing_keys");
			for (j = 0; j < pt_json_len(keys); j++) {
				sec = pt_json_get(pt_json_index(keys, j),
				    "secret");
				if (pt_json_type(sec) != PT_J_OBJECT ||
				    (pt_json_get(sec, "file") == NULL &&
				    pt_json_get(sec, "env") == NULL))
					continue;
				old = stored_keys(cur, src, envname);
				for (m = 0; m < pt_json_len(old); m++)
					if (pt_json_equal(pt_json_get(
					    pt_json_index(old, m), "secret"), sec))
						break;
				if (m == pt_json_len(old) || (val = pt_json_str(
				    pt_json_get(pt_json_index(old, m), "value"),
				    &n)) == NULL) {
					snprintf(err, errlen, "/sources/%zu/"
					    "environments/%s/signing_keys/%zu/"
					    "secret: a file or environment "
					    "reference is resolved by `porterctl "
					    "apply` on the host; over the API give "
					    "the secret itself or {\"redacted\": "
					    "...}", i, envname, j);
					return -1;
				}
				if (pt_json_set(pt_json_index(keys, j), "secret",
				    pt_secret_redacted(cur, (const uint8_t *)val,
				    n)) != PT_OK) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
		}
	}
	return 0;
}

/* Two NULL-terminated argument vectors (either may be NULL) alike? */
static int
argv_equal(char *const *a, char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == b[i];
}

/*
 * What runs on the host takes host access (handlerdir.h).  Over the API a
 * workflow's exec or cancel_exec that is new or differs from the stored
 * one of the same workflow must name a handler in PORTER_HANDLER_DIR;
 * without that directory it cannot be changed here (`porterctl apply` on
 * the host can).  An unchanged one (an export put back) and a removed one
 * pass.  Returns NULL, or the error code (answered 403) with "err" set.
 */
static const char *
exec_refused(const struct pt_config *cur, const struct pt_config *next,
    char *err, size_t errlen)
{
	const char *dir = getenv("PORTER_HANDLER_DIR");
	const struct pt_workflow *wf, *was;
	char *const *argv, *const *stored;
	char why[600];
	size_t i, k;

	for (i = 0; i < next->nworkflows; i++) {
		wf = &next->workflows[i];
		was = pt_config_workflow(cur, wf->key);
		for (k = 0; k < 2; k++) {
			argv = k == 0 ? wf->argv : wf->cancel_argv;
			stored = was == NULL ? NULL : k == 0 ? was->argv :
			    was->cancel_argv;
			if (argv == NULL || argv_equal(argv, stored))
				continue;
			switch (pt_handler_dir_allows(dir, argv[0], why,
			    sizeof(why))) {
			case PT_HD_OK:
				continue;
			case PT_HD_OFF:
				snprintf(err, errlen, "/workflows/%s/%s: what a "
				    "workflow runs on the host is changed with "
				    "`porterctl apply` on the host; %s, so the "
				    "API may not change it", wf->key, k == 0 ?
				    "exec" : "cancel_exec", why);
				return "host_access_required";
			case PT_HD_OUTSIDE:
				snprintf(err, errlen, "/workflows/%s/%s: over "
				    "the API a handler must be a program in the "
				    "host's directory of handlers: %s", wf->key,
				    k == 0 ? "exec" : "cancel_exec", why);
				return "handler_not_allowed";
			}
		}
	}
	return NULL;
}

struct apply {
	pt_json		*doc;
	int		 dry;
	struct pt_buf	 diff;
	size_t		 changes;
	uint64_t	 gen;
	int		 invalid;	/* PT_EINVAL: "err" says why */
	const char	*refused;	/* PT_EINVAL, 403 with this code */
	struct pt_script_pool *scripts;	/* checks the scripts */
	int		 allow_delete;
	size_t		 removes;	/* environments or endpoints it removes */
	struct pt_buf	 gone;		/* ... named */
	int		 busy;		/* PT_EBUSY: no worker could */
	char		 err[1024];
};

/*
 * What `porterctl apply` does, in the caller's transaction: validate the
 * document against the current configuration (kept endpoint ids,
 * redacted secrets), diff, and save unless a dry run.
 */
static enum pt_err
apply_fn(struct pt_txn *txn, void *arg)
{
	struct apply *ap = arg;
	struct pt_config *old = NULL, *next = NULL;
	enum pt_err rc;

	pt_buf_reset(&ap->diff);
	ap->invalid = 0;
	ap->busy = 0;
	ap->refused = NULL;
	rc = pt_config_load(txn, &old, ap->err, sizeof(ap->err));
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		goto out;
	if (keep_refs(ap->doc, old, ap->err, sizeof(ap->err)) < 0 ||
	    keep_var_refs(ap->doc, old, ap->err, sizeof(ap->err)) < 0) {
		ap->invalid = 1;
		rc = PT_EINVAL;
		goto out;
	}
	if ((rc = pt_config_parse(ap->doc, old, PT_CFG_OPERATOR, &next,
	    ap->err, sizeof(ap->err))) != PT_OK) {
		ap->invalid = rc == PT_EINVAL;
		goto out;
	}
	if ((ap->refused = exec_refused(old, next, ap->err,
	    sizeof(ap->err))) != NULL) {
		rc = PT_EINVAL;
		goto out;
	}
	/* Each script compiles and defines main (a worker runs it). */
	if (ap->scripts == NULL && has_scripts(next)) {
		snprintf(ap->err, sizeof(ap->err), "no script workers run in "
		    "this responder to check the preprocess scripts; apply "
		    "with porterctl");
		ap->busy = 1;
		rc = PT_EBUSY;
		goto out;
	}
	if ((rc = pt_config_check_scripts(next, ap->scripts, ap->err,
	    sizeof(ap->err))) != PT_OK) {
		ap->invalid = rc == PT_EINVAL;
		ap->busy = rc == PT_EBUSY;
		goto out;
	}
	ap->changes = pt_config_diff(old, next, &ap->diff);
	ap->gen = old->gen;
	pt_buf_reset(&ap->gone);
	if ((ap->removes = pt_config_removals(old, next, &ap->gone)) > 0 &&
	    !ap->allow_delete && !ap->dry) {
		snprintf(ap->err, sizeof(ap->err), "this removes %s, whose "
		    "senders would get 404; send it again with allow_delete=1 "
		    "if that is meant (nothing applied)", ap->gone.data);
		ap->refused = "allow_delete_required";
		rc = PT_EINVAL;
		goto out;
	}
	if (!ap->dry && ap->changes > 0) {
		if ((rc = pt_config_save(txn, next)) != PT_OK)
			goto out;
		ap->gen = next->gen;
	}
	rc = PT_OK;
out:
	pt_config_free(old);
	pt_config_free(next);
	return rc;
}

/*
 * PUT config: the document `porterctl apply` reads, validated the same
 * way; ?dry_run=1 validates and diffs only.  422 names the bad field
 * with a JSON pointer and changes nothing.
 */
int
api_config_put(struct admin *a)
{
	static const char *const allowed[] = { "dry_run", "allow_delete", NULL };
	struct apply ap;
	struct pt_txn *txn = NULL;
	pt_json *o, *lines;
	const char *bad, *p, *nl;
	enum pt_err rc;
	int status;

	if ((bad = adm_unknown_param(a, allowed)) != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want dry_run, allow_delete)", adm_shown(bad));
	memset(&ap, 0, sizeof(ap));
	ap.dry = adm_truthy(adm_param(a, "dry_run"));
	ap.scripts = pt_ctx_scripts(a->ctx);
	ap.allow_delete = adm_truthy(adm_param(a, "allow_delete"));
	if ((status = adm_read_json(a, &ap.doc)) != 0)
		return status;
	pt_txn_abort(a->txn);
	a->txn = NULL;
	if (ap.dry) {
		if ((rc = pt_txn_begin(a->ctx->store, NULL, PT_TXN_READ, &txn)) ==
		    PT_OK)
			rc = apply_fn(txn, &ap);
		pt_txn_abort(txn);
	} else
		rc = pt_write(a->ctx->store, a->ctx->committer, apply_fn, &ap);
	if (rc != PT_OK && ap.refused != NULL) {
		pt_ctx_log(a->ctx, "configuration refused for token %s: %s",
		    a->tok.name, ap.refused);
		status = adm_fail(a, strcmp(ap.refused, "allow_delete_required") ==
		    0 ? 409 : 403, ap.refused, "%s", ap.err);
		goto out;
	}
	if (rc != PT_OK && ap.busy) {
		pt_resp_header(a->resp, "Retry-After", "1");
		status = adm_fail(a, 503, "script_unavailable", "%s", ap.err);
		goto out;
	}
	if (rc != PT_OK) {
		status = ap.invalid ? adm_fail(a, 422, "invalid_config", "%s",
		    ap.err) : rc == PT_EINVAL ? adm_fail(a, 500, "internal_error",
		    "stored configuration: %s", ap.err) : adm_store_fail(a, rc,
		    "applying the configuration");
		goto out;
	}
	if ((o = pt_json_new_object()) == NULL ||
	    (lines = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	pt_json_set(o, "dry_run", pt_json_new_bool(ap.dry));
	pt_json_set(o, "applied", pt_json_new_bool(!ap.dry && ap.changes > 0));
	pt_json_set(o, "changes", pt_json_new_int((int64_t)ap.changes));
	pt_json_set(o, "generation", pt_json_new_int((int64_t)ap.gen));
	pt_json_set(o, "diff", lines);
	/* What a dry run shows of a removal: the same plan, and the gate. */
	if (ap.removes > 0) {
		pt_json_set(o, "removes", pt_json_new_str(ap.gone.data,
		    ap.gone.len));
		pt_json_set(o, "allow_delete_required", pt_json_new_bool(
		    !ap.allow_delete));
	}
	for (p = ap.diff.data; ap.changes > 0 && p && *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		if (nl > p || *p != '\n')
			pt_json_append(lines, pt_json_new_str(p, (size_t)(nl -
			    p) + (*nl != '\n')));
	}
	if (!ap.dry && ap.changes > 0)
		pt_ctx_log(a->ctx, "configuration applied by token %s (generation "
		    "%llu)", a->tok.name, (unsigned long long)ap.gen);
	status = adm_send_json(a, 200, o);
out:
	pt_buf_free(&ap.diff);
	pt_buf_free(&ap.gone);
	pt_json_put(ap.doc);
	return status;
}
