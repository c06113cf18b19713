/*
 * conf_export.c - the configuration as an operator writes it (export,
 * secrets masked) and what applying one over another changes (diff).
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "conf_int.h"

/*
 * Export transformation of one normalised key: drop the resolved value and,
 * unless "with_secrets", replace an inline secret by its fingerprint.
 */
static enum pt_err
export_key(const struct pt_config *c, pt_json *k, int with_secrets)
{
	pt_json *secret = pt_json_get(k, "secret");
	const char *s;
	size_t n;

	if (pt_json_type(secret) == PT_J_STRING && !with_secrets) {
		s = pt_json_str(secret, &n);
		if (pt_json_set(k, "secret", pt_secret_redacted(c,
		    (const uint8_t *)s, n)) != PT_OK)
			return PT_ENOMEM;
	}
	pt_json_del(k, "value");
	return PT_OK;
}

/* Every header value of "hdrs" as {"redacted": its fingerprint}. */
static enum pt_err
export_headers(const struct pt_config *c, pt_json *hdrs)
{
	struct pt_json_iter it = { 0 };
	const char *name, *s;
	pt_json *v;
	size_t n;

	while (pt_json_iter_next(hdrs, &it, &name, &v)) {
		if ((s = pt_json_str(v, &n)) == NULL)
			continue;
		/* Replacing the member while iterating: json-c keeps the key. */
		if (pt_json_set(hdrs, name, pt_secret_redacted(c,
		    (const uint8_t *)s, n)) != PT_OK)
			return PT_ENOMEM;
	}
	return PT_OK;
}

pt_json *
pt_config_export(const struct pt_config *c, int with_secrets)
{
	pt_json *doc, *sources, *envs, *env, *keys, *pre;
	struct pt_json_iter it;
	const char *name;
	size_t i, j;

	if ((doc = pt_json_copy(c->doc)) == NULL)
		return NULL;
	if (conf_export_vars(c, doc, with_secrets) != PT_OK) {
		pt_json_put(doc);
		return NULL;
	}
	/* HTTP handlers: their secret as a signing key's, headers too. */
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(pt_json_get(doc, "workflows"), &it, &name,
	    &env))
		if ((keys = pt_json_get(env, "http")) != NULL &&
		    (export_key(c, keys, with_secrets) != PT_OK ||
		    (!with_secrets && export_headers(c, pt_json_get(keys,
		    "headers")) != PT_OK))) {
			pt_json_put(doc);
			return NULL;
		}
	sources = pt_json_get(doc, "sources");
	for (i = 0; i < pt_json_len(sources); i++) {
		envs = pt_json_get(pt_json_index(sources, i), "environments");
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &name, &env)) {
			/* A script from a file is exported as the file. */
			pre = pt_json_get(env, "preprocess");
			if (pt_json_get(pre, "file") != NULL)
				pt_json_del(pre, "script");
			keys = pt_json_get(env, "signing_keys");
			for (j = 0; j < pt_json_len(keys); j++)
				if (export_key(c, pt_json_index(keys, j),
				    with_secrets) != PT_OK) {
					pt_json_put(doc);
					return NULL;
				}
		}
	}
	return doc;
}

/*
 * The names of the fields of table "t" whose values differ between "a"
 * and "b" (a field given in one only differs), into "out"; the fields the
 * diff reports part by part (CF_OWN_DIFF) are left out.  Without a table
 * (an object keyed by names, such as the workflows), the names of the
 * members that differ.  Returns how many.
 */
static size_t
diff_fields(const pt_json *a, const pt_json *b, const struct conf_table *t,
    struct pt_buf *out)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *va, *vb;
	size_t i, n = 0;
	int ina, inb;

	for (i = 0; t != NULL && i < t->n; i++) {
		k = t->fields[i].name;
		ina = pt_json_get_ex(a, k, &va);
		inb = pt_json_get_ex(b, k, &vb);
		if ((t->fields[i].flags & CF_OWN_DIFF) ||
		    (ina == inb && (!ina || pt_json_equal(va, vb))))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	while (t == NULL && pt_json_iter_next(b, &it, &k, &vb)) {
		if (pt_json_get_ex(a, k, &va) && pt_json_equal(va, vb))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	memset(&it, 0, sizeof(it));
	while (t == NULL && pt_json_iter_next(a, &it, &k, &va)) {
		if (pt_json_get_ex(b, k, NULL))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	return n;
}

/* The source "key" of the stored document's "sources", or NULL. */
static pt_json *
doc_source(const pt_json *sources, const char *key, size_t *at)
{
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(sources); i++) {
		k = pt_json_str(pt_json_get(pt_json_index(sources, i), "key"),
		    NULL);
		if (k != NULL && strcmp(k, key) == 0) {
			if (at != NULL)
				*at = i;
			return pt_json_index(sources, i);
		}
	}
	return NULL;
}

/*
 * "~ <what>: <fields>" when "a" and "b" differ (a member's name alone when
 * they are not both objects).  Returns 1 for a change, else 0.
 */
static size_t
diff_line(const char *what, const pt_json *a, const pt_json *b,
    const struct conf_table *t, struct pt_buf *out)
{
	struct pt_buf f = { 0 };
	size_t n;

	if (pt_json_type(a) != PT_J_OBJECT || pt_json_type(b) != PT_J_OBJECT) {
		if (pt_json_equal(a, b))
			return 0;
		pt_buf_printf(out, "~ %s\n", what);
		return 1;
	}
	if ((n = diff_fields(a, b, t, &f)) > 0)
		pt_buf_printf(out, "~ %s: %s\n", what, f.data);
	pt_buf_free(&f);
	return n > 0;
}

/*
 * The diff walks the stored documents (c->doc) with the tables they were
 * read with (conf_int.h): the normalised document holds exactly the
 * tables' fields, so each environment's fields, each source's own, the
 * order of the sources and the other top-level fields are all compared,
 * a field added to a table is in the diff without being named here, and
 * applying a change to any one field is never "no changes".
 */
size_t
pt_config_diff(const struct pt_config *prev, const struct pt_config *next,
    struct pt_buf *out)
{
	const struct conf_field *f;
	const struct pt_env *e, *o;
	const pt_json *pdoc = prev ? prev->doc : NULL;
	pt_json *a, *b, *psrc = pt_json_get(pdoc, "sources"),
	    *nsrc = pt_json_get(next->doc, "sources");
	struct pt_buf order = { 0 }, what = { 0 };
	const char *k;
	size_t i, at, last = 0, changes = 0, same = 0;
	int moved = 0;

	for (i = 0; i < next->nenvs; i++) {
		e = next->envs[i];
		o = pt_config_env(prev, e->source_key, e->name);
		if (o == NULL) {
			pt_buf_printf(out, "+ %s/%s  POST /receive/%s%s\n",
			    e->source_key, e->name, e->endpoint_id, e->verify ?
			    "" : "  (verify off: accepts unsigned requests)");
			changes++;
		} else if (!pt_json_equal(o->norm, e->norm)) {
			pt_buf_reset(&what);
			pt_buf_printf(&what, "%s/%s", e->source_key, e->name);
			changes += diff_line(what.data, o->norm, e->norm,
			    &conf_env_table, out);
		} else
			same++;
	}
	for (i = 0; prev != NULL && i < prev->nenvs; i++) {
		o = prev->envs[i];
		if (pt_config_env(next, o->source_key, o->name) == NULL) {
			pt_buf_printf(out, "- %s/%s  (endpoint %s removed)\n",
			    o->source_key, o->name, o->endpoint_id);
			changes++;
		}
	}
	/* A source's own members (name, type, ...) and the sources' order. */
	for (i = 0; i < pt_json_len(nsrc); i++) {
		b = pt_json_index(nsrc, i);
		k = pt_json_str(pt_json_get(b, "key"), NULL);
		pt_buf_printf(&order, "%s%s", i ? ", " : "", k);
		if ((a = doc_source(psrc, k, &at)) == NULL)
			continue;
		if (at < last)
			moved = 1;
		last = at;
		pt_buf_reset(&what);
		pt_buf_printf(&what, "source %s", k);
		changes += diff_line(what.data, a, b, &conf_source_table,
		    out);
	}
	if (moved) {
		pt_buf_printf(out, "~ order of the sources: %s\n", order.data);
		changes++;
	}
	/* The other top-level fields, each with its own table if it has one. */
	for (i = 0; i < conf_doc_table.n; i++) {
		f = &conf_doc_table.fields[i];
		if (!(f->flags & CF_OWN_DIFF))
			changes += diff_line(f->name, pt_json_get(pdoc,
			    f->name), pt_json_get(next->doc, f->name),
			    f->members, out);
	}
	pt_buf_free(&order);
	pt_buf_free(&what);
	if (changes == 0)
		pt_buf_printf(out, "no changes (%zu environment%s)\n", same,
		    same == 1 ? "" : "s");
	else if (same)
		pt_buf_printf(out, "= %zu environment%s unchanged\n", same,
		    same == 1 ? "" : "s");
	return changes;
}

size_t
pt_config_removals(const struct pt_config *prev, const struct pt_config *next,
    struct pt_buf *out)
{
	const struct pt_env *o, *e;
	size_t i, n = 0;

	for (i = 0; prev != NULL && i < prev->nenvs; i++) {
		o = prev->envs[i];
		e = pt_config_env(next, o->source_key, o->name);
		if (e != NULL && strcmp(e->endpoint_id, o->endpoint_id) == 0)
			continue;
		pt_buf_printf(out, "%s%s/%s (POST /receive/%s)", n++ ? ", " : "",
		    o->source_key, o->name, o->endpoint_id);
	}
	return n;
}
