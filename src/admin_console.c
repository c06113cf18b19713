/*
 * admin_console.c - the web console's files under <mount>/admin/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_int.h"
#include "nitems.h"

#define MAX_FILE	(2 * 1024 * 1024)	/* a console file */

/* ------------------------------------------------------------- console */

/* The console's files: nothing else under <mount>/admin/ is served. */
static const struct {
	const char	*name;		/* after /admin/ */
	const char	*file;
	const char	*type;
} files[] = {
	{ "", "index.html", "text/html; charset=utf-8" },
	{ "index.html", "index.html", "text/html; charset=utf-8" },
	{ "app.js", "app.js", "text/javascript; charset=utf-8" },
	{ "style.css", "style.css", "text/css; charset=utf-8" },
	{ "favicon.svg", "favicon.svg", "image/svg+xml" },
};

/* Serve console file "i" from PORTER_CONSOLE_DIR or the installed copy. */
static int
console_file(struct admin *a, size_t i)
{
	const char *dir = getenv("PORTER_CONSOLE_DIR");
	char path[1024], chunk[16384];
	struct stat st;
	ssize_t n;
	int fd, status;

	if (dir == NULL || dir[0] == '\0')
		dir = PT_PKGDATADIR "/console";
	/* The console is open to anyone: paths go to the log, not the client. */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i].file) >=
	    sizeof(path))
		return adm_fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "console path too long: %.200s", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return adm_fail_private(a, errno == ENOENT ? 404 : 500,
		    "console_missing", "the console is not installed",
		    "the console is not installed (%s: %s)", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_FILE) {
		close(fd);
		return adm_fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "%s is not a console file", path);
	}
	pt_buf_reset(&a->resp->body);
	status = 200;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || a->resp->body.len + (size_t)n > MAX_FILE ||
		    pt_buf_add(&a->resp->body, chunk, (size_t)n) != PT_OK) {
			status = -1;
			break;
		}
	}
	close(fd);
	if (status < 0)
		return adm_fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "cannot read %s", path);
	a->resp->status = 200;
	a->resp->content_type = files[i].type;
	return 200;
}

int
adm_console(struct admin *a, const char *name)
{
	size_t i;

	if (strcmp(a->method, "GET") != 0) {
		pt_resp_header(a->resp, "Allow", "GET, HEAD");
		return adm_fail(a, 405, "method_not_allowed", "the console is read "
		    "with GET");
	}
	for (i = 0; i < nitems(files); i++)
		if (strcmp(files[i].name, name) == 0)
			return console_file(a, i);
	return adm_fail(a, 404, "not_found", "no such resource");
}
