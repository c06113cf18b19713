/*
 * sample.c - sample events per source type, as "porterctl send --sample
 * TYPE:NAME" sends them and "porterctl sources --types" lists them: one
 * JSON file per type, samples/<type>.json, installed in
 * $(pkgdatadir)/samples ($PORTER_SAMPLES_DIR overrides it):
 *
 *	{"type": "stripe", "samples": {"invoice.paid": {"description",
 *	 "body" | "raw_body", "content_type", "method", "path",
 *	 "headers": {...}}}}
 *
 * They are the provider's own shapes (what the catalogue's default
 * mappings act on); porterctl signs them like any body.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "json.h"

static const char *
samples_dir(void)
{
	const char *d = getenv("PORTER_SAMPLES_DIR");

	return d != NULL && *d != '\0' ? d : PT_PKGDATADIR "/samples";
}

/* The samples of "type" (a parsed file; NULL when there is none). */
static pt_json *
load_type(const char *type)
{
	struct pt_json_error jerr;
	char path[1024], *text;
	pt_json *doc = NULL;
	size_t len;
	FILE *f;

	if (strchr(type, '/') != NULL || type[0] == '.')
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.json", samples_dir(), type);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fclose(f);
	text = ctl_read_file(path, &len);
	if (pt_json_parse(text, len, PT_JSON_MAX_DEPTH, &doc, &jerr) != PT_OK)
		ctl_die("%s: not valid JSON: %s", path, jerr.message);
	pt_free(text);
	return doc;
}

pt_json *
ctl_sample_names(const char *type)
{
	struct pt_json_iter it = { 0 };
	pt_json *doc = load_type(type), *names, *v;
	const char *k;

	if ((names = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	while (pt_json_iter_next(pt_json_get(doc, "samples"), &it, &k, &v))
		if (pt_json_append(names, pt_json_new_cstr(k)) != PT_OK)
			ctl_die("out of memory");
	pt_json_put(doc);
	return names;
}

void
ctl_sample_load(const char *spec, const char *env_type, struct ctl_sample *out)
{
	struct pt_json_iter it = { 0 };
	const char *colon = strchr(spec, ':'), *name, *s, *k;
	char type[128];
	pt_json *doc, *smp, *v, *names;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (colon == NULL || colon == spec || (size_t)(colon - spec) >=
	    sizeof(type))
		ctl_usage_die("send: --sample wants TYPE:NAME, such as "
		    "stripe:invoice.paid (porterctl sources --types lists "
		    "them)");
	memcpy(type, spec, (size_t)(colon - spec));
	type[colon - spec] = '\0';
	name = colon + 1;
	if ((doc = load_type(type)) == NULL)
		ctl_die("no samples for source type %s in %s", type,
		    samples_dir());
	if ((smp = pt_json_get(pt_json_get(doc, "samples"), name)) == NULL) {
		names = ctl_sample_names(type);
		s = pt_json_text(names, PT_JSON_PLAIN, &n);
		ctl_die("no sample %s of %s (want one of %s)", name, type,
		    s ? s : "[]");
	}
	if (strcmp(type, env_type) != 0)
		ctl_die("sample %s is a %s event; this environment's source is "
		    "of type %s", spec, type, env_type);
	if ((s = pt_json_str(pt_json_get(smp, "raw_body"), &n)) != NULL) {
		if ((out->body = pt_malloc(n + 1)) == NULL)
			ctl_die("out of memory");
		memcpy(out->body, s, n);
		out->body[n] = '\0';
		out->len = n;
	} else if (pt_json_get(smp, "body") != NULL) {
		if ((s = pt_json_text(pt_json_get(smp, "body"), PT_JSON_PLAIN,
		    &n)) == NULL || (out->body = pt_strndup(s, n)) == NULL)
			ctl_die("out of memory");
		out->len = n;
	} else
		ctl_die("sample %s has no body", spec);
	if ((s = pt_json_str(pt_json_get(smp, "method"), NULL)) != NULL &&
	    (out->method = pt_strdup(s)) == NULL)
		ctl_die("out of memory");
	if ((s = pt_json_str(pt_json_get(smp, "path"), NULL)) != NULL &&
	    (out->path = pt_strdup(s)) == NULL)
		ctl_die("out of memory");
	pt_buf_printf(&out->headers, "Content-Type: %s\n",
	    (s = pt_json_str(pt_json_get(smp, "content_type"), NULL)) ? s :
	    "application/json");
	while (pt_json_iter_next(pt_json_get(smp, "headers"), &it, &k, &v))
		if ((s = pt_json_str(v, NULL)) != NULL)
			pt_buf_printf(&out->headers, "%s: %s\n", k, s);
	if (out->headers.failed)
		ctl_die("out of memory");
	pt_json_put(doc);
}

void
ctl_sample_free(struct ctl_sample *s)
{
	pt_free(s->body);
	pt_free(s->method);
	pt_free(s->path);
	pt_buf_free(&s->headers);
}
