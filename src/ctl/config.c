/*
 * config.c - porterctl apply, export and sources: the configuration, put
 * in, taken out, and the endpoints and source types it gives.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "ctl.h"
#include "json.h"
#include "scheme.h"
#include "store.h"

int
cmd_apply(const struct ctl_args *a)
{
	const char *file = a->pos[0];
	struct pt_config *old, *next = NULL;
	struct pt_json_error jerr;
	struct pt_store *s;
	struct pt_txn *txn;
	struct pt_buf diff = { 0 }, gone = { 0 };
	pt_json *doc;
	char *text, err[1024];
	size_t len, changes;
	enum pt_err rc;
	int dry = a->given[CTL_K_DRY_RUN] > 0;

	text = ctl_read_file(file, &len);
	if (pt_json_parse(text, len, PT_JSON_MAX_DEPTH, &doc, &jerr) != PT_OK)
		ctl_die("%s: not valid JSON: %s", file, jerr.message);
	pt_free(text);

	s = ctl_open_store(0);
	/*
	 * Validate against the current config (for kept endpoint ids and
	 * redacted secrets) inside the write transaction, so two applies
	 * cannot interleave.
	 */
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_config_load(txn, &old, err, sizeof(err));
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		ctl_die("stored configuration: %s", err);
	if ((rc = pt_config_parse(doc, old, PT_CFG_OPERATOR, &next, err,
	    sizeof(err))) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("%s: %s", file, err);
	}
	/* Each script compiles and defines main, in a worker of our own. */
	if ((rc = pt_config_check_scripts(next, NULL, err, sizeof(err))) !=
	    PT_OK) {
		pt_txn_abort(txn);
		ctl_die("%s: %s", file, err);
	}
	changes = pt_config_diff(old, next, &diff);
	fwrite(diff.data, 1, diff.len, stdout);
	if (pt_config_removals(old, next, &gone) > 0 &&
	    a->given[CTL_K_ALLOW_DELETE] == 0) {
		pt_txn_abort(txn);
		if (dry) {
			printf("dry run: nothing applied; applying it needs "
			    "--allow-delete: it removes %s\n", gone.data);
			goto done;
		}
		ctl_die("%s: this removes %s, whose senders would get 404; run "
		    "with --allow-delete if that is meant (nothing applied)",
		    file, gone.data);
	}
	if (dry || changes == 0) {
		pt_txn_abort(txn);
		if (dry)
			printf("dry run: nothing applied\n");
	} else {
		if ((rc = pt_config_save(txn, next)) != PT_OK) {
			pt_txn_abort(txn);
			ctl_die("saving: %s (%s)", pt_strerror(rc), pt_store_errstr());
		}
		if ((rc = pt_txn_commit(txn)) != PT_OK)
			ctl_die("commit: %s (%s)", pt_strerror(rc), pt_store_errstr());
		printf("applied (generation %llu)\n",
		    (unsigned long long)next->gen);
	}
done:
	pt_buf_free(&diff);
	pt_buf_free(&gone);
	pt_config_free(old);
	pt_config_free(next);
	pt_json_put(doc);
	pt_store_close(s);
	return 0;
}

int
cmd_export(const struct ctl_args *a)
{
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *doc;
	int with = a->given[CTL_K_WITH_SECRETS] > 0;

	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if (!cfg->fp_key_stored && cfg->nenvs > 0 && !with) {
		/*
		 * A store from before keyed fingerprints: make its key
		 * first, or this export's fingerprints would match nothing
		 * when applied back.
		 */
		pt_config_free(cfg);
		pt_store_close(s);
		s = ctl_open_store(0);
		if (pt_config_fp_key_init(s) != PT_OK)
			ctl_die("cannot make the store's fingerprint key: %s",
			    pt_store_errstr());
		cfg = ctl_load_config(s);
	}
	if ((doc = pt_config_export(cfg, with)) == NULL)
		ctl_die("out of memory");
	ctl_json_doc(doc);
	pt_json_put(doc);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

/* A source type as `porterctl sources --types` prints it. */
static void
print_source_type(const struct pt_source_type *t)
{
	pt_json *names = ctl_sample_names(t->name);
	size_t i;

	printf("%-12s %-15s signature=%s type=%s%s%s idempotency=%s\n    %s\n",
	    t->name, t->category, t->scheme ? t->scheme : "none",
	    t->event_type_template ? t->event_type_template :
	    t->event_type_rule ? t->event_type_rule : t->event_type_path,
	    t->batch_path ? " batch=" : "", t->batch_path ? t->batch_path : "",
	    t->idempotency_key_path ? t->idempotency_key_path : "none",
	    t->notes);
	for (i = 0; i < pt_json_len(names); i++)
		printf("%s%s:%s", i ? " " : "    samples: ", t->name,
		    pt_json_str(pt_json_index(names, i), NULL));
	if (i > 0)
		printf("\n");
	pt_json_put(names);
}

/* ... and with --json: the type and every default it gives. */
static pt_json *
source_type_json(const struct pt_source_type *t)
{
	const struct pt_scheme *sch = t->scheme ? pt_scheme_preset(t->scheme) :
	    NULL;
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	pt_json_set(o, "type", pt_json_new_cstr(t->name));
	pt_json_set(o, "title", pt_json_new_cstr(t->title));
	pt_json_set(o, "category", pt_json_new_cstr(t->category));
	if (sch != NULL)
		pt_json_set(o, "signature", pt_scheme_to_json(sch));
	else
		pt_json_set_null(o, "signature");
	pt_json_set(o, "event_type_path", pt_json_new_cstr(t->event_type_path));
	if (t->event_type_template != NULL)
		pt_json_set(o, "event_type_template", pt_json_parse_trusted(
		    t->event_type_template, strlen(t->event_type_template)));
	else
		pt_json_set_null(o, "event_type_template");
	pt_json_set(o, "body_formats", pt_json_parse_trusted(
	    pt_catalog_body_formats(t), strlen(pt_catalog_body_formats(t))));
	pt_json_set(o, "form_json_fields", pt_json_parse_trusted(
	    pt_catalog_form_json_fields(t),
	    strlen(pt_catalog_form_json_fields(t))));
	pt_json_set_cstr(o, "event_type_rule", t->event_type_rule);
	pt_json_set_cstr(o, "batch_path", t->batch_path);
	pt_json_set_cstr(o, "timestamp_path", t->timestamp_path);
	pt_json_set_cstr(o, "idempotency_key_path", t->idempotency_key_path);
	/* What "porterctl send --sample TYPE:NAME" can send. */
	pt_json_set(o, "samples", ctl_sample_names(t->name));
	pt_json_set(o, "event_types", pt_json_parse_trusted(t->event_types,
	    strlen(t->event_types)));
	pt_json_set(o, "default_mappings", pt_json_parse_trusted(
	    t->default_mappings, strlen(t->default_mappings)));
	return o;
}

/* `porterctl sources --types`: the catalogue, no store needed. */
static int
list_source_types(int json)
{
	const struct pt_source_type *types;
	pt_json *arr;
	size_t i, n;

	types = pt_catalog_all(&n);
	if ((arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	for (i = 0; i < n; i++)
		if (!json)
			print_source_type(&types[i]);
		else if (pt_json_append(arr, source_type_json(&types[i])) !=
		    PT_OK)
			ctl_die("out of memory");
	if (json)
		ctl_json_doc(arr);
	pt_json_put(arr);
	return 0;
}

int
cmd_sources(const struct ctl_args *a)
{
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *arr, *o;
	size_t i;
	int json = a->given[CTL_K_JSON] > 0;

	if (a->given[CTL_K_TYPES])
		return list_source_types(json);
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *e = cfg->envs[i];
		char path[200];

		snprintf(path, sizeof(path), "/receive/%s", e->endpoint_id);
		if (!json) {
			printf("%s/%s\t%s\tPOST %s\tverify=%s\n", e->source_key,
			    e->name, e->source_type, path, e->verify ? "on" :
			    "off");
			continue;
		}
		if ((o = pt_json_new_object()) == NULL)
			ctl_die("out of memory");
		pt_json_append(arr, o);
		pt_json_set(o, "source", pt_json_new_cstr(e->source_key));
		pt_json_set(o, "environment", pt_json_new_cstr(e->name));
		pt_json_set(o, "type", pt_json_new_cstr(e->source_type));
		pt_json_set(o, "endpoint_id", pt_json_new_cstr(e->endpoint_id));
		pt_json_set(o, "path", pt_json_new_cstr(path));
		pt_json_set(o, "verify", pt_json_new_bool(e->verify));
	}
	if (json)
		ctl_json_doc(arr);
	else if (cfg->nenvs == 0)
		printf("no sources configured\n");
	pt_json_put(arr);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
