/*
 * scheme_tpl.c - the signed message: templates over {body}, {timestamp},
 * {id}, {url} and {params}, what each token stands for in one request
 * (the URL in the forms a sender may have signed, sorted form
 * parameters), and the parts a MAC is computed over.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "form.h"
#include "scheme.h"
#include "scheme_int.h"
#include "sig.h"

static const char *const tok_names[TOK__MAX] = {
	"body", "timestamp", "id", "url", "params"
};

/*
 * Signed-string templates: literal text with {body}, {timestamp}, {id},
 * {url} and {params}.  tpl_next() returns the next piece from "*pos":
 * TOK_LITERAL with the text in "lit", a token, or -1 at the end; -2 for
 * a syntax error (unknown token, unbalanced braces).
 */
static int
tpl_next(const char *tpl, size_t *pos, struct span *lit)
{
	size_t start = *pos, end, i;

	if (tpl[start] == '\0')
		return -1;
	if (tpl[start] == '{') {
		end = start + 1;
		while (tpl[end] != '\0' && tpl[end] != '}')
			end++;
		if (tpl[end] != '}')
			return -2;
		for (i = 0; i < TOK__MAX; i++)
			if (strlen(tok_names[i]) == end - start - 1 &&
			    memcmp(tpl + start + 1, tok_names[i],
			    end - start - 1) == 0) {
				*pos = end + 1;
				return (int)i;
			}
		return -2;
	}
	for (end = start; tpl[end] != '\0' && tpl[end] != '{'; end++)
		if (tpl[end] == '}')
			return -2;
	lit->p = tpl + start;
	lit->len = end - start;
	*pos = end;
	return TOK_LITERAL;
}

/* Bit mask of the tokens "tpl" uses, or -1 if it is not a template. */
int
scheme_tpl_tokens(const char *tpl)
{
	struct span lit;
	size_t pos = 0, n = 0;
	int t, mask = 0;

	while ((t = tpl_next(tpl, &pos, &lit)) != -1) {
		if (t == -2)
			return -1;
		if (t != TOK_LITERAL) {
			if (++n > SCHEME_MAX_TOKENS)
				return -1;
			mask |= 1 << t;
		}
	}
	return mask;
}

/*
 * Twilio signs the URL it called, inconsistently with or without the
 * default port, so twilio-python's RequestValidator tries both: the URL
 * with a port (the one given, else 443/80 by scheme) and without any.
 * Fills "f" and returns how many distinct forms there are (1 or 2).
 * A URL that does not parse as scheme://authority... is used as given.
 */
size_t
scheme_url_forms(const char *url, struct url_form f[2])
{
	size_t len = strlen(url), a, end, host, colon, i;
	const char *sep = strstr(url, "://");
	const char *defport = NULL;

	f[0].head.p = url;
	f[0].head.len = len;
	f[0].mid = "";
	f[0].tail.p = url + len;
	f[0].tail.len = 0;
	if (sep == NULL)
		return 1;
	a = (size_t)(sep - url) + 3;
	for (end = a; end < len && url[end] != '/' && url[end] != '?' &&
	    url[end] != '#'; end++)
		continue;
	host = a;
	for (i = a; i < end; i++)
		if (url[i] == '@')
			host = i + 1;
	colon = end;
	if (host < end && url[host] == '[') {
		for (i = host; i < end && url[i] != ']'; i++)
			continue;
		if (i + 1 < end && url[i + 1] == ':')
			colon = i + 1;
	} else {
		for (i = host; i < end; i++)
			if (url[i] == ':')
				colon = i;
	}
	if (colon < end) {
		/* Has a port: as given, and without it. */
		f[1].head.p = url;
		f[1].head.len = colon;
		f[1].mid = "";
		f[1].tail.p = url + end;
		f[1].tail.len = len - end;
		return 2;
	}
	if ((size_t)(sep - url) == 5 && scheme_name_eq_n(url, "https", 5))
		defport = ":443";
	else if ((size_t)(sep - url) == 4 && scheme_name_eq_n(url, "http", 4))
		defport = ":80";
	if (defport == NULL)
		return 1;
	f[1].head.p = url;
	f[1].head.len = end;
	f[1].mid = defport;
	f[1].tail.p = url + end;
	f[1].tail.len = len - end;
	return 2;
}

/* One decoded form parameter; the text lives in scheme_form_params()'s
 * buffer. */
struct param {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
param_cmp(const void *x, const void *y)
{
	const struct param *a = x, *b = y;
	int c;

	if ((c = cmp_bytes(a->name, a->nlen, b->name, b->nlen)) != 0)
		return c;
	return cmp_bytes(a->val, a->vlen, b->val, b->vlen);
}

/*
 * Twilio's {params}: the form parameters of "body", decoded, sorted by
 * name and then by value, repeated pairs dropped, appended to "out" as
 * name then value with no separator (twilio-python RequestValidator,
 * compute_signature).  A pair without "=" has an empty value.
 * Returns PT_OK, PT_EINVAL for a bad %-escape, or PT_ENOMEM.
 * NOTE: byte order of UTF-8 is code point order, which Python sorts by.
 */
enum pt_err
scheme_form_params(const uint8_t *body, size_t len, struct pt_buf *out)
{
	const char *b = (const char *)body;
	struct pt_form_field f;
	struct param *params = NULL;
	char *text = NULL;
	size_t npairs = 1, n = 0, used = 0, i, pos = 0, dlen, bad;
	enum pt_err rc = PT_ENOMEM;

	for (i = 0; i < len; i++)
		if (b[i] == '&')
			npairs++;
	if ((params = pt_calloc(npairs, sizeof(*params))) == NULL ||
	    (text = pt_malloc(len + 1)) == NULL)
		goto out;
	rc = PT_EINVAL;
	/* The fields as form.c splits and decodes them for body.* paths. */
	while (pt_form_next(b, len, &pos, &f)) {
		params[n].name = text + used;
		if (pt_form_decode(f.name, f.nlen, text + used, &dlen, &bad) ==
		    -1)
			goto out;
		params[n].nlen = dlen;
		used += dlen;
		params[n].val = text + used;
		if (pt_form_decode(f.value, f.vlen, text + used, &dlen, &bad) ==
		    -1)
			goto out;
		params[n].vlen = dlen;
		used += dlen;
		n++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), param_cmp);
	rc = PT_ENOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0 && param_cmp(&params[i - 1], &params[i]) == 0)
			continue;
		if (pt_buf_add(out, params[i].name, params[i].nlen) != PT_OK ||
		    pt_buf_add(out, params[i].val, params[i].vlen) != PT_OK)
			goto out;
	}
	rc = PT_OK;
out:
	pt_free(params);
	pt_free(text);
	return rc;
}

/* The value of the query parameter "bodySHA256" of "url", if it has one. */
int
scheme_url_body_hash(const char *url, struct span *out)
{
	const char *q = strchr(url, '?'), *frag;
	struct span query, e;
	size_t pos = 0;

	if (q == NULL)
		return 0;
	query.p = q + 1;
	frag = strchr(query.p, '#');
	query.len = frag != NULL ? (size_t)(frag - query.p) : strlen(query.p);
	while (scheme_next_element(query, '&', &pos, &e))
		if (scheme_span_has_prefix(e, "bodySHA256=", 11)) {
			out->p = e.p + 11;
			out->len = e.len - 11;
			return 1;
		}
	return 0;
}

static void
add_part(struct pt_iov *iov, size_t *n, const void *p, size_t len)
{
	if (len == 0 || *n == SCHEME_MAX_IOV)
		return;
	iov[*n].data = p;
	iov[*n].len = len;
	(*n)++;
}

/*
 * The signed message of template "tpl" as parts for pt_mac(); returns the
 * count.  Empty parts are left out.
 * NOTE: the template was checked when the scheme was made, so at most
 * SCHEME_MAX_TOKENS tokens and as many literals plus one: it fits.
 */
size_t
scheme_signed_parts(const char *tpl, const struct signed_in *in,
    struct pt_iov iov[SCHEME_MAX_IOV])
{
	struct span lit;
	size_t pos = 0, n = 0;
	int t;

	while ((t = tpl_next(tpl, &pos, &lit)) >= 0) {
		switch (t) {
		case TOK_LITERAL:
			add_part(iov, &n, lit.p, lit.len);
			break;
		case TOK_BODY:
			add_part(iov, &n, in->body, in->body_len);
			break;
		case TOK_TIMESTAMP:
			add_part(iov, &n, in->ts.p, in->ts.len);
			break;
		case TOK_ID:
			add_part(iov, &n, in->id.p, in->id.len);
			break;
		case TOK_URL:
			if (in->url == NULL)
				break;
			add_part(iov, &n, in->url->head.p, in->url->head.len);
			add_part(iov, &n, in->url->mid, strlen(in->url->mid));
			add_part(iov, &n, in->url->tail.p, in->url->tail.len);
			break;
		case TOK_PARAMS:
			add_part(iov, &n, in->params.p, in->params.len);
			break;
		default:
			break;
		}
	}
	return n;
}

/* Could "id" be a message id: 1..255 bytes, no control characters? */
int
scheme_id_ok(struct span id)
{
	size_t i;

	if (id.len == 0 || id.len >= sizeof(((struct pt_sig_result *)0)->id))
		return 0;
	for (i = 0; i < id.len; i++)
		if ((unsigned char)id.p[i] < 0x20 || id.p[i] == 0x7f)
			return 0;
	return 1;
}
