# util.sh: shell helpers shared by the test library, the server starter,
# scripts/valgrind.sh and the benchmarks.  POSIX sh; defines functions only.

# free_port: a TCP port free on 127.0.0.1 right now (machines are shared:
# never a fixed one).
free_port() {
	perl -MIO::Socket::INET -e '
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
