#!/bin/sh
# Install every Debian 12 package postino needs to build, test and benchmark.
# Idempotent; run as root (or through sudo). Starts no services.
set -eu

export DEBIAN_FRONTEND=noninteractive
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# Postfix asks a debconf question at install time; answer it so the
# install never prompts and never writes a live /etc/postfix/main.cf.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections

build="build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
	clang-format mandoc git ca-certificates debhelper"
libs="libsqlite3-dev libmariadb-dev libpq-dev libcrypt-dev libargon2-dev
	libssl-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
	libhiredis-dev libseccomp-dev"
servers="sqlite3 mariadb-server mariadb-client postgresql postgresql-client
	redis-server redis-tools"
mail="postfix postfix-mysql postfix-pgsql postfix-sqlite dovecot-core
	dovecot-imapd dovecot-lmtpd dovecot-mysql dovecot-pgsql dovecot-sqlite
	mlmmj"
tests="jq bc time python3-sqlalchemy python3-click perl procps psmisc iproute2 util-linux openssl python3
	python3-jwt python3-cryptography python3-requests valgrind hyperfine
	man-db zsh pgbouncer"

$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
	$build $libs $servers $mail $tests >/dev/null

# PostfixAdmin's own PHP code judges the shared database in the tests
# (t8002).  Its package depends on a web server (apache2 by default): a
# temporary policy-rc.d keeps that from starting, systemd is told not to
# start it at boot, and dbconfig-common is told to leave databases alone.
echo "postfixadmin postfixadmin/dbconfig-install boolean false" |
	$SUDO debconf-set-selections
pfa="postfixadmin php-cli php-sqlite3 php-mysql php-pgsql php-mbstring"
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	policy=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $pfa >/dev/null || {
	[ -z "$policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
	exit 1
}
[ -z "$policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now apache2 >/dev/null 2>&1 || true
fi
