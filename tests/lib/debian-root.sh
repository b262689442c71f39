#!/bin/sh
# debian-root.sh: build (once) and print a Debian root with Postfix and
# Dovecot installed, for tests that judge the generated configuration
# against a stock Debian release.
#
#	tests/lib/debian-root.sh SUITE
#
# The root is cached outside the clone, in
# $POSTINO_TEST_CACHE (default /var/cache/postino-tests)/SUITE-HASH, where
# HASH covers the suite, the mirror and the package list: changing any of
# them builds a new root; a missing or half-built one is built again.  The
# packages come from the mirror apt already uses on this machine.  A
# usr/sbin/policy-rc.d that exits 101 is in place before any package is
# installed, so nothing inside the root is ever started (no listener on
# port 25).  The root's path is printed on stdout; progress goes to stderr.
# Needs root (debootstrap, chroot).
set -eu

SUITE=${1:?usage: debian-root.sh SUITE}
PACKAGES="postfix postfix-sqlite postfix-pgsql postfix-mysql
dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sqlite dovecot-pgsql
dovecot-mysql"
CACHE=${POSTINO_TEST_CACHE:-/var/cache/postino-tests}

# The mirror apt uses here (deb822 or one-line sources), else Debian's.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p;s/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -v -e security -e '^cdrom:' | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

hash=$(printf '%s\n%s\n%s\n' "$SUITE" "$mirror" "$PACKAGES" |
	sha256sum | cut -c1-12)
root=$CACHE/$SUITE-$hash

if [ -f "$root/.postino-complete" ]; then
	echo "$root"
	exit 0
fi

command -v debootstrap >/dev/null || {
	echo "debian-root.sh: debootstrap is not installed" >&2
	exit 1
}
mkdir -p "$CACHE"
# One builder at a time; a second one waits and then finds the root ready.
exec 9>"$CACHE/.$SUITE-$hash.lock"
flock 9
if [ -f "$root/.postino-complete" ]; then
	echo "$root"
	exit 0
fi

work=$root.tmp
mounted=
cleanup() {
	for m in $mounted; do
		umount -l "$m" 2>/dev/null || :
	done
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

rm -rf "$work"
start=$(date +%s)
echo "debian-root.sh: debootstrap $SUITE from $mirror into $work" >&2
debootstrap --variant=minbase "$SUITE" "$work" "$mirror" >&2

cat >"$work/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# Installed by postino's tests: never start a service in this root.
exit 101
EOF
chmod 755 "$work/usr/sbin/policy-rc.d"

mount -t proc proc "$work/proc"
mounted="$work/proc"
cp /etc/resolv.conf "$work/etc/resolv.conf" 2>/dev/null || :
echo "debian-root.sh: installing $(echo $PACKAGES)" >&2
# shellcheck disable=SC2086
chroot "$work" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
	sh -c 'echo "postfix postfix/main_mailer_type select Local only" |
		debconf-set-selections &&
		apt-get install -y --no-install-recommends "$@" &&
		apt-get clean' sh $PACKAGES >&2
umount "$work/proc"
mounted=

touch "$work/.postino-complete"
mv "$work" "$root"
echo "debian-root.sh: built $root in $(($(date +%s) - start))s" >&2
echo "$root"
