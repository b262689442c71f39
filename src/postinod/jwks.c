#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "buf.h"
#include "jwks.h"
#include "jwt.h"
#include "log.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

struct negative {
	char kid[256];
	time_t until;
};

struct jwks {
	pthread_mutex_t lock;
	pthread_cond_t fetched; /* a fetch ended */
	uint64_t loads;		/* successful loads, for jwks_counts() */
	uint64_t failures;
	bool fetching; /* a thread fetches, without the lock */
	char *url;
	char *file;
	int64_t refresh;
	int64_t stale_max;
	struct jwk *keys;
	size_t nkeys;
	bool loaded;
	bool invalid;
	time_t loaded_at;
	time_t next_try;
	time_t last_forced;
	struct negative *neg;
	size_t nneg;
	size_t negpos;
	char last_error[256];
};

/* --- building keys ----------------------------------------------------- */

static unsigned char *
member_bytes(json_t *o, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL)
		return NULL;
	return jwt_b64url_decode(s, strlen(s), len);
}

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *key = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static EVP_PKEY *
rsa_key(json_t *o)
{
	unsigned char *n, *e;
	size_t nl = 0, el = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *key = NULL;

	n = member_bytes(o, "n", &nl);
	e = member_bytes(o, "e", &el);
	if (n == NULL || e == NULL || nl == 0 || el == 0 || el > 8)
		goto out;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1)
		goto out;
	key = from_params("RSA", bld);
	if (key != NULL && EVP_PKEY_get_bits(key) < 2048) {
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return key;
}

static EVP_PKEY *
ec_key(json_t *o)
{
	const char *crv = json_string_value(json_object_get(o, "crv"));
	unsigned char *x, *y, point[65];
	size_t xl = 0, yl = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *key = NULL;

	if (crv == NULL || strcmp(crv, "P-256") != 0)
		return NULL;
	x = member_bytes(o, "x", &xl);
	y = member_bytes(o, "y", &yl);
	if (x == NULL || y == NULL || xl != 32 || yl != 32)
		goto out;
	point[0] = 0x04;
	memcpy(point + 1, x, 32);
	memcpy(point + 33, y, 32);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(
		bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(
		bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1)
		goto out;
	key = from_params("EC", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return key;
}

static EVP_PKEY *
okp_key(json_t *o)
{
	const char *crv = json_string_value(json_object_get(o, "crv"));
	unsigned char *x;
	size_t xl = 0;
	EVP_PKEY *key = NULL;
	int type;

	if (crv == NULL)
		return NULL;
	if (strcmp(crv, "Ed25519") == 0)
		type = EVP_PKEY_ED25519;
	else if (strcmp(crv, "Ed448") == 0)
		type = EVP_PKEY_ED448;
	else
		return NULL;
	if ((x = member_bytes(o, "x", &xl)) == NULL)
		return NULL;
	if ((type == EVP_PKEY_ED25519 && xl == 32) ||
	    (type == EVP_PKEY_ED448 && xl == 57))
		key = EVP_PKEY_new_raw_public_key(type, NULL, x, xl);
	free(x);
	return key;
}

/* Whether the key's use / key_ops allow signature verification. */
static bool
for_verifying(json_t *o)
{
	json_t *use = json_object_get(o, "use"), *ops, *v;
	size_t i;

	if (use != NULL &&
	    (!json_is_string(use) ||
		strcmp(json_string_value(use), "sig") != 0))
		return false;
	if ((ops = json_object_get(o, "key_ops")) == NULL)
		return true;
	if (!json_is_array(ops))
		return false;
	json_array_foreach(ops, i, v) if (json_is_string(v) &&
	    strcmp(json_string_value(v), "verify") == 0) return true;
	return false;
}

static EVP_PKEY *
checked(EVP_PKEY *key)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if (key == NULL)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int
jwks_parse(const char *doc, size_t len, struct jwk **keys_r, size_t *n_r,
    struct err *err)
{
	json_t *root, *arr, *o;
	struct jwk *keys = NULL;
	size_t n = 0, i;

	*keys_r = NULL;
	*n_r = 0;
	root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || !json_is_object(root) ||
	    !json_is_array(arr = json_object_get(root, "keys"))) {
		json_decref(root);
		return err_set(err, ERR_INVALID, "not a JSON Web Key Set");
	}
	json_array_foreach(arr, i, o)
	{
		const char *kid, *kty, *alg;
		EVP_PKEY *key = NULL;

		if (n == JWKS_KEYS_MAX)
			break;
		if (!json_is_object(o))
			continue;
		kid = json_string_value(json_object_get(o, "kid"));
		kty = json_string_value(json_object_get(o, "kty"));
		alg = json_string_value(json_object_get(o, "alg"));
		if (kid == NULL || kid[0] == '\0' || strlen(kid) >= 256 ||
		    kty == NULL || !for_verifying(o) ||
		    (json_object_get(o, "alg") != NULL &&
			(alg == NULL || !jwt_alg_allowed(alg))))
			continue;
		if (strcmp(kty, "RSA") == 0)
			key = rsa_key(o);
		else if (strcmp(kty, "EC") == 0)
			key = ec_key(o);
		else if (strcmp(kty, "OKP") == 0)
			key = okp_key(o);
		if ((key = checked(key)) == NULL)
			continue;
		keys = xreallocarray(keys, n + 1, sizeof(*keys));
		memset(&keys[n], 0, sizeof(keys[n]));
		str_copy(keys[n].kid, kid, sizeof(keys[n].kid));
		str_copy(
		    keys[n].alg, alg != NULL ? alg : "", sizeof(keys[n].alg));
		keys[n].key = key;
		n++;
	}
	json_decref(root);
	*keys_r = keys;
	*n_r = n;
	return 0;
}

void
jwks_keys_free(struct jwk *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i].key);
	free(keys);
}

int
jwk_usable(const struct jwk *k, const char *alg)
{
	if (k->alg[0] != '\0' && strcmp(k->alg, alg) != 0)
		return 0;
	if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0)
		return EVP_PKEY_is_a(k->key, "RSA");
	if (strcmp(alg, "ES256") == 0)
		return EVP_PKEY_is_a(k->key, "EC");
	if (strcmp(alg, "EdDSA") == 0)
		return EVP_PKEY_is_a(k->key, "ED25519") ||
		    EVP_PKEY_is_a(k->key, "ED448");
	return 0;
}

/* --- fetching ---------------------------------------------------------- */

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	if (n != 0 && size > SIZE_MAX / n)
		return 0;
	if (buf_append(arg, p, size * n) == -1)
		return 0;
	return size * n;
}

static int
fetch_url(const char *url, struct buf *out, struct err *err)
{
	CURL *c = curl_easy_init();
	char ebuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	if (c == NULL)
		return err_set(err, ERR_TEMP, "cannot start libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)JWKS_FETCH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(
	    c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_DOC_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "postinod/" POSTINO_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return err_set(err, ERR_TEMP, "cannot fetch %s: %s", url,
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	if (code != 200)
		return err_set(err, ERR_TEMP,
		    "cannot fetch %s: HTTP status %ld", url, code);
	return 0;
}

static int
read_doc(const char *path, struct buf *out, struct err *err)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return err_set(err, ERR_TEMP, "cannot open '%s': %s", path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) == -1) {
			rc = err_set(err, ERR_TEMP,
			    "'%s' is larger than %d bytes", path, JWKS_DOC_MAX);
			break;
		}
	if (rc == 0 && ferror(f))
		rc = err_set(err, ERR_TEMP, "cannot read '%s'", path);
	fclose(f);
	return rc;
}

/* --- the cache --------------------------------------------------------- */

struct jwks *
jwks_new(const struct jwks_opts *o)
{
	struct jwks *j = xcalloc(1, sizeof(*j));

	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->fetched, NULL);
	if (o->file != NULL && o->file[0] != '\0')
		j->file = xstrdup(o->file);
	else
		j->url = xstrdup(o->url != NULL ? o->url : "");
	j->refresh = o->refresh > 0 ? o->refresh : 3600;
	j->stale_max = o->stale_max > 0 ? o->stale_max : JWKS_STALE_MAX;
	j->neg = xcalloc(JWKS_NEGATIVE_MAX, sizeof(*j->neg));
	return j;
}

void
jwks_free(struct jwks **jp)
{
	struct jwks *j = *jp;

	if (j == NULL)
		return;
	jwks_keys_free(j->keys, j->nkeys);
	free(j->neg);
	free(j->url);
	free(j->file);
	pthread_cond_destroy(&j->fetched);
	pthread_mutex_destroy(&j->lock);
	free(j);
	*jp = NULL;
}

void
jwks_invalidate(struct jwks *j)
{
	pthread_mutex_lock(&j->lock);
	j->invalid = true;
	j->next_try = 0;
	pthread_mutex_unlock(&j->lock);
}

/*
 * Load the set now.  Called with the lock held and no fetch running; the
 * lock is let go while the document is fetched and parsed (up to
 * JWKS_FETCH_TIMEOUT_MS), so that tokens whose keys are loaded go on being
 * checked meanwhile.  Returns 0 or -1; failures are logged.
 */
static int
reload(struct jwks *j, time_t now)
{
	struct buf doc;
	struct jwk *keys = NULL;
	size_t n = 0;
	struct err e = ERR_INIT;
	int rc;

	j->invalid = false;
	j->fetching = true;
	pthread_mutex_unlock(&j->lock);
	buf_init(&doc, JWKS_DOC_MAX);
	rc = j->file != NULL ? read_doc(j->file, &doc, &e)
			     : fetch_url(j->url, &doc, &e);
	if (rc == 0 &&
	    jwks_parse(buf_cstr(&doc), doc.len, &keys, &n, &e) == -1) {
		err_prefix(&e, "%s", j->file != NULL ? j->file : j->url);
		rc = -1;
	}
	buf_release(&doc);
	pthread_mutex_lock(&j->lock);
	j->fetching = false;
	pthread_cond_broadcast(&j->fetched);
	if (rc == -1) {
		j->failures++;
		str_copy(j->last_error, e.msg, sizeof(j->last_error));
		j->next_try = now + JWKS_RETRY;
		log_warnx("jwks: %s%s", e.msg,
		    j->loaded ? "; keeping the keys loaded before" : "");
		return -1;
	}
	jwks_keys_free(j->keys, j->nkeys);
	j->keys = keys;
	j->nkeys = n;
	j->loaded = true;
	j->loads++;
	j->loaded_at = now;
	j->next_try = 0;
	j->nneg = 0;
	j->negpos = 0;
	log_debug("jwks: loaded %zu key(s) from %s", n,
	    j->file != NULL ? j->file : j->url);
	return 0;
}

static const struct jwk *
find(const struct jwks *j, const char *kid, const char *alg, bool *kid_r)
{
	*kid_r = false;
	for (size_t i = 0; i < j->nkeys; i++) {
		if (strcmp(j->keys[i].kid, kid) != 0)
			continue;
		*kid_r = true;
		if (jwk_usable(&j->keys[i], alg))
			return &j->keys[i];
	}
	return NULL;
}

static bool
negative(const struct jwks *j, const char *kid, time_t now)
{
	for (size_t i = 0; i < j->nneg; i++)
		if (j->neg[i].until > now && strcmp(j->neg[i].kid, kid) == 0)
			return true;
	return false;
}

static void
negative_add(struct jwks *j, const char *kid, time_t now)
{
	struct negative *n = &j->neg[j->negpos];

	str_copy(n->kid, kid, sizeof(n->kid));
	n->until = now + JWKS_NEGATIVE_TTL;
	j->negpos = (j->negpos + 1) % JWKS_NEGATIVE_MAX;
	if (j->nneg < JWKS_NEGATIVE_MAX)
		j->nneg++;
}

EVP_PKEY *
jwks_key(struct jwks *j, const char *kid, const char *alg, time_t now,
    struct err *err)
{
	const struct jwk *k;
	EVP_PKEY *key = NULL;
	bool has_kid;

	pthread_mutex_lock(&j->lock);
	if ((!j->loaded || j->invalid || now >= j->loaded_at + j->refresh) &&
	    now >= j->next_try) {
		if (!j->fetching)
			(void)reload(j, now);
		else if (!j->loaded)
			/* Nothing to serve with: wait for that fetch. */
			while (j->fetching)
				pthread_cond_wait(&j->fetched, &j->lock);
		/* Else serve the loaded keys while another thread fetches. */
	}
	if (j->loaded && now > j->loaded_at + j->refresh + j->stale_max) {
		/* Too old to trust: stop serving it. */
		jwks_keys_free(j->keys, j->nkeys);
		j->keys = NULL;
		j->nkeys = 0;
		j->loaded = false;
	}
	if (!j->loaded) {
		err_set(err, ERR_TEMP, "no signing keys available (%s)",
		    j->last_error[0] != '\0' ? j->last_error : "not loaded");
		goto out;
	}
	k = find(j, kid, alg, &has_kid);
	if (k == NULL && !has_kid && !negative(j, kid, now) &&
	    now >= j->last_forced + JWKS_FORCED_GAP && now >= j->next_try) {
		/* A new kid: the issuer may have rotated its keys. */
		if (!j->fetching) {
			j->last_forced = now;
			(void)reload(j, now);
		} else
			while (j->fetching)
				pthread_cond_wait(&j->fetched, &j->lock);
		/* The set may have changed, or gone, meanwhile. */
		if (!j->loaded) {
			err_set(err, ERR_TEMP, "no signing keys available (%s)",
			    j->last_error[0] != '\0' ? j->last_error
						     : "not loaded");
			goto out;
		}
		k = find(j, kid, alg, &has_kid);
	}
	if (k == NULL) {
		if (!has_kid) {
			if (!negative(j, kid, now))
				negative_add(j, kid, now);
			err_set(err, ERR_DENIED, "unknown kid");
		} else
			err_set(err, ERR_DENIED,
			    "the key does not fit the algorithm");
		goto out;
	}
	key = k->key;
	EVP_PKEY_up_ref(key);
out:
	pthread_mutex_unlock(&j->lock);
	return key;
}

void
jwks_counts(struct jwks *j, uint64_t *loads_r, uint64_t *failures_r)
{
	pthread_mutex_lock(&j->lock);
	*loads_r = j->loads;
	*failures_r = j->failures;
	pthread_mutex_unlock(&j->lock);
}
