/*
 * handlerdir.h - which programs the admin API may make a workflow run.
 *
 * A workflow's "exec" runs on the host as the responder's user, so setting
 * it is host access.  `porterctl apply` (run on the host) may name any
 * program; over the API (PUT /admin/api/config, a full token) a new or
 * changed exec must name a handler in the directory the host chose with
 * PORTER_HANDLER_DIR in the responder's environment, and with none chosen
 * it cannot be changed at all (admin_config.c, exec_refused).
 */
#ifndef PT_HANDLERDIR_H
#define PT_HANDLERDIR_H

#include <stddef.h>

enum pt_hd {
	PT_HD_OK = 0,
	PT_HD_OFF,	/* no (usable) PORTER_HANDLER_DIR: host access needed */
	PT_HD_OUTSIDE	/* not an executable file inside the directory */
};

/*
 * May the API name "path" as a handler, with "dir" the handler directory
 * (NULL or "" when the host set none)?  Yes when "path" is written under
 * "dir" (as given or resolved) without "." or ".." components, resolves
 * (symbolic links followed) to a file inside the resolved "dir", and that
 * file is a regular file we may execute.  Otherwise the verdict, with the
 * reason in "why" (it names "path" and "dir", never what a link points
 * to).
 * NOTE: the check is made when the configuration is put; the directory
 * and its files must not be writable by the responder's user, or what
 * was checked is not what runs.
 */
enum pt_hd	pt_handler_dir_allows(const char *dir, const char *path,
		    char *why, size_t whylen);

#endif
