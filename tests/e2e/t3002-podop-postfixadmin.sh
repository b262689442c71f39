#!/bin/sh
# engines: all
# podop's postfixadmin and sql tables, judged by Postfix's own postmap:
# every seeded case (alias domains, catch-alls, extensions, disabled rows,
# the ALL row), and the Postfix map files postino writes served as sql
# tables with the same answers as Postfix's own mysql/pgsql/sqlite client.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop
setup_postino
postfix_conf
CF=$TEST_DIR/etc/postfix

test_expect_success 'seed PostfixAdmin rows' '
	seed_podop &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias")" 8
'

# (No white space in these paths: the list is split on it.)
TABLES=
for kind in domain relay_domain mailbox alias transport routes sender_login \
    quota_limit; do
	TABLES="$TABLES --table $kind=postfixadmin:$kind"
done
for f in "$CF"/sql-*.cf; do
	TABLES="$TABLES --table $(basename "$f" .cf)=sql:$f"
done

test_setup 'start podop with postfixadmin and sql tables' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v $TABLES
'

# map | key | answer ("-": not found)
cat >cases <<'EOF_CASES'
alias|alice@example.com|alice@example.com
alias|ALICE@Example.COM|alice@example.com
alias|alice+tag@example.com|alice+tag@example.com
alias|info+x@example.com|alice+x@example.com,bob+x@example.com
alias|info@example.com|alice@example.com,bob@example.com
alias|nobody@example.com|alice@example.com
alias|nobody+x@example.com|alice@example.com
alias|old@example.com|alice@example.com
alias|alice@alias.example|alice@example.com
alias|alice+x@alias.example|alice+x@example.com
alias|nobody@alias.example|alice@example.com
alias|x@dead.example|-
alias|alice@off.example|-
alias|x@unknown.org|-
alias|example.com|-
alias|dave@disabled.org|dave@disabled.org
mailbox|alice@example.com|example.com/alice/
mailbox|alice+x@example.com|example.com/alice/
mailbox|Alice@Alias.Example|example.com/alice/
mailbox|carol@example.com|-
mailbox|info@example.com|-
mailbox|alice@off.example|-
domain|example.com|example.com
domain|EXAMPLE.com|example.com
domain|alias.example|alias.example
domain|disabled.org|-
domain|backup.net|-
domain|ALL|-
domain|all|-
domain|nowhere.org|-
relay_domain|backup.net|backup.net
relay_domain|example.com|-
transport|example.com|:
transport|alice@example.com|:
transport|backup.net|relay:[mx.backup.net]
transport|*|-
transport|ALL|-
transport|x@disabled.org|-
routes|team@lists.example.com|mlmmj-receive:
routes|team+help@lists.example.com|mlmmj-receive:
routes|TEAM@lists.example.com|mlmmj-receive:
routes|team-bounces@lists.example.com|mlmmj-bounce:
routes|off@lists.example.com|-
routes|teamx@lists.example.com|-
sender_login|alice@example.com|alice@example.com
sender_login|info@example.com|alice@example.com,bob@example.com
sender_login|alice+x@alias.example|alice@example.com
sender_login|nobody@example.com|-
sender_login|carol@example.com|-
quota_limit|alice@example.com|1048576
EOF_CASES

test_expect_success 'postmap -q: every PostfixAdmin case' '
	fail=0
	while IFS="|" read -r map key want; do
		got=$(pq "$key" "$map" 2>err)
		rc=$?
		if [ "$want" = - ]; then
			[ $rc -eq 1 ] && [ -z "$got" ] && continue
		else
			[ $rc -eq 0 ] && [ "$got" = "$want" ] && continue
		fi
		echo "$map $key: got [$got] rc=$rc, want [$want]"
		cat err
		fail=1
	done <cases
	test $fail = 0
'

# Keys for the map-file comparison: hits and misses of every kind.
cat >keys <<'EOF_KEYS'
alice@example.com
ALICE@EXAMPLE.COM
bob@example.com
carol@example.com
info@example.com
nobody@example.com
@example.com
alice@alias.example
nobody@alias.example
x@dead.example
dave@disabled.org
example.com
alias.example
disabled.org
backup.net
ALL
x' OR '1'='1
EOF_KEYS

test_expect_success 'sql tables answer as Postfix does with the same files' '
	fail=0
	for f in "$CF"/sql-*.cf; do
		name=$(basename "$f" .cf)
		while read -r key; do
			want=$(postmap -c "$TEST_DIR/pf" -q "$key" \
				"$POSTINO_TEST_ENGINE:$f" 2>/dev/null)
			wrc=$?
			got=$(pq "$key" "$name" 2>/dev/null)
			grc=$?
			if [ "$want" != "$got" ] || [ $wrc != $grc ]; then
				echo "$name $key: podop [$got] rc=$grc," \
				    "postfix [$want] rc=$wrc"
				fail=1
			fi
		done <keys
	done
	test $fail = 0
'

test_expect_success 'podop query prints what the server answers' '
	check_eq "$(podop query --table "alias=postfixadmin:alias" alias \
		info+x@example.com)" "alice+x@example.com,bob+x@example.com" &&
	expect_code 1 podop query --table "alias=postfixadmin:alias" alias \
		x@unknown.org
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
