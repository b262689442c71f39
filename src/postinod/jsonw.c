#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "banned.h"

bool
jsonw_utf8_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len;
		uint32_t v;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xC2)
			return false; /* continuation, or overlong 2-byte */
		if (c < 0xE0) {
			len = 2;
			v = c & 0x1F;
		} else if (c < 0xF0) {
			len = 3;
			v = c & 0x0F;
		} else if (c < 0xF5) {
			len = 4;
			v = c & 0x07;
		} else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			v = (v << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
		    v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

int
jsonw_raw(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
jsonw_int(struct buf *b, int64_t v)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%" PRId64, v);

	return buf_append(b, t, (size_t)n);
}

int
jsonw_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n, run;
	bool ok;

	if (s == NULL)
		s = "";
	n = strlen(s);
	ok = jsonw_utf8_ok(s, n);
	if (buf_append(b, "\"", 1) == -1)
		return -1;
	while (n > 0) {
		unsigned char c;
		char e[6];
		size_t el = 2;

		/* The longest run that is written as it is. */
		for (run = 0; run < n; run++) {
			c = (unsigned char)s[run];
			if (c < 0x20 || c == '"' || c == '\\' ||
			    (!ok && c >= 0x80))
				break;
		}
		if (run > 0 && buf_append(b, s, run) == -1)
			return -1;
		s += run;
		n -= run;
		if (n == 0)
			break;
		c = (unsigned char)*s;
		e[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			e[1] = (char)c;
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			if (c >= 0x80) { /* invalid UTF-8: as http_json_str */
				e[0] = '?';
				el = 1;
				break;
			}
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
			break;
		}
		if (buf_append(b, e, el) == -1)
			return -1;
		s++;
		n--;
	}
	return buf_append(b, "\"", 1);
}
