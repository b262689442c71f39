#!/bin/sh
# engines: all
# postino list add|sub|unsub|show|ls|rm on the real mlmmj 1.3 programs:
# the two-level spool, the routes row and the -owner alias made and removed
# together, re-adding an existing list touches nothing, rm refuses
# subscribers without --force, privilege drop to the mlmmj ids, symlinks
# refused, concurrent adds serialised, and "postino check --deep" clean
# after each step.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
. "$SRCDIR/tests/helpers/mail-lib.sh"
need_cmd jq /usr/bin/mlmmj-sub /usr/bin/mlmmj-list

setup_check
SPOOL=$TEST_DIR/spool
LIST=team@lists.example.org
LDIR=$SPOOL/lists.example.org/team
# mlmmj runs as nobody when we are root (as it would as "mlmmj").
if [ "$(id -u)" -eq 0 ]; then ML_UID=65534 ML_GID=65534; else ML_UID=-1 ML_GID=-1; fi

# The routes rows (mariadb -B escapes backslashes: undo that).
routes() {
	sql "SELECT pattern, transport, domain, list_address, priority FROM routes ORDER BY pattern" |
		if [ "$POSTINO_TEST_ENGINE" = mysql ]; then sed "s/\\\\\\\\/\\\\/g"; else cat; fi
}

test_expect_success 'lists are refused while mlmmj_spool_dir is unset' '
	expect_code 4 postino list ls 2>err &&
	check_grep "mlmmj_spool_dir is empty" err &&
	check_grep "hint: set mlmmj_spool_dir" err
'

test_setup 'set up the spool and the Postfix wiring (config gen)' '
	mkdir "$SPOOL" &&
	if [ "$ML_UID" -ge 0 ]; then chown "$ML_UID:$ML_GID" "$SPOOL"; fi &&
	toml_set mlmmj_spool_dir "\"$SPOOL\"" &&
	toml_set mlmmj_uid "$ML_UID" &&
	toml_set mlmmj_gid "$ML_GID" &&
	postino domain add lists.example.org >/dev/null &&
	postino config gen --out "$TEST_DIR/gen" --only main_cf,master_cf \
		--postfix-dir "$PFDIR" >gen.log &&
	cp "$TEST_DIR/gen/postfix/main.cf" "$TEST_DIR/gen/postfix/master.cf" "$PFDIR/" &&
	expect_clean --deep
'

test_expect_success 'list add needs an owner and an existing domain' '
	expect_code 64 postino list add $LIST 2>err &&
	check_grep "at least one --owner" err &&
	expect_code 1 postino list add x@nowhere.example.org --owner alice@example.org 2>err &&
	check_grep "nowhere.example.org" err &&
	check_grep "postino domain add" err &&
	expect_code 4 postino list add "a+b@lists.example.org" --owner alice@example.org 2>err &&
	check_grep "delimiter" err &&
	test ! -e "$SPOOL/nowhere.example.org" &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes")" 0
'

test_expect_success 'list add: spool, route, owner alias, audit, in one go' '
	postino list add $LIST --owner alice@example.org --owner Bob@Example.org --json >out &&
	json ".address == \"$LIST\" and .owners == [\"alice@example.org\", \"bob@example.org\"] and .subscriber_count == 0 and .routed" out &&
	for d in incoming queue queue/discarded archive text subconf unsubconf \
	    bounce control moderation subscribers.d digesters.d requeue nomailsubs.d; do
		test -d "$LDIR/$d" || { echo "no $d" >&2; exit 1; }
	done &&
	test -f "$LDIR/index" &&
	printf "alice@example.org\nbob@example.org\n" >want && test_cmp_f want "$LDIR/control/owner" &&
	check_eq "$(cat "$LDIR/control/listaddress")" "$LIST" &&
	test -f "$LDIR/text/help" &&
	if [ "$ML_UID" -ge 0 ]; then
		check_eq "$(stat -c %u:%g "$LDIR" "$LDIR/control/owner" "$LDIR/queue/discarded" "$SPOOL/lists.example.org" | sort -u)" "$ML_UID:$ML_GID"
	fi &&
	printf "^team(\\\\+.+)?@lists\\\\.example\\\\.org\$\tmlmmj-receive:\tlists.example.org\t%s\t50\n" $LIST >want &&
	routes >got && test_cmp_f want got &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'team-owner@lists.example.org'"'"'")" "alice@example.org,bob@example.org" &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'create_alias'"'"' AND data = '"'"'$LIST mailing_list'"'"'")" 1 &&
	ls -a "$SPOOL/lists.example.org" >names && ! grep -q "^\.tmp-" names &&
	expect_clean --deep
'

test_expect_success 'list add again is "already exists" and touches nothing' '
	postino list sub $LIST carol@example.org &&
	echo keep >"$LDIR/control/prefix" &&
	routes >before && sql "SELECT goto, modified FROM alias ORDER BY address" >abefore &&
	expect_code 2 postino list add $LIST --owner mallory@example.org 2>err &&
	check_grep "already exists" err &&
	check_eq "$(cat "$LDIR/control/prefix")" keep &&
	check_eq "$(/usr/bin/mlmmj-list -L "$LDIR")" carol@example.org &&
	check_eq "$(cat "$LDIR/control/owner" | head -1)" alice@example.org &&
	routes >after && test_cmp_f before after &&
	sql "SELECT goto, modified FROM alias ORDER BY address" >aafter && test_cmp_f abefore aafter &&
	rm "$LDIR/control/prefix"
'

test_expect_success 'add refuses names that are taken, leaving nothing behind' '
	printf "pw-secret\n" | postino user add taken@lists.example.org --password-stdin >/dev/null &&
	postino alias add info@lists.example.org alice@example.org >/dev/null &&
	postino alias add news-owner@lists.example.org alice@example.org >/dev/null &&
	expect_code 2 postino list add taken@lists.example.org --owner alice@example.org 2>err &&
	check_grep "is a mailbox" err &&
	expect_code 2 postino list add info@lists.example.org --owner alice@example.org 2>err &&
	check_grep "alias .info@lists.example.org. already exists" err &&
	expect_code 2 postino list add news@lists.example.org --owner alice@example.org 2>err &&
	check_grep "news-owner@lists.example.org" err &&
	for l in taken info news; do test ! -e "$SPOOL/lists.example.org/$l" || exit 1; done &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes")" 1 &&
	postino user del taken@lists.example.org --yes &&
	postino alias del info@lists.example.org --yes &&
	postino alias del news-owner@lists.example.org --yes
'

test_expect_success 'a failure inside the transaction takes the spool back' '
	postino domain add capped.example.org --max-aliases -1 >/dev/null &&
	expect_code 3 postino list add team@capped.example.org --owner alice@example.org 2>err &&
	check_grep "does not allow aliases" err &&
	test ! -e "$SPOOL/capped.example.org" &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes WHERE domain = '"'"'capped.example.org'"'"'")" 0 &&
	postino domain del capped.example.org --yes
'

test_expect_success 'sub and unsub are silent and idempotent, with audit rows' '
	postino list sub $LIST Dave@Example.org --json >out &&
	json ".changed == true" out &&
	postino list sub $LIST dave@example.org --json >out &&
	json ".changed == false" out &&
	postino list sub $LIST dave@example.org 2>err &&
	check_grep "already subscribed" err &&
	printf "carol@example.org\ndave@example.org\n" >want &&
	/usr/bin/mlmmj-list -L "$LDIR" | sort >got && test_cmp_f want got &&
	postino list show $LIST --json >out &&
	json ".subscriber_count == 2 and .subscribers == [\"carol@example.org\", \"dave@example.org\"]" out &&
	postino list unsub $LIST dave@example.org --json >out &&
	json ".changed == true" out &&
	postino list unsub $LIST dave@example.org --json >out &&
	json ".changed == false" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_alias'"'"' AND data LIKE '"'"'$LIST %subscribe %'"'"'")" 3 &&
	find "$LDIR/queue" -type f >q && ! grep -q . q &&
	expect_clean --deep
'

test_expect_success 'mlmmj ran as the mlmmj user, not as root' '
	if [ "$ML_UID" -ge 0 ]; then
		find "$LDIR" ! -user "$ML_UID" >bad && ! grep -q . bad
	fi
'

test_expect_success 'sub and show on a list that does not exist' '
	expect_code 1 postino list sub none@lists.example.org x@example.org 2>err &&
	check_grep "postino list add none@lists.example.org" err &&
	expect_code 1 postino list show none@lists.example.org &&
	expect_code 4 postino list sub $LIST "not an address"
'

test_expect_success 'ls: every list, or one domain' '
	postino list add announce@example.org --owner bob@example.org >/dev/null &&
	postino list ls --json >out &&
	json "map(.address) == [\"announce@example.org\", \"$LIST\"] and map(.subscriber_count) == [0, 1]" out &&
	postino list ls --domain lists.example.org --json >out &&
	json "map(.address) == [\"$LIST\"]" out &&
	postino list ls >out &&
	check_grep "announce@example.org" out &&
	expect_clean --deep
'

test_expect_success 'rm refuses a list with subscribers, and changes nothing' '
	expect_code 3 postino list rm $LIST --yes 2>err &&
	check_grep "1 subscriber" err &&
	check_grep "force" err &&
	test -d "$LDIR" && check_eq "$(sql "SELECT COUNT(*) FROM routes")" 2
'

test_expect_success 'rm --force: spool, route and owner alias go together' '
	postino list rm $LIST --yes --force &&
	test ! -e "$LDIR" && test ! -e "$SPOOL/lists.example.org" &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes WHERE list_address = '"'"'$LIST'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE address = '"'"'team-owner@lists.example.org'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'delete_alias'"'"' AND data LIKE '"'"'% mailing_list'"'"'")" 1 &&
	expect_code 1 postino list rm $LIST --yes &&
	expect_clean --deep
'

test_expect_success 'rm of an empty list needs no --force; it repairs a lost spool' '
	postino list rm announce@example.org --yes &&
	postino list add gone@example.org --owner bob@example.org >/dev/null &&
	rm -r "$SPOOL/example.org/gone" &&
	postino list rm gone@example.org --yes &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes")" 0 &&
	expect_clean --deep
'

test_expect_success 'a symlink planted in the spool is refused, its target untouched' '
	mkdir "$TEST_DIR/elsewhere" &&
	ln -s "$TEST_DIR/elsewhere" "$SPOOL/lists.example.org" &&
	expect_code 6 postino list add evil@lists.example.org --owner alice@example.org 2>err &&
	check_grep "symlink" err &&
	ls -A "$TEST_DIR/elsewhere" >l && ! grep -q . l &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes")" 0 &&
	rm "$SPOOL/lists.example.org"
'

test_expect_success 'two concurrent adds of one list: one wins, one is refused' '
	postino list add race@lists.example.org --owner alice@example.org >a.out 2>a.err &
	p1=$!
	postino list add race@lists.example.org --owner bob@example.org >b.out 2>b.err &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	check_eq "$(printf "%s\n" $r1 $r2 | sort | tr "\n" " ")" "0 2 " &&
	check_eq "$(sql "SELECT COUNT(*) FROM routes WHERE list_address = '"'"'race@lists.example.org'"'"'")" 1 &&
	ls -A "$SPOOL/lists.example.org" >names &&
	check_eq "$(cat names)" race &&
	postino list rm race@lists.example.org --yes &&
	expect_clean --deep
'

test_done
