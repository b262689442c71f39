#!/bin/sh
# engines: all
# One meaning for SCIM string filters on every engine: caseExact=false
# attributes (name.formatted, displayName) compare Unicode case-folded,
# accent- and space-sensitive; addresses (userName, emails, id) compare
# exactly against the folded value (they are stored lower-case).  The same
# table of filters and expected mailboxes runs on SQLite, MariaDB and
# PostgreSQL: SQLite used to fold ASCII only, MariaDB's collation also
# ignored accents and trailing spaces.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

test_setup 'mailboxes with non-ASCII, accented and space-ended names' '
	postino domain add f.org >/dev/null &&
	i=0 &&
	for n in "Müller" "MÜLLER" "Muller" "trailing space" "trailing space" \
		"Élodie" "ΣΩΚΡΑΤΗΣ" "Straße" "ЖУК" "100%_sure"; do
		i=$((i + 1)) &&
		printf "pw-%s-pw-x\n" "$i" | postino user add "m$i@f.org" \
			--name "$n" --password-stdin >/dev/null || return 1
	done &&
	sql "UPDATE mailbox SET name = $(printf "%s" "'\''trailing space '\''") WHERE username = '\''m4@f.org'\''" &&
	start_jwks && start_postinod &&
	TOKEN=$(token)
'

# users FILTER: the userNames it selects, sorted, space-separated.
users() {
	expect_status 200 scim_get_q /Users "filter=$1" >/dev/null &&
	jq -r "[.Resources[].userName | sub(\"@f.org\$\"; \"\")] | sort | join(\" \")" out
}

# The table: filter <TAB> expected mailboxes (local parts).
cat >table <<'EOF'
name.formatted sw "MÜLLER"	m1 m2
name.formatted eq "müller"	m1 m2
displayName eq "MüLLeR"	m1 m2
name.formatted co "ü"	m1 m2
name.formatted co "Ü"	m1 m2
name.formatted co "u"	m10 m3
name.formatted eq "trailing space"	m5
name.formatted eq "trailing space "	m4
name.formatted ew "space"	m5
name.formatted ew "space "	m4
name.formatted ne "trailing space"	m1 m10 m2 m3 m4 m6 m7 m8 m9
name.formatted sw "élodie"	m6
name.formatted sw "ÉLODIE"	m6
name.formatted sw "elodie"	
name.formatted co "σωκ"	m7
name.formatted eq "ΣΩΚΡΑΤΗΣ"	m7
name.formatted eq "жук"	m9
name.formatted eq "straße"	m8
name.formatted eq "STRASSE"	
name.formatted co "%_"	m10
name.formatted co "_"	m10
name.formatted gt "z"	m6 m7 m9
name.formatted lt "a"	m10
userName sw "M1"	m1 m10
userName sw "m1@"	m1
userName eq "M1@F.ORG"	m1
userName eq "m1@f.org "	
userName sw "m1@f.org "	
userName eq "ü@f.org"	
userName sw "Σ"	
userName co "%"	
userName ew "@F.ORG"	m1 m10 m2 m3 m4 m5 m6 m7 m8 m9
userName sw "m1" and active eq True	m1 m10
not (name.formatted co "ü") and userName sw "m"	m10 m3 m4 m5 m6 m7 m8 m9
EOF

test_expect_success 'every row of the table gives the same mailboxes' '
	fails=0 &&
	while IFS="	" read -r f want; do
		got=$(users "$f") || { fails=$((fails + 1)); continue; }
		if [ "$got" != "$want" ]; then
			echo "filter [$f]: got [$got], want [$want]" >&2
			fails=$((fails + 1))
		fi
	done <table &&
	test "$fails" = 0
'

test_expect_success 'the stored names are as written (the table is meaningful)' '
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE name LIKE '\''trailing space %'\''")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '\''f.org'\''")" 10
'

test_done
