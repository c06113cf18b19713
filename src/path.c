/*
 * path.c - compile and resolve dot paths (see path.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "path.h"

#define PT_PATH_MAX_SEGS	64
#define PT_PATH_MAX_LEN		1024

void
pt_path_free(struct pt_path *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsegs; i++)
		pt_free(p->segs[i].key);
	pt_free(p->segs);
	pt_free(p->text);
	pt_free(p);
}

static enum pt_err
add_seg(struct pt_path *p, const char *key, size_t keylen, size_t index,
    size_t end)
{
	struct pt_path_seg *s;

	if (p->nsegs == PT_PATH_MAX_SEGS)
		return PT_EINVAL;
	s = &p->segs[p->nsegs];
	s->key = NULL;
	s->index = index;
	s->text_end = end;
	if (key != NULL && (s->key = pt_strndup(key, keylen)) == NULL)
		return PT_ENOMEM;
	p->nsegs++;
	return PT_OK;
}

/*
 * Compile "text".  Grammar (path.h): segments separated by ".", each a
 * non-empty key of bytes other than ".[]" and NUL, then "[N]" indexes.
 */
enum pt_err
pt_path_compile(const char *text, size_t len, struct pt_path **out,
    const char **errmsg)
{
	struct pt_path *p = NULL;
	const char *msg = NULL;
	enum pt_err rc = PT_ENOMEM;
	size_t i = 0, start, idx, first;

	*out = NULL;
	if (len == 0) {
		msg = "empty path";
		rc = PT_EINVAL;
		goto out;
	}
	if (len > PT_PATH_MAX_LEN) {
		msg = "path longer than 1024 bytes";
		rc = PT_EINVAL;
		goto out;
	}
	if ((p = pt_calloc(1, sizeof(*p))) == NULL ||
	    (p->segs = pt_calloc(PT_PATH_MAX_SEGS, sizeof(*p->segs))) == NULL ||
	    (p->text = pt_strndup(text, len)) == NULL)
		goto out;
	rc = PT_EINVAL;
	for (;;) {
		start = i;
		while (i < len && text[i] != '.' && text[i] != '[' &&
		    text[i] != ']' && text[i] != '\0')
			i++;
		if (i == start) {
			msg = "empty key in path";
			goto out;
		}
		if ((rc = add_seg(p, text + start, i - start, 0, i)) != PT_OK) {
			msg = rc == PT_EINVAL ? "path has too many segments" : NULL;
			goto out;
		}
		rc = PT_EINVAL;
		while (i < len && text[i] == '[') {
			first = ++i;
			idx = 0;
			while (i < len && text[i] >= '0' && text[i] <= '9') {
				if (idx > 100000000) {
					msg = "array index too large";
					goto out;
				}
				idx = idx * 10 + (size_t)(text[i] - '0');
				i++;
			}
			if (i == first || i >= len || text[i] != ']') {
				msg = "bad array index: want [N]";
				goto out;
			}
			if (text[first] == '0' && i - first > 1) {
				msg = "array index with a leading zero";
				goto out;
			}
			i++;
			if ((rc = add_seg(p, NULL, 0, idx, i)) != PT_OK) {
				msg = rc == PT_EINVAL ?
				    "path has too many segments" : NULL;
				goto out;
			}
			rc = PT_EINVAL;
		}
		if (i == len)
			break;
		if (text[i] != '.') {
			msg = text[i] == '\0' ? "NUL byte in path" :
			    "unexpected character after ']'";
			goto out;
		}
		if (++i == len) {
			msg = "path ends with '.'";
			goto out;
		}
	}

	/* Namespace: a leading "body", "headers" or "preprocess" segment. */
	p->ns = PT_NS_BODY;
	if (p->segs[0].key != NULL && (p->nsegs == 1 ||
	    p->segs[1].key != NULL)) {
		if (strcmp(p->segs[0].key, "body") == 0) {
			pt_free(p->segs[0].key);
			memmove(p->segs, p->segs + 1,
			    (p->nsegs - 1) * sizeof(*p->segs));
			p->nsegs--;
		} else if (strcmp(p->segs[0].key, "preprocess") == 0) {
			p->ns = PT_NS_PREPROCESS;
			pt_free(p->segs[0].key);
			memmove(p->segs, p->segs + 1,
			    (p->nsegs - 1) * sizeof(*p->segs));
			p->nsegs--;
		} else if (strcmp(p->segs[0].key, "headers") == 0) {
			p->ns = PT_NS_HEADERS;
			pt_free(p->segs[0].key);
			memmove(p->segs, p->segs + 1,
			    (p->nsegs - 1) * sizeof(*p->segs));
			p->nsegs--;
			if (p->nsegs > 1) {
				msg = "a header path has one name: headers.NAME";
				goto out;
			}
			if (p->nsegs == 1) {
				char *k;

				if (p->segs[0].key == NULL) {
					msg = "a header path has one name: headers.NAME";
					goto out;
				}
				for (k = p->segs[0].key; *k; k++)
					*k = (char)tolower((unsigned char)*k);
			}
		}
	}
	*out = p;
	p = NULL;
	rc = PT_OK;
out:
	if (errmsg)
		*errmsg = msg ? msg : (rc == PT_ENOMEM ? "out of memory" : NULL);
	pt_path_free(p);
	return rc;
}

static const char *
kind(enum pt_jtype t)
{
	switch (t) {
	case PT_J_NULL: return "null";
	case PT_J_BOOL: return "a boolean";
	case PT_J_INT: return "an integer";
	case PT_J_DOUBLE: return "a number";
	case PT_J_STRING: return "a string";
	case PT_J_OBJECT: return "an object";
	default: return "an array";
	}
}

/*
 * Explain a failed resolution: "<path up to segment seg> <what>".
 */
static enum pt_path_res
why(char *buf, size_t len, enum pt_path_res res, const struct pt_path *p,
    size_t seg, const char *what, const char *what2)
{
	size_t n;

	if (buf == NULL || len == 0)
		return res;
	n = seg == 0 ? 0 : p->segs[seg - 1].text_end;
	if (seg == 0)
		snprintf(buf, len, "the %s is %s%s",
		    p->ns == PT_NS_BODY ? "body" : p->ns == PT_NS_HEADERS ?
		    "header set" : "preprocess result", what, what2);
	else
		snprintf(buf, len, "%.*s is %s%s", (int)(n < 250 ? n : 250),
		    p->text, what, what2);
	return res;
}

enum pt_path_res
pt_path_resolve(const struct pt_path *p, const struct pt_roots *r,
    pt_json **out, char *whybuf, size_t whylen)
{
	const pt_json *cur = p->ns == PT_NS_HEADERS ? r->headers :
	    p->ns == PT_NS_PREPROCESS ? r->preprocess : r->body;
	pt_json *next;
	size_t i;

	*out = NULL;
	if (whybuf && whylen)
		whybuf[0] = '\0';
	if (p->ns == PT_NS_PREPROCESS && r->preprocess == NULL) {
		if (whybuf && whylen)
			snprintf(whybuf, whylen, "no preprocess script ran");
		return PT_PATH_MISSING;
	}
	for (i = 0; i < p->nsegs; i++) {
		const struct pt_path_seg *s = &p->segs[i];
		enum pt_jtype t = pt_json_type(cur);

		if (s->key != NULL) {
			if (t != PT_J_OBJECT)
				return why(whybuf, whylen, PT_PATH_MISMATCH, p, i,
				    kind(t), ", not an object");
			if (!pt_json_get_ex(cur, s->key, &next))
				return why(whybuf, whylen, PT_PATH_MISSING, p,
				    i + 1, "missing", "");
		} else {
			if (t != PT_J_ARRAY)
				return why(whybuf, whylen, PT_PATH_MISMATCH, p, i,
				    kind(t), ", not an array");
			if (s->index >= pt_json_len(cur))
				return why(whybuf, whylen, PT_PATH_MISSING, p,
				    i + 1, "past the end of the array", "");
			next = pt_json_index(cur, s->index);
		}
		cur = next;
	}
	*out = (pt_json *)cur;
	return PT_PATH_FOUND;
}
