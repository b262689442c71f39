#!/bin/sh
# quickstart.sh: install, build, and run postino's main job on the SQLite
# default in ./demo: a database, a domain, a mailbox with a password from
# stdin, listings as a table and as JSON, and the consistency check.
set -eu
cd "$(dirname "$0")/.."

step() {
	printf '\n\033[1m$ %s\033[0m\n' "$*"
	"$@"
}

./scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
PATH="$PWD/build/src/cli:$PATH"
rm -rf demo
# Maildirs belong to an unprivileged user: ourselves, or nobody when root
# (a real host uses a dedicated vmail user).
uid=$(id -u) gid=$(id -g)
[ "$uid" -ne 0 ] || { uid=65534; gid=65534; }
step postino init --dir demo --mail-root demo/vmail \
	--vmail-uid "$uid" --vmail-gid "$gid"
export POSTINO_CONFIG="$PWD/demo/postino.toml"
step postino domain add example.org --max-mailboxes 100 --default-quota 5G
printf '\n\033[1m$ printf "change-me\\n" | postino user add alice@example.org --name Alice --password-stdin\033[0m\n'
printf 'change-me\n' | postino user add alice@example.org --name Alice --password-stdin
step postino alias add info@example.org alice@example.org
step postino user list
step postino user list --json
step postino check --deep
printf '\nDone.  Try: export POSTINO_CONFIG=%s; postino --help\n' "$POSTINO_CONFIG"
