/*
 * conf_template.c - event type templates ("{body.a}:{body.b}", with
 * alternatives): compiled from the configuration, evaluated per event.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "conf_int.h"

/* Free "t" and its alternatives. */
void
conf_template_free(struct pt_template *t)
{
	struct pt_template *next;
	size_t i;

	for (; t != NULL; t = next) {
		next = t->next;
		for (i = 0; i < t->nparts; i++) {
			pt_free(t->text[i]);
			pt_path_free(t->paths[i]);
		}
		pt_free(t->text);
		pt_free(t->paths);
		pt_free(t->tail);
		pt_free(t->source);
		pt_free(t);
	}
}

/*
 * Compile "{path}literal{path}..." into parts.  On failure "msg" says why.
 */
static int
template_compile(const char *s, size_t n, struct pt_template **out,
    const char **msg)
{
	struct pt_template *t;
	const char *p = s, *end = s + n, *open, *close, *pmsg;
	size_t cap = 8;

	*out = NULL;
	*msg = "out of memory";
	if ((t = pt_calloc(1, sizeof(*t))) == NULL ||
	    (t->text = pt_calloc(cap, sizeof(*t->text))) == NULL ||
	    (t->paths = pt_calloc(cap, sizeof(*t->paths))) == NULL ||
	    (t->source = pt_strndup(s, n)) == NULL)
		goto fail;
	while (p < end) {
		open = memchr(p, '{', (size_t)(end - p));
		if (open == NULL)
			break;
		close = memchr(open, '}', (size_t)(end - open));
		if (close == NULL) {
			*msg = "a \"{\" without its \"}\"";
			goto fail;
		}
		if (memchr(p, '}', (size_t)(open - p)) != NULL) {
			*msg = "a \"}\" without its \"{\"";
			goto fail;
		}
		if (t->nparts == cap) {
			*msg = "more than 8 paths";
			goto fail;
		}
		if ((t->text[t->nparts] = pt_strndup(p, (size_t)(open - p))) ==
		    NULL)
			goto fail;
		if (pt_path_compile(open + 1, (size_t)(close - open - 1),
		    &t->paths[t->nparts], &pmsg) != PT_OK) {
			pt_free(t->text[t->nparts]);
			t->text[t->nparts] = NULL;
			*msg = pmsg ? pmsg : "bad path";
			goto fail;
		}
		t->nparts++;
		p = close + 1;
	}
	if (t->nparts == 0) {
		*msg = "no {path} in the template";
		goto fail;
	}
	if (memchr(p, '}', (size_t)(end - p)) != NULL) {
		*msg = "a \"}\" without its \"{\"";
		goto fail;
	}
	if ((t->tail = pt_strndup(p, (size_t)(end - p))) == NULL)
		goto fail;
	*out = t;
	return 0;
fail:
	conf_template_free(t);
	return -1;
}

/* One alternative: 0, or -1 with "why". */
static int
template_eval_one(const struct pt_template *t, const struct pt_roots *r,
    struct pt_buf *out, char *why, size_t whylen)
{
	pt_json *v;
	size_t i;

	for (i = 0; i < t->nparts; i++) {
		pt_buf_adds(out, t->text[i]);
		if (pt_path_resolve(t->paths[i], r, &v, why,
		    whylen) != PT_PATH_FOUND)
			return -1;
		if (pt_json_scalar_text(v, out) != PT_OK) {
			snprintf(why, whylen, "%s is %s, not a scalar",
			    t->paths[i]->text, pt_jtype_name(pt_json_type(v)));
			return -1;
		}
	}
	pt_buf_adds(out, t->tail);
	return out->failed ? -1 : 0;
}

int
pt_template_eval(const struct pt_template *t, const struct pt_roots *r,
    struct pt_buf *out, char *why, size_t whylen)
{
	size_t start = out->len;
	char last[300] = "";

	if (t->next == NULL)
		return template_eval_one(t, r, out, why, whylen);
	for (; t != NULL; t = t->next) {
		if (template_eval_one(t, r, out, last,
		    sizeof(last)) == 0)
			return 0;
		if (out->failed)
			return -1;
		/* Undo the failed alternative's partial text. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	snprintf(why, whylen, "none of the templates applies (the last: %s)",
	    last);
	return -1;
}

/*
 * An event type template at "ptr": "val" is one template (a string), an
 * array of alternatives, or NULL for none.  Compiled into *out, chained.
 */
int
conf_parse_templates(struct vctx *v, const char *ptr, const pt_json *val,
    struct pt_template **out)
{
	struct pt_template **tail = out;
	const pt_json *one;
	const char *s, *tmsg;
	char sub[600];
	size_t i, n, count;
	int array = pt_json_type(val) == PT_J_ARRAY;

	*out = NULL;
	if (val == NULL)
		return 0;
	count = array ? pt_json_len(val) : 1;
	if ((!array && pt_json_type(val) != PT_J_STRING) || count == 0 ||
	    count > PT_MAX_TEMPLATES)
		return conf_fail(v, ptr, "must be a template such as "
		    "\"{body.a}:{body.b}\", an array of 1 to %d of them (the "
		    "first whose paths all have values names the event), or "
		    "null", PT_MAX_TEMPLATES);
	for (i = 0; i < count; i++) {
		one = array ? pt_json_index(val, i) : val;
		if (array)
			conf_ptr_index(sub, sizeof(sub), ptr, i);
		else
			snprintf(sub, sizeof(sub), "%s", ptr);
		if ((s = pt_json_str(one, &n)) == NULL)
			return conf_fail(v, sub, "must be a template string");
		if (template_compile(s, n, tail, &tmsg) < 0)
			return conf_fail(v, sub, "%s", tmsg);
		tail = &(*tail)->next;
	}
	return 0;
}
