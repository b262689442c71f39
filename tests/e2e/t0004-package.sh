#!/bin/sh
# The Debian package, as an administrator meets it: built from a copy of
# the tree with "dpkg-buildpackage -us -uc -b" (unit tests skipped, they
# run in tests/run; lintian when it is installed), installed on this
# machine with dpkg, used from PATH (postino --version, postino init and a
# domain on SQLite, the other programs, "man postino", bash completion,
# the systemd units), then removed, leaving none of its files behind.
# Before that, in a private "dpkg --root" tree, it replaces a stand-in for
# il-postino, the Python postino package, which ships postinod.service too.
#
# It needs root, debhelper and the Build-Depends, and it will not touch a
# machine where a postino package is already installed.  The package build
# takes about a minute on two cores.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd dpkg-buildpackage dpkg-checkbuilddeps dh dpkg man
[ "$(id -u)" -eq 0 ] || test_skip_or_fail "installing a package needs root"
for p in postino postino-mysql postino-pgsql; do
	if dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q " installed$"; then
		test_skip_or_fail "package $p is already installed here; not replacing it"
	fi
done
(cd "$SRCDIR" && dpkg-checkbuilddeps) >builddeps.log 2>&1 ||
	test_skip_or_fail "$(cat builddeps.log)"

# Programs from the package only, never from the build tree.
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin

# build_packages: the .debs in $TEST_DIR/pkg, from a copy of the tree.
build_packages() {
	mkdir -p pkg/postino || return 1
	(cd "$SRCDIR" && tar --exclude="./build*" --exclude=./.git \
		--exclude=./demo --exclude=./bench --exclude="*.log" -cf - .) |
		tar -xf - -C pkg/postino || return 1
	if ! (cd pkg/postino &&
		DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b) >build.log 2>&1; then
		tail -40 build.log
		return 1
	fi
	ls pkg/postino_*.deb pkg/postino-mysql_*.deb pkg/postino-pgsql_*.deb
}

# install_packages: dpkg -i them, and remember their files.
install_packages() {
	test_at_exit "dpkg --purge postino-mysql postino-pgsql postino"
	if ! dpkg -i pkg/postino_*.deb pkg/postino-mysql_*.deb \
		pkg/postino-pgsql_*.deb >install.log 2>&1; then
		cat install.log
		return 1
	fi
	dpkg -L postino postino-mysql postino-pgsql | sort -u >files &&
		test -s files
}

test_setup 'dpkg-buildpackage builds the packages from the tree' '
	build_packages
'

# The Python package's name and the file both ship; built here, as
# dpkg-deb makes it, since the real one is not in Debian.
build_il_postino() {
	mkdir -p il/DEBIAN il/lib/systemd/system &&
	printf '%s\n' "[Unit]" "Description=Python postinod" "[Service]" \
		"User=postinod" "ExecStart=/usr/bin/postinod" \
		>il/lib/systemd/system/postinod.service &&
	printf '%s\n' "Package: il-postino" "Version: 0.12.3-1" \
		"Architecture: all" "Maintainer: test <test@example.org>" \
		"Description: stand-in for the Python postino package" \
		" It ships postinod.service, as the real one does." \
		>il/DEBIAN/control &&
	dpkg-deb --root-owner-group --build il il-postino.deb >/dev/null
}

# pdpkg ARGS: dpkg on the private tree $ROOT.  Maintainer scripts run
# outside it with DPKG_ROOT set (there is no shell inside); dependencies
# on the system's libraries are not there to be met.
pdpkg() {
	dpkg --root="$ROOT" --log=/dev/null --force-script-chrootless \
		--force-depends "$@"
}

pstatus() {
	dpkg-query --admindir="$ROOT/var/lib/dpkg" -W \
		-f '${db:Status-Status}' "$1" 2>/dev/null || echo not-installed
}

test_expect_success 'postino replaces il-postino (Python) in a private dpkg --root tree' '
	build_il_postino &&
	ROOT=$TEST_DIR/root &&
	mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" &&
	: >"$ROOT/var/lib/dpkg/status" &&
	pdpkg -i il-postino.deb >il.log 2>&1 || { cat il.log; exit 1; }
	check_eq "$(pstatus il-postino)" installed &&
	check_grep "Python postinod" "$ROOT/lib/systemd/system/postinod.service" &&
	pdpkg -i pkg/postino_*.deb >up.log 2>&1 || { cat up.log; exit 1; }
	check_eq "$(pstatus postino)" installed &&
	check_eq "$(pstatus il-postino)" not-installed &&
	check_grep "postino SCIM and Zitadel webhook service" \
		"$ROOT/lib/systemd/system/postinod.service" &&
	test -x "$ROOT/usr/sbin/postino"
'

test_expect_success 'lintian finds nothing the overrides do not explain' '
	if ! command -v lintian >/dev/null 2>&1; then
		echo "# lintian is not installed; not run"
		exit 0
	fi &&
	lintian -I --pedantic pkg/postino_*.changes >lintian.out 2>lintian.err
	rc=$?
	cat lintian.out &&
	test $rc -eq 0 && ! grep -q "^[EWIPX]: " lintian.out
'

test_setup 'dpkg installs them' '
	install_packages
'

test_expect_success 'the package made the system user postinod runs as' '
	getent passwd postinod >/dev/null &&
	getent group postinod >/dev/null
'

test_expect_success 'the three programs run from PATH' '
	test "$(PATH=$SYS_PATH command -v postino)" = /usr/sbin/postino &&
	PATH=$SYS_PATH postino --version >out &&
	check_grep "^postino " out &&
	check_grep "^engines: sqlite mysql pgsql$" out &&
	check_grep "^modules: /usr/lib/.*/postino$" out &&
	modules=$(sed -n "s/^modules: //p" out) &&
	test -f "$modules/postino-db-mysql.so" &&
	test -f "$modules/postino-db-pgsql.so" &&
	PATH=$SYS_PATH podop --version &&
	PATH=$SYS_PATH postinod -V
'

test_expect_success 'postino init and a domain on SQLite' '
	PATH=$SYS_PATH postino init --dir "$TEST_DIR/etc" \
		--mail-root "$TEST_DIR/vmail" --vmail-uid "$VMAIL_UID" \
		--vmail-gid "$VMAIL_GID" &&
	export POSTINO_CONFIG="$TEST_DIR/etc/postino.toml" &&
	PATH=$SYS_PATH postino domain add example.org &&
	PATH=$SYS_PATH postino --json domain list >out &&
	json ".[0].domain == \"example.org\"" out
'

test_expect_success 'man opens the pages' '
	test "$(man -w postino)" = /usr/share/man/man8/postino.8.gz &&
	MANPAGER=cat MANWIDTH=80 man postino >out 2>err &&
	check_grep "administer Postfix and Dovecot" out &&
	MANPAGER=cat man 5 postino.toml | grep -q "POSTINO_VMAIL_UID" &&
	MANPAGER=cat man podop | grep -q socketmap &&
	MANPAGER=cat man postinod | grep -q SCIM &&
	man -l /usr/share/man/man8/postino.8.gz >/dev/null
'

test_expect_success 'bash completes postino us<TAB> to user, from the package' '
	PATH=$SYS_PATH bash -c "
		. /usr/share/bash-completion/completions/postino &&
		COMP_WORDS=(postino us) COMP_CWORD=1 && _postino &&
		test \"\${COMPREPLY[*]}\" = user
	" &&
	test -f /usr/share/zsh/vendor-completions/_postino
'

test_expect_success 'the systemd units are valid' '
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		echo "# systemd-analyze is not installed; not run"
		exit 0
	fi &&
	cp /lib/systemd/system/podop@.service podop@postfix.service &&
	systemd-analyze verify /lib/systemd/system/podop.service \
		/lib/systemd/system/postinod.service \
		"$TEST_DIR/podop@postfix.service" >verify 2>&1 &&
	if [ -s verify ]; then cat verify; exit 1; fi &&
	! systemctl is-enabled podop.service 2>/dev/null | grep -q "^enabled"
'

test_expect_success 'dpkg -r removes every file it installed, and --purge the rest' '
	dpkg -r postino-mysql postino-pgsql postino >remove.log 2>&1 ||
		{ cat remove.log; exit 1; }
	while read -r f; do
		case $f in
		*postino*) [ ! -e "$f" ] ;;	# its own directories too
		*) [ -d "$f" ] || [ ! -e "$f" ] ;;
		esac || { echo "left behind: $f" >&2; exit 1; }
	done <files &&
	# Only the maintainer scripts dh_installsystemd wrote stay, for purge.
	dpkg --purge postino-mysql postino-pgsql postino >purge.log 2>&1 ||
		{ cat purge.log; exit 1; }
	for p in postino postino-mysql postino-pgsql; do
		status=$(dpkg-query -W -f "\${db:Status-Status}" "$p" 2>/dev/null || echo not-installed)
		test "$status" = not-installed ||
			{ echo "$p is $status" >&2; exit 1; }
	done
'

test_done
