#!/bin/sh
# "meson install" puts everything where it belongs and nowhere else: the
# build under test installed with --destdir, and a fresh configuration
# with another --prefix and the rc.d scripts turned on, inspected with
# "meson introspect --installed" (nothing is compiled for that).
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd meson jq

opt() {
	meson introspect --buildoptions "$1" |
		jq -r --arg n "$2" '.[] | select(.name == $n) | .value'
}

test_expect_success 'meson install --destdir installs every part' '
	meson install -C "$BUILD_DIR" --no-rebuild --quiet \
		--destdir "$TEST_DIR/root" >install.log 2>&1 ||
		{ cat install.log; exit 1; }
	prefix=$(opt "$BUILD_DIR" prefix) &&
	sbin=$TEST_DIR/root$prefix/$(opt "$BUILD_DIR" sbindir) &&
	man=$TEST_DIR/root$prefix/$(opt "$BUILD_DIR" mandir) &&
	data=$TEST_DIR/root$prefix/$(opt "$BUILD_DIR" datadir) &&
	sysconf=$(opt "$BUILD_DIR" sysconfdir) &&
	case $sysconf in /*) ;; *) sysconf=$prefix/$sysconf ;; esac &&
	for f in "$sbin/postino" "$sbin/podop" "$sbin/postinod"; do
		test -x "$f" || { echo "missing $f" >&2; exit 1; }
	done &&
	for f in man8/postino.8 man8/podop.8 man8/postinod.8 \
		man5/postino.toml.5; do
		test -f "$man/$f" || { echo "missing $man/$f" >&2; exit 1; }
	done &&
	test -f "$data/bash-completion/completions/postino" &&
	test -f "$data/zsh/site-functions/_postino" &&
	test -f "$TEST_DIR/root$sysconf/postino/postino.toml.sample" &&
	units=$TEST_DIR/root$prefix/lib/systemd/system &&
	test -f "$units/postinod.service" && test -f "$units/podop.service" &&
	test -f "$units/podop@.service" &&
	check_grep "^ExecStart=$prefix/$(opt "$BUILD_DIR" sbindir)/podop$" \
		"$units/podop.service" &&
	! grep -q "@[a-z]*@" "$units/postinod.service"
'

test_expect_success 'another --prefix, with rc.d scripts: every path moves' '
	meson setup "$TEST_DIR/b" "$SRCDIR" --prefix=/opt/postino \
		--sysconfdir=/etc/opt/postino -Drcddir=/opt/postino/etc/rc.d \
		-Dfuzz=false >setup.log 2>&1 || { tail -20 setup.log; exit 1; }
	meson introspect --installed "$TEST_DIR/b" |
		jq -r ".[]" | sort >installed &&
	cat installed &&
	! grep -v -e "^/opt/postino/" -e "^/etc/opt/postino/" installed &&
	for f in /opt/postino/sbin/postino /opt/postino/sbin/podop \
		/opt/postino/share/man/man8/postino.8 \
		/opt/postino/share/man/man5/postino.toml.5 \
		/opt/postino/etc/rc.d/podop /opt/postino/etc/rc.d/postinod \
		/opt/postino/lib/systemd/system/podop.service \
		/etc/opt/postino/postino/postino.toml.sample; do
		grep -qx "$f" installed || { echo "not installed: $f" >&2; exit 1; }
	done &&
	for s in podop postinod; do
		sh -n "$TEST_DIR/b/etc/$s" &&
		check_grep "^procname=\"/opt/postino/sbin/$s\"$" "$TEST_DIR/b/etc/$s" || exit 1
	done &&
	check_grep "^ExecStart=/opt/postino/sbin/postinod$" \
		"$TEST_DIR/b/etc/postinod.service" &&
	check_grep "^EnvironmentFile=-/etc/opt/postino/postino/postinod.env$" \
		"$TEST_DIR/b/etc/postinod.service"
'

test_done
