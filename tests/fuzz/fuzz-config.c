/*
 * fuzz-config.c - the configuration validator and compiler:
 * pt_config_parse of fuzzed documents (config files are operator input).
 *
 * Input: a JSON document.
 * Secrets given as {"file": "/abs/path"} would make the target read any
 * file (or block on a FIFO or /dev/stdin): every absolute "file" value is
 * pointed at a small secret file this target makes at start-up, so the
 * file branch runs without touching anything else.  Relative paths are
 * left alone (they fail before any open).  {"env": NAME} only calls
 * getenv(), which is harmless.
 * Checks, for a document that compiles (with no old config, and over a
 * fixed old config for endpoint ids and redacted keys):
 *	- its export, secrets masked, applies over it with no changes (what
 *	  `porterctl export | porterctl apply` does);
 *	- so does its export with secrets;
 *	- its stored form loads back (pt_config_load's path) with no changes.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "json.h"
#include "fuzz.h"

static char secret_path[512];
static struct pt_config *base;

static const char base_text[] =
    "{\"sources\":[{\"key\":\"tasks\",\"type\":\"custom\",\"environments\":{"
    "\"prod\":{\"endpoint_id\":\"src_prod_tasks_0001\",\"signing_keys\":["
    "{\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"},"
    "{\"secret\":\"old-key\",\"expires_at\":\"2001-01-01T00:00:00Z\"}]},"
    "\"dev\":{\"endpoint_id\":\"src_dev_tasks_0001\",\"verify\":false}}}]}";

static void
cleanup(void)
{
	if (secret_path[0] != '\0')
		unlink(secret_path);
	pt_config_free(base);
}

static void
init(void)
{
	struct pt_json_error jerr;
	const char *tmp = getenv("TMPDIR");
	pt_json *doc = NULL;
	char err[512];
	FILE *f;
	int fd;

	snprintf(secret_path, sizeof(secret_path), "%s/porter-fuzz-XXXXXX",
	    tmp ? tmp : "/tmp");
	if ((fd = mkstemp(secret_path)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		perror(secret_path);
		abort();
	}
	fputs("file-secret-0123456789\n", f);
	fclose(f);
	if (pt_json_parse(base_text, strlen(base_text), PT_JSON_MAX_DEPTH, &doc,
	    &jerr) != PT_OK || pt_config_parse(doc, NULL, PT_CFG_OPERATOR,
	    &base, err, sizeof(err)) != PT_OK)
		abort();
	pt_json_put(doc);
	atexit(cleanup);
}

/* Point every absolute {"file": ...} at our secret file. */
static void
tame_files(pt_json *v, int depth)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *m;
	size_t i;

	if (depth > PT_JSON_MAX_DEPTH)
		return;
	if (pt_json_type(v) == PT_J_ARRAY) {
		for (i = 0; i < pt_json_len(v); i++)
			tame_files(pt_json_index(v, i), depth + 1);
		return;
	}
	if (pt_json_type(v) != PT_J_OBJECT)
		return;
	while (pt_json_iter_next(v, &it, &k, &m))
		tame_files(m, depth + 1);
	if ((s = pt_json_str(pt_json_get(v, "file"), NULL)) != NULL &&
	    s[0] == '/')
		pt_json_set(v, "file", pt_json_new_cstr(secret_path));
}

/* "next" compiles and changes nothing over "prev". */
static void
same(const struct pt_config *prev, pt_json *next, int mode, const char *what)
{
	struct pt_config *cfg = NULL;
	struct pt_buf diff = { 0 };
	char err[512];
	size_t changes;

	FZ_ASSERT(next != NULL, "%s: nothing", what);
	err[0] = '\0';
	FZ_ASSERT(pt_config_parse(next, mode == PT_CFG_OPERATOR ? prev : NULL,
	    mode, &cfg, err, sizeof(err)) == PT_OK, "%s refused: %s: %s", what,
	    err, pt_json_text(next, PT_JSON_PLAIN, NULL));
	changes = pt_config_diff(prev, cfg, &diff);
	FZ_ASSERT(changes == 0, "%s changes %zu: %s", what, changes,
	    diff.data ? diff.data : "");
	/* "No changes" is only said of the same stored document. */
	FZ_ASSERT(pt_json_equal(prev->doc, cfg->doc), "%s: no changes, but "
	    "another document", what);
	pt_buf_free(&diff);
	pt_config_free(cfg);
}

static void
check(pt_json *doc, const struct pt_config *old)
{
	struct pt_config *cfg = NULL;
	const char *text;
	pt_json *x;
	char err[512];
	size_t n;

	err[0] = '\0';
	if (pt_config_parse(doc, old, PT_CFG_OPERATOR, &cfg, err,
	    sizeof(err)) != PT_OK) {
		FZ_ASSERT(err[0] != '\0', "refused without a reason");
		pt_config_free(cfg);
		return;
	}
	FZ_ASSERT(cfg != NULL && cfg->doc != NULL, "no config");
	for (n = 0; n < cfg->nenvs; n++) {
		FZ_ASSERT(pt_config_endpoint(cfg, cfg->envs[n]->endpoint_id) ==
		    cfg->envs[n], "endpoint %s not found",
		    cfg->envs[n]->endpoint_id);
		FZ_ASSERT(pt_config_env(cfg, cfg->envs[n]->source_key,
		    cfg->envs[n]->name) == cfg->envs[n], "env not found");
	}

	x = pt_config_export(cfg, 0);
	same(cfg, x, PT_CFG_OPERATOR, "export");
	pt_json_put(x);
	x = pt_config_export(cfg, 1);
	same(cfg, x, PT_CFG_OPERATOR, "export with secrets");
	pt_json_put(x);

	text = pt_json_text(cfg->doc, PT_JSON_PLAIN, &n);
	FZ_ASSERT(text != NULL, "no stored text");
	x = pt_json_parse_trusted(text, n);
	same(cfg, x, PT_CFG_STORED, "stored form");
	pt_json_put(x);
	pt_config_free(cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_json_error jerr;
	pt_json *doc = NULL;

	if (base == NULL)
		init();
	if (pt_json_parse((const char *)data, size, PT_JSON_MAX_DEPTH, &doc,
	    &jerr) != PT_OK)
		return 0;
	tame_files(doc, 0);
	check(doc, NULL);
	check(doc, base);
	pt_json_put(doc);
	return 0;
}
