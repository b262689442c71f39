#!/bin/sh
# engines: all
# postino export / import: exact round trips (also to another engine, the
# way a SQLite user moves to MariaDB or PostgreSQL), --dry-run changes
# nothing, --update changes exactly what changed, --prune, and a bad line
# in the middle is reported by number with a clean state.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd doveadm
setup_postino
export POSTINO_BCRYPT_COST=4

# Another engine for the cross-engine round trip.
case $POSTINO_TEST_ENGINE in
sqlite) OTHER=pgsql ;;
mysql) OTHER=sqlite ;;
pgsql) OTHER=mysql ;;
esac
[ "$OTHER" = sqlite ] || need_server "$OTHER"

body() {
	tail -n +2 "$1"
}

test_expect_success 'seed with every kind of record' '
	postino domain add ex.org --description "Ex, \"one\"" --max-mailboxes 50 --max-aliases 9 --max-quota 5G --default-quota 1G >/dev/null &&
	postino domain add al.org --transport lmtp --backupmx >/dev/null &&
	postino domain add off.org >/dev/null && postino domain disable off.org &&
	postino domain alias add al.org --target ex.org >/dev/null &&
	printf "pw-a-secret\n" | postino user add a@ex.org --name "Ä, \"q\"" --password-stdin >/dev/null &&
	printf "pw-b-secret\n" | postino user add b@ex.org --scheme SHA512-CRYPT --quota 2G --password-stdin >/dev/null &&
	printf "pw-c-secret\n" | postino user add c@ex.org --disabled --password-stdin >/dev/null &&
	sql "UPDATE quota2 SET bytes = 12345, messages = 7 WHERE username = '"'"'a@ex.org'"'"'" &&
	postino alias add info@ex.org a@ex.org,b@ex.org >/dev/null &&
	postino alias add @ex.org a@ex.org >/dev/null &&
	postino alias edit b@ex.org b@ex.org,fwd@elsewhere.test >/dev/null &&
	postino alias add old@ex.org c@ex.org >/dev/null && postino alias disable old@ex.org
'

test_expect_success 'export writes the header and every record' '
	postino export -o all.jsonl &&
	check_eq "$(stat -c %a all.jsonl)" 600 &&
	head -1 all.jsonl >hdr && json ".type == \"postino-export\" and .version == 1" hdr &&
	check_eq "$(grep -c "\"type\":\"domain\"" all.jsonl)" 3 &&
	check_eq "$(grep -c "\"type\":\"mailbox\"" all.jsonl)" 3 &&
	check_eq "$(grep -c "\"type\":\"alias\"" all.jsonl)" 4 &&
	postino export --format csv >all.csv &&
	check_eq "$(head -1 all.csv | cut -d, -f1)" type &&
	check_eq "$(wc -l <all.csv)" 12
'

test_expect_success 'export --domain keeps to one domain' '
	postino export --domain off.org >one.jsonl &&
	check_eq "$(wc -l <one.jsonl)" 2
'

new_db() {
	# new_db DIR ENGINE: a fresh empty database + config of ENGINE in DIR.
	(
		POSTINO_TEST_ENGINE=$2
		create_database >/dev/null || exit 1
		mkdir -p "$1/vmail"
		case $2 in
		sqlite) postino init --dir "$1" --mail-root "$1/vmail" \
			--vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" -q ;;
		*) printf "%s\n" "$DB_PASSWORD" | postino init --dir "$1" \
			--engine "$2" --mail-root "$1/vmail" --hosts "$DB_HOSTS" \
			--user "$DB_USER" --dbname "$DB_NAME" --password-stdin \
			--vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" -q ;;
		esac
	) >/dev/null
}

test_expect_success 'round trip into an empty database of the same engine is exact' '
	new_db same "$POSTINO_TEST_ENGINE" &&
	postino -c same/postino.toml import all.jsonl 2>err &&
	check_grep "11 records: 11 created" err &&
	postino -c same/postino.toml export >same.jsonl &&
	body all.jsonl >a && body same.jsonl >b && diff a b &&
	test -d same/vmail/ex.org/a/cur
'

test_expect_success "round trip through another engine ($OTHER) is exact, CSV too" '
	new_db other "$OTHER" &&
	postino -c other/postino.toml import --format csv all.csv 2>err &&
	postino -c other/postino.toml export >other.jsonl &&
	body all.jsonl >a && body other.jsonl >b && diff a b &&
	hash=$(grep "\"username\":\"a@ex.org\"" other.jsonl | jq -r .password) &&
	doveadm -O pw -t "$hash" -p pw-a-secret >/dev/null
'

test_expect_success 'importing the same file again changes nothing' '
	postino -c same/postino.toml import all.jsonl 2>err &&
	check_grep "0 created, 0 updated, 0 pruned, 11 unchanged" err
'

test_expect_success '--dry-run prints the plan and changes nothing' '
	new_db dry "$POSTINO_TEST_ENGINE" &&
	postino -c dry/postino.toml export >before.jsonl &&
	postino -c dry/postino.toml import --dry-run all.jsonl >plan 2>err &&
	check_grep "^create.*mailbox.*a@ex.org" plan &&
	check_eq "$(wc -l <plan)" 11 &&
	postino -c dry/postino.toml export >after.jsonl &&
	body before.jsonl >a && body after.jsonl >b && diff a b &&
	test -z "$(ls -A dry/vmail)"
'

test_expect_success '--update changes exactly the changed rows' '
	sed -e "/\"b@ex.org\",\"name\"/s/\"name\":\"\"/\"name\":\"Bee\"/" \
	    -e "/\"address\":\"info@ex.org\"/s/a@ex.org,b@ex.org/a@ex.org/" all.jsonl >changed.jsonl &&
	postino -c same/postino.toml import changed.jsonl 2>err &&
	check_grep "0 updated" err &&
	postino -c same/postino.toml import --update --json changed.jsonl >res &&
	json ".updated == 2 and .created == 0" res &&
	postino -c same/postino.toml user show b@ex.org --json >u && json ".name == \"Bee\"" u &&
	postino -c same/postino.toml alias show info@ex.org --json >al && json ".goto == \"a@ex.org\"" al
'

test_expect_success 'plaintext passwords are hashed; Dovecot verifies them' '
	printf "%s\n" "{\"type\":\"postino-export\",\"version\":1}" \
		"{\"type\":\"mailbox\",\"username\":\"p@ex.org\",\"plain_password\":\"plain-pw\"}" >plain.jsonl &&
	postino -c same/postino.toml import plain.jsonl 2>err &&
	postino -c same/postino.toml export | grep "\"p@ex.org\"" | jq -r .password >h &&
	case $(cat h) in "{BLF-CRYPT}"*) ;; *) exit 1 ;; esac &&
	doveadm -O pw -t "$(cat h)" -p plain-pw >/dev/null
'

test_expect_success '--prune removes, within the named domains, what the file lacks' '
	grep -v "\"old@ex.org\"" all.jsonl | grep -v "\"c@ex.org\"" >pruned.jsonl &&
	postino -c same/postino.toml import --prune --dry-run pruned.jsonl >plan &&
	check_grep "^prune.*alias.*old@ex.org" plan &&
	check_grep "^prune.*mailbox.*c@ex.org" plan &&
	postino -c same/postino.toml alias show old@ex.org >/dev/null &&
	postino -c same/postino.toml import --prune pruned.jsonl 2>err &&
	expect_code 1 postino -c same/postino.toml alias show old@ex.org &&
	expect_code 1 postino -c same/postino.toml user show c@ex.org &&
	! test -e same/vmail/ex.org/c
'

test_expect_success 'a bad line in the middle: its number, nothing applied' '
	new_db bad "$POSTINO_TEST_ENGINE" &&
	{ head -5 all.jsonl; echo "{\"type\":\"mailbox\",\"username\":\"x y@ex.org\",\"plain_password\":\"z-secret\"}"; tail -n +6 all.jsonl; } >bad.jsonl &&
	expect_code 4 postino -c bad/postino.toml import bad.jsonl 2>err &&
	check_grep "bad.jsonl:6:" err &&
	{ head -5 all.jsonl; echo "{\"type\":\"mailbox\",\"username\":\"u@nowhere.org\",\"plain_password\":\"z-secret\"}"; } >bad2.jsonl &&
	expect_code 1 postino -c bad/postino.toml import bad2.jsonl 2>err &&
	check_grep "bad2.jsonl:6:.*unknown domain .nowhere.org" err &&
	printf "not json\n" >bad3.jsonl &&
	expect_code 4 postino -c bad/postino.toml import bad3.jsonl 2>err &&
	check_grep "bad3.jsonl:1:" err &&
	check_eq "$(postino -c bad/postino.toml export | wc -l)" 1 &&
	test -z "$(ls -A bad/vmail)"
'

test_expect_success 'a rule violation mid-import keeps earlier batches, rolls back its own' '
	new_db cap "$POSTINO_TEST_ENGINE" &&
	{ echo "{\"type\":\"postino-export\",\"version\":1}";
	  echo "{\"type\":\"domain\",\"domain\":\"cap.org\",\"max_mailboxes\":3}";
	  for i in 1 2 3 4 5; do echo "{\"type\":\"mailbox\",\"username\":\"u$i@cap.org\",\"plain_password\":\"p-secret\"}"; done; } >cap.jsonl &&
	expect_code 3 postino -c cap/postino.toml import --batch 2 cap.jsonl 2>err &&
	check_grep "cap.jsonl:6:" err &&
	postino -c cap/postino.toml user list --json >l &&
	json "map(.username) == [\"u1@cap.org\", \"u2@cap.org\"]" l &&
	check_eq "$(ls cap/vmail/cap.org | tr "\n" " ")" "u1 u2 "
'

test_expect_success 'a maildir that cannot be made mid-import: its line, its batch taken back' '
	new_db fs "$POSTINO_TEST_ENGINE" &&
	{ echo "{\"type\":\"postino-export\",\"version\":1}";
	  echo "{\"type\":\"domain\",\"domain\":\"fs.org\"}";
	  for i in 1 2 3 4 5 6 7; do echo "{\"type\":\"mailbox\",\"username\":\"u$i@fs.org\",\"plain_password\":\"p-secret\"}"; done; } >fs.jsonl &&
	mkdir -p fs/vmail/fs.org elsewhere &&
	ln -s "$(pwd)/elsewhere" fs/vmail/fs.org/u5 &&
	expect_code 6 postino -c fs/postino.toml import --batch 3 fs.jsonl 2>err &&
	check_grep "fs.jsonl:7: refusing to open .fs.org/u5.: a path component is a symlink" err &&
	postino -c fs/postino.toml user list --json >l &&
	json "map(.username) == [\"u1@fs.org\", \"u2@fs.org\", \"u3@fs.org\"]" l &&
	check_eq "$(ls fs/vmail/fs.org | tr "\n" " ")" "u1 u2 u3 u5 " &&
	test -z "$(ls -A elsewhere)" &&
	rm fs/vmail/fs.org/u5 &&
	postino -c fs/postino.toml import --batch 3 fs.jsonl 2>err &&
	check_eq "$(ls fs/vmail/fs.org | tr "\n" " ")" "u1 u2 u3 u4 u5 u6 u7 " &&
	test -d fs/vmail/fs.org/u7/cur
'

test_done
