/*
 * conf_export.c - the configuration as an operator writes it (export,
 * secrets masked) and what applying one over another changes (diff).
 */
#include "config.h"

#include <string.h>

#include "conf.h"

/*
 * Export transformation of one normalised key: drop the resolved value and,
 * unless "with_secrets", replace an inline secret by its fingerprint.
 */
static enum pt_err
export_key(const struct pt_config *c, pt_json *k, int with_secrets)
{
	pt_json *secret = pt_json_get(k, "secret"), *red;
	const char *s;
	char fp[PT_FINGERPRINT_MAX];
	size_t n;

	if (pt_json_type(secret) == PT_J_STRING && !with_secrets) {
		s = pt_json_str(secret, &n);
		pt_secret_fingerprint(c, (const uint8_t *)s, n, fp);
		if ((red = pt_json_new_object()) == NULL ||
		    pt_json_set(red, "redacted", pt_json_new_cstr(fp)) != PT_OK ||
		    pt_json_set(k, "secret", red) != PT_OK)
			return PT_ENOMEM;
	}
	pt_json_del(k, "value");
	return PT_OK;
}

pt_json *
pt_config_export(const struct pt_config *c, int with_secrets)
{
	pt_json *doc, *sources, *envs, *env, *keys;
	struct pt_json_iter it;
	const char *name;
	size_t i, j;

	if ((doc = pt_json_copy(c->doc)) == NULL)
		return NULL;
	sources = pt_json_get(doc, "sources");
	for (i = 0; i < pt_json_len(sources); i++) {
		envs = pt_json_get(pt_json_index(sources, i), "environments");
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &name, &env)) {
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
 * Names of the members of "a" and "b" that differ, into "out", leaving
 * out "skip" (or NULL).  Returns how many.
 */
static size_t
diff_fields(const pt_json *a, const pt_json *b, const char *skip,
    struct pt_buf *out)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *va, *vb;
	size_t n = 0;

	while (pt_json_iter_next(b, &it, &k, &vb)) {
		if ((skip && strcmp(k, skip) == 0) ||
		    (pt_json_get_ex(a, k, &va) && pt_json_equal(va, vb)))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(a, &it, &k, &va)) {
		if ((skip && strcmp(k, skip) == 0) || pt_json_get_ex(b, k, NULL))
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
    const char *skip, struct pt_buf *out)
{
	struct pt_buf f = { 0 };
	size_t n;

	if (pt_json_type(a) != PT_J_OBJECT || pt_json_type(b) != PT_J_OBJECT) {
		if (pt_json_equal(a, b))
			return 0;
		pt_buf_printf(out, "~ %s\n", what);
		return 1;
	}
	if ((n = diff_fields(a, b, skip, &f)) > 0)
		pt_buf_printf(out, "~ %s: %s\n", what, f.data);
	pt_buf_free(&f);
	return n > 0;
}

/*
 * The diff walks the stored documents (c->doc), which hold every field
 * the parser keeps: each environment's normalised settings (e->norm is
 * the document's), each source's own members, the order of the sources,
 * and every other top-level member, whatever it is.  So a field added to
 * the parser is in the diff without being named here, and applying a
 * change to any one field is never "no changes".
 */
size_t
pt_config_diff(const struct pt_config *prev, const struct pt_config *next,
    struct pt_buf *out)
{
	struct pt_json_iter it = { 0 };
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
			changes += diff_line(what.data, o->norm, e->norm, NULL,
			    out);
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
		changes += diff_line(what.data, a, b, "environments", out);
	}
	if (moved) {
		pt_buf_printf(out, "~ order of the sources: %s\n", order.data);
		changes++;
	}
	/* Every other top-level member, in either document. */
	while (pt_json_iter_next(next->doc, &it, &k, &b))
		if (strcmp(k, "sources") != 0)
			changes += diff_line(k, pt_json_get(pdoc, k), b, NULL,
			    out);
	memset(&it, 0, sizeof(it));
	while (pdoc != NULL && pt_json_iter_next(pdoc, &it, &k, &a))
		if (strcmp(k, "sources") != 0 && !pt_json_get_ex(next->doc, k,
		    NULL))
			changes += diff_line(k, a, NULL, NULL, out);
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
