#!/bin/sh
# engines: all
# One table of cases drives both ways of making mailboxes: `user add`, one
# at a time, and `import`, with a batch of one (a transaction per row, like
# the single commands) and with the whole case in one batch (set-wise
# statements).  Each way must leave the same rows (mailbox, quota2, the
# self-alias, password_expiry, the audit rows in `log`) and maildirs, and
# fail at the same row with the same exit code and message: the rules are
# written once.  A batch that breaks a rule leaves nothing of itself.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
export POSTINO_BCRYPT_COST=4

M=1024000 # PostfixAdmin's megabyte: the unit domain limits are stored in

# case | domain add options | set-up (D is the domain) | mailboxes in
# order | the mailbox (1-based) where every way must stop, 0 for none.
# A mailbox is LOCAL[:QUOTA_BYTES][!] ("!": created disabled).
cat >cases <<EOF
plain||true|a b:$((5 * M)) c!|0
cap|--max-mailboxes 3|true|a b c d e|4
capfull|--max-mailboxes 3|mk e1@D|a b c|3
nomailboxes|--max-mailboxes -1|true|a|1
maxquota|--max-quota $((100 * M))|true|a:$((50 * M)) b:$((200 * M)) c|2
unlimited|--max-quota $((100 * M))|true|a:$((10 * M)) b:0|2
total|--domain-quota $((25 * M)) --default-quota $((10 * M))|true|a b c|3
totalexisting|--domain-quota $((25 * M))|mk e1@D $((20 * M))|a:$((4 * M)) b:$((2 * M))|2
defaultmax|--max-quota $((30 * M))|true|a b:$((30 * M))!|0
alias|--max-aliases 5|postino alias add x@D a@D|a x b|2
stalequota2||sql "INSERT INTO quota2 (username, bytes, messages) VALUES ('s@D', 99, 9)"|s t|0
EOF

# mk ADDRESS [QUOTA]: a mailbox made before the case's own
mk() {
	printf 'pw-secret\n' | postino user add "$1" ${2:+--quota "$2"} --password-stdin
}

# state D: every row and directory of domain D, with D written as DOM.
state() {
	{
		sql "SELECT username, name, maildir, quota, local_part, domain,
			CASE WHEN active THEN 1 ELSE 0 END,
			CASE WHEN password_expiry > created THEN 'expiry' ELSE 'none' END,
			substr(password, 1, 12) FROM mailbox WHERE domain = '$1'
			ORDER BY username"
		sql "SELECT address, goto, domain, CASE WHEN active THEN 1 ELSE 0 END
			FROM alias WHERE domain = '$1' ORDER BY address"
		sql "SELECT username, bytes, messages FROM quota2
			WHERE username LIKE '%@$1' ORDER BY username"
		sql "SELECT username, domain, action, data FROM log
			WHERE domain = '$1'" | sort
		(cd "$MAIL_ROOT" && find "$1" | sort)
	} | sed "s/$1/DOM/g"
}

# mkcase NAME D OPTS SETUP: the domain D of case NAME, as the table says
mkcase() {
	# shellcheck disable=SC2086
	postino domain add "$2" $3 >/dev/null &&
	eval "$(echo "$4" | sed "s/@D/@$2/g")" >/dev/null
}

# single D MAILBOXES: `user add` one by one, up to the first failure;
# prints "CODE MESSAGE" of the failure, or "0" 
single() {
	for mb in $2; do
		lp=${mb%%[:!]*} quota= dis=
		case $mb in *:*) quota=${mb#*:}; quota=${quota%!} ;; esac
		case $mb in *!) dis=--disabled ;; esac
		rc=0
		printf 'pw-secret\n' | postino user add "$lp@$1" ${quota:+--quota "$quota"} \
			$dis --password-stdin >/dev/null 2>err.single || rc=$?
		if [ $rc -ne 0 ]; then
			echo "$rc $(grep '^postino: ' err.single | head -1)"
			return
		fi
	done
	echo 0
}

# importfile D MAILBOXES >FILE: the same mailboxes as an import file
importfile() {
	echo '{"type":"postino-export","version":1}'
	for mb in $2; do
		lp=${mb%%[:!]*} q= a=
		case $mb in *:*) q=${mb#*:}; q=",\"quota_bytes\":${q%!}" ;; esac
		case $mb in *!) a=',"active":false' ;; esac
		printf '{"type":"mailbox","username":"%s@%s","plain_password":"pw-secret"%s%s}\n' \
			"$lp" "$1" "$q" "$a"
	done
}

# viaimport D MAILBOXES BATCH: prints "CODE LINE MESSAGE" or "0"
viaimport() {
	importfile "$1" "$2" >"in-$1.jsonl"
	rc=0
	postino import --batch "$3" "in-$1.jsonl" >/dev/null 2>err.import || rc=$?
	if [ $rc -ne 0 ]; then
		msg=$(grep '^postino: ' err.import | head -1)
		line=$(echo "$msg" | sed -n "s|^postino: error: in-$1.jsonl:\\([0-9]*\\): .*|\\1|p")
		echo "$rc $line $(echo "$msg" | sed "s|^postino: error: in-$1.jsonl:[0-9]*: |postino: error: |")"
		return
	fi
	echo 0
}

while IFS='|' read -r name opts setup mbs at; do
	test_expect_success "rule table: $name (user add = import --batch 1 = import)" '
		Ds=$name-s.test D1=$name-1.test Dn=$name-n.test &&
		mkcase $name $Ds "$opts" "$setup" &&
		mkcase $name $D1 "$opts" "$setup" &&
		mkcase $name $Dn "$opts" "$setup" &&
		state $Dn >before &&
		rs=$(single $Ds "$mbs") &&
		r1=$(viaimport $D1 "$mbs" 1) &&
		rn=$(viaimport $Dn "$mbs" 1000) &&
		echo "single: $rs" && echo "batch 1: $r1" && echo "one batch: $rn" &&
		state $Ds >s && state $D1 >one && state $Dn >n &&
		diff s one &&
		if [ "$at" = 0 ]; then
			check_eq "$rs" 0 "user add" &&
			check_eq "$r1" 0 "import --batch 1" &&
			check_eq "$rn" 0 "import" &&
			diff s n
		else
			code=${rs%% *} msg=${rs#* } &&
			check_eq "${r1%% *}" "$code" "import --batch 1 exit" &&
			check_eq "${rn%% *}" "$code" "import exit" &&
			check_eq "$(echo "$r1" | cut -d" " -f3-)" "$(echo "$msg" | sed "s/$Ds/$D1/g")" "import --batch 1 message" &&
			check_eq "$(echo "$rn" | cut -d" " -f3-)" "$(echo "$msg" | sed "s/$Ds/$Dn/g")" "import message" &&
			check_eq "$(echo "$r1" | cut -d" " -f2)" $((at + 1)) "import --batch 1 line" &&
			check_eq "$(echo "$rn" | cut -d" " -f2)" $((at + 1)) "import line" &&
			# user add stopped at the same mailbox: the same rows
			# as import --batch 1 (diffed above), one per mailbox
			# before the failing one, beyond the set-up
			check_eq "$(($(grep -c create_mailbox s) - $(grep -c create_mailbox before)))" $((at - 1)) "mailboxes made" &&
			# the failing batch is taken back whole: rows, maildirs
			diff before n
		fi
	'
done <cases

test_done
