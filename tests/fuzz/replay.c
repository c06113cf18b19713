/*
 * replay.c - main() for a fuzz target built without libFuzzer: feed every
 * file of its corpus to LLVMFuzzerTestOneInput() once and say so in TAP.
 *
 *	replay-<target> [file | directory ...]
 *
 * With no arguments the corpus is $top_srcdir/tests/fuzz/corpus/<target>,
 * <target> being the program name after "replay-" (make check sets
 * top_srcdir).  Arguments name files or directories to run instead (to
 * reproduce a crash without a clang build).  A crash is a crash: the
 * harness sees the test die.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one file; -1 when it cannot be read. */
static int
run_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((data = realloc(data, cap)) == NULL)
				abort();
		}
		if ((n = fread(data + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		printf("# %s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL)
			abort();
		memcpy(exact, data, len);
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

/* Run a file, or every regular file of a directory in name order. */
static int
run_path(const char *path, size_t *count)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL, full[4096];
	size_t n = 0, cap = 0, i;
	int bad = 0;
	DIR *d;

	if (stat(path, &st) == -1) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (run_file(path) < 0)
			return -1;
		(*count)++;
		return 0;
	}
	if ((d = opendir(path)) == NULL) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((names = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(full) < 0)
				bad = 1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return bad ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/'), *top;
	char dir[4096];
	size_t count = 0;
	int i, bad = 0;

	name = name ? name + 1 : argv[0];
	if (strncmp(name, "lt-", 3) == 0)
		name += 3;
	if (strncmp(name, "replay-", 7) == 0)
		name += 7;
	printf("1..1\n");
	fflush(stdout);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (run_path(argv[i], &count) < 0)
				bad = 1;
	} else {
		if ((top = getenv("top_srcdir")) == NULL)
			top = ".";
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top, name);
		if (run_path(dir, &count) < 0)
			bad = 1;
	}
	printf("%s 1 - %s: %zu corpus inputs replayed\n", bad || count == 0 ?
	    "not ok" : "ok", name, count);
	return 0;
}
