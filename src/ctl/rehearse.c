/*
 * rehearse.c - porterctl rehearse: what the mappings would make of a
 * payload, with no side effects.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "body.h"
#include "conf.h"
#include "ctl.h"
#include "inspect.h"
#include "preprocess.h"
#include "script_pool.h"
#include "timeutil.h"
#include "json.h"
#include "store.h"

/*
 * Parse, identify and map a payload the way the responder would, with no
 * side effects: print each mapping's resolved payload or field error.
 */
/* What the preprocess script said, as the text output shows it. */
static void
print_preprocess(const pt_json *rep)
{
	const pt_json *err = pt_json_get(rep, "error"), *vf;

	if (rep == NULL)
		return;
	if (err != NULL) {
		printf("preprocess: %s: %s\n", pt_json_str(pt_json_get(err,
		    "code"), NULL), pt_json_str(pt_json_get(err, "message"),
		    NULL));
		return;
	}
	vf = pt_json_get(rep, "verified");
	printf("preprocess: verified %s%s\n", vf == NULL ? "not said" :
	    pt_json_bool(vf) ? "true" : "false",
	    pt_json_bool(pt_json_get(rep, "skip")) ? ", skip" : "");
	ctl_print_json(pt_json_get(rep, "output"), PT_JSON_PRETTY);
}

int
cmd_rehearse(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env_name = a->str[CTL_K_ENV];
	const char *body_path = a->str[CTL_K_BODY];
	const char *ctype = a->str[CTL_K_CONTENT_TYPE];
	const struct pt_env *env;
	struct pt_body_error berr;
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *body, *headers, *out, *maps, *pre = NULL, *report = NULL;
	struct pt_script_pool *pool = NULL;
	char why[256];
	char *text, *h, *name, *val;
	struct pt_roots roots = { NULL, NULL, NULL };
	size_t len, i, at = 0;
	int json = a->given[CTL_K_JSON] > 0, status;

	/* "Name: value" (ctl_check_header) as the responder has headers. */
	if ((headers = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	while ((h = ctl_each(a, CTL_K_HEADER, &at)) != NULL) {
		len = strcspn(h, ":");
		if ((name = pt_strndup(h, len)) == NULL)
			ctl_die("out of memory");
		for (i = 0; i < len; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (char)(name[i] + 32);
		for (val = h + len + 1; *val == ' ' || *val == '\t'; val++)
			;
		pt_json_set(headers, name, pt_json_new_cstr(val));
		pt_free(name);
	}
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	text = ctl_read_file(body_path, &len);
	/* JSON or a form: as given, as a Content-Type header says, or seen. */
	if (ctype == NULL)
		ctype = pt_json_str(pt_json_get(headers, "content-type"), NULL);
	if (pt_inspect_body(env, ctype, text, len, &body, &status, &berr) !=
	    PT_OK) {
		if (berr.code == NULL)
			ctl_die("out of memory");
		ctl_die("%s: the responder would answer %d %s: %s", body_path,
		    status, berr.code, berr.message);
	}
	/* The script runs as ingest would run it, in a pool of our own. */
	if (env->script != NULL && pt_script_pool_start(PT_SCRIPT_AUTO, 1, &pool, why,
	    sizeof(why)) != PT_OK)
		ctl_die("cannot start a script worker: %s", why);
	if (pt_preprocess_rehearse(pool, env, cfg->vars, body, text, len,
	    headers, pt_now_us() / 1000, &pre, &report) != PT_OK)
		ctl_die("out of memory");
	/* Shared with the admin API (inspect.c). */
	roots.body = body;
	roots.headers = headers;
	roots.preprocess = pre;
	if (pt_inspect_rehearse(env, &roots, &out) != PT_OK ||
	    pt_preprocess_report(out, report) != PT_OK)
		ctl_die("out of memory");
	maps = pt_json_get(out, "mappings");
	if (json) {
		ctl_json_doc(out);
	} else {
		printf("event type: %s\n", pt_json_str(pt_json_get(out,
		    "event_type"), NULL) ? pt_json_str(pt_json_get(out,
		    "event_type"), NULL) : "(none)");
		print_preprocess(pt_json_get(out, "preprocess"));
		/* The warnings ingest would log; the first names a missing type. */
		for (i = 0; i < pt_json_len(pt_json_get(out, "warnings")); i++)
			printf("%s\n", pt_json_str(pt_json_index(pt_json_get(out,
			    "warnings"), i), NULL));
		if (pt_json_get(out, "message") == NULL && pt_json_len(maps) == 0)
			printf("no mapping for this event type: it would be logged "
			    "as no_mapping\n");
		for (i = 0; i < pt_json_len(maps); i++) {
			pt_json *o = pt_json_index(maps, i);

			printf("\n%s (mapping %lld): %s\n", pt_json_str(pt_json_get(
			    o, "action"), NULL), (long long)pt_json_int(
			    pt_json_get(o, "mapping")), pt_json_str(pt_json_get(o,
			    "status"), NULL));
			if (pt_json_get(o, "payload"))
				ctl_print_json(pt_json_get(o, "payload"),
				    PT_JSON_PRETTY);
			else
				printf("  %s: %s\n", pt_json_str(pt_json_get(
				    pt_json_get(o, "error"), "field"), NULL),
				    pt_json_str(pt_json_get(pt_json_get(o,
				    "error"), "message"), NULL));
		}
	}
	pt_json_put(out);
	pt_json_put(pre);
	pt_json_put(body);
	pt_json_put(headers);
	pt_script_pool_stop(pool);
	pt_free(text);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
