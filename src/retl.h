/*
 * retl.h - reverse ETL sources: the Knock-REST-shaped calls Hightouch,
 * Census and Polytomic make, on a source's endpoint.
 *
 *	PUT    <endpoint>/v1/users/{id}                 users.identify
 *	DELETE <endpoint>/v1/users/{id}                 users.delete
 *	POST   <endpoint>/v1/users/bulk/identify        users.identify, each
 *	PUT    <endpoint>/v1/objects/{collection}/{id}  objects.set
 *	DELETE <endpoint>/v1/objects/{collection}/{id}  objects.delete
 *	POST   <endpoint>/v1/audiences/{key}/members    audiences.add_members
 *	DELETE <endpoint>/v1/audiences/{key}/members    audiences.remove_members
 *
 * Each call becomes one or more events, logged like any other, whose body
 * is a small document the source type's default mappings read:
 * {"type", "id", "collection", "key", "users", "tenant", "data"}.
 */
#ifndef PT_RETL_H
#define PT_RETL_H

#include <stddef.h>

#include "json.h"

enum pt_retl_op {
	PT_RETL_USER_PUT,
	PT_RETL_USER_DELETE,
	PT_RETL_USERS_BULK,
	PT_RETL_OBJECT_PUT,
	PT_RETL_OBJECT_DELETE,
	PT_RETL_MEMBERS_ADD,
	PT_RETL_MEMBERS_REMOVE
};

struct pt_retl_route {
	enum pt_retl_op	 op;
	char		 a[260];	/* user id, collection or audience key */
	char		 b[260];	/* object id */
};

/*
 * Match "sub" ("/v1/users/u1", already routed past the endpoint id) and
 * "method".  Returns 0, 404 (no such call; "why" says so) or 405 (*allow
 * lists the methods).  Path segments are percent-decoded.
 */
int	pt_retl_route(const char *sub, const char *method,
	    struct pt_retl_route *, const char **allow, char *why,
	    size_t whylen);

/* Does this call have a body?  (DELETE of users and objects need none.) */
int	pt_retl_needs_body(const struct pt_retl_route *);

/*
 * The event documents for the call (a new array), or NULL with "why" when
 * the body does not have the call's shape (a 400).
 */
pt_json	*pt_retl_docs(const struct pt_retl_route *, const pt_json *body,
	    char *why, size_t whylen);

#endif
