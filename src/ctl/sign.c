/*
 * sign.c - porterctl sign: the headers a source's sender would send with
 * a body (ctl_sign in ctl.c does the signing).
 */
#include "config.h"

#include <stdio.h>

#include "alloc.h"
#include "conf.h"
#include "ctl.h"
#include "store.h"

int
cmd_sign(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env_name = a->str[CTL_K_ENV];
	const struct pt_env *env;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_buf out = { 0 };
	char *body;
	size_t len;

	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	if (env->scheme == NULL)
		ctl_die("%s/%s has no signature scheme: nothing to sign", source,
		    env_name);
	body = ctl_read_file(a->pos[0], &len);
	ctl_sign(env, source, env_name, body, len, a->str[CTL_K_URL], &out);
	fwrite(out.data, 1, out.len, stdout);
	pt_buf_free(&out);
	pt_free(body);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
