#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "strutil.h"
#include "banned.h"

/* out = local "@" domain; the caller checked the total length. */
static void
join(char *out, const char *local, const char *domain)
{
	size_t l = strlen(local), d = strlen(domain);

	if (l + 1 + d >= ADDR_MAX) {
		out[0] = '\0';
		return;
	}
	memcpy(out, local, l);
	out[l] = '@';
	memcpy(out + l + 1, domain, d + 1);
}

static int
bad(struct err *err, const char *field, const char *in, const char *why)
{
	/* Never echo more than a short prefix of hostile input. */
	return err_set(err, ERR_INVALID, "invalid %s '%.64s%s': %s", field, in,
	    strlen(in) > 64 ? "..." : "", why);
}

static bool
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int
addr_domain(const char *field, const char *in, char *out, struct err *err)
{
	size_t len = strlen(in), label = 0;
	bool alldigits = true;

	if (len == 0)
		return bad(err, field, in, "empty");
	if (len > DOMAIN_MAX)
		return bad(err, field, in, "longer than 253 characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80) {
			err_set(err, ERR_INVALID,
			    "invalid %s '%.64s': non-ASCII domain", field, in);
			return err_hint(err,
			    "give internationalised domains as A-labels (xn--...), e.g. from 'idn2'");
		}
	}
	str_copy(out, in, ADDR_MAX);
	str_lower(out);
	if (strcmp(out, "all") == 0)
		return bad(err, field, in,
		    "'ALL' is PostfixAdmin's super-admin marker, not a domain");
	if (out[len - 1] == '.')
		return bad(err, field, in, "trailing dot");
	if (strchr(out, '.') == NULL)
		return bad(err, field, in,
		    "a mail domain needs at least two labels (like example.org)");
	for (size_t i = 0; i <= len; i++) {
		char c = out[i];

		if (c == '.' || c == '\0') {
			if (label == 0)
				return bad(err, field, in, "empty label");
			if (label > 63)
				return bad(err, field, in,
				    "a label is longer than 63 characters");
			if (out[i - 1] == '-' || out[i - label] == '-')
				return bad(err, field, in,
				    "a label starts or ends with '-'");
			if (c == '.')
				alldigits = true; /* a new label starts */
			label = 0;
			continue;
		}
		if (!is_ldh(c))
			return bad(err, field, in,
			    "only letters, digits, '-' and '.' are allowed");
		if (c < '0' || c > '9')
			alldigits = false;
		label++;
	}
	if (alldigits)
		return bad(err, field, in, "the top-level label is numeric");
	return 0;
}

static bool
is_atext(char c, bool allow_hash)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	if (c == '#')
		return allow_hash;
	/* RFC 5322 atext minus '/', which would split a maildir path. */
	return strchr("!$%&'*+=?^_`{|}~-", c) != NULL;
}

static int
check_local(const char *field, const char *in, const char *local,
    bool allow_hash, struct err *err)
{
	size_t len = strlen(local);

	if (len == 0)
		return bad(err, field, in, "empty local part");
	if (len > LOCAL_MAX)
		return bad(
		    err, field, in, "local part longer than 64 characters");
	if (local[0] == '.' || local[len - 1] == '.' ||
	    strstr(local, "..") != NULL)
		return bad(err, field, in,
		    "dots may not lead, trail or repeat in a local part");
	for (size_t i = 0; i < len; i++) {
		if (local[i] == '.')
			continue;
		if ((unsigned char)local[i] >= 0x80)
			return bad(err, field, in, "non-ASCII local part");
		if (!is_atext(local[i], allow_hash))
			return bad(err, field, in,
			    local[i] == '/'
				? "'/' is not allowed in a local part"
				: "a local part may hold only letters, digits and !$%&'*+=?^_`{|}~- and dots");
	}
	return 0;
}

int
addr_local(const char *field, const char *in, char *out, struct err *err)
{
	if (check_local(field, in, in, false, err) == -1)
		return -1;
	str_copy(out, in, ADDR_MAX);
	str_lower(out);
	return 0;
}

static int
split(const char *field, const char *in, char *local, char *domain,
    bool allow_empty_local, bool allow_hash, struct err *err)
{
	const char *at = strrchr(in, '@');
	size_t llen;

	if (at == NULL)
		return bad(err, field, in, "not an address (no '@')");
	llen = (size_t)(at - in);
	if (llen >= ADDR_MAX)
		return bad(err, field, in, "too long");
	memcpy(local, in, llen);
	local[llen] = '\0';
	if (addr_domain(field, at + 1, domain, err) == -1)
		return -1;
	if (llen == 0 && allow_empty_local)
		return 0;
	if (check_local(field, in, local, allow_hash, err) == -1)
		return -1;
	str_lower(local);
	return 0;
}

int
addr_address(const char *field, const char *in, char *out, char *local_r,
    char *domain_r, struct err *err)
{
	char local[ADDR_MAX], domain[ADDR_MAX];

	if (strlen(in) > 254)
		return bad(err, field, in, "longer than 254 characters");
	if (split(field, in, local, domain, false, false, err) == -1)
		return -1;
	join(out, local, domain);
	if (local_r != NULL)
		str_copy(local_r, local, ADDR_MAX);
	if (domain_r != NULL)
		str_copy(domain_r, domain, ADDR_MAX);
	return 0;
}

int
addr_alias(const char *field, const char *in, char *out, char *domain_r,
    bool *catchall_r, struct err *err)
{
	char local[ADDR_MAX], domain[ADDR_MAX];

	if (strlen(in) > 254)
		return bad(err, field, in, "longer than 254 characters");
	if (split(field, in, local, domain, true, false, err) == -1)
		return -1;
	join(out, local, domain);
	if (domain_r != NULL)
		str_copy(domain_r, domain, ADDR_MAX);
	if (catchall_r != NULL)
		*catchall_r = local[0] == '\0';
	return 0;
}

int
addr_goto(const char *field, const char *in, char *out, size_t outsize,
    struct err *err)
{
	char one[ADDR_MAX + 1], local[ADDR_MAX], domain[ADDR_MAX];
	const char *p = in;
	size_t o = 0;
	int count = 0;

	out[0] = '\0';
	while (*p != '\0') {
		size_t n;
		char norm[ADDR_MAX];
		bool dup = false;

		while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' ||
		    *p == '\r')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\r\n");
		if (n > 254)
			return bad(err, field, p, "destination too long");
		memcpy(one, p, n);
		one[n] = '\0';
		p += n;
		if (split(field, one, local, domain, false, true, err) == -1)
			return -1;
		join(norm, local, domain);
		/* De-duplicate: PostfixAdmin stores each destination once. */
		for (const char *q = out; *q != '\0';) {
			size_t m = strcspn(q, ",");

			if (m == strlen(norm) && strncmp(q, norm, m) == 0)
				dup = true;
			q += m;
			if (*q == ',')
				q++;
		}
		if (dup)
			continue;
		if (o + strlen(norm) + 2 > outsize)
			return bad(err, field, in, "destination list too long");
		o += (size_t)snprintf(
		    out + o, outsize - o, "%s%s", count ? "," : "", norm);
		count++;
	}
	if (count == 0)
		return bad(err, field, in, "no destination address");
	return 0;
}

int
quota_parse(
    const char *field, const char *in, int64_t *bytes_r, struct err *err)
{
	char buf[64], *p, *unit;
	uint64_t v = 0, mult = 1;

	if (strlen(in) >= sizeof(buf))
		return bad(err, field, in, "too long");
	str_copy(buf, in, sizeof(buf));
	p = str_trim(buf);
	str_lower(p);
	if (strcmp(p, "unlimited") == 0 || strcmp(p, "0") == 0) {
		*bytes_r = 0;
		return 0;
	}
	if (*p < '0' || *p > '9')
		goto syntax;
	for (unit = p; *unit >= '0' && *unit <= '9'; unit++) {
		if (v > (UINT64_MAX - 9) / 10)
			return bad(err, field, in, "too large");
		v = v * 10 + (uint64_t)(*unit - '0');
	}
	if (*unit != '\0') {
		switch (*unit) {
		case 'b':
			mult = 1;
			break;
		case 'k':
			mult = 1ULL << 10;
			break;
		case 'm':
			mult = 1ULL << 20;
			break;
		case 'g':
			mult = 1ULL << 30;
			break;
		case 't':
			mult = 1ULL << 40;
			break;
		default:
			goto syntax;
		}
		unit++;
		/*
		 * "MB" is PostfixAdmin's megabyte (its quota_multiplier,
		 * 1,024,000 bytes), so its "500" is "500MB" here; "M" and
		 * "MiB" stay binary.
		 */
		if (mult == 1ULL << 20 && strcmp(unit, "b") == 0)
			mult = PFA_MB;
		if (mult > 1 &&
		    (strcmp(unit, "b") == 0 || strcmp(unit, "ib") == 0))
			unit += strlen(unit);
		if (*unit != '\0')
			goto syntax;
	}
	if (v != 0 && mult > (uint64_t)INT64_MAX / v)
		return bad(err, field, in, "too large");
	*bytes_r = (int64_t)(v * mult);
	return 0;
syntax:
	bad(err, field, in, "not a quota");
	return err_hint(err,
	    "use 0 (unlimited), a byte count, or a number with K, M, G or T (binary units), e.g. 500M or 5G, or MB (PostfixAdmin's 1,024,000 bytes)");
}

const char *
quota_format(int64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
		"PiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes <= 0) {
		snprintf(buf, size, "unlimited");
		return buf;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lld B", (long long)bytes);
	else if (v == (double)(int64_t)v)
		snprintf(buf, size, "%lld %s", (long long)v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}
