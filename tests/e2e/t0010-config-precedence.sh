#!/bin/sh
# Which postino.toml wins.  Lowest to highest: /etc/postino,
# /usr/local/etc/postino, ~/.config/postino, $POSTINO_CONFIG (or -c), the
# environment; postino.toml(5) says so.  This is the order Python postino's
# code followed (its README said the reverse for the two system and user
# files).  The system directories are private bind mounts (unshare), so the
# machine's own files are neither read nor touched.  Needs root.
. "$(dirname "$0")/../lib/test-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
need_cmd unshare mount
unshare --mount true 2>/dev/null ||
	test_skip_or_fail "unshare --mount is not allowed here"

mkdir -p usrlocal/postino etc-postino "$HOME/.config/postino"

# in_ns CMD...: run CMD with usrlocal/ as /usr/local/etc and, where /etc
# has a postino directory to cover, etc-postino/ as /etc/postino.
in_ns() {
	unshare --mount sh -c '
		mount --bind "$TEST_DIR/usrlocal" /usr/local/etc || exit 99
		if [ -d /etc/postino ]; then
			mount --bind "$TEST_DIR/etc-postino" /etc/postino || exit 99
		fi
		exec "$@"' sh "$@"
}

origin() {
	in_ns postino --json config show -n >show.json &&
	jq -r ".[] | select(.name == \"$1\") | \"\(.value) \(.origin)\"" show.json
}

test_expect_success '/usr/local/etc is read' '
	printf "vmail_uid = 1\nvmail_gid = 1\nbcrypt_cost = 5\n" >usrlocal/postino/postino.toml &&
	check_eq "$(origin vmail_uid)" "1 /usr/local/etc/postino/postino.toml:1"
'

test_expect_success '~/.config beats /usr/local/etc, key by key' '
	printf "vmail_uid = 2\n" >"$HOME/.config/postino/postino.toml" &&
	check_eq "$(origin vmail_uid)" "2 $HOME/.config/postino/postino.toml:1" &&
	check_eq "$(origin vmail_gid)" "1 /usr/local/etc/postino/postino.toml:2"
'

test_expect_success '$POSTINO_CONFIG beats ~/.config; -c takes its place' '
	printf "vmail_uid = 3\n" >explicit.toml &&
	printf "vmail_uid = 4\n" >other.toml &&
	check_eq "$(POSTINO_CONFIG=$TEST_DIR/explicit.toml origin vmail_uid)" \
		"3 $TEST_DIR/explicit.toml:1" &&
	POSTINO_CONFIG=$TEST_DIR/explicit.toml in_ns postino -c "$TEST_DIR/other.toml" \
		--json config show -n >show.json &&
	check_eq "$(jq -r ".[] | select(.name == \"vmail_uid\") | .value" show.json)" 4
'

test_expect_success 'the environment beats every file' '
	check_eq "$(POSTINO_VMAIL_UID=5 origin vmail_uid)" "5 env POSTINO_VMAIL_UID"
'

test_expect_success 'postino.toml(5) documents this order' '
	sed -n "/^.Sh DESCRIPTION/,/^.Pp/p" "$SRCDIR/man/postino.toml.5" >order &&
	check_eq "$(grep "^.Pa [/~]" order | cut -d" " -f2 | tr "\n" " ")" \
		"/etc/postino/postino.toml /usr/local/etc/postino/postino.toml ~/.config/postino/postino.toml "
'

test_done
