/*
 * conf_int.h - what the conf_*.c files share and nobody else sees: where
 * a parse is in the document and how it fails, and the parsers one file
 * calls in another.
 */
#ifndef PT_CONF_INT_H
#define PT_CONF_INT_H

#include <stddef.h>

#include "conf.h"
#include "json.h"

struct pt_source_type;

/* Where we are in the document, as a JSON pointer, and where errors go. */
struct vctx {
	const struct pt_config	*old;
	int			 mode;
	char			*err;
	size_t			 errlen;
	int			 oom;	/* a failure was "out of memory" */
};

/* "<ptr>: <message>" into v->err; returns -1. */
int	conf_fail(struct vctx *v, const char *ptr, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* "base" + "/" + escaped "key" (RFC 6901) into "out". */
void	conf_ptr_join(char *out, size_t cap, const char *base, const char *key);
/* "base" + "/" + "i" into "out". */
void	conf_ptr_index(char *out, size_t cap, const char *base, size_t i);

/* Free an environment (NULL ok). */
void	conf_env_free(struct pt_env *);
/* One environment "name" of source "src_key" at "ptr" (conf_env.c). */
int	conf_parse_env(struct vctx *v, const char *ptr, const pt_json *src_obj,
	    const struct pt_source_type *type, const char *src_key,
	    const char *src_name, const char *name, const pt_json *env,
	    struct pt_env **out);
/* One signing key at "ptr" (conf_key.c). */
int	conf_parse_key(struct vctx *v, const char *ptr, const pt_json *k,
	    const pt_json *old_env, pt_json *nkeys, struct pt_key *out);
/* Event type templates at "ptr" (conf_template.c). */
int	conf_parse_templates(struct vctx *v, const char *ptr,
	    const pt_json *val, struct pt_template **out);
void	conf_template_free(struct pt_template *);

#endif
