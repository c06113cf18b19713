/*
 * sign.c - porterctl sign: the headers a source's sender would send with
 * a body (ctl_sign in ctl.c does the signing).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "alloc.h"
#include "conf.h"
#include "ctl.h"
#include "store.h"

int
cmd_sign(int argc, char *argv[])
{
	const char *source = NULL, *env_name = NULL, *url = NULL;
	const struct pt_env *env;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_buf out = { 0 };
	char *body;
	size_t len;
	int ch;

	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "url", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	while ((ch = getopt_long(argc, argv, "s:e:u:", opts, NULL)) != -1)
		switch (ch) {
		case 's': source = optarg; break;
		case 'e': env_name = optarg; break;
		case 'u': url = optarg; break;
		default: return 2;
		}
	if (source == NULL || env_name == NULL || optind != argc - 1)
		ctl_die("usage: porterctl sign --source S --env E [--url URL] FILE");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	if (env->scheme == NULL)
		ctl_die("%s/%s has no signature scheme: nothing to sign", source,
		    env_name);
	body = ctl_read_file(argv[optind], &len);
	ctl_sign(env, source, env_name, body, len, url, &out);
	fwrite(out.data, 1, out.len, stdout);
	pt_buf_free(&out);
	pt_free(body);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
