/*
 * retl.c - reverse ETL calls as events (see retl.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "retl.h"

#define MAX_BULK 1000

/* Percent-decode one path segment of "n" bytes into "out". */
static int
decode_seg(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = s[i + 1];
			lo = s[i + 2];
			hi = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' &&
			    hi <= 'f' ? hi - 'a' + 10 : hi >= 'A' && hi <= 'F' ?
			    hi - 'A' + 10 : -1;
			lo = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' &&
			    lo <= 'f' ? lo - 'a' + 10 : lo >= 'A' && lo <= 'F' ?
			    lo - 'A' + 10 : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Split "sub" into at most 6 segments; returns the count or -1. */
static int
split(const char *sub, const char *seg[6], size_t len[6])
{
	const char *p = sub, *q;
	int n = 0;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		p++;
		if (*p == '\0')
			break;
		if (n == 6)
			return -1;
		q = strchr(p, '/');
		seg[n] = p;
		len[n] = q ? (size_t)(q - p) : strlen(p);
		n++;
		p += len[n - 1];
	}
	return n;
}

static int
is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int
pt_retl_route(const char *sub, const char *method, struct pt_retl_route *r,
    const char **allow, char *why, size_t whylen)
{
	const char *seg[6];
	size_t len[6];
	int n = split(sub, seg, len), put = strcmp(method, "PUT") == 0,
	    post = strcmp(method, "POST") == 0, del = strcmp(method,
	    "DELETE") == 0;

	memset(r, 0, sizeof(*r));
	*allow = NULL;
	if (n < 3 || !is(seg[0], len[0], "v1"))
		goto none;
	if (is(seg[1], len[1], "users")) {
		if (n == 4 && is(seg[2], len[2], "bulk") &&
		    is(seg[3], len[3], "identify")) {
			r->op = PT_RETL_USERS_BULK;
			*allow = "POST";
			return post ? 0 : 405;
		}
		if (n != 3 || decode_seg(seg[2], len[2], r->a, sizeof(r->a)) < 0)
			goto none;
		*allow = "PUT, DELETE";
		r->op = del ? PT_RETL_USER_DELETE : PT_RETL_USER_PUT;
		return put || del ? 0 : 405;
	}
	if (is(seg[1], len[1], "objects")) {
		if (n != 4 || decode_seg(seg[2], len[2], r->a, sizeof(r->a)) < 0 ||
		    decode_seg(seg[3], len[3], r->b, sizeof(r->b)) < 0)
			goto none;
		*allow = "PUT, DELETE";
		r->op = del ? PT_RETL_OBJECT_DELETE : PT_RETL_OBJECT_PUT;
		return put || del ? 0 : 405;
	}
	if (is(seg[1], len[1], "audiences")) {
		if (n != 4 || !is(seg[3], len[3], "members") ||
		    decode_seg(seg[2], len[2], r->a, sizeof(r->a)) < 0)
			goto none;
		*allow = "POST, DELETE";
		r->op = del ? PT_RETL_MEMBERS_REMOVE : PT_RETL_MEMBERS_ADD;
		return post || del ? 0 : 405;
	}
none:
	snprintf(why, whylen, "no such call on a reverse ETL endpoint: want "
	    "/v1/users/{id}, /v1/users/bulk/identify, "
	    "/v1/objects/{collection}/{id} or /v1/audiences/{key}/members");
	return 404;
}

int
pt_retl_needs_body(const struct pt_retl_route *r)
{
	return r->op != PT_RETL_USER_DELETE && r->op != PT_RETL_OBJECT_DELETE;
}

/* {"type": type, ...} with "data" a copy of "data" (when not NULL). */
static pt_json *
doc(const char *type, const pt_json *data)
{
	pt_json *d = pt_json_new_object();

	if (d == NULL || pt_json_set(d, "type", pt_json_new_cstr(type)) !=
	    PT_OK || pt_json_set(d, "data", data ? pt_json_copy(data) :
	    pt_json_new_object()) != PT_OK) {
		pt_json_put(d);
		return NULL;
	}
	return d;
}

/*
 * Audience members [{"user": {"id"} | "id", "tenant"?}] grouped by tenant:
 * one document per tenant, each with its users.
 */
static pt_json *
members(const struct pt_retl_route *r, const pt_json *body, pt_json *out,
    char *why, size_t whylen)
{
	const char *type = r->op == PT_RETL_MEMBERS_ADD ?
	    "audiences.add_members" : "audiences.remove_members";
	pt_json *list = pt_json_get(body, "members"), *m, *u, *t, *d, *users;
	size_t i, j, n = pt_json_len(list);

	if (pt_json_type(list) != PT_J_ARRAY || n == 0 || n > MAX_BULK) {
		snprintf(why, whylen, "the body must be {\"members\": [{\"user\": "
		    "{\"id\": ...}, \"tenant\": ...}]} with 1 to %d members",
		    MAX_BULK);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		m = pt_json_index(list, i);
		u = pt_json_get(m, "user");
		if (pt_json_type(u) == PT_J_OBJECT)
			u = pt_json_get(u, "id");
		if (u == NULL) {
			snprintf(why, whylen, "members[%zu] has no user id", i);
			return NULL;
		}
		t = pt_json_get(m, "tenant");
		/* Find the document for this tenant, or start one. */
		d = NULL;
		for (j = 0; j < pt_json_len(out); j++)
			if (pt_json_equal(pt_json_get(pt_json_index(out, j),
			    "tenant"), t)) {
				d = pt_json_index(out, j);
				break;
			}
		if (d == NULL) {
			if ((d = doc(type, NULL)) == NULL ||
			    pt_json_append(out, d) != PT_OK ||
			    pt_json_set(d, "key", pt_json_new_cstr(r->a)) != PT_OK ||
			    pt_json_set_copy(d, "tenant", t) != PT_OK ||
			    pt_json_set(d, "users", pt_json_new_array()) != PT_OK)
				return NULL;
		}
		users = pt_json_get(d, "users");
		if (pt_json_append(users, pt_json_copy(u)) != PT_OK)
			return NULL;
	}
	return out;
}

pt_json *
pt_retl_docs(const struct pt_retl_route *r, const pt_json *body, char *why,
    size_t whylen)
{
	pt_json *out, *d = NULL, *users, *u, *data;
	size_t i, n;

	why[0] = '\0';
	if ((out = pt_json_new_array()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	switch (r->op) {
	case PT_RETL_USER_PUT:
	case PT_RETL_USER_DELETE:
		d = doc(r->op == PT_RETL_USER_PUT ? "users.identify" :
		    "users.delete", r->op == PT_RETL_USER_PUT ? body : NULL);
		if (d == NULL || pt_json_set(d, "id", pt_json_new_cstr(r->a)) !=
		    PT_OK || pt_json_append(out, d) != PT_OK)
			goto nomem;
		return out;
	case PT_RETL_OBJECT_PUT:
	case PT_RETL_OBJECT_DELETE:
		d = doc(r->op == PT_RETL_OBJECT_PUT ? "objects.set" :
		    "objects.delete", r->op == PT_RETL_OBJECT_PUT ? body : NULL);
		if (d == NULL || pt_json_set(d, "collection",
		    pt_json_new_cstr(r->a)) != PT_OK || pt_json_set(d, "id",
		    pt_json_new_cstr(r->b)) != PT_OK ||
		    pt_json_append(out, d) != PT_OK)
			goto nomem;
		return out;
	case PT_RETL_USERS_BULK:
		users = pt_json_get(body, "users");
		n = pt_json_len(users);
		if (pt_json_type(users) != PT_J_ARRAY || n == 0 || n > MAX_BULK) {
			snprintf(why, whylen, "the body must be {\"users\": [{\"id\": "
			    "...}, ...]} with 1 to %d users", MAX_BULK);
			break;
		}
		for (i = 0; i < n; i++) {
			u = pt_json_index(users, i);
			if (pt_json_type(u) != PT_J_OBJECT ||
			    pt_json_get(u, "id") == NULL) {
				snprintf(why, whylen, "users[%zu] is not a user with "
				    "an \"id\"", i);
				goto fail;
			}
			if ((data = pt_json_copy(u)) == NULL)
				goto nomem;
			pt_json_del(data, "id");
			d = doc("users.identify", data);
			pt_json_put(data);
			if (d == NULL || pt_json_set(d, "id", pt_json_copy(
			    pt_json_get(u, "id"))) != PT_OK ||
			    pt_json_append(out, d) != PT_OK)
				goto nomem;
		}
		return out;
	case PT_RETL_MEMBERS_ADD:
	case PT_RETL_MEMBERS_REMOVE:
		if (members(r, body, out, why, whylen) == NULL) {
			if (why[0] == '\0')
				goto nomem;
			break;
		}
		return out;
	}
fail:
	pt_json_put(out);
	return NULL;
nomem:
	snprintf(why, whylen, "out of memory");
	pt_json_put(out);
	return NULL;
}
