/*
 * util.h - the few macros every module may use.
 */
#ifndef PT_UTIL_H
#define PT_UTIL_H

/* The number of elements of array "a" (an array, not a pointer). */
#define PT_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

#endif
