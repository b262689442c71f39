#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "buf.h"
#include "strutil.h"
#include "timefmt.h"
#include "webhook.h"
#include "xalloc.h"
#include "banned.h"

#define HMAC_LEN 32

static const struct {
	const char *name;
	enum webhook_type type;
} types[] = {
	{ "user.human.added", WH_ADDED },
	{ "user.human.selfregistered", WH_ADDED },
	{ "user.human.profile.changed", WH_PROFILE },
	{ "user.human.email.changed", WH_EMAIL },
	{ "user.deactivated", WH_DEACTIVATED },
	{ "user.reactivated", WH_REACTIVATED },
	{ "user.removed", WH_REMOVED },
};

/* --- secrets ----------------------------------------------------------- */

/* Decode exactly len hex digits into out (len / 2 bytes); 0 or -1. */
static int
unhex(const char *s, size_t len, unsigned char *out)
{
	if (len % 2 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = str_hexval((unsigned char)s[i]),
		    lo = str_hexval((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
add_key(struct webhook_keys *k, const void *p, size_t len)
{
	k->keys[k->n].data = xmalloc(len);
	memcpy(k->keys[k->n].data, p, len);
	k->keys[k->n].len = len;
	k->n++;
}

int
webhook_keys_parse(const char *value, struct webhook_keys *k, struct err *err)
{
	char *copy, *p, *item;
	size_t nth = 0;
	int rc = 0;

	memset(k, 0, sizeof(*k));
	if (value == NULL)
		return err_set(err, ERR_CONFIG,
			   "POSTINOD_ZITADEL_HMAC_SECRET is not set"),
		       err_hint(err,
			   "set it to the signing key of the Zitadel target (at least 32 bytes); several, comma-separated, while rotating");
	copy = xstrdup(value);
	for (p = copy; rc == 0 && p != NULL;) {
		size_t len;

		item = p;
		if ((p = strchr(p, ',')) != NULL)
			*p++ = '\0';
		item = str_trim(item);
		if ((len = strlen(item)) == 0)
			continue;
		nth++;
		if (len < WEBHOOK_SECRET_MIN) {
			rc = err_set(err, ERR_CONFIG,
			    "POSTINOD_ZITADEL_HMAC_SECRET: secret %zu is %zu bytes, shorter than %d",
			    nth, len, WEBHOOK_SECRET_MIN);
			break;
		}
		if (k->n + 2 > WEBHOOK_KEYS_MAX) {
			rc = err_set(err, ERR_CONFIG,
			    "POSTINOD_ZITADEL_HMAC_SECRET: too many secrets");
			break;
		}
		add_key(k, item, len);
		if (len >= 2 * WEBHOOK_SECRET_MIN && len % 2 == 0) {
			unsigned char *raw = xmalloc(len / 2);

			if (unhex(item, len, raw) == 0)
				add_key(k, raw, len / 2);
			explicit_bzero(raw, len / 2);
			free(raw);
		}
	}
	explicit_bzero(copy, strlen(value));
	free(copy);
	if (rc == 0 && k->n == 0)
		rc = err_set(err, ERR_CONFIG,
		    "POSTINOD_ZITADEL_HMAC_SECRET holds no secret");
	if (rc == -1)
		webhook_keys_release(k);
	return rc;
}

void
webhook_keys_release(struct webhook_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		explicit_bzero(k->keys[i].data, k->keys[i].len);
		free(k->keys[i].data);
	}
	k->n = 0;
}

/* --- signatures -------------------------------------------------------- */

/* HMAC-SHA256 over the concatenation of parts.  0 or -1. */
static int
hmac(const struct webhook_key *k, const void *const *parts, const size_t *lens,
    size_t nparts, unsigned char out[HMAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	int ok;

	ok = ctx != NULL && EVP_MAC_init(ctx, k->data, k->len, params) == 1;
	for (size_t i = 0; ok && i < nparts; i++)
		ok = EVP_MAC_update(ctx, parts[i], lens[i]) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &outl, HMAC_LEN) == 1 &&
	    outl == HMAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

/* Whether want matches the HMAC of parts under any key. */
static bool
any_key(const struct webhook_keys *keys, const unsigned char *want,
    const void *const *parts, const size_t *lens, size_t nparts)
{
	unsigned char got[HMAC_LEN];
	bool match = false;

	for (size_t i = 0; i < keys->n; i++)
		if (hmac(&keys->keys[i], parts, lens, nparts, got) == 0 &&
		    CRYPTO_memcmp(got, want, HMAC_LEN) == 0)
			match = true;
	return match;
}

#define DENY(w, ...) (*why = (w), err_set(err, ERR_DENIED, __VA_ARGS__))

int
webhook_verify(const struct webhook_keys *keys, const char *header,
    const char *body, size_t len, time_t now, int64_t window,
    enum webhook_sig *why, struct err *err)
{
	unsigned char want[HMAC_LEN];
	const void *parts[3];
	size_t lens[3];
	char tbuf[32];
	const char *p;
	int64_t t = -1;
	bool seen_v1 = false;

	if (header == NULL || *header == '\0')
		return DENY(WH_SIG_MISSING, "no signature header");
	if (body == NULL)
		body = "";
	if (strlen(header) == 2 * HMAC_LEN && strchr(header, '=') == NULL) {
		if (unhex(header, 2 * HMAC_LEN, want) == -1)
			return DENY(WH_SIG_BAD, "malformed signature");
		parts[0] = body;
		lens[0] = len;
		if (!any_key(keys, want, parts, lens, 1))
			return DENY(WH_SIG_BAD, "signature mismatch");
		*why = WH_SIG_OK;
		return 0;
	}
	/* Zitadel: t=<unix>,v1=<hex>[,v1=<hex>...] */
	for (p = header; *p != '\0';) {
		size_t n = strcspn(p, ","), kl;
		const char *eq = memchr(p, '=', n);

		if (eq == NULL)
			return DENY(WH_SIG_BAD, "malformed signature");
		kl = (size_t)(eq - p);
		if (kl == 1 && *p == 't') {
			size_t vl = n - 2;

			if (vl == 0 || vl >= sizeof(tbuf) || t != -1)
				return DENY(WH_SIG_BAD,
				    "malformed signature timestamp");
			memcpy(tbuf, eq + 1, vl);
			tbuf[vl] = '\0';
			if (str_to_i64(tbuf, &t) == -1 || t < 0)
				return DENY(WH_SIG_BAD,
				    "malformed signature timestamp");
		} else if (kl == 2 && strncmp(p, "v1", 2) == 0)
			seen_v1 = true;
		p += n;
		if (*p == ',')
			p++;
	}
	if (t == -1 || !seen_v1)
		return DENY(WH_SIG_BAD, "malformed signature");
	if ((int64_t)now - t > window || t - (int64_t)now > window)
		return DENY(WH_SIG_EXPIRED,
		    "signature timestamp outside the replay window");
	parts[0] = tbuf;
	lens[0] = strlen(tbuf);
	parts[1] = ".";
	lens[1] = 1;
	parts[2] = body;
	lens[2] = len;
	for (p = header; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == 3 + 2 * HMAC_LEN && strncmp(p, "v1=", 3) == 0 &&
		    unhex(p + 3, 2 * HMAC_LEN, want) == 0 &&
		    any_key(keys, want, parts, lens, 3)) {
			*why = WH_SIG_OK;
			return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return DENY(WH_SIG_BAD, "signature mismatch");
}

#undef DENY

int
webhook_check(const struct webhook_keys *keys, const char *header,
    const char *body, size_t len, time_t now, int64_t window, struct err *err)
{
	enum webhook_sig why;

	return webhook_verify(keys, header, body, len, now, window, &why, err);
}

/* --- events ------------------------------------------------------------ */

/* An optional string member: 1 present, 0 absent, -1 wrong type. */
static int
opt_string(json_t *o, const char *name, const char **v)
{
	json_t *j = json_object_get(o, name);

	*v = NULL;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return -1;
	*v = json_string_value(j);
	return 1;
}

static void
event_id(struct webhook_event *ev, json_t *root, bool with_time)
{
	static const char *const fields[] = { "instanceID", "aggregateID",
		"sequence", "event_type", "created_at", "userID", NULL };
	size_t nf = with_time ? 6 : 4;
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < nf; i++) {
		json_t *j = json_object_get(root, fields[i]);

		if (json_is_string(j))
			buf_puts(&b, json_string_value(j));
		else if (json_is_integer(j))
			buf_printf(
			    &b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		buf_putc(&b, 0x1f);
	}
	if (with_time)
		buf_puts(&b, ev->email);
	EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
	buf_release(&b);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(ev->id + 2 * i, 3, "%02x", md[i]);
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Decode base64 (standard or URL alphabet, padding optional) into a new
 * buffer; NULL when s is not base64.
 */
static unsigned char *
b64decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		int v;

		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6) {
		free(out);
		return NULL;
	}
	*outlen = n;
	return out;
}

/*
 * The event's data: absent or null (events without data: an empty
 * object), an object, or that object's JSON base64-encoded (older Zitadel
 * declared the field as bytes).  A new reference, or NULL.
 */
static json_t *
payload_of(json_t *root)
{
	json_t *p = json_object_get(root, "event_payload"), *o;
	unsigned char *raw;
	size_t n = 0;

	if (p == NULL || json_is_null(p))
		return json_object();
	if (json_is_object(p))
		return json_incref(p);
	if (!json_is_string(p))
		return NULL;
	raw = b64decode(json_string_value(p), json_string_length(p), &n);
	if (raw == NULL)
		return NULL;
	o = n > 0
	    ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL)
	    : NULL;
	free(raw);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* A trimmed name field into out: 1 present, 0 absent, -1 bad. */
static int
name_field(json_t *payload, const char *field, char *out, size_t size)
{
	const char *v;
	char tmp[256];
	int r = opt_string(payload, field, &v);

	if (r != 1)
		return r;
	if (strlen(v) >= sizeof(tmp) || size < sizeof(tmp))
		return -1;
	str_copy(tmp, v, sizeof(tmp));
	str_copy(out, str_trim(tmp), size);
	return 1;
}

/* A short string member into out ("" when absent); -1 when bad. */
static int
short_string(json_t *root, const char *field, char *out, size_t size)
{
	const char *v;
	int r = opt_string(root, field, &v);

	out[0] = '\0';
	if (r == -1 || (r == 1 && strlen(v) >= size))
		return -1;
	if (r == 1)
		str_copy(out, v, size);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	return 0;
}

int
webhook_parse(
    const char *body, size_t len, struct webhook_event *ev, struct err *err)
{
	json_t *root, *payload = NULL;
	json_error_t jerr;
	const char *type, *created, *email;
	char instance[128];
	json_t *seq;
	int rc = -1, rf, rl;

	memset(ev, 0, sizeof(*ev));
	if (body == NULL || len == 0)
		return err_set(err, ERR_USAGE, "empty body");
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(err, ERR_USAGE, "invalid JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		err_set(err, ERR_USAGE, "the event is not a JSON object");
		goto out;
	}
	if (opt_string(root, "event_type", &type) != 1 || *type == '\0') {
		err_set(err, ERR_INVALID, "event_type: a string is required");
		goto out;
	}
	str_copy(ev->type_name, type, sizeof(ev->type_name));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i].name) == 0)
			ev->type = types[i].type;
	if (ev->type == WH_UNKNOWN) {
		rc = 0;
		goto out;
	}
	if (opt_string(root, "created_at", &created) != 1 ||
	    strlen(created) >= sizeof(ev->created_at) ||
	    timefmt_parse(created, &ev->created) == -1) {
		err_set(err, ERR_INVALID,
		    "created_at: an RFC 3339 timestamp is required");
		goto out;
	}
	str_copy(ev->created_at, created, sizeof(ev->created_at));
	if (short_string(root, "userID", ev->user_id, sizeof(ev->user_id)) ==
	    -1) {
		err_set(err, ERR_INVALID, "userID: must be a short string");
		goto out;
	}
	if (short_string(
		root, "aggregateID", ev->subject, sizeof(ev->subject)) == -1 ||
	    short_string(root, "instanceID", instance, sizeof(instance)) ==
		-1) {
		err_set(err, ERR_INVALID,
		    "aggregateID and instanceID must be short strings");
		goto out;
	}
	snprintf(ev->issuer, sizeof(ev->issuer), "%s%s", WEBHOOK_ISSUER_PREFIX,
	    instance);
	seq = json_object_get(root, "sequence");
	if (seq != NULL && !json_is_integer(seq) && !json_is_null(seq)) {
		err_set(err, ERR_INVALID, "sequence: must be a number");
		goto out;
	}
	if ((payload = payload_of(root)) == NULL) {
		err_set(err, ERR_INVALID,
		    "event_payload: an object (or its JSON in base64) is required");
		goto out;
	}
	if ((rc = opt_string(payload, "email", &email)) == -1 ||
	    (rc == 1 &&
		(*email == '\0' || strlen(email) >= sizeof(ev->email)))) {
		rc = -1;
		err_set(err, ERR_INVALID,
		    "event_payload.email: must be an address");
		goto out;
	}
	rc = -1;
	if (email != NULL)
		str_copy(ev->email, email, sizeof(ev->email));
	if ((ev->type == WH_ADDED || ev->type == WH_EMAIL) &&
	    ev->email[0] == '\0') {
		err_set(err, ERR_INVALID,
		    "event_payload.email: an address is required");
		goto out;
	}
	if (ev->subject[0] == '\0' && ev->email[0] == '\0') {
		err_set(err, ERR_INVALID,
		    "aggregateID: the Zitadel user id is required (or, from postino's own sender, event_payload.email)");
		goto out;
	}
	rf = name_field(payload, "firstName", ev->first, sizeof(ev->first));
	rl = name_field(payload, "lastName", ev->last, sizeof(ev->last));
	if (rf == -1 || rl == -1) {
		err_set(err, ERR_INVALID,
		    "event_payload: firstName and lastName must be short strings");
		goto out;
	}
	ev->has_first = rf == 1;
	ev->has_last = rl == 1;
	ev->has_name = ev->has_first || ev->has_last;
	if (webhook_join_name(
		ev->first, ev->last, ev->name, sizeof(ev->name)) == -1) {
		err_set(
		    err, ERR_INVALID, "event_payload: the name is too long");
		goto out;
	}
	event_id(ev, root,
	    !json_is_integer(seq) || json_integer_value(seq) == 0 ||
		ev->subject[0] == '\0');
	rc = 0;
out:
	json_decref(payload);
	json_decref(root);
	return rc;
}

int
webhook_join_name(const char *first, const char *last, char *out, size_t size)
{
	size_t fl = strlen(first), ll = strlen(last);

	if (fl + ll + 2 > size)
		return -1;
	memcpy(out, first, fl);
	if (fl > 0 && ll > 0)
		out[fl++] = ' ';
	memcpy(out + fl, last, ll);
	out[fl + ll] = '\0';
	return 0;
}
