#!/bin/sh
# The documentation cannot drift from the code.  The man pages must pass
# "mandoc -Tlint", and every command, option, setting, exit status and
# check finding that exists must be documented, and the reverse:
#
#   commands, options    "postino help --commands" and "postino help
#                        --options [COMMAND]" (the command table of
#                        src/cli/main.c) against man/postino.8: a command is
#                        an item ".It Cm WORDS ..." of the outer list of a
#                        subsection of COMMANDS, its options are the
#                        ".It Fl ..." items of the list nested under it, and
#                        the global options the ".It Fl" items of
#                        DESCRIPTION.  "Fl Fl name" is --name, "Fl x" is -x;
#                        a following "Ar" means the option takes a value.
#   settings             "postino config show -d --json" (the key table of
#                        src/lib/conf.c) against man/postino.toml.5, whose
#                        items read ".It Va KEY Li = DEFAULT Pq Ev VARIABLE"
#                        under a ".Ss" naming the table in brackets, and
#                        against etc/postino.toml.sample, which has every
#                        key commented out as "#KEY = DEFAULT  # VARIABLE".
#   exit statuses        src/lib/err.c's table against the ".It N" items of
#                        EXIT STATUS in man/postino.8.
#   check findings       the probe table (src/model/check/table.c, printed
#                        by tests/helpers/check-rules) against the ".It Li"
#                        items of CHECK FINDINGS: the same names under the
#                        same headings with the same severities; and every
#                        finding the probes name is in the table.
#   installation         man/meson.build installs every page in man/.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd mandoc jq

MAN=$SRCDIR/man

# mdoc_items FILE: the facts of postino.8 as lines "cmd NAME",
# "opt NAME SPELLING", "global SPELLING" and "exit N".
mdoc_items() {
	awk '
	function spellings(kind, cmd,    i, n, t, name, val) {
		n = split($0, t, /[ \t]+/)
		for (i = 2; i <= n; i++) {
			if (t[i] != "Fl")
				continue
			if (t[i + 1] == "Fl") {
				name = "--" t[i + 2]
				i += 3
			} else {
				name = "-" t[i + 1]
				i += 2
			}
			val = (t[i] == "Ar") ? "=" : ""
			if (kind == "opt")
				print "opt", cmd, name val
			else
				print "global", name val
			i--
		}
	}
	/^\.Sh / { sh = substr($0, 5); depth = 0; next }
	/^\.Bl/ { depth++; next }
	/^\.El/ { depth--; next }
	!/^\.It / { next }
	sh == "DESCRIPTION" && depth == 1 && $2 == "Fl" {
		spellings("global")
		next
	}
	sh == "COMMANDS" && depth == 1 && $2 == "Cm" {
		cmd = ""
		for (i = 3; i <= NF && $i !~ /^[A-Z][a-z]$/; i++)
			cmd = cmd (cmd == "" ? "" : " ") $i
		gsub(/ /, "_", cmd)
		print "cmd", cmd
		next
	}
	sh == "COMMANDS" && depth == 2 && $2 == "Fl" {
		spellings("opt", cmd)
		next
	}
	sh == "EXIT STATUS" && depth == 1 { print "exit", $2; next }
	' "$MAN/postino.8"
}

test_expect_success 'every man page passes mandoc -Tlint' '
	for page in "$MAN"/*.[1-9]; do
		mandoc -Tlint -Wstyle "$page" 2>&1 |
			grep -v -e "referenced manual not found" \
				-e "outdated mandoc.db" >>lint || true
	done &&
	if [ -s lint ]; then cat lint >&2; exit 1; fi
'

test_expect_success 'postino(8) documents every command, and only those' '
	postino help --commands | tr " " _ | sort >code &&
	test -s code &&
	mdoc_items | awk "\$1 == \"cmd\" { print \$2 }" | sort >doc &&
	if ! cmp -s code doc; then
		echo "commands only in the command table (<) or only in postino.8 (>):" >&2
		diff code doc >&2
		exit 1
	fi
'

test_expect_success 'postino(8) documents every option of every command' '
	mdoc_items >items &&
	: >code && : >doc &&
	postino help --commands | while read -r cmd; do
		# shellcheck disable=SC2086
		postino help --options $cmd |
			sed -e "s/ .*/=/" -e "s|^|$(echo "$cmd" | tr " " _) |" >>code || exit 1
	done &&
	awk "\$1 == \"opt\" { print \$2, \$3 }" items >doc &&
	sort -o code code && sort -o doc doc &&
	test -s code &&
	if ! cmp -s code doc; then
		echo "options only in the command table (<) or only in postino.8 (>):" >&2
		diff code doc >&2
		exit 1
	fi
'

test_expect_success 'postino(8) documents the global options' '
	postino help --options | sed -e "s/ .*/=/" | sort >code &&
	mdoc_items | awk "\$1 == \"global\" { print \$2 }" | sort >doc &&
	test -s code &&
	if ! cmp -s code doc; then
		diff code doc >&2
		exit 1
	fi
'

# The settings as "NAME<TAB>DEFAULT<TAB>VARIABLE", from the code.
postino config show -d --json >defaults.json 2>defaults.err
jq -r ".[] | [.name, .default, .env] | @tsv" defaults.json | sort >settings

# The settings of postino.toml.5 and of the sample, in the same form.
toml5_settings() {
	awk -v OFS='\t' '
	/^\.Sh / { sh = substr($0, 5); next }
	sh != "SETTINGS" { next }
	/^\.Ss / {
		sec = ""
		if (match($0, /\[[a-z.]+\]/))
			sec = substr($0, RSTART + 1, RLENGTH - 2) "."
		next
	}
	/^\.It Va / {
		def = $6
		gsub(/\\\(dq/, "\"", def)
		gsub(/\\-/, "-", def)
		print sec $3, def, $NF
	}
	' "$MAN/postino.toml.5"
}

sample_settings() {
	awk -v OFS='\t' '
	/^\[/ { sec = substr($1, 2, length($1) - 2) "."; next }
	/^#[a-z_]+ = / && sec != "podop.tables." { print sec substr($1, 2), $3, $5 }
	' "$SRCDIR/etc/postino.toml.sample"
}

test_expect_success 'postino.toml(5) documents every setting, its default and variable' '
	test -s settings &&
	toml5_settings | sort >doc &&
	if ! cmp -s settings doc; then
		echo "settings in the code (<) and in postino.toml.5 (>):" >&2
		diff settings doc >&2
		exit 1
	fi
'

test_expect_success 'the sample postino.toml has every setting, commented out' '
	sample_settings | sort >doc &&
	if ! cmp -s settings doc; then
		echo "settings in the code (<) and in postino.toml.sample (>):" >&2
		diff settings doc >&2
		exit 1
	fi &&
	! grep -q "^[a-z]" "$SRCDIR/etc/postino.toml.sample" &&
	sed "s/^#\([a-z_]* = \)/\1/" "$SRCDIR/etc/postino.toml.sample" >all.toml &&
	postino -c all.toml config show --json >all.json &&
	jq -e "map(select(.name | startswith(\"podop.tables.\") | not)) |
		all(.value == .default)" all.json >/dev/null
'

test_expect_success 'postino(8) EXIT STATUS lists the codes of src/lib/err.c' '
	sed -n "s/.*{ ERR_[A-Z_]*, \"[a-z_]*\", \([0-9][0-9]*\),.*/\1/p" \
		"$SRCDIR/src/lib/err.c" | sort -un >code &&
	test "$(wc -l <code)" -ge 10 &&
	mdoc_items | awk "\$1 == \"exit\" { print \$2 }" | sort -un >doc &&
	if ! cmp -s code doc; then
		echo "exit codes in err.c (<) and in postino.8 (>):" >&2
		diff code doc >&2
		exit 1
	fi
'

# mdoc_findings: the items of CHECK FINDINGS in postino.8 as lines
# "NAME WHEN SEVERITIES ITEM": WHEN from the .Ss heading (always, mlmmj,
# deep); SEVERITIES E and/or W as the item's text names "error" and
# "warning", "-" for neither; ITEM numbers the .It the name is in.  A
# name written "db_grants\&: Ns Ar table" is "db_grants:*".
mdoc_findings() {
	awk '
	function flush(    i, s) {
		if (item == 0)
			return
		s = ""
		if (text ~ /(^|[^A-Za-z])[Ee]rror([^a-z]|$)/) s = s "E"
		if (text ~ /(^|[^A-Za-z])[Ww]arning([^a-z]|$)/) s = s "W"
		if (s == "") s = "-"
		for (i = 1; i <= nnames; i++)
			print names[i], when, s, item
		nnames = 0
		text = ""
	}
	/^\.Sh / { flush(); sh = substr($0, 5); next }
	sh != "CHECK FINDINGS" { next }
	/^\.Ss / {
		flush()
		when = $0 ~ /mlmmj/ ? "mlmmj" : $0 ~ /deep/ ? "deep" : "always"
		next
	}
	/^\.El/ { flush(); next }
	/^\.It Li / {
		flush()
		item++
		for (i = 3; i <= NF; i++) {
			if ($i == "," || $i ~ /^[A-Z][a-z]$/)
				continue
			f = $i
			gsub(/\\&/, "", f)
			if ($(i + 1) == "Ns") {
				f = f "*"
				i += 3
			}
			names[++nnames] = f
		}
		next
	}
	item > 0 { text = text " " $0 }
	END { flush() }
	' "$MAN/postino.8"
}

test_expect_success 'the probe table and postino(8) CHECK FINDINGS agree' '
	check-rules >rules &&
	test "$(wc -l <rules)" -ge 60 &&
	mdoc_findings >doc &&
	cut -d" " -f1,2 rules | sort >code.names &&
	cut -d" " -f1,2 doc | sort >doc.names &&
	if ! cmp -s code.names doc.names; then
		echo "findings (and their heading) only in the probe table (<)" >&2
		echo "of src/model/check/table.c or only in postino.8 (>):" >&2
		diff code.names doc.names >&2
		exit 1
	fi &&
	awk "
	NR == FNR { sev[\$1] = \$3; next }
	{
		item[\$4] = item[\$4] \" \" \$1
		said[\$4] = \$3
		s = sev[\$1]
		if (s ~ /E/) e[\$4] = 1
		if (s ~ /W/) w[\$4] = 1
	}
	END {
		for (i in item) {
			want = (e[i] ? \"E\" : \"\") (w[i] ? \"W\" : \"\")
			if (want == \"\") want = \"-\"
			if (want != said[i]) {
				printf \"%s: the table says %s, postino.8 %s\\n\", item[i], want, said[i]
				bad = 1
			}
		}
		exit bad
	}" rules doc >&2
'

test_expect_success 'the probe table lists every finding the probes name' '
	cat "$SRCDIR"/src/model/check/*.c | tr -d "\n" |
		grep -o -e "finding(c,[[:space:]]*\"[^\"]*\"" \
			-e "finding_if(c,[^\"]*\"[^\"]*\"" |
		sed "s/.*\"\(.*\)\"/\1/" | sort -u >code &&
	test "$(wc -l <code)" -ge 20 &&
	check-rules | cut -d" " -f1 | sort -u >table &&
	comm -23 code table >missing &&
	if [ -s missing ]; then
		echo "findings the probes report but src/model/check/table.c does not list:" >&2
		cat missing >&2
		exit 1
	fi
'

test_expect_success 'man/meson.build installs every page' '
	for page in "$MAN"/*.[1-9]; do
		name=$(basename "$page")
		grep -q "$name" "$MAN/meson.build" ||
			{ echo "$name is not installed by man/meson.build" >&2; exit 1; }
	done
'

test_done
