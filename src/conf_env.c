/*
 * conf_env.c - one environment of a source: its fields checked, compiled
 * and normalised, with what the source type gives by default, and the
 * headers its scheme and paths read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "conf_int.h"
#include "filter.h"
#include "form.h"
#include "http.h"
#include "ids.h"
#include "nitems.h"
#include "script.h"

#define MAX_WINDOW		(90 * 86400)

/* An endpoint id appears in URLs: 8-128 of [A-Za-z0-9_-]. */
static int
valid_endpoint(const char *s, size_t n)
{
	size_t i;

	if (n < 8 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * Add header "name" to the list "*names" of "*n", normalised as the
 * FastCGI loop names headers (lower-case, "_" as "-": CGI cannot tell
 * them apart), once.  Returns 0, or -1 when out of memory.
 */
static int
names_add(char ***names, size_t *n, const char *name)
{
	char *c, *p, **grown;

	if ((c = pt_strdup(name)) == NULL)
		return -1;
	for (p = c; *p != '\0'; p++)
		*p = *p == '_' ? '-' : (*p >= 'A' && *p <= 'Z') ?
		    (char)(*p - 'A' + 'a') : *p;
	if (pt_env_names_have(*names, *n, c)) {
		pt_free(c);
		return 0;
	}
	if ((grown = pt_realloc(*names, (*n + 1) * sizeof(*grown))) == NULL) {
		pt_free(c);
		return -1;
	}
	*names = grown;
	(*names)[(*n)++] = c;
	return 0;
}

/* The header path "p" reads, if it reads one (or all of them). */
static int
path_deps(struct pt_env *e, const struct pt_path *p)
{
	if (p == NULL || p->ns != PT_NS_HEADERS)
		return 0;
	if (p->nsegs == 0) {
		e->all_headers = 1;
		return 0;
	}
	return names_add(&e->header_deps, &e->nheader_deps, p->segs[0].key);
}

/* Every path of a mapping parameter, objects built field by field too. */
static int
param_deps(struct pt_env *e, const struct pt_param *p)
{
	size_t i;

	for (i = 0; i < p->npaths; i++)
		if (path_deps(e, p->paths[i]) < 0)
			return -1;
	for (i = 0; i < p->nfields; i++)
		if (param_deps(e, &p->fields[i]) < 0)
			return -1;
	return 0;
}

/*
 * Fill the header lists of a compiled environment (conf.h): what its
 * scheme reads and what the paths identify() and the mappings resolve
 * read.  Returns 0, or -1 when out of memory.
 */
static int
header_deps(struct pt_env *e)
{
	struct pt_scheme_read reads[PT_SCHEME_MAX_READS];
	size_t i, j, n;

	n = e->scheme != NULL ? pt_scheme_reads(e->scheme, reads) : 0;
	for (i = 0; i < n; i++)
		if (names_add(&e->header_deps, &e->nheader_deps,
		    reads[i].name) < 0 || (reads[i].credential &&
		    names_add(&e->credential_headers, &e->ncredential_headers,
		    reads[i].name) < 0))
			return -1;
	if (e->type_rule == PT_RULE_PATH && e->type_template != NULL) {
		for (i = 0; i < e->type_template->nparts; i++)
			if (path_deps(e, e->type_template->paths[i]) < 0)
				return -1;
	} else if (e->type_rule == PT_RULE_PATH &&
	    path_deps(e, e->event_type_path) < 0)
		return -1;
	if (path_deps(e, e->timestamp_path) < 0 ||
	    path_deps(e, e->batch_path) < 0 ||
	    (e->idem_enabled && path_deps(e, e->idem_key_path) < 0))
		return -1;
	for (i = 0; i < e->nmappings; i++)
		for (j = 0; j < PT_MAX_PARAMS; j++)
			if (param_deps(e, &e->mappings[i].params[j]) < 0)
				return -1;
	/* A filter or a script may read any header: one value for all. */
	if (e->script != NULL)
		e->all_headers = 1;
	for (i = 0; i < pt_json_len(pt_json_get(e->norm, "mappings")); i++)
		if (pt_filter_reads(pt_json_get(pt_json_index(pt_json_get(
		    e->norm, "mappings"), i), "filter"), "headers"))
			e->all_headers = 1;
	return 0;
}

/* A path-valued field; "dflt" when absent; JSON null allowed if "nullable". */
/* What an environment's fields read and fill. */
struct env_in {
	struct pt_env			*e;
	const struct pt_source_type	*type;
	const struct pt_env		*old_env;	/* before, or NULL */
};

/*
 * A path-valued member at "ptr": "dflt" (the source type's) when absent,
 * JSON null when "nullable"; compiled into *out.
 */
static int
path_field(struct vctx *v, const char *ptr, const pt_json *val, int present,
    const char *dflt, int nullable, struct pt_path **out, pt_json **norm)
{
	const char *s, *msg;
	size_t n;

	*norm = NULL;
	if (!present && dflt == NULL)
		return 0;
	if (!present) {
		s = dflt;
		n = strlen(dflt);
	} else if (val == NULL && nullable)
		return 0;
	else if ((s = pt_json_str(val, &n)) == NULL)
		return conf_fail(v, ptr, "must be a path string%s", nullable ?
		    " or null" : "");
	if (pt_path_compile(s, n, out, &msg) != PT_OK)
		return conf_fail(v, ptr, "bad path \"%.80s\": %s", s,
		    msg ? msg : "?");
	return conf_norm(v, ptr, pt_json_new_str(s, n), norm);
}

/* Generate "src_" + 20 base32 characters from the CSPRNG. */
static int
new_endpoint_id(char out[32])
{
	memcpy(out, "src_", 4);
	return pt_random_b32(out + 4, 20) == PT_OK ? 0 : -1;
}

/* endpoint_id: given, kept from before, or new. */
static int
env_endpoint_id(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	const char *s;
	char eid[32];
	size_t n;

	(void)f;
	(void)present;
	if (val != NULL) {
		s = pt_json_str(val, &n);
		if (s == NULL || !valid_endpoint(s, n))
			return conf_fail(in->v, ptr, "must be 8 to 128 "
			    "characters of [A-Za-z0-9_-]");
		e->endpoint_id = pt_strndup(s, n);
	} else if (ei->old_env != NULL)
		e->endpoint_id = pt_strdup(ei->old_env->endpoint_id);
	else {
		if (new_endpoint_id(eid) < 0)
			return conf_fail(in->v, ptr, "cannot read random "
			    "bytes");
		e->endpoint_id = pt_strdup(eid);
	}
	if (e->endpoint_id == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	return conf_norm(in->v, ptr, pt_json_new_cstr(e->endpoint_id), norm);
}

/* verify: on by the type's rule (with keys, for most); after the keys. */
static int
env_verify(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;

	(void)f;
	(void)present;
	if (conf_bool(in->v, ptr, val, val != NULL, ei->type->verify < 0 ?
	    e->nkeys > 0 : ei->type->verify, &e->verify) < 0)
		return -1;
	/*
	 * A script verifies on its own when there is no scheme with keys
	 * (Knock's model): a scheme without keys would only ever fail.
	 */
	if (e->script != NULL && e->nkeys == 0)
		e->scheme = NULL;
	if (e->verify && e->scheme == NULL && e->script == NULL)
		return conf_fail(in->v, ptr, "true, but \"signature\" is null: "
		    "nothing to verify with");
	if (e->verify && e->scheme != NULL && e->nkeys == 0)
		return conf_fail(in->v, ptr, "true, but there are no "
		    "signing_keys");
	return conf_norm(in->v, ptr, pt_json_new_bool(e->verify), norm);
}

/* signature: a preset name, an object, or null for none. */
static int
env_signature(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_scheme *sch = NULL;
	char serr[300];
	enum pt_err rc;

	(void)f;
	if (!present && ei->type->scheme != NULL) {
		ei->e->scheme = pt_scheme_preset(ei->type->scheme);
		return conf_norm(in->v, ptr, pt_json_new_cstr(ei->type->scheme),
		    norm);
	}
	if (val == NULL) {
		*norm = NULL;
		return 0;
	}
	if ((rc = pt_scheme_from_json(val, &sch, serr, sizeof(serr))) !=
	    PT_OK) {
		in->v->oom |= rc == PT_ENOMEM;
		/* serr starts with its own pointer below "ptr". */
		snprintf(in->v->err, in->v->errlen, "%s%s", ptr, serr);
		return -1;
	}
	ei->e->scheme = sch;
	return conf_norm_copy(in->v, ptr, val, norm);
}

static int
env_signing_keys(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;

	(void)f;
	(void)present;
	return conf_parse_keys(in->v, ptr, val, ei->old_env ?
	    ei->old_env->norm : NULL, ei->e, norm);
}

static int
env_type_path(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;

	(void)f;
	return path_field(in->v, ptr, val, present, ei->type->event_type_path,
	    0, &ei->e->event_type_path, norm);
}

/*
 * event_type_template: used instead of event_type_path when set.  The
 * type's default applies only where the environment names neither, so
 * that an operator's own event_type_path is never overridden.
 */
static int
env_type_template(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	const char *dtext = ei->type->event_type_template;
	pt_json *dflt = NULL;
	int rc, path_given;

	(void)f;
	(void)conf_sibling(in, "event_type_path", &path_given);
	if (!present && !path_given && dtext != NULL) {
		if ((dflt = pt_json_parse_trusted(dtext, strlen(dtext))) ==
		    NULL)
			return conf_fail(in->v, ptr, "out of memory");
		val = dflt;
	}
	rc = conf_parse_templates(in->v, ptr, val, &ei->e->type_template);
	if (rc == 0)
		rc = conf_norm_copy(in->v, ptr, val, norm);
	pt_json_put(dflt);
	return rc;
}

/* event_type_rule: how CDP payloads name their events. */
static int
env_type_rule(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	const char *s;

	(void)f;
	s = present ? pt_json_str(val, NULL) : ei->type->event_type_rule;
	e->type_rule = PT_RULE_PATH;
	if (s != NULL && strcmp(s, "segment") == 0)
		e->type_rule = PT_RULE_SEGMENT;
	else if (s != NULL && strcmp(s, "rudderstack") == 0)
		e->type_rule = PT_RULE_RUDDERSTACK;
	else if (s != NULL || (present && val != NULL))
		return conf_fail(in->v, ptr, "must be \"segment\", "
		    "\"rudderstack\" or null");
	*norm = NULL;
	return s == NULL ? 0 : conf_norm(in->v, ptr, pt_json_new_cstr(s), norm);
}

static int
env_batch_path(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;

	(void)f;
	return path_field(in->v, ptr, val, present, ei->type->batch_path, 1,
	    &ei->e->batch_path, norm);
}

static int
env_timestamp_path(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;

	(void)f;
	return path_field(in->v, ptr, val, present, ei->type->timestamp_path,
	    1, &ei->e->timestamp_path, norm);
}

/* idempotency: {"enabled", "key_path", "window_seconds"}. */
static int
idem_enabled(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;

	(void)f;
	if (conf_bool(in->v, ptr, val, present, ei->type->idempotency_enabled,
	    &e->idem_enabled) < 0)
		return -1;
	return conf_norm(in->v, ptr, pt_json_new_bool(e->idem_enabled), norm);
}

static int
idem_key_path(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;

	(void)f;
	if (path_field(in->v, ptr, val, present,
	    ei->type->idempotency_key_path, 1, &e->idem_key_path, norm) < 0)
		return -1;
	if (e->idem_enabled && e->idem_key_path == NULL)
		return conf_fail(in->v, ptr, "required when idempotency is "
		    "enabled");
	return 0;
}

static int
idem_window(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;

	if (conf_int(in->v, f, ptr, val, present, &e->idem_window) < 0)
		return -1;
	return conf_norm(in->v, ptr, pt_json_new_int(e->idem_window), norm);
}

static const struct conf_field idem_fields[] = {
	{ "enabled",		idem_enabled, 0, 0, 0, 0, NULL },
	{ "key_path",		idem_key_path, 0, 0, 0, 0, NULL },
	{ "window_seconds",	idem_window, 0, 1, MAX_WINDOW,
				PT_IDEM_WINDOW_DEFAULT, NULL },
};
static const struct conf_table idem_table = {
	idem_fields, nitems(idem_fields)
};

static int
env_idempotency(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	char shape[200];

	(void)present;
	if (val != NULL && pt_json_type(val) != PT_J_OBJECT)
		return conf_fail(in->v, ptr, "must be an object %s",
		    conf_shape(in->v, f->members, shape, sizeof(shape)));
	if (conf_norm(in->v, ptr, pt_json_new_object(), norm) < 0)
		return -1;
	return conf_fields(in->v, ptr, val, f->members, in->arg, *norm);
}

static int
env_max_body(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	int64_t n;

	(void)present;
	if (conf_int(in->v, f, ptr, val, val != NULL, &n) < 0)
		return -1;
	ei->e->max_body = (uint64_t)n;
	return conf_norm(in->v, ptr, pt_json_new_int(n), norm);
}

/* The Content-Types an environment takes, by their names in the config. */
static const struct {
	const char	*name;
	int		 format;
} body_formats[] = {
	{ "json", PT_BODY_JSON },
	{ "form", PT_BODY_FORM },
};

/*
 * The member's value, or the type's default "text" (JSON) when absent:
 * a new reference in *out (NULL for JSON null).
 */
static int
value_or_default(struct vctx *v, const char *ptr, const pt_json *val,
    int present, const char *text, pt_json **out)
{
	if (present) {
		*out = val != NULL ? pt_json_ref((pt_json *)val) : NULL;
		return 0;
	}
	if ((*out = pt_json_parse_trusted(text, strlen(text))) == NULL)
		return conf_fail(v, ptr, "out of memory");
	return 0;
}

/* body_formats: a non-empty set of "json" and "form". */
static int
env_body_formats(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	pt_json *fmts = NULL;
	const char *s;
	char sub[700];
	size_t i, j;
	int rc = -1, fmt;

	(void)f;
	if (value_or_default(in->v, ptr, val, present,
	    pt_catalog_body_formats(ei->type), &fmts) < 0)
		return -1;
	if (pt_json_type(fmts) != PT_J_ARRAY || pt_json_len(fmts) == 0) {
		conf_fail(in->v, ptr, "must be a non-empty array of \"json\" "
		    "and \"form\" (application/x-www-form-urlencoded)");
		goto out;
	}
	e->body_formats = 0;
	for (i = 0; i < pt_json_len(fmts); i++) {
		conf_ptr_index(sub, sizeof(sub), ptr, i);
		s = pt_json_str(pt_json_index(fmts, i), NULL);
		for (j = 0, fmt = 0; s != NULL && j < nitems(body_formats);
		    j++)
			if (strcmp(s, body_formats[j].name) == 0)
				fmt = body_formats[j].format;
		if (fmt == 0) {
			conf_fail(in->v, sub, "must be \"json\" or \"form\"");
			goto out;
		}
		if (e->body_formats & fmt) {
			conf_fail(in->v, sub, "\"%s\" is listed twice", s);
			goto out;
		}
		e->body_formats |= fmt;
	}
	rc = conf_norm_copy(in->v, ptr, fmts, norm);
out:
	pt_json_put(fmts);
	return rc;
}

/* form_json_fields: form fields whose values are JSON text. */
static int
env_form_json_fields(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	pt_json *names = NULL;
	const char *s;
	char sub[700];
	size_t i, j, n, len;
	int rc = -1;

	(void)f;
	if (value_or_default(in->v, ptr, val, present,
	    pt_catalog_form_json_fields(ei->type), &names) < 0)
		return -1;
	if (pt_json_type(names) != PT_J_ARRAY ||
	    (n = pt_json_len(names)) > PT_MAX_FORM_JSON) {
		conf_fail(in->v, ptr, "must be an array of at most %d field "
		    "names", PT_MAX_FORM_JSON);
		goto out;
	}
	if (n > 0 && (e->form_json = pt_calloc(n, sizeof(char *))) == NULL) {
		conf_fail(in->v, ptr, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		conf_ptr_index(sub, sizeof(sub), ptr, i);
		if ((s = pt_json_str(pt_json_index(names, i), &len)) == NULL ||
		    len == 0 || len > PT_FORM_MAX_NAME ||
		    memchr(s, '\0', len) != NULL) {
			conf_fail(in->v, sub, "must be a field name of 1 to %d "
			    "bytes", PT_FORM_MAX_NAME);
			goto out;
		}
		for (j = 0; j < e->nform_json; j++)
			if (strcmp(e->form_json[j], s) == 0) {
				conf_fail(in->v, sub, "\"%.80s\" is listed "
				    "twice", s);
				goto out;
			}
		if ((e->form_json[i] = pt_strdup(s)) == NULL) {
			conf_fail(in->v, sub, "out of memory");
			goto out;
		}
		e->nform_json = i + 1;
	}
	rc = conf_norm_copy(in->v, ptr, names, norm);
out:
	pt_json_put(names);
	return rc;
}

static int
mapping_cmp(const void *a, const void *b)
{
	const struct pt_mapping *x = a, *y = b;

	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* mappings: as given, or the type's defaults; kept in priority order. */
static int
env_mappings(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	const char *dtext = ei->type->default_mappings;
	pt_json *maps = NULL;
	char sub[700], merr[400];
	size_t i, n;
	enum pt_err mrc;
	int rc = -1;

	(void)f;
	(void)present;
	if (val != NULL && pt_json_type(val) != PT_J_ARRAY)
		return conf_fail(in->v, ptr, "must be an array");
	if (conf_norm(in->v, ptr, val != NULL ? pt_json_copy(val) :
	    pt_json_parse_trusted(dtext, strlen(dtext)), &maps) < 0)
		return -1;
	if ((n = pt_json_len(maps)) > 1000) {
		conf_fail(in->v, ptr, "at most 1000 mappings");
		goto out;
	}
	if (n > 0 && (e->mappings = pt_calloc(n, sizeof(*e->mappings))) ==
	    NULL) {
		conf_fail(in->v, ptr, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((mrc = pt_mapping_compile(pt_json_index(maps, i),
		    &e->mappings[i], merr, sizeof(merr))) != PT_OK) {
			in->v->oom |= mrc == PT_ENOMEM;
			e->nmappings = i + 1;
			conf_ptr_index(sub, sizeof(sub), ptr, i);
			conf_fail(in->v, sub, "%s", merr[0] == ':' ? merr + 2 :
			    merr);
			if (merr[0] == '/')
				snprintf(in->v->err, in->v->errlen, "%s%s", sub,
				    merr);
			goto out;
		}
		e->mappings[i].order = i;
		e->nmappings = i + 1;
	}
	if (n > 1)
		qsort(e->mappings, n, sizeof(*e->mappings), mapping_cmp);
	*norm = maps;
	maps = NULL;
	rc = 0;
out:
	pt_json_put(maps);
	return rc;
}

/* What a preprocess object's fields fill. */
struct pre_in {
	struct vctx	*v;
	struct pt_buf	 src;		/* the script's source */
	int		 from_file;
	int64_t		 timeout_ms, memory_kb;
};

static int
pre_script(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct pre_in *pi = in->arg;
	const char *s;
	size_t n;

	(void)f;
	if (!present || val == NULL) {
		if (pi->from_file)
			return CONF_OMIT;
		return conf_fail(in->v, ptr, "required: the script's source "
		    "(or \"file\": its path)");
	}
	/* Our stored form keeps the source beside the file it came from. */
	if (pi->from_file && in->v->mode != PT_CFG_STORED)
		return conf_fail(in->v, ptr, "give \"script\" or \"file\", "
		    "not both");
	if ((s = pt_json_str(val, &n)) == NULL)
		return conf_fail(in->v, ptr, "must be a string: the script's "
		    "source, which defines main(ctx)");
	pt_buf_reset(&pi->src);
	if (pt_buf_add(&pi->src, s, n) != PT_OK)
		return conf_fail(in->v, ptr, "out of memory");
	/* An export shows the file, not a copy of what it held. */
	if (pi->from_file)
		return CONF_OMIT;
	return conf_norm_copy(in->v, ptr, val, norm);
}

static int
pre_file(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct pre_in *pi = in->arg;
	const char *path;

	(void)f;
	if (!present || val == NULL)
		return CONF_OMIT;
	if ((path = pt_json_str(val, NULL)) == NULL)
		return conf_fail(in->v, ptr, "must be a path");
	pi->from_file = 1;
	if (in->v->mode != PT_CFG_STORED && conf_read_file(in->v, ptr,
	    "script file", path, PT_SCRIPT_SOURCE_MAX, &pi->src) < 0)
		return -1;
	return conf_norm_copy(in->v, ptr, val, norm);
}

static int
pre_limit(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct pre_in *pi = in->arg;
	int64_t *out = strcmp(f->name, "timeout_ms") == 0 ? &pi->timeout_ms :
	    &pi->memory_kb;

	if (conf_int(in->v, f, ptr, val, present && val != NULL, out) < 0)
		return -1;
	return conf_norm(in->v, ptr, pt_json_new_int(*out), norm);
}

/* "file" first: "script" reads whether the source came from one. */
static const struct conf_field pre_fields[] = {
	{ "script",	pre_script, CF_LATE, 0, 0, 0, NULL },
	{ "file",	pre_file, 0, 0, 0, 0, NULL },
	{ "timeout_ms",	pre_limit, 0, 1, PT_SCRIPT_TIMEOUT_MAX,
			PT_SCRIPT_TIMEOUT_DEFAULT, NULL },
	{ "memory_kb",	pre_limit, 0, PT_SCRIPT_MEMORY_MIN,
			PT_SCRIPT_MEMORY_MAX, PT_SCRIPT_MEMORY_DEFAULT, NULL },
};
static const struct conf_table pre_table = {
	pre_fields, nitems(pre_fields)
};

/*
 * preprocess: {"script" | "file", "timeout_ms", "memory_kb"}.  Only the
 * limits are checked here; `apply` compiles the script and runs its top
 * level (pt_config_check_scripts), the responder trusts what was stored.
 * The stored form keeps the source of a file as "script" beside it.
 */
static int
env_preprocess(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	struct pre_in pi;
	char shape[200], sub[700], why[300];
	enum pt_script_res r;
	int rc = -1;

	(void)present;
	if (val == NULL)
		return CONF_OMIT;
	if (pt_json_type(val) != PT_J_OBJECT)
		return conf_fail(in->v, ptr, "must be an object %s",
		    conf_shape(in->v, f->members, shape, sizeof(shape)));
	memset(&pi, 0, sizeof(pi));
	pi.v = in->v;
	if (conf_norm(in->v, ptr, pt_json_new_object(), norm) < 0 ||
	    conf_fields(in->v, ptr, val, f->members, &pi, *norm) < 0)
		goto out;
	conf_ptr_join(sub, sizeof(sub), ptr, pi.from_file &&
	    in->v->mode != PT_CFG_STORED ? "file" : "script");
	if ((r = pt_script_new(pi.src.data ? pi.src.data : "", pi.src.len,
	    (unsigned)pi.timeout_ms, (unsigned)pi.memory_kb, &e->script, why,
	    sizeof(why))) != PT_SCRIPT_OK) {
		in->v->oom |= r == PT_SCRIPT_UNAVAILABLE;
		conf_fail(in->v, sub, "%s", why);
		goto out;
	}
	if ((e->script_ptr = pt_strdup(sub)) == NULL) {
		conf_fail(in->v, ptr, "out of memory");
		goto out;
	}
	/* The stored form: the source a file held, beside its path. */
	if (pi.from_file && pt_json_set(*norm, "script", pt_json_new_str(
	    pi.src.data ? pi.src.data : "", pi.src.len)) != PT_OK) {
		conf_fail(in->v, ptr, "out of memory");
		goto out;
	}
	rc = 0;
out:
	pt_buf_free(&pi.src);
	return rc;
}

/* public_url: where the sender calls us, for schemes that sign the URL. */
static int
env_public_url(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct env_in *ei = in->arg;
	struct pt_env *e = ei->e;
	const char *s;

	(void)f;
	(void)present;
	if (val == NULL && e->verify && e->scheme != NULL &&
	    pt_scheme_signs_url(e->scheme))
		/* Else every request would fail its check: say so now. */
		return conf_fail(in->v, ptr, "required: scheme %s signs the "
		    "URL the sender calls; give its scheme and host, such as "
		    "\"https://hooks.example.com\"", pt_scheme_name(e->scheme));
	if (val == NULL)
		return CONF_OMIT;
	if ((s = pt_json_str(val, NULL)) == NULL ||
	    (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
		return conf_fail(in->v, ptr, "must be an http(s) URL");
	if ((e->public_url = pt_strdup(s)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	return conf_norm_copy(in->v, ptr, val, norm);
}

/*
 * The fields of an environment, as porter.conf(5) lists them.  verify
 * and public_url come last: they read the scheme and the keys.
 */
static const struct conf_field env_fields[] = {
	{ "endpoint_id",	 env_endpoint_id, 0, 0, 0, 0, NULL },
	{ "verify",		 env_verify, CF_LATE, 0, 0, 0, NULL },
	{ "signature",		 env_signature, 0, 0, 0, 0, NULL },
	{ "signing_keys",	 env_signing_keys, 0, 0, 0, 0, NULL },
	{ "event_type_path",	 env_type_path, 0, 0, 0, 0, NULL },
	{ "event_type_template", env_type_template, 0, 0, 0, 0, NULL },
	{ "event_type_rule",	 env_type_rule, 0, 0, 0, 0, NULL },
	{ "batch_path",		 env_batch_path, 0, 0, 0, 0, NULL },
	{ "timestamp_path",	 env_timestamp_path, 0, 0, 0, 0, NULL },
	{ "idempotency",	 env_idempotency, 0, 0, 0, 0, &idem_table },
	{ "max_body_bytes",	 env_max_body, CF_BYTES, 1, PT_MAX_BODY_CAP,
				 PT_MAX_BODY_DEFAULT, NULL },
	{ "body_formats",	 env_body_formats, 0, 0, 0, 0, NULL },
	{ "form_json_fields",	 env_form_json_fields, 0, 0, 0, 0, NULL },
	{ "preprocess",		 env_preprocess, 0, 0, 0, 0, &pre_table },
	{ "mappings",		 env_mappings, 0, 0, 0, 0, NULL },
	{ "public_url",		 env_public_url, CF_LATE, 0, 0, 0, NULL },
};
const struct conf_table conf_env_table = {
	env_fields, nitems(env_fields)
};

int
conf_parse_env(struct vctx *v, const char *ptr,
    const struct pt_source_type *type, const char *src_key,
    const char *src_name, const char *name, const pt_json *env,
    struct pt_env **out)
{
	struct env_in ei;
	struct pt_env *e = NULL;
	pt_json *norm = NULL;
	int rc = -1;

	if (pt_json_type(env) != PT_J_OBJECT)
		return conf_fail(v, ptr, "an environment must be an object");
	if ((e = pt_calloc(1, sizeof(*e))) == NULL ||
	    (norm = pt_json_new_object()) == NULL ||
	    (e->source_key = pt_strdup(src_key)) == NULL ||
	    (e->source_name = pt_strdup(src_name)) == NULL ||
	    (e->source_type = pt_strdup(type->name)) == NULL ||
	    (e->name = pt_strdup(name)) == NULL)
		goto nomem;
	ei.e = e;
	ei.type = type;
	ei.old_env = pt_config_env(v->old, src_key, name);
	if (conf_fields(v, ptr, env, &conf_env_table, &ei, norm) < 0)
		goto out;
	e->norm = norm;
	norm = NULL;
	if (header_deps(e) < 0)
		goto nomem;
	*out = e;
	e = NULL;
	rc = 0;
	goto out;
nomem:
	rc = conf_fail(v, ptr, "out of memory");
out:
	pt_json_put(norm);
	conf_env_free(e);
	return rc;
}
