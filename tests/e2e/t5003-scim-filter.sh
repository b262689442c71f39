#!/bin/sh
# engines: all
# SCIM filters, sorting and paging, evaluated by the database: every
# operator (eq ne co sw ew gt ge lt le pr), and/or/not/parentheses,
# value paths, URN-qualified names, unknown attributes (400
# invalidFilter, never ignored), SQL metacharacters, and startIndex/count.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

X=urn:postino:params:scim:schemas:extension:mailbox:2.0:User

# total FILTER [more query args]: totalResults of GET /Users?filter=...
total() {
	_f=$1
	shift
	expect_status 200 scim_get_q /Users "filter=$_f" "$@" >/dev/null &&
	jq -r .totalResults out
}

# bad_filter FILTER: must be 400 invalidFilter.
bad_filter() {
	expect_status 400 scim_get_q /Users "filter=$1" &&
	json ".scimType == \"invalidFilter\" and .status == \"400\"" out
}

test_setup 'seed 28 mailboxes and start postinod' '
	postino domain add a.org >/dev/null &&
	postino domain add b.org >/dev/null &&
	for i in $(seq -w 1 25); do
		case $i in
		03) n="Ann Smith" ;; 04) n="bob SMITH" ;; 05) n="100% sure" ;;
		06) n="under_score" ;; 07) n="bang!name" ;; *) n="User $i" ;;
		esac
		printf "pw-%s-pw\n" "$i" | postino user add "u$i@a.org" --name "$n" \
			--password-stdin >/dev/null || break
	done &&
	printf "pw-x1-pw\n" | postino user add x1@b.org --password-stdin >/dev/null &&
	printf "pw-x2-pw\n" | postino user add x2@b.org --name "O'"'"'Brien" --password-stdin >/dev/null &&
	postino user disable u02@a.org &&
	postino user quota u10@a.org --set 5M >/dev/null &&
	start_jwks && start_postinod &&
	TOKEN=$(token) &&
	test "$(scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"idp@b.org\"}")" = 201
'

test_expect_success 'no filter: every mailbox, disabled ones included' '
	expect_status 200 scim GET /Users &&
	json ".totalResults == 28 and .itemsPerPage == 28 and .startIndex == 1" out &&
	json ".schemas == [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"]" out
'

test_expect_success 'eq (case-insensitive on addresses) and ne' '
	check_eq "$(total "userName eq \"u01@a.org\"")" 1 &&
	check_eq "$(total "userName eq \"U01@A.ORG\"")" 1 &&
	check_eq "$(total "id eq \"u01@a.org\"")" 1 &&
	check_eq "$(total "userName eq \"nobody@a.org\"")" 0 &&
	check_eq "$(total "userName ne \"u01@a.org\"")" 27 &&
	check_eq "$(total "name.formatted eq \"ANN SMITH\"")" 1
'

test_expect_success 'co, sw, ew' '
	check_eq "$(total "name.formatted co \"smith\"")" 2 &&
	check_eq "$(total "displayName co \"SMITH\"")" 2 &&
	check_eq "$(total "userName sw \"u1\"")" 10 &&
	check_eq "$(total "userName ew \"@b.org\"")" 3 &&
	check_eq "$(total "name.formatted sw \"user 2\"")" 6
'

test_expect_success 'pr and not (pr)' '
	check_eq "$(total "name.formatted pr")" 26 &&
	check_eq "$(total "not (name.formatted pr)")" 2 &&
	check_eq "$(total "name.formatted eq null")" 2 &&
	check_eq "$(total "name.formatted ne null")" 26 &&
	check_eq "$(total "not (displayName eq null)")" 26 &&
	check_eq "$(total "active pr")" 28 &&
	check_eq "$(total "$X:quotaBytes pr")" 28
'

test_expect_success 'gt ge lt le on strings, numbers and dates' '
	check_eq "$(total "userName gt \"u20@a.org\"")" 7 &&
	check_eq "$(total "userName ge \"u20@a.org\"")" 8 &&
	check_eq "$(total "userName lt \"u02@a.org\"")" 2 &&
	check_eq "$(total "userName le \"u02@a.org\"")" 3 &&
	check_eq "$(total "$X:quotaBytes ge 1")" 1 &&
	check_eq "$(total "$X:quotaBytes gt 5242880")" 0 &&
	check_eq "$(total "$X:quotaBytes eq 5242880")" 1 &&
	check_eq "$(total "$X:quotaBytes lt 1")" 27 &&
	check_eq "$(total "meta.created gt \"2000-01-01T00:00:00Z\"")" 28 &&
	check_eq "$(total "meta.lastModified lt \"2000-01-01T00:00:00+02:00\"")" 0 &&
	check_eq "$(total "meta.created le \"2999-12-31T23:59:59.5Z\"")" 28
'

test_expect_success 'booleans: active, the IdP-managed flag' '
	check_eq "$(total "active eq false")" 1 &&
	check_eq "$(total "active ne true")" 1 &&
	check_eq "$(total "active eq true")" 27 &&
	check_eq "$(total "$X:idpManaged eq true")" 1 &&
	check_eq "$(total "$X:idpManaged eq false and active eq true")" 26
'

test_expect_success 'and, or, not, parentheses and precedence' '
	check_eq "$(total "(domain eq \"b.org\" or userName eq \"u01@a.org\") and active eq true")" 4 &&
	check_eq "$(total "not (domain eq \"a.org\")")" 3 &&
	check_eq "$(total "userName eq \"u01@a.org\" or userName eq \"u02@a.org\" and active eq false")" 2 &&
	check_eq "$(total "(userName eq \"u01@a.org\" or userName eq \"u02@a.org\") and active eq false")" 1 &&
	check_eq "$(total "userName EQ \"u01@a.org\" AND active Eq true")" 1 &&
	check_eq "$(total "not(not(userName sw \"x\"))")" 2 &&
	check_eq "$(total "((((userName sw \"u\"))))")" 25
'

test_expect_success 'value paths and URN-qualified attribute names' '
	check_eq "$(total "emails[value eq \"u01@a.org\"]")" 1 &&
	check_eq "$(total "emails.value sw \"u2\"")" 6 &&
	check_eq "$(total "emails co \"@b.\"")" 3 &&
	check_eq "$(total "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"u01@a.org\"")" 1 &&
	check_eq "$(total "$X:domain eq \"b.org\"")" 3 &&
	bad_filter "emails[type eq \"work\"]" &&
	bad_filter "emails[value eq \"x\" and emails[value eq \"y\"]]"
'

test_expect_success 'unknown attributes and wrong types are 400 invalidFilter' '
	bad_filter "nickName eq \"x\"" &&
	bad_filter "title eq \"x\"" &&
	bad_filter "password eq \"x\"" &&
	bad_filter "urn:example:other:userName eq \"x\"" &&
	bad_filter "active eq \"yes\"" &&
	bad_filter "active co \"t\"" &&
	bad_filter "$X:quotaBytes co \"1\"" &&
	bad_filter "$X:quotaBytes eq 1.5" &&
	bad_filter "meta.created gt \"yesterday\"" &&
	bad_filter "userName eq 42" &&
	bad_filter "userName gt null" &&
	bad_filter "name.formatted co null"
'

test_expect_success 'syntax errors are 400 invalidFilter' '
	for f in "userName eq" "userName zz \"x\"" "(userName eq \"x\"" \
		"userName eq \"unterminated" "userName eq \"x\" and" \
		"userName eq \"x\")" "not userName eq \"x\"" "and" \
		"userName eq \"x\" \"y\"" "userName[value eq \"x\"" \
		"userName eq \"\\u0000\"" "userName pr extra"; do
		bad_filter "$f" || { echo "accepted: $f"; exit 1; }
	done &&
	expect_status 400 scim_get_q /Users "filter=" &&
	expect_status 400 scim_get_q /Users "filter=userName pr" "filter=active pr" &&
	json ".scimType == \"invalidFilter\"" out
'

test_expect_success 'SQL metacharacters are values, never SQL' '
	check_eq "$(total "userName eq \"x'"'"' OR '"'"'1'"'"'='"'"'1\"")" 0 &&
	check_eq "$(total "userName eq \"\\\"; DROP TABLE mailbox; --\"")" 0 &&
	check_eq "$(total "name.formatted co \"%\"")" 1 &&
	check_eq "$(total "name.formatted co \"_\"")" 1 &&
	check_eq "$(total "name.formatted co \"!\"")" 1 &&
	check_eq "$(total "name.formatted co \"'"'"'\"")" 1 &&
	check_eq "$(total "name.formatted sw \"100%\"")" 1 &&
	check_eq "$(total "name.formatted eq \"\\u0041nn Smith\"")" 1 &&
	bad_filter "userName) OR (1=1 eq \"x\"" &&
	bad_filter "userName eq \"x\" OR 1=1" &&
	bad_filter "userName eq \"x\"; DELETE FROM mailbox" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox")" 28
'

test_expect_success 'bounds: length, nesting depth and number of terms' '
	long=$(printf "%05000d" 0) &&
	bad_filter "userName eq \"$long\"" &&
	deep="$(printf "%040d" 0 | tr 0 "(")userName pr$(printf "%040d" 0 | tr 0 ")")" &&
	bad_filter "$deep" &&
	many="userName pr" &&
	for i in $(seq 1 70); do many="$many or userName pr"; done &&
	bad_filter "$many"
'

# nest N KIND: a filter N groups deep.  KIND "paren": plain parentheses;
# "or": or (...) at every level; "not": not (...); "mixed": not (x or
# not (y and not (...))), the deepest SQL a filter can ask for.
nest() {
	_f="userName sw \"u0\""
	_i=0
	while [ "$_i" -lt "$1" ]; do
		case $2 in
		paren) _f="($_f)" ;;
		or) _f="userName eq \"u$_i@a.org\" or ($_f)" ;;
		not) _f="not ($_f)" ;;
		mixed)
			if [ $((_i % 2)) -eq 0 ]; then
				_f="not (userName eq \"u$_i@a.org\" or $_f)"
			else
				_f="not (active eq true and $_f)"
			fi ;;
		esac
		_i=$((_i + 1))
	done
	printf "%s" "$_f"
}

test_expect_success 'nesting up to the documented limit answers on every engine; one more is 400' '
	limit=$(sed -n "s/^Filters are at most 4096 bytes, \([0-9]*\) levels deep.*/\1/p" "$SRCDIR/man/postinod.8") &&
	check_eq "$limit" 16 &&
	for kind in paren or not mixed; do
		expect_status 200 scim_get_q /Users "filter=$(nest "$limit" $kind)" || return 1
	done &&
	check_eq "$(total "$(nest "$limit" paren)")" 9 &&
	check_eq "$(total "$(nest "$limit" not)")" 9 &&
	for kind in paren or not mixed; do
		bad_filter "$(nest $((limit + 1)) $kind)" &&
		check_grep "more than $limit levels" out || return 1
	done &&
	bad_filter "emails[$(nest "$limit" paren)]"
'

test_expect_success 'an error names the whole attribute path' '
	bad_filter "urn:postino:params:scim:schemas:extension:mailbox:2.0:User:quotaBytes co \"1\"" &&
	check_grep "urn:postino:params:scim:schemas:extension:mailbox:2.0:User:quotaBytes" out &&
	bad_filter "urn:postino:params:scim:schemas:extension:mailbox:2.0:User:nosuchattribute eq 1" &&
	check_grep "User:nosuchattribute" out
'

test_expect_success 'paging: startIndex and count, done by the database' '
	expect_status 200 scim_get_q /Users startIndex=1 count=10 &&
	json ".totalResults == 28 and .itemsPerPage == 10 and .startIndex == 1" out &&
	jq -r ".Resources[].id" out >p1 &&
	expect_status 200 scim_get_q /Users startIndex=11 count=10 &&
	jq -r ".Resources[].id" out >p2 &&
	expect_status 200 scim_get_q /Users startIndex=21 count=10 &&
	json ".itemsPerPage == 8 and .startIndex == 21" out &&
	jq -r ".Resources[].id" out >p3 &&
	cat p1 p2 p3 >pages &&
	sql "SELECT username FROM mailbox ORDER BY username" >all &&
	diff -u all pages &&
	expect_status 200 scim_get_q /Users startIndex=29 &&
	json ".totalResults == 28 and .itemsPerPage == 0 and .Resources == []" out
'

test_expect_success 'paging: count=0, clamping and bad values' '
	expect_status 200 scim_get_q /Users count=0 &&
	json ".totalResults == 28 and .Resources == [] and .itemsPerPage == 0" out &&
	expect_status 200 scim_get_q /Users count=1000 &&
	json ".itemsPerPage == 28" out &&
	expect_status 200 scim_get_q /Users count=-5 &&
	json ".itemsPerPage == 0" out &&
	expect_status 200 scim_get_q /Users startIndex=0 count=2 &&
	json ".startIndex == 1 and .itemsPerPage == 2" out &&
	expect_status 400 scim_get_q /Users startIndex=abc &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim_get_q /Users count=1.5 &&
	expect_status 400 scim_get_q /Users count=1 count=2
'

test_expect_success 'a filter pages too' '
	expect_status 200 scim_get_q /Users "filter=userName sw \"u\"" startIndex=6 count=5 &&
	json ".totalResults == 25 and .itemsPerPage == 5" out &&
	check_eq "$(jq -r ".Resources[0].id" out)" u06@a.org &&
	check_eq "$(jq -r ".Resources[4].id" out)" u10@a.org
'

test_expect_success 'sortBy and sortOrder' '
	expect_status 200 scim_get_q /Users sortBy=userName sortOrder=descending count=1 &&
	check_eq "$(jq -r ".Resources[0].id" out)" x2@b.org &&
	expect_status 200 scim_get_q /Users sortBy=meta.created count=1 &&
	expect_status 200 scim_get_q /Users "filter=domain eq \"a.org\"" sortBy=name.formatted count=1 &&
	check_eq "$(jq -r ".Resources[0].id" out)" u05@a.org &&
	expect_status 400 scim_get_q /Users sortBy=nickName &&
	expect_status 400 scim_get_q /Users sortBy=userName sortOrder=sideways
'

# The SQL scim_filter.c writes for userName sw and name.formatted sw on
# PostgreSQL: both must be able to read an index (schema steps 9 and 10),
# not the whole table.
test_expect_success 'PostgreSQL: userName sw and name.formatted sw can use an index' '
	if [ "$POSTINO_TEST_ENGINE" = pgsql ]; then
		sql "SET enable_seqscan = off; EXPLAIN SELECT COUNT(*) FROM mailbox WHERE (username COLLATE \"C\" >= '"'"'u1'"'"' AND username COLLATE \"C\" < '"'"'u2'"'"')" >plan &&
		check_grep postino_mailbox_username_c_idx plan &&
		sql "SET enable_seqscan = off; EXPLAIN SELECT COUNT(*) FROM mailbox WHERE (lower(name) COLLATE \"C\" LIKE '"'"'user 1%'"'"' ESCAPE '"'"'!'"'"')" >plan &&
		check_grep postino_mailbox_name_lower_c_idx plan &&
		check_eq "$(total "name.formatted sw \"USER 1\"")" 10
	fi
'

# Each pooled connection remembers list totals and where pages start while
# the database is unchanged (on SQLite and PostgreSQL).  A write by anyone
# else, direct SQL as PostfixAdmin makes it or the CLI, must show on the
# very next request, whichever connection answers it: warm every
# connection's memory of these lists first, then write, then ask again.
warm() {
	for _i in 1 2 3 4 5 6 7 8; do
		expect_status 200 scim_get_q /Users startIndex=11 count=10 >/dev/null &&
		expect_status 200 scim_get_q /Users "filter=userName sw \"u\"" \
			startIndex=6 count=5 >/dev/null || return 1
	done
}
# lists_agree: page 2 and the sw page are what the table holds now.
lists_agree() {
	_all=$(sql "SELECT COUNT(*) FROM mailbox") &&
	_u=$(sql "SELECT COUNT(*) FROM mailbox WHERE username LIKE 'u%'") &&
	sql "SELECT username FROM mailbox ORDER BY username" | sed -n 11,20p >want2 &&
	sql "SELECT username FROM mailbox WHERE username LIKE 'u%' ORDER BY username" |
		sed -n 6,10p >wantu &&
	for _i in 1 2 3 4 5 6 7 8; do
		expect_status 200 scim_get_q /Users startIndex=11 count=10 &&
		json ".totalResults == $_all" out && jq -r ".Resources[].id" out >got2 &&
		diff -u want2 got2 &&
		expect_status 200 scim_get_q /Users "filter=userName sw \"u\"" \
			startIndex=6 count=5 &&
		json ".totalResults == $_u" out && jq -r ".Resources[].id" out >gotu &&
		diff -u wantu gotu || return 1
	done
}

test_expect_success 'lists follow direct SQL inserts and deletes at once' '
	warm && lists_agree &&
	sql "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, created, modified, active) VALUES ('"'"'u00@a.org'"'"', '"'"'{NOAUTH}'"'"', '"'"'Direct'"'"', '"'"'a.org/u00/'"'"', 0, '"'"'u00'"'"', '"'"'a.org'"'"', '"'"'2026-01-01 00:00:00'"'"', '"'"'2026-01-01 00:00:00'"'"', $(sql_true))" &&
	lists_agree && check_eq "$(head -n 1 gotu)" u05@a.org &&
	warm &&
	sql "DELETE FROM mailbox WHERE username = '"'"'u00@a.org'"'"'" &&
	lists_agree && check_eq "$(head -n 1 gotu)" u06@a.org
'

test_expect_success 'lists follow the CLI at once' '
	warm &&
	printf "pw-u000-pw\n" | postino user add u000@a.org --password-stdin >/dev/null &&
	lists_agree && check_eq "$(head -n 1 gotu)" u05@a.org &&
	warm &&
	postino user del --yes u000@a.org >/dev/null &&
	lists_agree && check_eq "$(head -n 1 gotu)" u06@a.org
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
