#include <stdio.h>
#include <string.h>

#include "db.h"
#include "timefmt.h"
#include "banned.h"

static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DD?HH:MM:SS" with sep at [10]; fills tm.  0 or -1. */
static int
date_time(const char *s, struct tm *tm)
{
	int y, mo, d, h, mi, sec;

	if (strlen(s) < 19 || digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) == -1)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = sec;
	return 0;
}

int
timefmt_parse(const char *s, time_t *t_r)
{
	struct tm tm;
	const char *p;
	int off = 0, oh, om;
	time_t t;

	if (date_time(s, &tm) == -1)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (digits(p, 2, &oh) == -1)
			return -1;
		p += 2;
		if (*p == ':')
			p++;
		if (digits(p, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
		p += 2;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*t_r = t - off;
	return 0;
}

const char *
timefmt_stored(time_t t, char *out, size_t size)
{
	struct tm tm;

	t += db_clock_offset(t); /* the database's clock, as db_now() */
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	return out;
}

const char *
timefmt_scim(const char *stored, char *out, size_t size)
{
	struct tm tm;
	time_t t;

	if (size > 0)
		out[0] = '\0';
	if (stored == NULL || date_time(stored, &tm) == -1)
		return out;
	if ((t = timegm(&tm)) == (time_t)-1)
		return out;
	t -= db_clock_offset(t);
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}
