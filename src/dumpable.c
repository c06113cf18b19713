/*
 * dumpable.c - no core dumps unless asked for (see dumpable.h).  The only
 * file that calls prctl(PR_SET_DUMPABLE).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "dumpable.h"

int
pt_dumpable_set(char *why, size_t whylen)
{
	const char *s = getenv("PORTER_CORE_DUMPS");

	if (s != NULL && strcmp(s, "1") == 0)
		return 0;
	if (s != NULL && *s != '\0' && strcmp(s, "0") != 0) {
		snprintf(why, whylen, "PORTER_CORE_DUMPS=%.40s: want 0 (no core "
		    "dumps, the default) or 1 (allow them)", s);
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		snprintf(why, whylen, "prctl(PR_SET_DUMPABLE): %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}
