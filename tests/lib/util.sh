# util.sh: shell helpers shared by the test library, the server starter,
# scripts/valgrind.sh and the benchmarks.  POSIX sh; defines functions only.

# free_port: a TCP port free on 127.0.0.1 right now (machines are shared:
# never a fixed one).  Picked at random below the kernel's ephemeral range
# (ip_local_port_range): a port the kernel hands out for "any port" is also
# the local port of the next outgoing connection, so a server started on it
# a moment later could find it taken (Dovecot did: "Address already in use").
free_port() {
	perl -MIO::Socket::INET -e '
		my ($lo) = (eval {
		    open(my $f, "<", "/proc/sys/net/ipv4/ip_local_port_range");
		    split(" ", scalar <$f>) } || 32768);
		my $base = 10000;
		$lo = 20000 if $lo <= $base + 1000;
		for (1 .. 200) {
		    my $p = $base + int(rand($lo - $base));
		    my $s = IO::Socket::INET->new(Listen => 1,
			LocalAddr => "127.0.0.1", LocalPort => $p)
			or next;
		    print "$p\n";
		    exit 0;
		}
		my $s = IO::Socket::INET->new(Listen => 1,
		    LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1)
		    or die "no free port: $!\n";
		print $s->sockport, "\n";'
}

# wait_until SECONDS CMD...: retry CMD every 0.1 s until it succeeds;
# false when SECONDS pass first.
wait_until() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
