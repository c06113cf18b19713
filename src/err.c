/*
 * err.c - names of the error codes (see err.h).
 */
#include "config.h"

#include "err.h"

const char *
pt_strerror(enum pt_err err)
{
	static const char *const names[PT_ERR__MAX] = {
		[PT_OK] = "success",
		[PT_ENOMEM] = "out of memory",
		[PT_ENOTFOUND] = "not found",
		[PT_EEXIST] = "already exists",
		[PT_EFULL] = "store is full",
		[PT_EIO] = "storage failure",
		[PT_EINVAL] = "invalid input",
		[PT_EBUSY] = "busy",
		[PT_ETOOBIG] = "too large",
		[PT_ECORRUPT] = "stored data is corrupt",
		[PT_ERETRY] = "to be run again in nested transactions",
	};

	if ((unsigned)err < PT_ERR__MAX && names[err])
		return names[err];
	return "unknown error";
}
