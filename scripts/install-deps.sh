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
	libhiredis-dev libseccomp-dev libc-ares-dev"
servers="sqlite3 mariadb-server mariadb-client postgresql postgresql-client
	redis-server redis-tools"
mail="postfix postfix-mysql postfix-pgsql postfix-sqlite dovecot-core
	dovecot-imapd dovecot-lmtpd dovecot-mysql dovecot-pgsql dovecot-sqlite
	mlmmj"
tests="jq bc time cpio python3-sqlalchemy python3-click perl procps psmisc iproute2 util-linux openssl python3
	python3-jwt python3-cryptography python3-requests valgrind hyperfine
	man-db zsh pgbouncer nsd"
# t7005 builds a Debian 13 root (tests/lib/debian-root.sh) to judge the
# generated Dovecot 2.4 configuration with Debian 13's own packages.
tests="$tests debootstrap"

$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
	$build $libs $servers $mail $tests >/dev/null
