/*
 * postinod's JWS verifier and JWKS cache: tokens made here with OpenSSL for
 * every accepted algorithm, every refusal the verifier owes, the claim
 * checks, JWK parsing, and the cache's refresh rules with a clock the test
 * controls.  The daemon's sources are compiled in directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "tap.h"

#include "../../src/postinod/jwt.c"
#ifdef HAVE_CURL
#include "../../src/postinod/jwks.c"
#endif

#define NOW 1800000000LL
#define ISS "https://idp.example"
#define AUD "postino"

static EVP_PKEY *rsa, *rsa_weak, *ec, *ed;

/* --- making tokens ------------------------------------------------------- */

static char *
b64u(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *c = out; *c != '\0'; c++)
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	return out;
}

static char *
b64u_str(const char *s)
{
	return b64u((const unsigned char *)s, strlen(s));
}

/* Sign input with key as alg would; the JWS signature bytes. */
static unsigned char *
sign(const char *alg, EVP_PKEY *key, const char *input, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = strcmp(alg, "EdDSA") == 0 ? NULL : EVP_sha256();
	unsigned char *sig;

	EVP_DigestSignInit(ctx, &pctx, md, NULL, key);
	if (strcmp(alg, "PS256") == 0) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	EVP_DigestSign(
	    ctx, NULL, len, (const unsigned char *)input, strlen(input));
	sig = xmalloc(*len);
	EVP_DigestSign(
	    ctx, sig, len, (const unsigned char *)input, strlen(input));
	EVP_MD_CTX_free(ctx);
	if (strcmp(alg, "ES256") == 0) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
		unsigned char *raw = xmalloc(64);

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		free(sig);
		sig = raw;
		*len = 64;
	}
	return sig;
}

/* A token with this header and payload (JSON text), signed by key. */
static char *
make(const char *hdr, const char *payload, const char *alg, EVP_PKEY *key)
{
	char *h = b64u_str(hdr), *p = b64u_str(payload), *s, *input, *tok;
	unsigned char *sig;
	size_t len = 0;

	input = xasprintf("%s.%s", h, p);
	if (key != NULL) {
		sig = sign(alg, key, input, &len);
		s = b64u(sig, len);
		free(sig);
	} else
		s = xstrdup("");
	tok = xasprintf("%s.%s", input, s);
	free(h);
	free(p);
	free(s);
	free(input);
	return tok;
}

static char *
claims(long long iat, long long exp, const char *extra)
{
	return xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
			 "\"sub\":\"client-7\",\"iat\":%lld,\"exp\":%lld%s}",
	    iat, exp, extra);
}

static EVP_PKEY *
key_fn(void *arg, const char *kid, const char *alg, struct err *err)
{
	EVP_PKEY *k = NULL;

	(void)arg;
	(void)alg;
	if (strcmp(kid, "rsa") == 0)
		k = rsa;
	else if (strcmp(kid, "weak") == 0)
		k = rsa_weak;
	else if (strcmp(kid, "ec") == 0)
		k = ec;
	else if (strcmp(kid, "ed") == 0)
		k = ed;
	if (k == NULL) {
		err_set(err, ERR_DENIED, "unknown kid");
		return NULL;
	}
	EVP_PKEY_up_ref(k);
	return k;
}

static const struct jwt_policy pol = { ISS, AUD, 3600 };

/* Verify and return 0 or -1, with the reason in why. */
static int
verify(const char *tok, char *why, size_t size)
{
	struct jwt_claims cl;
	struct err err = ERR_INIT;
	int rc = jwt_verify(tok, &pol, (time_t)NOW, key_fn, NULL, &cl, &err);

	snprintf(why, size, "%s", rc == 0 ? cl.sub : err.msg);
	return rc;
}

static void
expect(const char *what, const char *hdr, const char *payload, const char *alg,
    EVP_PKEY *key, int want, const char *why_part)
{
	char *tok = make(hdr, payload, alg, key), why[ERR_MSG_MAX + 64];
	int rc = verify(tok, why, sizeof(why));

	if (want == 0)
		ok(rc == 0 && strcmp(why, "client-7") == 0, "%s (%s)", what,
		    why);
	else
		ok(rc == -1 && strstr(why, why_part) != NULL,
		    "%s: refused "
		    "(%s)",
		    what, why);
	free(tok);
}

static void
test_algorithms(void)
{
	char *c = claims(NOW - 10, NOW + 300, "");

	expect("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", c, "RS256", rsa,
	    0, NULL);
	expect("PS256", "{\"alg\":\"PS256\",\"kid\":\"rsa\",\"typ\":\"JWT\"}",
	    c, "PS256", rsa, 0, NULL);
	expect("ES256", "{\"alg\":\"ES256\",\"kid\":\"ec\"}", c, "ES256", ec, 0,
	    NULL);
	expect("EdDSA", "{\"alg\":\"EdDSA\",\"kid\":\"ed\",\"typ\":\"at+jwt\"}",
	    c, "EdDSA", ed, 0, NULL);
	expect("PKCS#1 signature under a PS256 header",
	    "{\"alg\":\"PS256\",\"kid\":\"rsa\"}", c, "RS256", rsa, -1,
	    "signature");
	expect("alg none", "{\"alg\":\"none\",\"kid\":\"rsa\"}", c, "none",
	    NULL, -1, "algorithm");
	expect("alg None", "{\"alg\":\"None\",\"kid\":\"rsa\"}", c, "none",
	    NULL, -1, "algorithm");
	expect("HS256", "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", c, "RS256", rsa,
	    -1, "algorithm");
	expect("RS384", "{\"alg\":\"RS384\",\"kid\":\"rsa\"}", c, "RS256", rsa,
	    -1, "algorithm");
	expect("no alg", "{\"kid\":\"rsa\"}", c, "RS256", rsa, -1, "algorithm");
	expect("no kid", "{\"alg\":\"RS256\"}", c, "RS256", rsa, -1, "kid");
	expect("empty kid", "{\"alg\":\"RS256\",\"kid\":\"\"}", c, "RS256", rsa,
	    -1, "kid");
	expect("unknown kid", "{\"alg\":\"RS256\",\"kid\":\"zz\"}", c, "RS256",
	    rsa, -1, "unknown kid");
	expect("crit",
	    "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"crit\":[\"b64\"],"
	    "\"b64\":false}",
	    c, "RS256", rsa, -1, "critical");
	expect("odd typ",
	    "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"JOSE\"}", c, "RS256",
	    rsa, -1, "type");
	expect("duplicate alg",
	    "{\"alg\":\"none\",\"alg\":\"RS256\","
	    "\"kid\":\"rsa\"}",
	    c, "RS256", rsa, -1, "header");
	expect("EC key under RS256", "{\"alg\":\"RS256\",\"kid\":\"ec\"}", c,
	    "ES256", ec, -1, "does not fit");
	expect("RSA key under ES256", "{\"alg\":\"ES256\",\"kid\":\"rsa\"}", c,
	    "RS256", rsa, -1, "does not fit");
	expect("RSA-1024", "{\"alg\":\"RS256\",\"kid\":\"weak\"}", c, "RS256",
	    rsa_weak, -1, "does not fit");
	expect("signed by another key", "{\"alg\":\"RS256\",\"kid\":\"rsa\"}",
	    c, "RS256", rsa_weak, -1, "signature");
	free(c);
}

static void
test_claims(void)
{
	static const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"ec\"}";
	char *c;

#define CASE(payload, want, part, what)                                        \
	do {                                                                   \
		c = (payload);                                                 \
		expect(what, hdr, c, "ES256", ec, want, part);                 \
		free(c);                                                       \
	} while (0)
	CASE(claims(NOW, NOW + 1, ""), 0, NULL, "exp one second ahead");
	CASE(claims(NOW - 100, NOW, ""), -1, "expired", "exp == now");
	CASE(claims(NOW - 100, NOW - 1, ""), -1, "expired", "exp passed");
	CASE(claims(NOW + 30, NOW + 300, ""), 0, NULL,
	    "iat a little ahead (clock skew)");
	CASE(claims(NOW + 600, NOW + 900, ""), -1, "future", "iat far ahead");
	CASE(claims(NOW - 3601, NOW + 300, ""), -1, "too old",
	    "iat beyond the maximum age");
	CASE(claims(NOW, NOW + 300, ",\"nbf\":1800000030"), 0, NULL,
	    "nbf within the skew");
	CASE(claims(NOW, NOW + 300, ",\"nbf\":1800000600"), -1, "not yet valid",
	    "nbf ahead");
	CASE(claims(NOW, NOW + 300, ",\"nbf\":\"soon\""), -1, "nbf",
	    "nbf not a number");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":"
		       "\"client-7\",\"iat\":%lld}",
		 NOW),
	    -1, "exp", "no exp");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":"
		       "\"client-7\",\"exp\":%lld}",
		 NOW + 10),
	    -1, "iat", "no iat");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":"
		       "\"client-7\",\"iat\":%lld,\"exp\":1.9e9}",
		 NOW - 5),
	    0, NULL, "exp as a real number");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":"
		       "\"client-7\",\"iat\":%lld,\"exp\":-5}",
		 NOW - 5),
	    -1, "exp", "negative exp");
	CASE(xasprintf("{\"iss\":\"https://evil\",\"aud\":\"" AUD "\","
		       "\"sub\":\"client-7\",\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    -1, "issuer", "wrong issuer");
	CASE(xasprintf("{\"aud\":\"" AUD "\",\"sub\":\"client-7\","
		       "\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    -1, "issuer", "no issuer");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"other\",\"sub\":"
		       "\"client-7\",\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    -1, "audience", "wrong audience");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],"
		       "\"sub\":\"client-7\",\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    0, NULL, "audience list");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":[\"x\"],\"sub\":"
		       "\"client-7\",\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    -1, "audience", "audience list without us");
	CASE(xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":7,"
		       "\"iat\":%lld,\"exp\":%lld}",
		 NOW, NOW + 9),
	    -1, "sub", "sub not a string");
#undef CASE
}

static void
test_structure(void)
{
	static const char *bad[] = { "", "a", "a.b", "a.b.c.d", "..",
		"e30.e30.", "!!.e30.AAAA", "e30.e30.A", "e30.e30.+/+/",
		"WzFd.e30.AAAA" };
	char why[ERR_MSG_MAX + 64], *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(verify(bad[i], why, sizeof(why)) == -1,
		    "malformed '%s' "
		    "(%s)",
		    bad[i], why);
	big = xmalloc(JWT_MAX + 10);
	memset(big, 'A', JWT_MAX + 9);
	big[JWT_MAX + 9] = '\0';
	big[10] = '.';
	big[20] = '.';
	ok(verify(big, why, sizeof(why)) == -1 && strstr(why, "long"),
	    "an over-long token is refused");
	free(big);
}

static void
test_b64(void)
{
	size_t n = 0;
	unsigned char *p;

	p = jwt_b64url_decode("aGVsbG8", 7, &n);
	ok(p != NULL && n == 5 && memcmp(p, "hello", 5) == 0, "b64url hello");
	free(p);
	p = jwt_b64url_decode("-_8", 3, &n);
	ok(p != NULL && n == 2 && p[0] == 0xfb && p[1] == 0xff, "b64url -_");
	free(p);
	ok(jwt_b64url_decode("aGVsbG8=", 8, &n) == NULL, "padding refused");
	ok(jwt_b64url_decode("a+b/", 4, &n) == NULL, "+/ refused");
	ok(jwt_b64url_decode("abcde", 5, &n) == NULL, "length 4k+1 refused");
	p = jwt_b64url_decode("", 0, &n);
	ok(p != NULL && n == 0, "empty decodes to nothing");
	free(p);
}

#ifdef HAVE_CURL
/* --- JWKS ---------------------------------------------------------------- */

static char *
bn_b64u(EVP_PKEY *k, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	EVP_PKEY_get_bn_param(k, param, &bn);
	n = pad > 0 ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64u(buf, (size_t)n);
}

static char *
jwk_rsa(const char *kid, EVP_PKEY *k, const char *extra)
{
	char *n = bn_b64u(k, OSSL_PKEY_PARAM_RSA_N, 0);
	char *e = bn_b64u(k, OSSL_PKEY_PARAM_RSA_E, 0);
	char *j = xasprintf("{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
			    "\"e\":\"%s\"%s}",
	    kid, n, e, extra);

	free(n);
	free(e);
	return j;
}

static char *
jwk_ec(const char *kid, EVP_PKEY *k, bool corrupt)
{
	char *x = bn_b64u(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	char *y = bn_b64u(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	char *j;

	if (corrupt)
		y[3] = y[3] == 'A' ? 'B' : 'A';
	j = xasprintf("{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"P-256\","
		      "\"x\":\"%s\",\"y\":\"%s\",\"use\":\"sig\"}",
	    kid, x, y);
	free(x);
	free(y);
	return j;
}

static char *
jwk_ed(const char *kid, EVP_PKEY *k)
{
	unsigned char raw[32];
	size_t n = sizeof(raw);
	char *x, *j;

	EVP_PKEY_get_raw_public_key(k, raw, &n);
	x = b64u(raw, n);
	j = xasprintf("{\"kty\":\"OKP\",\"kid\":\"%s\",\"crv\":\"Ed25519\","
		      "\"x\":\"%s\",\"key_ops\":[\"verify\"]}",
	    kid, x);
	free(x);
	return j;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_jwks_parse(void)
{
	char *r = jwk_rsa("r", rsa, ""), *e = jwk_ec("e", ec, false);
	char *d = jwk_ed("d", ed), *w = jwk_rsa("w", rsa_weak, "");
	char *enc = jwk_rsa("enc", rsa, ",\"use\":\"enc\"");
	char *ops = jwk_rsa("ops", rsa, ",\"key_ops\":[\"encrypt\"]");
	char *hs = jwk_rsa("hs", rsa, ",\"alg\":\"HS256\"");
	char *ps = jwk_rsa("ps", rsa, ",\"alg\":\"PS256\"");
	char *bad = jwk_ec("bad", ec, true), *nokid = jwk_ed("", ed);
	char *doc = xasprintf(
	    "{\"keys\":[%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"
	    "{\"kty\":\"oct\",\"kid\":\"o\",\"k\":\"c2VjcmV0\"},17,"
	    "{\"kty\":\"RSA\",\"kid\":\"x\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
	    r, e, d, w, enc, ops, hs, ps, bad, nokid);
	struct jwk *keys;
	size_t n = 0;
	struct err err = ERR_INIT;
	struct buf got;

	ok(jwks_parse(doc, strlen(doc), &keys, &n, &err) == 0,
	    "a key set "
	    "parses");
	buf_init(&got, 0);
	for (size_t i = 0; i < n; i++)
		buf_printf(&got, "%s%s", i ? "," : "", keys[i].kid);
	is_str(buf_cstr(&got), "r,e,d,ps",
	    "only usable verification keys "
	    "are kept");
	buf_release(&got);
	ok(n == 4 && jwk_usable(&keys[3], "PS256") &&
		!jwk_usable(&keys[3], "RS256"),
	    "a key's alg pins it");
	ok(n == 4 && jwk_usable(&keys[0], "RS256") &&
		jwk_usable(&keys[0], "PS256") && !jwk_usable(&keys[0], "ES256"),
	    "an RSA key without alg serves RS256 and PS256");
	jwks_keys_free(keys, n);
	ok(jwks_parse("{\"keys\":{}}", 11, &keys, &n, &err) == -1,
	    "keys must be an array");
	ok(jwks_parse("[]", 2, &keys, &n, &err) == -1, "not an object");
	ok(jwks_parse("{", 1, &keys, &n, &err) == -1, "not JSON");
	free(r);
	free(e);
	free(d);
	free(w);
	free(enc);
	free(ops);
	free(hs);
	free(ps);
	free(bad);
	free(nokid);
	free(doc);
}

static int
lookup(struct jwks *j, const char *kid, const char *alg, time_t now,
    enum err_kind *kind)
{
	struct err err = ERR_INIT;
	EVP_PKEY *k = jwks_key(j, kid, alg, now, &err);

	*kind = err.kind;
	if (k == NULL)
		return -1;
	EVP_PKEY_free(k);
	return 0;
}

static void
set_file(const char *path, const char *a, const char *b)
{
	char *doc = xasprintf("{\"keys\":[%s%s%s]}", a != NULL ? a : "",
	    a != NULL && b != NULL ? "," : "", b != NULL ? b : "");

	write_file(path, doc);
	free(doc);
}

static void
test_jwks_cache(void)
{
	char path[] = "/tmp/t_jwt_jwks.XXXXXX";
	int fd = mkstemp(path);
	char *a = jwk_rsa("a", rsa, ""), *b = jwk_ec("b", ec, false);
	char *c = jwk_ed("c", ed);
	struct jwks_opts o = { NULL, path, 100, 50 };
	struct jwks *j;
	enum err_kind k;

	close(fd);
	log_set_level(LOG_LVL_ERROR);
	set_file(path, a, NULL);
	j = jwks_new(&o);
	ok(lookup(j, "a", "RS256", 1000, &k) == 0, "first use loads the set");
	set_file(path, a, b);
	ok(lookup(j, "b", "ES256", 1001, &k) == 0,
	    "a new kid forces one "
	    "refresh");
	set_file(path, a, c);
	ok(lookup(j, "c", "EdDSA", 1002, &k) == -1 && k == ERR_DENIED,
	    "a second forced refresh within %d s is not made", JWKS_FORCED_GAP);
	ok(lookup(j, "c", "EdDSA", 1015, &k) == -1 && k == ERR_DENIED,
	    "the unknown kid is remembered (negative cache)");
	ok(lookup(j, "c", "EdDSA", 1040, &k) == 0,
	    "after the negative TTL "
	    "it is looked up again");
	ok(lookup(j, "b", "ES256", 1041, &k) == -1,
	    "a key gone from the set "
	    "is gone");
	ok(lookup(j, "a", "ES256", 1042, &k) == -1 && k == ERR_DENIED,
	    "a known kid under the wrong algorithm");
	set_file(path, c, NULL);
	ok(lookup(j, "a", "RS256", 1043, &k) == 0,
	    "a removed key serves "
	    "until the next refresh");
	ok(lookup(j, "a", "RS256", 1141, &k) == -1,
	    "... and is gone after "
	    "it");
	jwks_free(&j);

	/* Stale serving, bounded. */
	set_file(path, a, NULL);
	j = jwks_new(&o);
	ok(lookup(j, "a", "RS256", 0, &k) == 0, "loaded at 0");
	unlink(path);
	ok(lookup(j, "a", "RS256", 99, &k) == 0,
	    "fresh before the refresh "
	    "time");
	ok(lookup(j, "a", "RS256", 120, &k) == 0,
	    "a failed refresh keeps the "
	    "stale keys");
	ok(lookup(j, "a", "RS256", 140, &k) == 0, "still stale-served");
	ok(lookup(j, "a", "RS256", 151, &k) == -1 && k == ERR_TEMP,
	    "past refresh + stale_max the keys are dropped (ERR_TEMP)");
	set_file(path, a, NULL);
	ok(lookup(j, "a", "RS256", 152, &k) == -1 && k == ERR_TEMP,
	    "retries wait %d s after a failure", JWKS_RETRY);
	ok(lookup(j, "a", "RS256", 181, &k) == 0,
	    "then the set is loaded "
	    "again");
	set_file(path, b, NULL);
	jwks_invalidate(j);
	ok(lookup(j, "b", "ES256", 182, &k) == 0,
	    "jwks_invalidate: the next "
	    "lookup reloads");
	jwks_free(&j);

	unlink(path);
	j = jwks_new(&o);
	ok(lookup(j, "a", "RS256", 0, &k) == -1 && k == ERR_TEMP,
	    "nothing loaded and nothing to load: ERR_TEMP");
	jwks_free(&j);
	free(a);
	free(b);
	free(c);
}
#endif

int
main(void)
{
	EVP_PKEY_CTX *ctx;

	rsa = EVP_RSA_gen(2048);
	rsa_weak = EVP_RSA_gen(1024);
	ec = EVP_EC_gen("P-256");
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);
	EVP_PKEY_keygen_init(ctx);
	EVP_PKEY_keygen(ctx, &ed);
	EVP_PKEY_CTX_free(ctx);
	ok(rsa && rsa_weak && ec && ed, "test keys generated");
	ok(jwt_alg_allowed("RS256") && jwt_alg_allowed("EdDSA") &&
		!jwt_alg_allowed("none") && !jwt_alg_allowed("HS256"),
	    "the algorithm allow-list");
	test_b64();
	test_algorithms();
	test_claims();
	test_structure();
#ifdef HAVE_CURL
	test_jwks_parse();
	test_jwks_cache();
#endif
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_weak);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	return done_testing();
}
