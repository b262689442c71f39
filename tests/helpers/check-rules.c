/*
 * check-rules: print the probe table of "postino check" (check.h,
 * check_rule_nth()) as one line per finding, "NAME WHEN SEVERITIES":
 * WHEN is always, mlmmj or deep; SEVERITIES is E, W, EW, or - (info
 * only).  t0003 compares it with postino(8) CHECK FINDINGS.
 */
#include <stdio.h>

#include "check.h"

int
main(void)
{
	const struct check_rule *r;
	const char *when;

	for (size_t i = 0; (r = check_rule_nth(i, &when)) != NULL; i++)
		printf("%s %s %s%s%s\n", r->name, when,
		    (r->severities & CHECK_SEV_ERROR) ? "E" : "",
		    (r->severities & CHECK_SEV_WARN) ? "W" : "",
		    r->severities == 0 ? "-" : "");
	return 0;
}
