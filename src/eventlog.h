/*
 * eventlog.h - the event log: one record per request that reached
 * authentication, indexed for the operator's queries.
 *
 * A record is stored under its 16-byte id (time-ordered, ids.h): its
 * metadata JSON and the raw body exactly as received, each compressed
 * (the layout: evrec.h).  Indexes (store.h) hold
 * the id under (source), (source, env), (source, env, type) and (status);
 * PT_T_EV_TYPES counts each received event type with first/last seen
 * (types read from rejected requests, marked "event_type_unverified",
 * are indexed but not counted: nobody vouched that they were received).
 */
#ifndef PT_EVENTLOG_H
#define PT_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ids.h"
#include "json.h"
#include "store.h"

#define PT_EVENT_TYPE_MAX 255	/* longer event types are not indexed */

struct pt_config;

/*
 * Every status a record can have, and every verification status: the
 * values the log's filters accept (the API, porterctl), NULL-terminated.
 * pt_eventlog_append and pt_eventlog_update refuse any other value
 * (PT_EINVAL), so the tables cannot fall behind what is written.
 */
extern const char *const pt_event_statuses[];
extern const char *const pt_verify_statuses[];

/* What the handler records.  Every pointer is borrowed. */
struct pt_event {
	uint8_t		 id[PT_ID_BIN];
	char		 id_text[PT_ID_MAX];
	int64_t		 received_at;	/* µs */
	const char	*source;
	const char	*environment;
	const char	*endpoint_id;
	const char	*event_type;	/* NULL: none */
	int		 type_unverified; /* read from a body that failed its
					    signature check: indexed, shown
					    as unverified, never counted */
	int64_t		 event_time;	/* µs; 0 = unknown */
	const char	*status;	/* accepted, no_event_type, ... */
	const char	*verify_status;	/* enforced:verified, ... */
	const char	*verify_reason;	/* NULL or the reason */
	pt_json		*headers;	/* object, may be NULL */
	pt_json		*warnings;	/* array, may be NULL */
	const char	*error_code;	/* NULL unless rejected/invalid */
	const char	*error_message;
	pt_json		*extra;		/* more metadata fields, may be NULL */
	const uint8_t	*body;
	size_t		 body_len;
	/*
	 * The body already packed in the request's thread (evrec.h
	 * pt_evrec_prepack), or NULL: packed in the write.
	 */
	const void	*packed_body;
	size_t		 packed_body_len;
	/*
	 * The whole metadata packed ahead too (pt_eventlog_prepack; only
	 * with packed_body) for an outcome guessed before the write, whose
	 * text is "guess": used when the write's outcome is that, else
	 * packed in the write.  NULL: no guess.
	 */
	const char	*guess;
	size_t		 guess_len;
	const void	*packed_meta;
	size_t		 packed_meta_len;
};

/*
 * In a request's thread, for the event "ev" as the write is expected to
 * leave it (its status, warnings, error and extra members: the outcome):
 * the outcome's text in "guess" and the whole metadata packed in
 * "packed", for ev->guess and ev->packed_meta.  The write then compares
 * its outcome's text and, when it is the same, only copies "packed".
 */
enum pt_err	pt_eventlog_prepack(struct pt_store *, const struct pt_event *,
		    struct pt_buf *guess, struct pt_buf *packed);

/* Write the record and its index entries in "txn". */
enum pt_err	pt_eventlog_append(struct pt_txn *, const struct pt_event *);

/*
 * Look up a record: its metadata and body are appended to "meta" and
 * "body" (either may be NULL: not read).  PT_ENOTFOUND when absent,
 * PT_ECORRUPT when it does not decode.
 */
enum pt_err	pt_eventlog_get(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    struct pt_buf *meta, struct pt_buf *body);

struct pt_log_query {
	const char	*source;
	const char	*environment;
	const char	*event_type;
	const char	*status;
	const char	*verify_status;	/* e.g. "enforced:failed" */
	int64_t		 since;		/* µs; 0 = no bound */
	int64_t		 until;		/* µs; 0 = no bound */
	const uint8_t	*before;	/* newest-first cursor, or NULL */
	const uint8_t	*after;		/* oldest-first cursor, or NULL */
	size_t		 limit;		/* 0 = 50 */
	size_t		 max_scan;	/* records examined at most; 0 = all */
	int		 want_body;	/* read bodies for the callback (else
					   it gets NULL, 0: a walk of the
					   log need not read them) */
};

/*
 * Called per matching record, newest first (oldest first with "after");
 * "meta" is the parsed metadata (borrowed for the call); returning nonzero
 * stops the walk.
 */
typedef int (*pt_log_cb)(void *arg, const uint8_t id[PT_ID_BIN],
		    pt_json *meta, const uint8_t *body, size_t body_len);

enum pt_err	pt_eventlog_query(struct pt_txn *, const struct pt_log_query *,
		    pt_log_cb, void *arg);

/*
 * Can the filters of "q" match at all?  A status or verification status
 * outside the tables, a source that is neither in "cfg" nor in the log,
 * or an environment that is neither configured for its source (for any
 * source when "q" names none) nor logged under it is PT_EINVAL, with
 * "why" naming the valid values.  A source (or environment) removed from
 * the configuration while its events are still logged is valid: the log
 * is where an operator looks for it.  Other filters are not checked.
 */
enum pt_err	pt_eventlog_check_filters(struct pt_txn *,
		    const struct pt_config *cfg, const struct pt_log_query *q,
		    char *why, size_t whylen);

/* Per received event type of (source, env): count, first and last seen. */
typedef int (*pt_types_cb)(void *arg, const char *type, uint64_t count,
		    int64_t first_us, int64_t last_us);
enum pt_err	pt_eventlog_types(struct pt_txn *, const char *source,
		    const char *env, pt_types_cb, void *arg);

/*
 * Change a record: its status (moving the status index entry) and the
 * metadata members of "set" (an object; each member replaces one).  The
 * body is kept.
 */
enum pt_err	pt_eventlog_update(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const char *status, const pt_json *set);

/* Delete one record and its index entries (retention, tests). */
enum pt_err	pt_eventlog_delete(struct pt_txn *, const uint8_t id[PT_ID_BIN]);

#endif
