/*
 * recover.h - executions whose process died while their workflow handlers
 * ran: found by their passed lease, marked "interrupted", their
 * idempotency key released so that the sender's retry runs.
 */
#ifndef PT_RECOVER_H
#define PT_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "store.h"

/*
 * Interrupt at most "max" (0: all) executions whose process died while their
 * workflow handlers ran: pending events whose lease has passed become
 * "interrupted", with their pending actions and runs, and release their
 * idempotency key.  *done gets the count.  Runs on every write (a few) and
 * from `porterctl recover` (all).
 */
enum pt_err	pt_recover(struct pt_txn *, int64_t now, size_t max,
		    size_t *done);

/*
 * Interrupt pending event "id" now, whatever its lease says (its key's
 * reservation went stale).  Anything but a readable pending event is left
 * alone for `porterctl check` to report.
 */
enum pt_err	pt_recover_event(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    int64_t now);

#endif
