#!/bin/sh
# Every C source and header of the tree is as clang-format (.clang-format
# at the top) would write it: "clang-format -i FILE" mends one that is not.
# And no message in src/ is split over string literals ("cannot be "
# "removed"), so that grep finds every one: scripts/split-messages --fix
# joins them.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd clang-format

test_expect_success 'every .c and .h is clang-formatted' '
	(cd "$SRCDIR" && find src tests bench -name "*.[ch]" -type f) >files &&
	test -s files &&
	: >unformatted &&
	while read -r f; do
		clang-format --style=file --dry-run -Werror "$SRCDIR/$f" \
			>/dev/null 2>&1 || echo "$f" >>unformatted
	done <files &&
	{ test ! -s unformatted || { sed "s/^/# not formatted: /" unformatted; false; }; }
'

test_expect_success 'no message is split over string literals' '
	if ! "$SRCDIR/scripts/split-messages" >split; then
		sed "s/^/# split: /" split
		false
	fi
'

test_done
