#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jwt.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define RSA_MIN_BITS 2048

static const char *const allowed[] = { "RS256", "PS256", "ES256", "EdDSA",
	NULL };

int
jwt_alg_allowed(const char *alg)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(alg, allowed[i]) == 0)
			return 1;
	return 0;
}

unsigned char *
jwt_b64url_decode(const char *in, size_t len, size_t *outlen)
{
	char *std;
	unsigned char *out;
	size_t padded = (len + 3) / 4 * 4;
	int n;

	if (len % 4 == 1)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return NULL;
	}
	std = xmalloc(padded + 1);
	for (size_t i = 0; i < len; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	for (size_t i = len; i < padded; i++)
		std[i] = '=';
	std[padded] = '\0';
	out = xmalloc(padded / 4 * 3 + 1);
	n = padded > 0 ? EVP_DecodeBlock(out, (unsigned char *)std, (int)padded)
		       : 0;
	free(std);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (int)(padded - len);
	*outlen = (size_t)n;
	return out;
}

/* JWS ES256 signatures are r||s; OpenSSL wants an ASN.1 ECDSA-Sig-Value. */
static unsigned char *
es256_to_der(const unsigned char *sig, size_t siglen, size_t *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL, *p;
	int n;

	if (siglen != 64)
		return NULL;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, NULL);
	if (n > 0) {
		der = xmalloc((size_t)n);
		p = der;
		n = i2d_ECDSA_SIG(es, &p);
		*derlen = (size_t)n;
	}
	ECDSA_SIG_free(es);
	if (n <= 0) {
		free(der);
		return NULL;
	}
	return der;
}

static int
key_fits(const char *alg, EVP_PKEY *key)
{
	if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0)
		return EVP_PKEY_is_a(key, "RSA") &&
		    EVP_PKEY_get_bits(key) >= RSA_MIN_BITS;
	if (strcmp(alg, "ES256") == 0) {
		char group[64];
		size_t gl = 0;

		return EVP_PKEY_is_a(key, "EC") &&
		    EVP_PKEY_get_utf8_string_param(
			key, "group", group, sizeof(group), &gl) == 1 &&
		    strcmp(group, "prime256v1") == 0;
	}
	if (strcmp(alg, "EdDSA") == 0)
		return EVP_PKEY_is_a(key, "ED25519") ||
		    EVP_PKEY_is_a(key, "ED448");
	return 0;
}

int
jwt_check_signature(const char *alg, EVP_PKEY *key, const unsigned char *in,
    size_t inlen, const unsigned char *sig, size_t siglen, struct err *err)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	unsigned char *der = NULL;
	int rc;

	if (!jwt_alg_allowed(alg))
		return err_set(err, ERR_DENIED, "algorithm not allowed");
	if (!key_fits(alg, key))
		return err_set(
		    err, ERR_DENIED, "the key does not fit the algorithm");
	if (strcmp(alg, "ES256") == 0) {
		if ((der = es256_to_der(sig, siglen, &siglen)) == NULL)
			return 0;
		sig = der;
	}
	if (strcmp(alg, "EdDSA") != 0)
		md = EVP_sha256();
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		free(der);
		return err_set(err, ERR_INTERNAL, "out of memory");
	}
	rc = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) == 1;
	if (rc && strcmp(alg, "PS256") == 0)
		rc = EVP_PKEY_CTX_set_rsa_padding(
			 pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(
			pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	else if (rc && strcmp(alg, "RS256") == 0)
		rc = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (!rc) {
		EVP_MD_CTX_free(ctx);
		free(der);
		return err_set(err, ERR_DENIED, "cannot set up verification");
	}
	rc = EVP_DigestVerify(ctx, sig, siglen, in, inlen) == 1;
	EVP_MD_CTX_free(ctx);
	free(der);
	return rc;
}

/* Decode one segment into a JSON object. */
static json_t *
segment_json(const char *p, size_t len)
{
	unsigned char *raw;
	size_t n;
	json_t *j;

	if ((raw = jwt_b64url_decode(p, len, &n)) == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
typ_ok(const char *typ)
{
	if (str_prefix(typ, "application/") || str_prefix(typ, "APPLICATION/"))
		typ += strlen("application/");
	return str_eq_nocase(typ, "JWT") || str_eq_nocase(typ, "at+jwt");
}

/* A NumericDate claim: 1 present (into *v), 0 absent, -1 malformed. */
static int
num_claim(json_t *claims, const char *name, int64_t *v)
{
	json_t *j = json_object_get(claims, name);
	double d;

	if (j == NULL)
		return 0;
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return *v >= 0 ? 1 : -1;
	}
	if (!json_is_real(j))
		return -1;
	d = json_real_value(j);
	if (!(d >= 0 && d < 9.2e18))
		return -1;
	*v = (int64_t)d;
	return 1;
}

static int
aud_ok(json_t *aud, const char *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	if (!json_is_array(aud))
		return 0;
	json_array_foreach(aud, i, v) if (json_is_string(v) &&
	    strcmp(json_string_value(v), want) == 0) return 1;
	return 0;
}

static int
check_claims(json_t *c, const struct jwt_policy *pol, time_t now,
    struct jwt_claims *out, struct err *err)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *sub = json_string_value(json_object_get(c, "sub"));
	int64_t exp, iat, nbf;
	int r;

	if (iss == NULL || pol->issuer == NULL || strcmp(iss, pol->issuer) != 0)
		return err_set(err, ERR_DENIED, "wrong issuer");
	if (pol->audience == NULL ||
	    !aud_ok(json_object_get(c, "aud"), pol->audience))
		return err_set(err, ERR_DENIED, "wrong audience");
	if (num_claim(c, "exp", &exp) != 1)
		return err_set(err, ERR_DENIED, "no valid exp claim");
	if (num_claim(c, "iat", &iat) != 1)
		return err_set(err, ERR_DENIED, "no valid iat claim");
	if ((r = num_claim(c, "nbf", &nbf)) == -1)
		return err_set(err, ERR_DENIED, "malformed nbf claim");
	if ((int64_t)now >= exp)
		return err_set(err, ERR_DENIED, "token expired");
	if (r == 1 && (int64_t)now + JWT_SKEW < nbf)
		return err_set(err, ERR_DENIED, "token not yet valid");
	if (iat > (int64_t)now + JWT_SKEW)
		return err_set(err, ERR_DENIED, "token issued in the future");
	if ((int64_t)now - iat > pol->max_age)
		return err_set(err, ERR_DENIED, "token too old");
	if (json_object_get(c, "sub") != NULL && sub == NULL)
		return err_set(err, ERR_DENIED, "malformed sub claim");
	str_copy(out->sub, sub != NULL ? sub : "", sizeof(out->sub));
	out->exp = exp;
	out->iat = iat;
	return 0;
}

int
jwt_verify(const char *token, const struct jwt_policy *pol, time_t now,
    jwt_key_fn *key_fn, void *key_arg, struct jwt_claims *out, struct err *err)
{
	const char *d1, *d2;
	json_t *hdr = NULL, *claims = NULL;
	unsigned char *sig = NULL;
	size_t len, siglen;
	const char *alg, *kid, *typ;
	EVP_PKEY *key = NULL;
	int rc = -1, ok;

	memset(out, 0, sizeof(*out));
	len = strlen(token);
	if (len > JWT_MAX)
		return err_set(err, ERR_DENIED, "token too long");
	if ((d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return err_set(err, ERR_DENIED, "not a compact JWS");
	if ((hdr = segment_json(token, (size_t)(d1 - token))) == NULL) {
		err_set(err, ERR_DENIED, "malformed header");
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	kid = json_string_value(json_object_get(hdr, "kid"));
	if (alg == NULL || !jwt_alg_allowed(alg)) {
		err_set(err, ERR_DENIED, "algorithm not allowed");
		goto out;
	}
	if (kid == NULL || kid[0] == '\0' || strlen(kid) >= JWT_KID_MAX) {
		err_set(err, ERR_DENIED, "no usable kid in the header");
		goto out;
	}
	if (json_object_get(hdr, "crit") != NULL) {
		err_set(err, ERR_DENIED,
		    "critical header extensions are not supported");
		goto out;
	}
	if (json_object_get(hdr, "typ") != NULL &&
	    ((typ = json_string_value(json_object_get(hdr, "typ"))) == NULL ||
		!typ_ok(typ))) {
		err_set(err, ERR_DENIED, "unexpected token type");
		goto out;
	}
	str_copy(out->alg, alg, sizeof(out->alg));
	str_copy(out->kid, kid, sizeof(out->kid));
	if ((sig = jwt_b64url_decode(d2 + 1, strlen(d2 + 1), &siglen)) ==
		NULL ||
	    siglen == 0) {
		err_set(err, ERR_DENIED, "malformed signature");
		goto out;
	}
	if ((key = key_fn(key_arg, kid, alg, err)) == NULL)
		goto out;
	ok = jwt_check_signature(alg, key, (const unsigned char *)token,
	    (size_t)(d2 - token), sig, siglen, err);
	if (ok != 1) {
		if (ok == 0)
			err_set(err, ERR_DENIED, "bad signature");
		goto out;
	}
	/* Only now is the payload worth reading. */
	if ((claims = segment_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL) {
		err_set(err, ERR_DENIED, "malformed claims");
		goto out;
	}
	rc = check_claims(claims, pol, now, out, err);
out:
	EVP_PKEY_free(key);
	free(sig);
	json_decref(hdr);
	json_decref(claims);
	return rc;
}
