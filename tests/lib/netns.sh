# netns.sh: hosts for several-hosts tests, as Linux network namespaces,
# sourced after tests/lib/test-lib.sh.
#
#	netns_up N	make hosts 0..N-1 (sets NETNS_PREFIX, NETNS_NET)
#	netns_name I	the namespace of host I
#	netns_ip I	its address on the test network
#	on_host I CMD...	run CMD in host I's namespace
#
# Each host is a namespace with its own loopback and one veth into a
# bridge that lives in a namespace of its own (the "switch"): nothing is
# added to the machine's own namespace, no route leads out, so no packet
# leaves the machine and no address can collide with the machine's or with
# a concurrent run's (theirs are in their own namespaces).  The /24 is still
# one no interface of this machine uses, derived from our PID and probed,
# so that a reader of 'ip netns exec ... ip addr' never confuses two runs.
# Namespace names carry the PID.  Everything is removed when the script
# ends, failed or not: processes still running in a namespace (those the
# test started there) are killed by their PIDs, then the namespaces are
# deleted, which deletes their interfaces.
#
# A machine where namespaces cannot be made (no root, no CAP_SYS_ADMIN, a
# kernel without veth or bridge) skips the test, and fails it under
# POSTINO_TEST_REQUIRE=1 (test_skip_or_fail).

NETNS_PREFIX=
NETNS_NET=
NETNS_N=0

netns_name() {
	echo "${NETNS_PREFIX}h$1"
}

netns_ip() {
	echo "$NETNS_NET.$((10 + $1))"
}

on_host() {
	_h=$(netns_name "$1")
	shift
	ip netns exec "$_h" "$@"
}

# netns_free_net: a 10.X.Y /24 prefix no interface of this machine has.
netns_free_net() {
	_x=$((100 + ($$ / 256) % 100))
	_y=$(($$ % 256))
	_used=$(ip -o -4 addr show 2>/dev/null; ip -4 route show table all 2>/dev/null)
	_i=0
	while [ $_i -lt 256 ]; do
		case $_used in
		*" 10.$_x.$_y."*) ;;
		*)
			echo "10.$_x.$_y"
			return 0
			;;
		esac
		_y=$(((_y + 1) % 256))
		_i=$((_i + 1))
	done
	return 1
}

netns_down() {
	for _ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $_ns in
		"$NETNS_PREFIX"*) ;;
		*) continue ;;
		esac
		for _p in $(ip netns pids "$_ns" 2>/dev/null); do
			kill -9 "$_p" 2>/dev/null
		done
		ip netns del "$_ns" 2>/dev/null
	done
	return 0
}

# netns_up N: hosts 0..N-1 on one bridge; fails (test_skip_or_fail)
# where namespaces cannot be made.
netns_up() {
	need_cmd ip
	[ "$(id -u)" -eq 0 ] || test_skip_or_fail "network namespaces need root"
	NETNS_PREFIX="pst$$"
	NETNS_N=$1
	NETNS_NET=$(netns_free_net) ||
		test_skip_or_fail "no free 10.x.y.0/24 for the test network"
	test_at_exit netns_down
	_sw=${NETNS_PREFIX}sw
	{
		ip netns add "$_sw" &&
			ip -n "$_sw" link set lo up &&
			ip -n "$_sw" link add br0 type bridge &&
			ip -n "$_sw" link set br0 up
	} >"$TEST_DIR/netns.log" 2>&1 ||
		test_skip_or_fail "cannot make a network namespace with a bridge: $(tail -1 "$TEST_DIR/netns.log")"
	_i=0
	while [ $_i -lt "$NETNS_N" ]; do
		_ns=$(netns_name $_i)
		{
			ip netns add "$_ns" &&
				ip -n "$_ns" link set lo up &&
				ip -n "$_ns" link add eth0 type veth peer name "p$_i" netns "$_sw" &&
				ip -n "$_sw" link set "p$_i" master br0 &&
				ip -n "$_sw" link set "p$_i" up &&
				ip -n "$_ns" addr add "$(netns_ip $_i)/24" dev eth0 &&
				ip -n "$_ns" link set eth0 up
		} >>"$TEST_DIR/netns.log" 2>&1 ||
			test_skip_or_fail "cannot make host $_i: $(tail -1 "$TEST_DIR/netns.log")"
		_i=$((_i + 1))
	done
	export NETNS_PREFIX NETNS_NET NETNS_N
}
