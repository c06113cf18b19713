/*
 * nitems.h - the number of elements of an array (not of a pointer: the
 * compiler cannot tell, so use it on arrays only).  The one definition;
 * tests/unit/tap.h includes it too.
 */
#ifndef PT_NITEMS_H
#define PT_NITEMS_H

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#endif
