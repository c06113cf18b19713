/*
 * alloc.h - allocation wrappers.
 *
 * Every allocation in Porter goes through these so that a test can make the
 * Nth one fail (pt_alloc_fail_after) and check that the request ends in a
 * clean 500 with nothing leaked (SQLite's "anomaly tests").
 * pt_free(NULL) is a no-op.
 */
#ifndef PT_ALLOC_H
#define PT_ALLOC_H

#include <stddef.h>

void	*pt_malloc(size_t);
void	*pt_calloc(size_t, size_t);
void	*pt_realloc(void *, size_t);
char	*pt_strdup(const char *);
char	*pt_strndup(const char *, size_t);
void	 pt_free(void *);

/*
 * Fault injection: after "n" more successful allocations every allocation
 * fails, until pt_alloc_fail_after(-1).  Returns how many allocations
 * happened since the last call (so a test can learn the count of a clean
 * run first).
 */
long	 pt_alloc_fail_after(long n);
/* Fail only the allocation "n" allocations from now (0: the next one);
 * -1 cancels.  A transient failure: the ones after it succeed. */
void	 pt_alloc_fail_nth(long n);
/*
 * For a library that allocates with malloc itself (json-c): count one
 * allocation, and return 1 when the injection wants it to fail (the
 * caller then fails as if malloc had returned NULL), else 0.
 */
int	 pt_alloc_fault(void);

/* Wipe memory that held a secret; not optimised away. */
void	 pt_wipe(void *, size_t);

#endif
