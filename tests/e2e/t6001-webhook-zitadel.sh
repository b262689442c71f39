#!/bin/sh
# engines: all
# POST /zitadel/events driven by a Zitadel-style sender: both signature
# forms, rotated secrets, bad and stale signatures, the replay window,
# duplicates (recorded in the database, so a second replica sees them),
# the six event types, and that every mutation equals the postino command.
# Events with --subject "" are postino's own older sender (the mailbox
# named by the payload's email); t6002 has Zitadel's real bodies.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

# send [zitadel.py options]: with the current secret; status into ./status.
send() {
	zitadel --secret "$HMAC_SECRET" "$@" >reply &&
	cut -d" " -f1 reply
}

active_of() {
	sql "SELECT active FROM mailbox WHERE username = '$1'"
}

test_setup 'start postinod' '
	postino domain add example.org >/dev/null &&
	start_jwks && start_postinod && TOKEN=$(token)
'

test_expect_success 'user.human.added (Zitadel t=,v1= signature): a {NOAUTH} mailbox' '
	check_eq "$(send --type user.human.added --email carol@example.org --first Carol --last Cole --user-id 1001)" 200 &&
	grep -q "{\"ok\":true}" reply &&
	check_eq "$(sql "SELECT name, password, active FROM mailbox WHERE username = '"'"'carol@example.org'"'"'")" "$(printf "Carol Cole\t{NOAUTH}\t1")" &&
	test -d "$MAIL_ROOT/example.org/carol" &&
	check_eq "$(sql "SELECT username FROM log WHERE action = '"'"'create_mailbox'"'"' AND data = '"'"'carol@example.org'"'"'")" zitadel:1001
'

test_expect_success '... the same rows, maildir and audit as a SCIM create without password' '
	expect_status 201 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"carol2@example.org\",\"name\":{\"formatted\":\"Carol Cole\"}}" &&
	mailbox_state carol@example.org >hook.state &&
	mailbox_state carol2@example.org >scim.state &&
	diff -u scim.state hook.state
'

test_expect_success 'postino'"'"'s bare-hex signature and the X-ZITADEL-Signature header work' '
	check_eq "$(send --form hex --type user.human.added --email dave@example.org --first Dave)" 200 &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'dave@example.org'"'"'")" Dave &&
	check_eq "$(send --form hex --header X-ZITADEL-Signature --type user.deactivated --email dave@example.org --seq 2)" 200 &&
	check_eq "$(send --header X-ZITADEL-Signature --type user.reactivated --email dave@example.org --seq 3)" 200 &&
	check_eq "$(active_of dave@example.org)" 1
'

test_expect_success 'a wrong secret, a tampered body, a missing or malformed header: 401' '
	check_eq "$(zitadel --secret "$HMAC_SECRET2" --type user.deactivated --email carol@example.org | cut -d" " -f1)" 401 &&
	check_eq "$(zitadel --secret "$HMAC_SECRET2" --form hex --type user.deactivated --email carol@example.org | cut -d" " -f1)" 401 &&
	check_eq "$(send --tamper --type user.deactivated --email carol@example.org)" 401 &&
	check_eq "$(send --form none --type user.deactivated --email carol@example.org)" 401 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "ZITADEL-Signature: t=1,v1=zz" --data "{}" "$BASE/zitadel/events")" 401 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "ZITADEL-Signature: nonsense" --data "{}" "$BASE/zitadel/events")" 401 &&
	check_eq "$(active_of carol@example.org)" 1 &&
	check_grep "zitadel: rejected" "$TEST_DIR/postinod.log"
'

test_expect_success 'a stale or future signature timestamp is refused (401)' '
	check_eq "$(send --t-offset -1000 --type user.deactivated --email carol@example.org)" 401 &&
	check_eq "$(send --t-offset 1000 --type user.deactivated --email carol@example.org)" 401 &&
	check_eq "$(active_of carol@example.org)" 1
'

test_expect_success 'an event outside the replay window is refused (400)' '
	check_eq "$(send --created-offset -1000 --type user.deactivated --email carol@example.org)" 400 &&
	grep -q "replay window" reply &&
	check_eq "$(send --form hex --created-offset 1000 --type user.deactivated --email carol@example.org)" 400 &&
	check_eq "$(active_of carol@example.org)" 1
'

test_expect_success 'a duplicate is acknowledged without effect' '
	when=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z) &&
	check_eq "$(send --type user.deactivated --user-id 1001 --no-payload --seq 7 --created "$when")" 200 &&
	check_eq "$(active_of carol@example.org)" 0 &&
	postino user enable carol@example.org &&
	n=$(sql "SELECT COUNT(*) FROM log") &&
	check_eq "$(send --type user.deactivated --user-id 1001 --no-payload --seq 7 --created "$when")" 200 &&
	grep -q duplicate reply &&
	check_eq "$(active_of carol@example.org)" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log")" "$n" &&
	echo "$when" >when
'

test_setup 'start a second replica on the same database' '
	FIRST_BASE=$BASE && FIRST_PID=$POSTINOD_PID &&
	start_postinod
'

test_expect_success 'the second replica sees the first one'"'"'s events as duplicates' '
	check_eq "$(send --type user.deactivated --user-id 1001 --no-payload --seq 7 --created "$(cat when)")" 200 &&
	grep -q duplicate reply &&
	check_eq "$(active_of carol@example.org)" 1
'

test_setup 'back to one replica' '
	stop_postinod && BASE=$FIRST_BASE && POSTINOD_PID=$FIRST_PID
'

test_expect_success 'user.deactivated / user.reactivated = postino user disable / enable' '
	printf "pw-ref-1\n" | postino user add ref@example.org --password-stdin >/dev/null &&
	printf "pw-ref-1\n" | postino user add ref2@example.org --password-stdin >/dev/null &&
	check_eq "$(send --type user.deactivated --subject "" --email ref@example.org --seq 20)" 200 &&
	postino user disable ref2@example.org &&
	check_eq "$(send --type user.reactivated --subject "" --email ref@example.org --seq 21)" 200 &&
	postino user enable ref2@example.org &&
	mailbox_state ref@example.org >hook.state &&
	mailbox_state ref2@example.org >cli.state &&
	diff -u cli.state hook.state
'

test_expect_success 'user.human.profile.changed = postino user name' '
	check_eq "$(send --type user.human.profile.changed --subject "" --email ref@example.org --first New --last Name --seq 22)" 200 &&
	postino user name ref2@example.org "New Name" >/dev/null &&
	mailbox_state ref@example.org >hook.state &&
	mailbox_state ref2@example.org >cli.state &&
	diff -u cli.state hook.state &&
	check_eq "$(send --type user.human.profile.changed --subject "" --email ref@example.org --seq 23)" 200 &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'ref@example.org'"'"'")" "New Name"
'

test_expect_success 'user.removed disables and never deletes' '
	check_eq "$(send --type user.removed --subject "" --email ref@example.org --seq 24)" 200 &&
	check_eq "$(active_of ref@example.org)" 0 &&
	test -d "$MAIL_ROOT/example.org/ref"
'

test_expect_success 'user.human.email.changed is refused (403); unknown types are ignored' '
	check_eq "$(send --type user.human.email.changed --email ref@example.org --seq 25)" 403 &&
	n=$(sql "SELECT COUNT(*) FROM log") &&
	check_eq "$(send --type user.human.phone.changed --email ref@example.org --seq 26)" 200 &&
	grep -q ignored reply &&
	check_eq "$(send --type org.added --seq 27)" 200 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log")" "$n"
'

test_expect_success 'bad events: malformed JSON, missing email, bad created_at: 400' '
	check_eq "$(send --body "{not json")" 400 &&
	check_eq "$(send --body "[1]")" 400 &&
	check_eq "$(send --type user.deactivated --subject "" --seq 30)" 400 &&
	grep -q email reply &&
	check_eq "$(send --type user.deactivated --email ref@example.org --created yesterday)" 400 &&
	check_eq "$(send --body "{\"event_type\":\"user.deactivated\",\"created_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"event_payload\":\"x\"}")" 400 &&
	check_eq "$(send --type user.deactivated --subject "" --email "not an address" --seq 31)" 400
'

test_expect_success 'an unknown mailbox is 404; an existing one on added is idempotent' '
	check_eq "$(send --type user.deactivated --subject "" --email ghost@example.org --seq 40)" 404 &&
	check_eq "$(send --type user.human.added --user-id 1001 --email carol@example.org --first Other --seq 41)" 200 &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'carol@example.org'"'"'")" "Carol Cole" &&
	postino alias add taken@example.org box@else.example >/dev/null &&
	check_eq "$(send --type user.human.added --user-id 4242 --email taken@example.org --seq 42)" 409
'

test_setup 'restart with two secrets (rotation) and a wider window' '
	stop_postinod &&
	start_postinod POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET , $HMAC_SECRET2" \
		POSTINOD_ZITADEL_REPLAY_WINDOW_SEC=5000
'

test_expect_success 'both secrets verify during a rotation' '
	check_eq "$(zitadel --secret "$HMAC_SECRET" --type user.deactivated --email dave@example.org --seq 50 | cut -d" " -f1)" 200 &&
	check_eq "$(zitadel --secret "$HMAC_SECRET2" --form hex --type user.reactivated --email dave@example.org --seq 51 | cut -d" " -f1)" 200 &&
	check_eq "$(zitadel --secret wrong-secret-wrong-secret-wrong-secret --type user.deactivated --email dave@example.org --seq 52 | cut -d" " -f1)" 401 &&
	check_eq "$(active_of dave@example.org)" 1
'

test_expect_success 'POSTINOD_ZITADEL_REPLAY_WINDOW_SEC widens the window' '
	check_eq "$(send --created-offset -1000 --type user.deactivated --email dave@example.org --seq 53)" 200 &&
	check_eq "$(active_of dave@example.org)" 0
'

test_setup 'restart under identity_backend=local' '
	stop_postinod && start_postinod POSTINO_IDENTITY_BACKEND=local
'

test_expect_success 'local: user.human.added cannot make a password-less mailbox (403)' '
	check_eq "$(send --type user.human.added --user-id 6006 --email eve@example.org --seq 60)" 403 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'eve@example.org'"'"'")" 0
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
