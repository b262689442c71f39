#!/bin/sh
# Install every Debian 12 package postino needs to build, test and benchmark.
# Idempotent; run as root (or through sudo) when something is missing; with
# everything installed it needs neither.  Starts no services.
set -eu

export DEBIAN_FRONTEND=noninteractive

build="build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
	clang-format mandoc git ca-certificates debhelper"
libs="libsqlite3-dev libmariadb-dev libpq-dev libcrypt-dev libargon2-dev
	libssl-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
	libhiredis-dev libseccomp-dev libc-ares-dev"
servers="sqlite3 mariadb-server mariadb-client postgresql postgresql-client
	redis-server redis-tools"
mail="postfix postfix-mysql postfix-pgsql postfix-sqlite dovecot-core
	dovecot-imapd dovecot-lmtpd dovecot-mysql dovecot-pgsql dovecot-sqlite
	mlmmj"
tests="jq bc time cpio python3-sqlalchemy python3-click perl procps psmisc iproute2 util-linux openssl python3
	python3-jwt python3-cryptography python3-requests valgrind hyperfine
	man-db zsh pgbouncer nsd"
# Commands the tests, scripts and benches call: curl (the postinod tests),
# systemd-analyze and lintian (t0004), wrk (bench/postinod/run), stress-ng
# (tests/run --stress), debootstrap (scripts/fresh-check, and t7005's
# Debian 13 root, tests/lib/debian-root.sh).
tools="curl systemd lintian wrk stress-ng debootstrap"
# Packages that bring a service of their own, installed apart below with
# their services kept from starting: PostfixAdmin and PHP (t8002); the
# several-hosts tests (t95*): Galera (MariaDB's wsrep provider, rsync for
# its state transfers), HAProxy in front of two postinod, and Prometheus
# (promtool checks the metrics text, a real server scrapes it).
pfa="postfixadmin php-cli php-sqlite3 php-mysql php-pgsql php-mbstring
	galera-4 rsync haproxy prometheus"

missing=
for p in $build $libs $servers $mail $tests $tools $pfa; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps.sh: missing:$missing" >&2
		echo "installing them needs root, and sudo is not installed;" \
			"run as root: su -c '$0'" >&2
		exit 77
	}
	SUDO=sudo
fi

# Postfix asks a debconf question at install time; answer it so the
# install never prompts and never writes a live /etc/postfix/main.cf.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections

$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
	$build $libs $servers $mail $tests $tools >/dev/null

# PostfixAdmin's own PHP code judges the shared database in the tests
# (t8002).  Its package depends on a web server (apache2 by default),
# haproxy and prometheus are daemons too: a temporary policy-rc.d keeps
# them from starting, systemd is told not to start them at boot, and
# dbconfig-common is told to leave databases alone.
echo "postfixadmin postfixadmin/dbconfig-install boolean false" |
	$SUDO debconf-set-selections
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
	for s in apache2 haproxy prometheus; do
		$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
fi
