/*
 * tap.h: a tiny TAP producer for the C unit tests (read by prove).
 *
 *	plan_lazy();		-- or nothing: done_testing() prints the plan
 *	ok(cond, "name %d", i);
 *	is_int(got, want, "name");
 *	is_str(got, want, "name");	-- NULL-safe
 *	return done_testing();
 *
 * Header-only and static so each t_*.c is one self-contained binary.
 */
#ifndef POSTINO_TAP_H
#define POSTINO_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 3, 4), unused)) static int
is_int(int64_t got, int64_t want, const char *fmt, ...)
{
	va_list ap;
	char name[512];

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (!ok(got == want, "%s", name)) {
		printf("#   got:  %" PRId64 "\n#   want: %" PRId64 "\n", got,
		    want);
		return 0;
	}
	return 1;
}

__attribute__((format(printf, 3, 4), unused)) static int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	char name[512];
	int eq;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	eq = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);
	if (!ok(eq, "%s", name)) {
		printf("#   got:  %s%s%s\n#   want: %s%s%s\n", got ? "'" : "",
		    got ? got : "NULL", got ? "'" : "", want ? "'" : "",
		    want ? want : "NULL", want ? "'" : "");
		return 0;
	}
	return 1;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

__attribute__((unused)) static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
