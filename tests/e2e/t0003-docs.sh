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
#   check findings       every finding named in src/model/check.c appears
#                        in an ".It Li" item of CHECK FINDINGS.
#   installation         man/meson.build installs every page in man/.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd mandoc jq

MAN=$SRCDIR/man

# mdoc_items FILE: the facts of postino.8 as lines "cmd NAME",
# "opt NAME SPELLING", "global SPELLING", "exit N" and "finding NAME".
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
	sh == "CHECK FINDINGS" && $2 == "Li" {
		for (i = 3; i <= NF; i++) {
			if ($i == "Ns") {
				i += 2
				continue
			}
			if ($i != "," && $i !~ /^[A-Z][a-z]$/) {
				f = $i
				gsub(/\\&/, "", f)
				print "finding", f
			}
		}
	}
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

test_expect_success 'postino(8) CHECK FINDINGS names every finding of check.c' '
	cat "$SRCDIR"/src/model/check/*.c | grep -o "finding(c, *\"[^\"]*\"" |
		sed "s/.*\"\(.*\)\"/\1/" | sort -u >code &&
	test "$(wc -l <code)" -ge 20 &&
	mdoc_items | awk "\$1 == \"finding\" { print \$2 }" | sort -u >doc &&
	comm -23 code doc >missing &&
	if [ -s missing ]; then
		echo "findings check.c reports but postino.8 does not name:" >&2
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
