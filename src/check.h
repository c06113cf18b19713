/*
 * check.h - verify that the store's indexes agree with its records
 * (`porterctl check`).
 */
#ifndef PT_CHECK_H
#define PT_CHECK_H

#include <stddef.h>

#include "store.h"

typedef void (*pt_check_report)(void *arg, const char *problem);

/*
 * Walk every event record and index entry, action log reference, action
 * index entry (once the index is complete) and idempotency record in
 * "txn" (a read transaction); report each problem.
 * Returns the number of problems; *events (may be NULL) gets the number of
 * events seen.
 */
size_t	pt_check(struct pt_txn *, pt_check_report, void *arg, size_t *events);
/*
 * The same, calling "progress" (may be NULL) with the events seen so far
 * every 1,000 of them (porterctl check shows it on a terminal).
 */
size_t	pt_check_progress(struct pt_txn *, pt_check_report, void *arg,
	    size_t *events, void (*progress)(void *arg, size_t events));

#endif
