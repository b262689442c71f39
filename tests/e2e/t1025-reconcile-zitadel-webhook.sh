#!/bin/sh
# engines: all
# reconcile --source zitadel --apply does what postinod's Zitadel webhook
# would have done: pairs of people, one whose events reach the real
# webhook, the twin whose events were missed and whose state only the
# user API (the stub) shows, end in the same rows: the mailbox (password,
# name, active, quota), the identity row with its given and family names,
# and the same audit actions.  A mailbox the webhook made is no drift.
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq
need_cmd python3

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
. "$SRCDIR/tests/helpers/zitadel-api.sh"

q() {
	printf "'%s'" "$1"
}

send() {
	zitadel --secret "$HMAC_SECRET" --instance 27182 "$@" >reply &&
	cut -d" " -f1 reply
}

TOKEN=zt-webhook-twin-51d0c3a2b4e6f789
STATE=$TEST_DIR/zapi
zitadel_api_state "$STATE" "$TOKEN"
POSTINO_ZITADEL_TOKEN=$TOKEN
export POSTINO_ZITADEL_TOKEN

# row USER: what the webhook or reconcile leave for a mailbox.
row() {
	sql "SELECT m.password, m.name, m.active, m.quota, i.issuer, i.given_name, i.family_name FROM mailbox m JOIN postino_identity i ON i.username = m.username WHERE m.username = $(q "$1")"
}

# actions USER: the audit actions about USER, in order.
actions() {
	sql "SELECT action FROM log WHERE data LIKE $(q "%$1%") ORDER BY id" | tr "\n" " "
}

# users JSON: what the stub lists.
users() {
	printf '%s\n' "$1" >"$STATE/users.json"
}

test_setup 'start postinod' '
	postino domain add example.org >/dev/null &&
	start_jwks && start_postinod
'

test_setup 'start the Zitadel API stub' '
	start_zitadel_api "$STATE" &&
	POSTINO_ZITADEL_URL=$ZAPI_URL &&
	export POSTINO_ZITADEL_URL
'

test_expect_success 'a mailbox the webhook created is no drift (instance from the identity table)' '
	check_eq "$(send --type user.human.added --subject 700001 --creator 1 --seq 1 --email wanda@example.org --first Wanda --last Maximoff)" 200 &&
	users "[{\"id\": \"700001\", \"email\": \"wanda@example.org\", \"given\": \"Wanda\", \"family\": \"Maximoff\"}]" &&
	postino reconcile --source zitadel >out &&
	check_grep "no drift: 1 person checked in 1 domain" out
'

PEOPLE='{"id": "700001", "email": "wanda@example.org", "given": "Wanda", "family": "Maximoff"},
 {"id": "700002", "email": "vision@example.org", "given": "Vision", "family": "Synth"}'

test_expect_success 'a missed user.human.added: created as the webhook creates' '
	users "[$PEOPLE]" &&
	postino reconcile --source zitadel --apply --yes >out &&
	check_grep "^missing  *vision@example.org .*yes" out &&
	check_eq "$(row vision@example.org)" "$(row wanda@example.org | sed "s/Wanda\tMaximoff/Vision\tSynth/; s/Wanda Maximoff/Vision Synth/")" &&
	check_eq "$(actions vision@example.org)" "$(actions wanda@example.org)" &&
	test -d "$MAIL_ROOT/example.org/vision"
'

test_expect_success 'a missed profile change: the name and the stored names, as the webhook sets them' '
	check_eq "$(send --type user.human.profile.changed --subject 700001 --creator 1 --seq 2 --last Frank)" 200 &&
	users "[{\"id\": \"700001\", \"email\": \"wanda@example.org\", \"given\": \"Wanda\", \"family\": \"Frank\"},
		{\"id\": \"700002\", \"email\": \"vision@example.org\", \"given\": \"Vision\", \"family\": \"Frank\"}]" &&
	postino reconcile --source zitadel --apply --yes --json >ap.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] == [\"name vision@example.org\"]" ap.json &&
	check_eq "$(row vision@example.org)" "$(row wanda@example.org | sed "s/Wanda/Vision/g")" &&
	check_eq "$(actions vision@example.org)" "$(actions wanda@example.org)"
'

test_expect_success 'a missed user.deactivated: disabled as the webhook disables' '
	check_eq "$(send --type user.deactivated --subject 700001 --creator 1 --seq 3 --no-payload)" 200 &&
	users "[{\"id\": \"700001\", \"email\": \"wanda@example.org\", \"given\": \"Wanda\", \"family\": \"Frank\", \"state\": \"INACTIVE\"},
		{\"id\": \"700002\", \"email\": \"vision@example.org\", \"given\": \"Vision\", \"family\": \"Frank\", \"state\": \"INACTIVE\"}]" &&
	postino reconcile --source zitadel --apply --yes --json >ap.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] == [\"still-active vision@example.org\"]" ap.json &&
	check_eq "$(row vision@example.org)" "$(row wanda@example.org | sed "s/Wanda/Vision/g")" &&
	check_eq "$(actions vision@example.org)" "$(actions wanda@example.org)"
'

test_expect_success 'a missed user.removed: disabled, mail and tie kept, as the webhook does' '
	check_eq "$(send --type user.reactivated --subject 700001 --creator 1 --seq 4 --no-payload)" 200 &&
	postino user enable vision@example.org >/dev/null &&
	check_eq "$(send --type user.removed --subject 700001 --creator 1 --seq 5 --no-payload)" 200 &&
	users "[]" &&
	postino reconcile --source zitadel --apply --yes --json >ap.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] == [\"absent vision@example.org\"]" ap.json &&
	check_eq "$(row vision@example.org)" "$(row wanda@example.org | sed "s/Wanda/Vision/g")" &&
	check_eq "$(actions vision@example.org)" "$(actions wanda@example.org)" &&
	test -d "$MAIL_ROOT/example.org/vision" &&
	postino reconcile --source zitadel --json >again.json &&
	json ".findings == [] and .people == 0" again.json
'

test_done
