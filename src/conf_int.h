/*
 * conf_int.h - what the conf_*.c files share and nobody else sees: where
 * a parse is in the document and how it fails, the tables of fields that
 * every object of the document is read with, and the parsers one file
 * calls in another.
 */
#ifndef PT_CONF_INT_H
#define PT_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "buf.h"
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

/*
 * Fields.  Every object of the document (the top level, settings, a
 * workflow, a source, an environment, its idempotency, a signing key) is
 * read with one table of its members, in the order porter.conf(5) lists
 * them: the table is what "unknown field (want ...)" names, what the
 * normalised document holds (conf_fields writes each member under the
 * table's name, in the table's order) and what the diff compares.
 */
struct conf_in;
struct conf_field;

/*
 * Check the member's value "val" ("present" 0: not given, "val" NULL)
 * at "ptr" and compile it into in->arg.  Returns 0 with *norm set to the
 * member's normalised value (NULL: JSON null), CONF_OMIT to leave the
 * member out, or -1 (conf_fail) on error.
 */
typedef int	conf_parse_fn(struct conf_in *in, const struct conf_field *f,
		    const char *ptr, const pt_json *val, int present,
		    pt_json **norm);
#define CONF_OMIT	1

struct conf_table {
	const struct conf_field	*fields;
	size_t			 n;
};

struct conf_field {
	const char		*name;
	conf_parse_fn		*parse;
	unsigned		 flags;		/* CF_* */
	int64_t			 min, max, dflt; /* integers (conf_int) */
	/* For the diff: the table of an object's own fields, or NULL. */
	const struct conf_table	*members;
};
#define CF_LATE		0x01	/* parsed after the others: reads them */
#define CF_STORED	0x02	/* only in our stored form (PT_CFG_STORED) */
#define CF_BYTES	0x04	/* an integer that counts bytes */
#define CF_OWN_DIFF	0x08	/* the diff reports its parts itself */

#define CONF_MAX_FIELDS	24

/* One object being read: its members by field, and what they fill. */
struct conf_in {
	struct vctx		*v;
	const struct conf_table	*table;
	const pt_json		*vals[CONF_MAX_FIELDS];
	unsigned		 given;		/* bit i: table field i given */
	void			*arg;
};

/*
 * Read object "obj" at "ptr" (NULL: no member given) with table "t" into
 * "arg": a member the table does not name is an error; then each field's
 * parser runs, in table order, the CF_LATE ones last; then "norm" (may be
 * NULL) gets their normalised values in table order.  Returns 0 or -1.
 */
int	conf_fields(struct vctx *v, const char *ptr, const pt_json *obj,
	    const struct conf_table *t, void *arg, pt_json *norm);
/*
 * The value of sibling field "name" of the object being read (NULL when
 * not given or null), *present saying which (may be NULL).
 * NOTE: "name" must be in the table: anything else is a bug (abort).
 */
const pt_json *conf_sibling(const struct conf_in *, const char *name,
	    int *present);
/* {"a": ..., "b": ...} of the fields an operator may write, into "buf". */
const char *conf_shape(const struct vctx *, const struct conf_table *,
	    char *buf, size_t len);

/*
 * Typed members.  conf_int: "given" (the caller says whether a null
 * counts), an integer from f->min to f->max, else f->dflt.  conf_bool:
 * true or false, else "dflt".  conf_norm: *norm = "made", or an out of
 * memory error when the constructor gave NULL; conf_norm_copy: a copy
 * of "val", null staying null.
 */
int	conf_int(struct vctx *, const struct conf_field *f, const char *ptr,
	    const pt_json *val, int given, int64_t *out);
int	conf_bool(struct vctx *, const char *ptr, const pt_json *val,
	    int given, int dflt, int *out);
int	conf_norm(struct vctx *, const char *ptr, pt_json *made,
	    pt_json **norm);
int	conf_norm_copy(struct vctx *, const char *ptr, const pt_json *val,
	    pt_json **norm);

/* The tables the diff walks (conf_parse.c, conf_env.c). */
extern const struct conf_table conf_doc_table;		/* the top level */
extern const struct conf_table conf_source_table;
extern const struct conf_table conf_env_table;

/* Free an environment (NULL ok). */
void	conf_env_free(struct pt_env *);
/* One environment "name" of source "src_key" at "ptr" (conf_env.c). */
int	conf_parse_env(struct vctx *v, const char *ptr,
	    const struct pt_source_type *type, const char *src_key,
	    const char *src_name, const char *name, const pt_json *env,
	    struct pt_env **out);
/*
 * Signing keys at "ptr" (conf_key.c): "val" an array of them, or NULL;
 * "old_env" the environment's normalised form before (may be NULL).
 * Fills e->keys, e->secrets and e->nkeys; *norm their normalised form.
 */
int	conf_parse_keys(struct vctx *v, const char *ptr, const pt_json *val,
	    const pt_json *old_env, struct pt_env *e, pt_json **norm);
/*
 * A secret an operator gives (conf_key.c): a string, {"file": PATH},
 * {"env": NAME} or {"redacted": FINGERPRINT}.  "find" looks a fingerprint
 * up among the stored secrets of its kind ("arg" says where), returning
 * the stored {"secret": spec, "value": resolved} that has it, or NULL;
 * "what" names them for the error.  conf_resolve_secret fills "val" and
 * sets *spec to what the normalised form keeps; conf_secret_wipe clears
 * and frees "val".
 */
struct conf_secret {
	const pt_json	*(*find)(const struct pt_config *old, const void *arg,
			    const char *fp);
	const void	*arg;
	const char	*what;
	struct pt_buf	 val;
};
int	conf_resolve_secret(struct vctx *, const char *ptr,
	    struct conf_secret *, const pt_json **spec);
void	conf_secret_wipe(struct conf_secret *);
/*
 * Read the file at absolute "path" (at most "max" bytes; "what" names it
 * in errors) into "out".  0, or -1 (conf_fail).
 */
int	conf_read_file(struct vctx *, const char *ptr, const char *what,
	    const char *path, size_t max, struct pt_buf *out);
/* Does fingerprint "fp" (an export's) name secret "s" of "n" bytes? */
int	conf_fingerprint_is(const struct pt_config *, const char *fp,
	    const uint8_t *s, size_t n);
/*
 * Top-level variables (conf_vars.c): "val" an object NAME -> secret, or
 * NULL; fills c->vars; *norm the normalised form, NAME -> {"secret":
 * spec, "value": resolved}.  conf_export_vars turns it back into NAME ->
 * spec in an export, inline values as {"redacted": ...} unless
 * "with_secrets".
 */
int	conf_parse_vars(struct vctx *v, const char *ptr, const pt_json *val,
	    struct pt_config *c, pt_json **norm);
enum pt_err conf_export_vars(const struct pt_config *c, pt_json *doc,
	    int with_secrets);

/* Event type templates at "ptr" (conf_template.c). */
int	conf_parse_templates(struct vctx *v, const char *ptr,
	    const pt_json *val, struct pt_template **out);
void	conf_template_free(struct pt_template *);

#endif
