#!/bin/sh
# A short fuzz smoke: every libFuzzer target runs for a few seconds from its
# seed corpus (tests/fuzz/corpus/NAME, copied so the repository is never
# written).  Any crash, leak or sanitizer report fails.  The long run is
# scripts/fuzz (minutes per target).
. "$(dirname "$0")/../lib/test-lib.sh"

FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-$SRCDIR/build-fuzz}
SECONDS_PER_TARGET=${POSTINO_FUZZ_SECONDS:-4}
set -- "$FUZZ_BUILD_DIR"/tests/fuzz/fuzz_*
[ -x "$1" ] || test_skip_or_fail "no fuzz build in $FUZZ_BUILD_DIR (CC=clang meson setup build-fuzz -Dfuzz=true)"

for f in "$@"; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	test_expect_success "$name survives ${SECONDS_PER_TARGET}s from its seeds" '
		mkdir -p "corpus-$name" &&
		seeds="$SRCDIR/tests/fuzz/corpus/${name#fuzz_}" &&
		{ [ ! -d "$seeds" ] || cp "$seeds"/* "corpus-$name"/; } &&
		"$f" -max_total_time='"$SECONDS_PER_TARGET"' -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="$TEST_DIR/$name-" \
			"corpus-$name" >log 2>&1 ||
		{ tail -40 log; exit 1; }
	'
done

test_done
