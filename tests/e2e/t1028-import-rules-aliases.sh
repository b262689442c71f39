#!/bin/sh
# engines: all
# One table of cases drives both ways of making aliases, alias domains and
# domains, as t1026 does mailboxes: the single commands (`alias add`,
# `domain alias add`, `domain add`, and `... disable` for a record that
# comes disabled), one at a time, and `import`, with a batch of one and
# with the whole case in one batch (set-wise statements).  Each way must
# leave the same rows (with the audit rows in `log`) and fail at the same
# row with the same exit code and message: the rules are written once.
# A batch that breaks a rule leaves nothing of itself.  Then MariaDB's
# per-user statistics count the statements a batch of each costs.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
export POSTINO_BCRYPT_COST=4

# kind | case | domain add options (alias cases) | set-up | items | the
# item (1-based) where every way must stop, 0 for none.  In set-up and
# items, T stands for the way's own tag: the alias cases' domain is T.test,
# the other kinds' domains are NAME.T.test.  Items: alias ADDRESS>GOTO,
# alias domain ALIAS>TARGET, domain NAME[:JSONFIELDS,=CLI+OPTIONS] ("+"
# for a space); "!" at the end: the record comes disabled.
cat >cases <<'EOF'
alias|plain||true|a@T.test>x@ext.org b@T.test>y@ext.org,z@ext.org @T.test>c@ext.org|0
alias|cap|--max-aliases 2|true|a@T.test>x@ext.org b@T.test>x@ext.org c@T.test>x@ext.org|3
alias|capexisting|--max-aliases 2|postino alias add e@T.test x@ext.org|a@T.test>x@ext.org b@T.test>x@ext.org|2
alias|capmailboxes|--max-aliases 1|mk m1@T.test && mk m2@T.test|a@T.test>x@ext.org b@T.test>x@ext.org|2
alias|noaliases|--max-aliases -1|true|a@T.test>x@ext.org|1
alias|bare||mk m@T.test && sql "DELETE FROM alias WHERE address = 'm@T.test'"|m@T.test>x@ext.org a@T.test>m@T.test|0
alias|disabled|--max-aliases 3|true|a@T.test>x@ext.org! b@T.test>y@ext.org|0
adom|plain||dom a b c d|a>c b>c|0
adom|self||dom a b|a>b b>b|2
adom|chain||dom a b c|a>b b>c|2
adom|chainback||dom a b c|a>b c>a|2
adom|existing||dom a b x && postino domain alias add x.T.test --target a.T.test|a>b|1
adom|disabled||dom a b c|a>c! b>c|0
domain|plain||true|a b c|0
domain|limits||true|a:"max_aliases":5,"max_mailboxes":3,"description":"A",=--max-aliases+5+--max-mailboxes+3+--description+A b:"transport":"lmtp",=--transport+lmtp|0
domain|quotas||true|a:"max_quota_bytes":20480000,"default_quota_bytes":10240000,=--max-quota+20480000+--default-quota+10240000 b:"max_quota_bytes":10240000,"default_quota_bytes":20480000,=--max-quota+10240000+--default-quota+20480000|2
domain|disabled||true|a! b|0
EOF

# mk ADDRESS: a mailbox made before the case's own
mk() {
	printf 'pw-secret\n' | postino user add "$1" --password-stdin
}
# dom NAME...: domains NAME.T.test (T substituted before)
dom() {
	for d in "$@"; do postino domain add "$d.$TAG.test" || return 1; done
}

# state TAG: every row the case's way made or found, TAG written as T.
state() {
	{
		sql "SELECT domain, description, aliases, mailboxes, maxquota,
			quota, transport, CASE WHEN backupmx THEN 1 ELSE 0 END,
			CASE WHEN active THEN 1 ELSE 0 END FROM domain
			WHERE domain LIKE '%$1.test' ORDER BY domain"
		sql "SELECT p.domain, p.default_quota, CASE WHEN
			p.domain_created = d.created THEN 'tied' ELSE 'loose' END
			FROM postino_domain p LEFT JOIN domain d ON d.domain = p.domain
			WHERE p.domain LIKE '%$1.test' ORDER BY p.domain"
		sql "SELECT alias_domain, target_domain,
			CASE WHEN active THEN 1 ELSE 0 END FROM alias_domain
			WHERE alias_domain LIKE '%$1.test' ORDER BY alias_domain"
		sql "SELECT address, goto, domain, CASE WHEN active THEN 1 ELSE 0 END
			FROM alias WHERE domain LIKE '%$1.test' ORDER BY address"
		sql "SELECT domain, action, data FROM log
			WHERE domain LIKE '%$1.test'" | sort
	} | sed "s/$1/T/g"
}

# item KIND ITEM: sets name, goto/target, json, opts, off for one item
item() {
	it=$2 off=''
	case $it in *!) off=1 it=${it%!} ;; esac
	case $1 in
	alias) name=${it%%>*} dest=${it#*>} ;;
	adom) name=${it%%>*}.$TAG.test dest=${it#*>}.$TAG.test ;;
	domain)
		name=${it%%:*}.$TAG.test json='' opts=''
		case $it in *:*)
			json=${it#*:} opts=$(echo "${json#*=}" | tr + " ")
			json=${json%%=*} ;;
		esac ;;
	esac
}

# single KIND ITEMS: the commands one by one, up to the first failure;
# prints "CODE MESSAGE" of the failure, or "0"
# shellcheck disable=SC2086 # $opts: options, split
single() {
	for it in $2; do
		item "$1" "$it"
		rc=0
		case $1 in
		alias) postino alias add "$name" "$dest" && { [ -z "$off" ] || postino alias disable "$name"; } ;;
		adom) postino domain alias add "$name" --target "$dest" && { [ -z "$off" ] || postino domain alias disable "$name"; } ;;
		domain) postino domain add "$name" $opts && { [ -z "$off" ] || postino domain disable "$name"; } ;;
		esac >/dev/null 2>err.single || rc=$?
		if [ $rc -ne 0 ]; then
			echo "$rc $(grep '^postino: ' err.single | head -1)"
			return
		fi
	done
	echo 0
}

# importfile KIND ITEMS >FILE: the same records as an import file
importfile() {
	echo '{"type":"postino-export","version":1}'
	for it in $2; do
		item "$1" "$it"
		a=
		[ -z "$off" ] || a=',"active":false'
		case $1 in
		alias) printf '{"type":"alias","address":"%s","goto":"%s"%s}\n' "$name" "$dest" "$a" ;;
		adom) printf '{"type":"alias_domain","alias_domain":"%s","target_domain":"%s"%s}\n' "$name" "$dest" "$a" ;;
		domain) printf '{"type":"domain","domain":"%s"%s%s}\n' "$name" "${json:+,${json%,}}" "$a" ;;
		esac
	done
}

# viaimport KIND ITEMS BATCH: prints "CODE LINE MESSAGE" or "0"
viaimport() {
	importfile "$1" "$2" >"in-$TAG.jsonl"
	rc=0
	postino import --batch "$3" "in-$TAG.jsonl" >/dev/null 2>err.import || rc=$?
	if [ $rc -ne 0 ]; then
		msg=$(grep '^postino: ' err.import | head -1)
		line=$(echo "$msg" | sed -n "s|^postino: error: in-$TAG.jsonl:\\([0-9]*\\): .*|\\1|p")
		echo "$rc $line $(echo "$msg" | sed "s|^postino: error: in-$TAG.jsonl:[0-9]*: |postino: error: |")"
		return
	fi
	echo 0
}

# way KIND CASE OPTS SETUP ITEMS WAY BATCH: one way of one case; prints
# its result and leaves its rows in state-$TAG
way() {
	TAG=$1-$2-$6
	if [ "$1" = alias ]; then
		# shellcheck disable=SC2086
		postino domain add "$TAG.test" $3 >/dev/null || return 1
	fi
	eval "$(echo "$4" | sed "s/T\\.test/$TAG.test/g")" >/dev/null || return 1
	state "$TAG" >"before-$6"
	items=$(echo "$5" | sed "s/T\\.test/$TAG.test/g")
	if [ "$6" = s ]; then
		single "$1" "$items"
	else
		viaimport "$1" "$items" "$7"
	fi
	state "$TAG" >"state-$6"
}

while IFS='|' read -r kind name opts setup items at; do
	test_expect_success "rule table: $kind $name (single command = import --batch 1 = import)" '
		rs=$(way $kind $name "$opts" "$setup" "$items" s) &&
		r1=$(way $kind $name "$opts" "$setup" "$items" 1 1) &&
		rn=$(way $kind $name "$opts" "$setup" "$items" n 1000) &&
		echo "single: $rs" && echo "batch 1: $r1" && echo "one batch: $rn" &&
		diff state-s state-1 &&
		if [ "$at" = 0 ]; then
			check_eq "$rs" 0 "single" &&
			check_eq "$r1" 0 "import --batch 1" &&
			check_eq "$rn" 0 "import" &&
			diff state-s state-n
		else
			code=${rs%% *} msg=$(echo "${rs#* }" | sed "s/$kind-$name-s/T/g") &&
			check_eq "${r1%% *}" "$code" "import --batch 1 exit" &&
			check_eq "${rn%% *}" "$code" "import exit" &&
			check_eq "$(echo "$r1" | cut -d" " -f3- | sed "s/$kind-$name-1/T/g")" "$msg" "import --batch 1 message" &&
			check_eq "$(echo "$rn" | cut -d" " -f3- | sed "s/$kind-$name-n/T/g")" "$msg" "import message" &&
			check_eq "$(echo "$r1" | cut -d" " -f2)" $((at + 1)) "import --batch 1 line" &&
			check_eq "$(echo "$rn" | cut -d" " -f2)" $((at + 1)) "import line" &&
			# the failing batch is taken back whole
			diff before-n state-n
		fi
	'
done <cases

# Statements per batch, counted by the server (see t1027).
H='{BLF-CRYPT}$2y$04$0ttkj9lVu12ZN2ecLZjbru.Pb7RnVFi4schlp6GsSRS.JH463O2U2'
count() {
	mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -N -e \
		"SELECT COALESCE(SUM(SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS), 0) FROM information_schema.USER_STATISTICS WHERE USER = '$DB_USER'"
}
# statements FILE: what importing FILE (in one batch) costs
statements() {
	before=$(count) &&
	postino import --batch 1000 "$1" >/dev/null &&
	after=$(count) &&
	echo $((after - before))
}
test_expect_success 'a batch of 300 domains, 150 alias domains, 300 aliases: far fewer statements than rows' '
	if [ "$POSTINO_TEST_ENGINE" = mysql ]; then
		mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -e "SET GLOBAL userstat = 1" &&
		{ echo "{\"type\":\"postino-export\",\"version\":1}"; i=0; while [ $i -lt 300 ]; do
			printf "{\"type\":\"domain\",\"domain\":\"s%d.st.test\",\"max_aliases\":1000}\n" $i
			i=$((i + 1)); done; } >st-dom.jsonl &&
		{ echo "{\"type\":\"postino-export\",\"version\":1}"; i=0; while [ $i -lt 150 ]; do
			printf "{\"type\":\"alias_domain\",\"alias_domain\":\"s%d.st.test\",\"target_domain\":\"s%d.st.test\"}\n" $((i + 150)) $i
			i=$((i + 1)); done; } >st-adom.jsonl &&
		{ echo "{\"type\":\"postino-export\",\"version\":1}"
			printf "{\"type\":\"mailbox\",\"username\":\"m@s0.st.test\",\"password\":\"%s\"}\n" "$H"
			i=0; while [ $i -lt 300 ]; do
			printf "{\"type\":\"alias\",\"address\":\"a%d@s%d.st.test\",\"goto\":\"x%d@ext.org\"}\n" $i $((i % 3)) $i
			i=$((i + 1)); done; } >st-alias.jsonl &&
		d=$(statements st-dom.jsonl) && echo "domains: $d statements" &&
		ad=$(statements st-adom.jsonl) && echo "alias domains: $ad statements" &&
		al=$(statements st-alias.jsonl) && echo "aliases: $al statements" &&
		check_eq "$(sql "SELECT COUNT(*) FROM domain WHERE domain LIKE '"'"'%.st.test'"'"'")" 300 &&
		check_eq "$(sql "SELECT COUNT(*) FROM alias_domain WHERE alias_domain LIKE '"'"'%.st.test'"'"'")" 150 &&
		check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE domain LIKE '"'"'%.st.test'"'"'")" 301 &&
		check_eq "$(sql "SELECT COUNT(*) FROM log WHERE domain LIKE '"'"'%.st.test'"'"'")" 751 &&
		test "$d" -lt 60 && test "$ad" -lt 60 && test "$al" -lt 60
	fi
'

test_done
