/*
 * idem.h - idempotency records: which (source, environment, event type,
 * key) executed, when, as which event -- and which are executing now.
 *
 * A record is DONE (a successful execution, matched for window_seconds) or
 * PENDING (an execution whose workflow handlers are running outside the
 * write transaction; it holds the key for its owner until the lease ends).
 * Every call runs inside the caller's write transaction, so the check, the
 * record and the event's effects commit together: two processes racing
 * with one key cannot both execute.
 */
#ifndef PT_IDEM_H
#define PT_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "json.h"
#include "store.h"

#define PT_IDEM_KEY_MAX	255	/* characters */

enum pt_idem_state {
	PT_IDEM_NONE,		/* no live record: execute */
	PT_IDEM_DONE,		/* executed within the window: replay */
	PT_IDEM_PENDING,	/* executing now, lease alive: 409 */
	PT_IDEM_STALE		/* pending, but the lease ran out: take over */
};

struct pt_idem_rec {
	enum pt_idem_state	 state;
	uint8_t			 event_id[PT_ID_BIN];	/* the execution */
	int64_t			 recorded_at;		/* µs */
	int64_t			 expires_at;		/* µs: window or lease */
	uint64_t		 owner;			/* pending: who */
};

/* The scope of a key. */
struct pt_idem_scope {
	const char	*source;
	const char	*environment;
	const char	*event_type;
	const char	*key;
	size_t		 key_len;
};

/*
 * Is "v" a usable key: a string of 1-255 characters of valid UTF-8
 * without NUL?  On no, "why" says what is wrong (without the value).
 */
int		pt_idem_key_valid(const pt_json *v, char *why, size_t whylen);

/*
 * Look the scope up at time "now" (µs) with the window "window_us"
 * (records older than that do not match, whatever their stored expiry).
 */
enum pt_err	pt_idem_lookup(struct pt_txn *, const struct pt_idem_scope *,
		    int64_t now, int64_t window_us, struct pt_idem_rec *out);

/*
 * Write the record for the scope: DONE (expires now + window) or PENDING
 * (expires at the lease end, held by "owner").  Replaces any record.
 */
enum pt_err	pt_idem_put(struct pt_txn *, const struct pt_idem_scope *,
		    enum pt_idem_state, const uint8_t event_id[PT_ID_BIN],
		    int64_t now, int64_t expires_at, uint64_t owner);

/* Remove the scope's record (a failed execution); absent is fine. */
enum pt_err	pt_idem_release(struct pt_txn *, const struct pt_idem_scope *);

/*
 * Delete at most "max" records that expired before "now" (0 = no limit);
 * *removed gets the count.  Bounded work per write keeps the store from
 * growing; `porterctl prune` runs it without a limit.
 */
enum pt_err	pt_idem_prune(struct pt_txn *, int64_t now, size_t max,
		    size_t *removed);

/*
 * A pending reservation is left to recovery until its lease ended this
 * long ago (pt_idem_prune).
 */
#define PT_IDEM_PENDING_GRACE_US	(3600LL * 1000000)

/* A process-unique owner token: pid and 32 random bits. */
uint64_t	pt_idem_owner(void);
/*
 * Who holds a lease, for people: "HOST pid PID" (each front server has
 * its own host name; a lease's end is compared with the clock of
 * whichever node sees the retry: README "More than one machine").
 */
#define PT_IDEM_OWNER_NAME	96
const char	*pt_idem_owner_name(void);

/*
 * Consistency: every record has its time-index entry and vice versa.
 * Returns the number of problems (described through "report").
 */
size_t		pt_idem_check(struct pt_txn *, void (*report)(void *,
		    const char *), void *arg);

#endif
