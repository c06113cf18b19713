/*
 * rehearse.c - porterctl rehearse: what the mappings would make of a
 * payload, with no side effects.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "body.h"
#include "conf.h"
#include "ctl.h"
#include "inspect.h"
#include "json.h"
#include "store.h"

/*
 * Parse, identify and map a payload the way the responder would, with no
 * side effects: print each mapping's resolved payload or field error.
 */
int
cmd_rehearse(int argc, char *argv[])
{
	const char *source = NULL, *env_name = NULL, *body_path = NULL;
	const char *ctype = NULL;
	const struct pt_env *env;
	struct pt_body_error berr;
	struct pt_config *cfg;
	struct pt_store *s;
	pt_json *body, *headers, *out, *maps;
	char *text;
	size_t len, i;
	int ch, json = 0, status;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "body", required_argument, NULL, 'b' },
		{ "header", required_argument, NULL, 'H' },
		{ "content-type", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	if ((headers = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	while ((ch = getopt_long(argc, argv, "s:e:b:H:c:j", opts, NULL)) != -1)
		switch (ch) {
		case 's': source = optarg; break;
		case 'e': env_name = optarg; break;
		case 'b': body_path = optarg; break;
		case 'c': ctype = optarg; break;
		case 'j': json = 1; break;
		case 'H': {
			char *colon = strchr(optarg, ':'), *p, *val;

			if (colon == NULL || colon == optarg)
				ctl_die("--header %s: want 'Name: value'", optarg);
			*colon = '\0';
			for (p = optarg; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
				;
			pt_json_set(headers, optarg, pt_json_new_cstr(val));
			break;
		}
		default: return 2;
		}
	if (source == NULL || env_name == NULL || body_path == NULL ||
	    optind != argc)
		ctl_die("usage: porterctl rehearse --source S --env E --body FILE "
		    "[--content-type CT] [--header 'Name: value']... [--json]");
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
	/* Shared with the admin API (inspect.c). */
	if (pt_inspect_rehearse(env, body, headers, &out) != PT_OK)
		ctl_die("out of memory");
	maps = pt_json_get(out, "mappings");
	if (json) {
		ctl_print_json(out, PT_JSON_PLAIN);
	} else {
		printf("event type: %s\n", pt_json_str(pt_json_get(out,
		    "event_type"), NULL) ? pt_json_str(pt_json_get(out,
		    "event_type"), NULL) : "(none)");
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
	pt_json_put(body);
	pt_json_put(headers);
	pt_free(text);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
