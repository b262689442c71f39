/*
 * Fuzz postinod's token verifier and JWKS reader.  The input is tried as
 * a bearer token against a fixed key, which no fuzzed input can have
 * signed, so every token must be refused with ERR_DENIED; and as a JWKS
 * document, whose usable keys must all carry a kid.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../src/postinod/jwt.c"
#include "../../src/postinod/jwks.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY *key;

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_jwt: invariant broken: %s\n", what);
		abort();
	}
}

static EVP_PKEY *
key_fn(void *arg, const char *kid, const char *alg, struct err *err)
{
	(void)arg;
	(void)alg;
	if (strcmp(kid, "k") != 0) {
		err_set(err, ERR_DENIED, "unknown kid");
		return NULL;
	}
	EVP_PKEY_up_ref(key);
	return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct jwt_policy pol = { "iss", "aud", 3600 };
	struct jwt_claims cl;
	struct err err = ERR_INIT;
	struct jwk *keys;
	size_t n, dl;
	unsigned char *dec;
	char *s;

	if (key == NULL) {
		EVP_PKEY_CTX *ctx =
		    EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);

		EVP_PKEY_keygen_init(ctx);
		EVP_PKEY_keygen(ctx, &key);
		EVP_PKEY_CTX_free(ctx);
		log_set_level(LOG_LVL_ERROR);
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check(jwt_verify(s, &pol, 1800000000, key_fn, NULL, &cl, &err) == -1 &&
		err.kind == ERR_DENIED,
	    "a fuzzed token was accepted");
	if ((dec = jwt_b64url_decode(s, strlen(s), &dl)) != NULL) {
		check(dl <= strlen(s) * 3 / 4, "b64url decoded too much");
		free(dec);
	}
	err_clear(&err);
	if (jwks_parse((const char *)data, size, &keys, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			check(keys[i].kid[0] != '\0' && keys[i].key != NULL,
			    "a key without kid");
		jwks_keys_free(keys, n);
	}
	free(s);
	return 0;
}
