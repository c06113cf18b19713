/*
 * err.h - the one error type of Porter.
 *
 * Functions that can fail return "enum pt_err": PT_OK (0) on success,
 * otherwise the reason.  Storage, parsing and allocation failures all use
 * these codes; the request handler maps them to HTTP statuses in one table
 * (http.h, pt_err_answer).
 */
#ifndef PT_ERR_H
#define PT_ERR_H

enum pt_err {
	PT_OK = 0,
	PT_ENOMEM,	/* an allocation failed */
	PT_ENOTFOUND,	/* no such key / record */
	PT_EEXIST,	/* key exists (no-overwrite put) */
	PT_EFULL,	/* the store's map is full: retry later */
	PT_EIO,		/* I/O or storage engine failure */
	PT_EINVAL,	/* invalid argument or input */
	PT_EBUSY,	/* resource held by someone else: retry later */
	PT_ETOOBIG,	/* a value exceeds a limit */
	PT_ECORRUPT,	/* stored data does not decode */
	PT_ERETRY,	/* run the write again without PT_TXN_FLAT (store.h) */
	PT_ERR__MAX
};

/* Short, stable, human-readable name of "err" ("out of memory"). */
const char *pt_strerror(enum pt_err err);

#endif
