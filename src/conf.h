/*
 * conf.h - the declarative configuration: validate, compile, store,
 * export, diff.
 *
 * Operators keep a JSON file (format: porter.conf(5)) and load it with
 * `porterctl apply`.  pt_config_parse() validates the whole document and
 * compiles it; pt_config_save() writes it in one write transaction; the
 * responder loads the stored form with pt_config_load() whenever the
 * stored generation number changes, so an apply takes effect at the next
 * request without a restart.
 */
#ifndef PT_CONF_H
#define PT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "mapping.h"
#include "path.h"
#include "scheme.h"
#include "store.h"

#define PT_MAX_BODY_DEFAULT	(1024 * 1024)
#define PT_MAX_BODY_CAP		(16 * 1024 * 1024)
#define PT_IDEM_WINDOW_DEFAULT	86400
#define PT_FP_KEY_LEN		32
#define PT_FINGERPRINT_MAX	24	/* "hmac:", 16 hex digits, NUL */

/*
 * "{body.schema}.{body.table}:{body.type}": literal text and paths.  An
 * environment may list alternatives ("next"): the first whose paths all
 * have values names the event.
 */
struct pt_template {
	size_t			 nparts;
	char			**text;		/* literal before part i (may be "") */
	struct pt_path		**paths;	/* part i's path */
	char			*tail;		/* literal after the last path */
	char			*source;	/* as written */
	struct pt_template	*next;		/* the next alternative, or NULL */
};

#define PT_MAX_TEMPLATES	8	/* alternatives of one event type */
#define PT_MAX_FORM_JSON	16	/* form fields declared as JSON */

enum pt_type_rule {
	PT_RULE_PATH,		/* event_type_path (or the template) */
	PT_RULE_SEGMENT,	/* track: the event name; else the type */
	PT_RULE_RUDDERSTACK	/* track: "track/<snake_case name>"; else type */
};

struct pt_key {
	uint8_t		*secret;	/* resolved bytes */
	size_t		 len;
	int64_t		 expires_at;	/* unix seconds; 0 = never */
};

struct pt_env {
	char			*source_key;
	char			*source_name;
	char			*source_type;
	char			*name;		/* environment */
	char			*endpoint_id;
	int			 verify;
	const struct pt_scheme	*scheme;	/* NULL: no verification */
	struct pt_key		*keys;
	struct pt_secret	*secrets;	/* the keys as the engine wants */
	size_t			 nkeys;
	struct pt_path		*event_type_path;
	struct pt_path		*timestamp_path;	/* NULL: none */
	struct pt_template	*type_template;		/* NULL: none */
	enum pt_type_rule	 type_rule;
	struct pt_path		*batch_path;		/* NULL: no batches */
	int			 idem_enabled;
	struct pt_path		*idem_key_path;		/* NULL: none */
	int64_t			 idem_window;		/* seconds */
	uint64_t		 max_body;
	int			 body_formats;	/* PT_BODY_* (http.h) accepted */
	char			**form_json;	/* form fields holding JSON */
	size_t			 nform_json;
	char			*public_url;	/* for schemes signing URLs */
	/*
	 * The preprocess script (script.h), or NULL, and where it is in
	 * the document, for pt_config_check_scripts' errors.
	 */
	struct pt_script	*script;
	char			*script_ptr;
	struct pt_mapping	*mappings;	/* in priority order */
	size_t			 nmappings;
	pt_json			*norm;		/* normalised object (stored) */
	/*
	 * Worked out once per compiled configuration (header names
	 * lower-case, "_" as "-", as the FastCGI loop names them):
	 * "header_deps", the headers the scheme reads or a path into
	 * headers names (event type, timestamp, idempotency key, batch,
	 * mapping parameters), with "all_headers" when a path takes the
	 * whole headers object or a script may read any of them; "credential_headers", those holding the
	 * scheme's secret itself, which the log never shows.
	 */
	char			**header_deps;
	size_t			 nheader_deps;
	int			 all_headers;
	char			**credential_headers;
	size_t			 ncredential_headers;
};

/* Is "name" (normalised) in the list "names" of "n"? */
int	pt_env_names_have(char *const *names, size_t n, const char *name);

struct pt_workflow {
	char		*key;
	char		**argv;		/* NULL-terminated; NULL = record only */
	size_t		 argc;
	char		**cancel_argv;	/* told about cancellations, or NULL */
	size_t		 cancel_argc;
	int64_t		 timeout_ms;
	size_t		 max_output;	/* bytes of stdout/stderr kept */
	/*
	 * Or an HTTP handler: POST the run to "http_url" with the header
	 * lines "http_headers" ("Name: value\n"), signed the Standard
	 * Webhooks way with "http_secret" (the "whsec_..." text; NULL:
	 * unsigned).
	 */
	char		*http_url;
	char		*http_headers;
	size_t		 http_headers_len;
	uint8_t		*http_secret;
	size_t		 http_secret_len;
	pt_json		*http_spec;	/* the secret as the stored form
					   keeps it */
	pt_json		*http_header_values;	/* name -> value */
	char		*http_ca_file;	/* PEM CAs to trust, or NULL */
};

struct pt_config {
	struct pt_env		**envs;		/* sorted by endpoint_id */
	size_t			 nenvs;
	/*
	 * The top-level variables, NAME -> resolved value (strings): a
	 * script's ctx.vars.  Secrets: an export masks them, and a value
	 * that shows up in a header or a script's output is masked in the
	 * event log (intake.c).  Never NULL once parsed.
	 */
	pt_json			*vars;
	struct pt_workflow	*workflows;	/* sorted by key */
	size_t			 nworkflows;
	enum pt_durability	 durability;
	int64_t			 log_retention_days;
	int64_t			 max_store_bytes;	/* 0: no ceiling */
	int64_t			 min_free_disk_bytes;	/* -1: default */
	pt_json			*doc;		/* normalised document (stored) */
	uint64_t		 gen;		/* generation it was loaded at */
	/*
	 * The store's fingerprint key (pt_secret_fingerprint), read with
	 * the configuration.  "fp_key_stored" is 0 when the store has none
	 * yet and this is a random one, kept by the next save.
	 */
	uint8_t			 fp_key[PT_FP_KEY_LEN];
	int			 fp_key_stored;
};

/* How pt_config_parse reads secrets. */
#define PT_CFG_OPERATOR	0	/* a file from an operator: resolve refs */
#define PT_CFG_STORED	1	/* our stored form: secrets are inline */

/*
 * Validate and compile "doc".  "old" (may be NULL) supplies endpoint ids to
 * keep, secrets for {"redacted": ...} references and the fingerprint key
 * (a random one without "old").  On PT_EINVAL, "err" gets "<JSON
 * pointer>: <why>".  New endpoint ids are generated.
 */
enum pt_err	pt_config_parse(const pt_json *doc, const struct pt_config *old,
		    int mode, struct pt_config **out, char *err, size_t errlen);
void		pt_config_free(struct pt_config *);

/*
 * Build the event type from the first alternative of a template whose
 * parts all have scalar values; 0, or -1 with "why" when none has.
 */
int		pt_template_eval(const struct pt_template *,
		    const struct pt_roots *, struct pt_buf *out, char *why,
		    size_t whylen);

/*
 * Compile every environment's preprocess script and run its top level in
 * a worker of "pool" (NULL: a private one; script.h), as `apply` must
 * before it stores a configuration (pt_config_parse only checks a
 * script's limits).  PT_OK; PT_EINVAL with "<pointer>: line N: <why>";
 * PT_EBUSY when no worker could check it (retry later).
 */
struct pt_script_pool;
enum pt_err	pt_config_check_scripts(const struct pt_config *,
		    struct pt_script_pool *pool, char *err, size_t errlen);

/* The environment behind "endpoint_id", or NULL. */
const struct pt_env *pt_config_endpoint(const struct pt_config *,
		    const char *endpoint_id);
/* The environment "source"/"env", or NULL. */
const struct pt_env *pt_config_env(const struct pt_config *,
		    const char *source, const char *env);
const struct pt_workflow *pt_config_workflow(const struct pt_config *,
		    const char *key);

/*
 * Stored form.  pt_config_load returns PT_ENOTFOUND (and an empty config)
 * when nothing was ever applied.  pt_config_stored_gen reads only the
 * generation (cheap: one get).
 */
enum pt_err	pt_config_load(struct pt_txn *, struct pt_config **out,
		    char *err, size_t errlen);
enum pt_err	pt_config_stored_gen(struct pt_txn *, uint64_t *gen);
/*
 * Write "cfg" as the current config and bump the generation.  The store
 * keeps its fingerprint key: a store without one keeps cfg's, and cfg
 * gets the stored one.
 */
enum pt_err	pt_config_save(struct pt_txn *, struct pt_config *cfg);
/*
 * Give the store a fingerprint key from the kernel's CSPRNG if it has
 * none (a store from before keyed fingerprints): a write only then.  The
 * responder calls it when it opens the store, so that an old store's
 * fingerprints are stable from the first export on.
 */
enum pt_err	pt_config_fp_key_init(struct pt_store *);

/*
 * The document an operator would write: defaults filled in, generated
 * endpoint ids included; inline secrets shown as {"redacted": "hmac:..."}
 * unless "with_secrets".  A new reference.
 */
pt_json		*pt_config_export(const struct pt_config *, int with_secrets);
/*
 * A secret's fingerprint, safe to show to anyone: "hmac:" and 16 hex
 * digits of HMAC-SHA256 keyed with the store's fingerprint key (random,
 * made once per store, never exported or shown).  The same secret gives
 * the same fingerprint in every export of one store, so {"redacted": fp}
 * names it on the way back in; without the key, the fingerprint says
 * nothing about the secret (an unkeyed hash of a weak key could be
 * brute-forced offline).
 */
void		 pt_secret_fingerprint(const struct pt_config *,
		    const uint8_t *, size_t, char out[PT_FINGERPRINT_MAX]);
/*
 * The environments of "prev" that "next" removes, or whose endpoint it
 * changes (senders calling the old URL would get 404): their count, and
 * "source/env (POST /receive/<id>)" for each, comma-separated, in "out".
 * An apply makes the operator say so (--allow-delete).
 */
size_t		pt_config_removals(const struct pt_config *prev,
		    const struct pt_config *next, struct pt_buf *out);

/* {"redacted": its fingerprint} for secret "s", or NULL (no memory). */
pt_json		*pt_secret_redacted(const struct pt_config *, const uint8_t *s,
		    size_t n);

/*
 * What applying "next" over "prev" changes, one line each, into "out"
 * ("no changes" when nothing does).  Returns the number of changes.
 */
size_t		pt_config_diff(const struct pt_config *prev,
		    const struct pt_config *next, struct pt_buf *out);

#endif
