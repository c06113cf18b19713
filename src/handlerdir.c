/*
 * handlerdir.c - the host's directory of handlers (see handlerdir.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlerdir.h"

/*
 * Is "path" "dir" followed by "/" and one or more components, none empty,
 * "." or ".."?  "dir" may end in slashes ("/" itself: every absolute
 * path is under it).
 */
static int
lexically_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	const char *p, *end;

	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return 0;
	for (p = path + n + 1;; p = end + 1) {
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		if (end == p || (end - p == 1 && p[0] == '.') ||
		    (end - p == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (*end == '\0')
			return 1;
	}
}

enum pt_hd
pt_handler_dir_allows(const char *dir, const char *path, char *why,
    size_t whylen)
{
	char rdir[PATH_MAX], rpath[PATH_MAX];
	struct stat st;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(why, whylen, "the host has enabled no directory of "
		    "handlers (PORTER_HANDLER_DIR)");
		return PT_HD_OFF;
	}
	if (dir[0] != '/' || realpath(dir, rdir) == NULL ||
	    stat(rdir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "PORTER_HANDLER_DIR=%.200s is not an "
		    "absolute path to a directory", dir);
		return PT_HD_OFF;
	}
	if (!lexically_under(dir, path) && !lexically_under(rdir, path)) {
		snprintf(why, whylen, "%.200s is not a path inside %.200s "
		    "(PORTER_HANDLER_DIR)", path, dir);
		return PT_HD_OUTSIDE;
	}
	if (realpath(path, rpath) == NULL) {
		snprintf(why, whylen, "%.200s: %s", path, strerror(errno));
		return PT_HD_OUTSIDE;
	}
	/* A link in the directory may not lead out of it. */
	if (!lexically_under(rdir, rpath)) {
		snprintf(why, whylen, "%.200s leads outside %.200s "
		    "(PORTER_HANDLER_DIR)", path, dir);
		return PT_HD_OUTSIDE;
	}
	if (stat(rpath, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(rpath, X_OK) == -1) {
		snprintf(why, whylen, "%.200s is not an executable file", path);
		return PT_HD_OUTSIDE;
	}
	return PT_HD_OK;
}
