/*
 * admin_data.c - GET users, objects, tenants, audiences and runs: what the
 * actions made, read-only (porterctl users, objects, ... over HTTP).  A
 * listing is in key order (runs oldest first) and stops at "limit" (1 to
 * 1000, default 100), saying whether there was more.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "data.h"
#include "ids.h"
#include "json.h"

#define DATA_MAX	1000

struct listing {
	pt_json	*data;
	size_t	 limit;
	int	 more;
	int	 failed;
};

static int
list_cb(void *arg, pt_json *rec)
{
	struct listing *l = arg;

	if (pt_json_len(l->data) == l->limit) {
		l->more = 1;
		return 1;
	}
	if (pt_json_append(l->data, pt_json_copy(rec)) != PT_OK) {
		l->failed = 1;
		return 1;
	}
	return 0;
}

/* The listing's "limit": 0, or the status answered. */
static int
data_limit(struct admin *a, size_t *out)
{
	static const char *const allowed[] = { "limit", NULL };
	const char *s, *bad;
	char *end;
	long n;

	if ((bad = adm_unknown_param(a, allowed)) != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want limit)", adm_shown(bad));
	*out = 100;
	if ((s = adm_param(a, "limit")) == NULL)
		return 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 1 || n > DATA_MAX)
		return adm_fail(a, 400, "invalid_parameter", "limit: from 1 to "
		    "%d", DATA_MAX);
	*out = (size_t)n;
	return 0;
}

/* The kinds of listing, by the route's first segment. */
enum kind { USERS, OBJECTS, TENANTS, AUDIENCES, RUNS };

static int
kind_of(const char *seg)
{
	static const char *const names[] = { "users", "objects", "tenants",
	    "audiences", "runs" };
	int i;

	for (i = 0; i <= RUNS; i++)
		if (strcmp(seg, names[i]) == 0)
			return i;
	return -1;
}

int
api_data_list(struct admin *a)
{
	struct listing l = { NULL, 0, 0, 0 };
	struct pt_txn *txn;
	pt_json *o;
	enum pt_err rc;
	int status, k = kind_of(a->seg[0]);

	if ((status = data_limit(a, &l.limit)) != 0)
		return status;
	if ((rc = adm_txn(a, &txn)) != PT_OK)
		return adm_store_fail(a, rc, "reading the data");
	if ((l.data = pt_json_new_array()) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	switch (k) {
	case USERS:
		rc = pt_users_list(txn, list_cb, &l);
		break;
	case OBJECTS:	/* objects/<collection> */
		rc = pt_objects_list(txn, a->seg[1], list_cb, &l);
		break;
	case TENANTS:
		rc = pt_tenants_list(txn, list_cb, &l);
		break;
	case AUDIENCES:	/* audiences, or audiences/<key>: its members */
		rc = a->nseg > 1 ? pt_audience_members(txn, a->seg[1], list_cb,
		    &l) : pt_audiences_list(txn, list_cb, &l);
		break;
	default:
		rc = pt_runs_list(txn, NULL, list_cb, &l);
		break;
	}
	if (rc != PT_OK || l.failed) {
		pt_json_put(l.data);
		return l.failed ? adm_fail(a, 500, "internal_error", "out of "
		    "memory") : adm_store_fail(a, rc, "reading the data");
	}
	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_set(o, "data", l.data) != PT_OK ||
	    pt_json_set(o, "has_more", pt_json_new_bool(l.more)) != PT_OK) {
		pt_json_put(o);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	return adm_send_json(a, 200, o);
}

int
api_data_get(struct admin *a)
{
	static const char *const none[] = { NULL };
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	pt_json *rec = NULL;
	enum pt_err rc;
	int k = kind_of(a->seg[0]);
	const char *name = a->seg[a->nseg - 1], *bad;

	if ((bad = adm_unknown_param(a, none)) != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (one record takes none)", adm_shown(bad));
	if ((rc = adm_txn(a, &txn)) != PT_OK)
		return adm_store_fail(a, rc, "reading the data");
	switch (k) {
	case USERS:
		rc = pt_user_get(txn, name, &rec);
		break;
	case OBJECTS:	/* objects/<collection>/<id> */
		rc = pt_object_get(txn, a->seg[1], name, &rec);
		break;
	case TENANTS:
		rc = pt_tenant_get(txn, name, &rec);
		break;
	default:	/* runs/<run_id> */
		if (pt_id_parse("run", name, id) < 0)
			return adm_fail(a, 400, "invalid_id", "%s is not a run "
			    "id", adm_shown(name));
		rc = pt_run_get(txn, id, &rec);
		break;
	}
	if (rc == PT_ENOTFOUND)
		return adm_fail(a, 404, "not_found", "no such %.*s: %s",
		    (int)strlen(a->seg[0]) - 1, a->seg[0], adm_shown(name));
	if (rc != PT_OK)
		return adm_store_fail(a, rc, "reading the data");
	return adm_send_json(a, 200, rec);
}
