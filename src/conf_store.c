/*
 * conf_store.c - the configuration in the store: the document, its
 * generation number, the endpoint index and the fingerprint key.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "ids.h"

static const char config_key[] = "doc";
static const char gen_key[] = "config_gen";
static const char fp_key_key[] = "fingerprint_key";

/*
 * Read the store's fingerprint key into "c", if it has one.  The value
 * dies with the transaction: copied.
 */
static enum pt_err
fp_key_read(struct pt_txn *txn, struct pt_config *c)
{
	struct pt_val v;
	enum pt_err rc;

	rc = pt_get(txn, PT_T_META, fp_key_key, sizeof(fp_key_key) - 1, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (v.len != PT_FP_KEY_LEN)
		return PT_ECORRUPT;
	memcpy(c->fp_key, v.data, PT_FP_KEY_LEN);
	c->fp_key_stored = 1;
	return PT_OK;
}

/* The stored key into "c", or c's key into a store that has none. */
static enum pt_err
fp_key_keep(struct pt_txn *txn, struct pt_config *c)
{
	enum pt_err rc;

	c->fp_key_stored = 0;
	if ((rc = fp_key_read(txn, c)) != PT_OK || c->fp_key_stored)
		return rc;
	if ((rc = pt_put(txn, PT_T_META, fp_key_key, sizeof(fp_key_key) - 1,
	    c->fp_key, sizeof(c->fp_key), PT_PUT_NOOVERWRITE)) != PT_OK)
		return rc;
	c->fp_key_stored = 1;
	return PT_OK;
}

enum pt_err
pt_config_fp_key_init(struct pt_store *store)
{
	struct pt_config c;
	struct pt_txn *txn = NULL;
	enum pt_err rc;

	memset(&c, 0, sizeof(c));
	if ((rc = pt_txn_begin(store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	rc = fp_key_read(txn, &c);
	pt_txn_abort(txn);
	if (rc != PT_OK || c.fp_key_stored)
		goto out;
	/* Another process may make it meanwhile: fp_key_keep reads again. */
	if ((rc = pt_random(c.fp_key, sizeof(c.fp_key))) != PT_OK ||
	    (rc = pt_txn_begin(store, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		goto out;
	if ((rc = fp_key_keep(txn, &c)) != PT_OK) {
		pt_txn_abort(txn);
		goto out;
	}
	rc = pt_txn_commit(txn);
out:
	pt_wipe(c.fp_key, sizeof(c.fp_key));
	return rc;
}

enum pt_err
pt_config_stored_gen(struct pt_txn *txn, uint64_t *gen)
{
	struct pt_val v;
	enum pt_err rc;

	*gen = 0;
	rc = pt_get(txn, PT_T_META, gen_key, sizeof(gen_key) - 1, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (v.len != 8)
		return PT_ECORRUPT;
	*gen = pt_be64_get(v.data);
	return PT_OK;
}

enum pt_err
pt_config_load(struct pt_txn *txn, struct pt_config **out, char *err,
    size_t errlen)
{
	struct pt_val v;
	pt_json *doc = NULL;
	enum pt_err rc;
	uint64_t gen;

	*out = NULL;
	err[0] = '\0';
	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK) {
		snprintf(err, errlen, "reading config generation: %s",
		    pt_strerror(rc));
		return rc;
	}
	rc = pt_get(txn, PT_T_CONFIG, config_key, sizeof(config_key) - 1, &v);
	if (rc == PT_ENOTFOUND) {
		/* Never applied: an empty configuration. */
		if ((doc = pt_json_new_object()) == NULL)
			return PT_ENOMEM;
		rc = pt_config_parse(doc, NULL, PT_CFG_STORED, out, err,
		    errlen);
		pt_json_put(doc);
		if (rc == PT_OK) {
			(*out)->gen = gen;
			rc = fp_key_read(txn, *out);
		}
		return rc == PT_OK ? PT_ENOTFOUND : rc;
	}
	if (rc != PT_OK) {
		snprintf(err, errlen, "reading config: %s", pt_strerror(rc));
		return rc;
	}
	/* The value dies with the transaction: json-c copies what it keeps. */
	if ((doc = pt_json_parse_trusted(v.data, v.len)) == NULL) {
		snprintf(err, errlen, "stored config does not parse");
		return PT_ECORRUPT;
	}
	rc = pt_config_parse(doc, NULL, PT_CFG_STORED, out, err, errlen);
	pt_json_put(doc);
	if (rc == PT_OK) {
		(*out)->gen = gen;
		if ((rc = fp_key_read(txn, *out)) != PT_OK)
			snprintf(err, errlen, "reading the fingerprint key: %s",
			    pt_strerror(rc));
	} else if (rc == PT_EINVAL)
		rc = PT_ECORRUPT;
	return rc;
}

enum pt_err
pt_config_save(struct pt_txn *txn, struct pt_config *c)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k;
	struct pt_buf val = { 0 };
	enum pt_err rc;
	const char *text;
	uint8_t g[8];
	uint64_t gen;
	size_t i, n;

	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK ||
	    (rc = fp_key_keep(txn, c)) != PT_OK)
		return rc;
	if ((text = pt_json_text(c->doc, PT_JSON_PLAIN, &n)) == NULL)
		return PT_ENOMEM;
	if ((rc = pt_put(txn, PT_T_CONFIG, config_key, sizeof(config_key) - 1,
	    text, n, 0)) != PT_OK)
		return rc;
	/* Rebuild the endpoint index: endpoint id -> "source\0env". */
	if ((rc = pt_cursor_open(txn, PT_T_ENDPOINTS, &cur)) != PT_OK)
		return rc;
	while ((rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL)) ==
	    PT_OK)
		if ((rc = pt_cursor_del(cur)) != PT_OK)
			break;
	pt_cursor_close(cur);
	if (rc != PT_ENOTFOUND)
		return rc;
	for (i = 0; i < c->nenvs; i++) {
		pt_buf_reset(&val);
		pt_buf_adds(&val, c->envs[i]->source_key);
		pt_buf_addc(&val, '\0');
		pt_buf_adds(&val, c->envs[i]->name);
		if (val.failed) {
			pt_buf_free(&val);
			return PT_ENOMEM;
		}
		if ((rc = pt_put(txn, PT_T_ENDPOINTS, c->envs[i]->endpoint_id,
		    strlen(c->envs[i]->endpoint_id), val.data, val.len, 0)) !=
		    PT_OK) {
			pt_buf_free(&val);
			return rc;
		}
	}
	pt_buf_free(&val);
	pt_be64_put(g, gen + 1);
	if ((rc = pt_put(txn, PT_T_META, gen_key, sizeof(gen_key) - 1, g, 8,
	    0)) != PT_OK)
		return rc;
	c->gen = gen + 1;
	return PT_OK;
}
