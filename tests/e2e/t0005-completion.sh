#!/bin/sh
# Shell completion (etc/completion), driven the way the shells drive it:
# bash through COMP_WORDS/COMP_CWORD and COMPREPLY, zsh through words,
# CURRENT and PREFIX with compadd and _files standing in for the real
# ones.  Commands and options come from "postino help", names from the
# database.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd bash zsh

setup_postino
postino domain add example.org >/dev/null &&
	postino domain add example.net >/dev/null &&
	printf 'pw-%s-secret\n' "$$" | POSTINO_BCRYPT_COST=4 postino user add \
		alice@example.org --password-stdin >/dev/null &&
	postino alias add info@example.org alice@example.org >/dev/null &&
	postino domain add example.com >/dev/null &&
	postino domain alias add example.com --target example.org >/dev/null ||
	test_skip_or_fail "cannot fill the database"

# bash_complete WORD...: what bash offers for the last WORD.
bash_complete() {
	bash -c '
		. "$SRCDIR/etc/completion/postino.bash" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_postino
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$@"
}

# zsh_complete WORD...: what zsh offers for the last WORD.
zsh_complete() {
	zsh -f -c '
		compadd() {
			local a
			while [[ $1 == -* && $1 != -- ]]; do shift; done
			[[ $1 == -- ]] && shift
			for a in "$@"; do
				[[ $a == ${PREFIX}* ]] && print -r -- "$a"
			done
		}
		_files() { print -r -- "(files $*)"; }
		source "$SRCDIR/etc/completion/_postino" >/dev/null 2>&1
		words=("$@")
		CURRENT=$#words
		PREFIX=${words[CURRENT]}
		_postino
	' zsh "$@"
}

# offers SHELL WANT WORD...: the shell offers exactly WANT (lines joined
# with spaces).
offers() {
	_sh=$1 _want=$2
	shift 2
	_got=$("${_sh}_complete" "$@" | tr '\n' ' ' | sed 's/ $//')
	check_eq "$_got" "$_want" "$_sh: $*"
}

for sh in bash zsh; do
	test_expect_success "$sh: postino us<TAB> completes to user" "
		offers $sh user postino us
	"

	test_expect_success "$sh: postino user a<TAB> completes to add" "
		offers $sh add postino user a
	"

	test_expect_success "$sh: subcommands, options, global options" "
		offers $sh 'add list show retarget enable disable del' postino domain alias '' &&
		offers $sh '--max-mailboxes --max-aliases --max-quota' postino domain add --max- &&
		offers $sh '--json' postino --js &&
		offers $sh '--keep-maildir' postino user del alice@example.org --keep &&
		offers $sh 'config' postino -c \"\$POSTINO_CONFIG\" con
	"

	test_expect_success "$sh: names from the database" "
		offers $sh 'example.com example.net example.org' postino user list --domain example. &&
		offers $sh 'alice@example.org' postino user del '' &&
		offers $sh 'info@example.org' postino alias show '' &&
		offers $sh 'example.com' postino domain alias del '' &&
		offers $sh 'bob@example.com bob@example.net bob@example.org' postino user add bob@ &&
		offers $sh 'example.org' postino domain alias retarget example.com --target example.o
	"

	test_expect_success "$sh: option values, and help" "
		offers $sh 'jsonl csv' postino export --format '' &&
		offers $sh 'add alias' postino help domain a
	"
done

test_expect_success 'bash: files for FILE arguments' '
	mkdir -p files && : >files/mail.jsonl &&
	offers bash files/mail.jsonl postino import files/m
'

test_expect_success 'zsh: files for FILE arguments' '
	offers zsh "(files )" postino import files/m
'

test_expect_success 'no database: commands still complete, names are empty' '
	POSTINO_CONFIG=$TEST_DIR/none.toml offers bash user postino us &&
	POSTINO_CONFIG=$TEST_DIR/none.toml offers bash "" postino user del ""
'

test_done
