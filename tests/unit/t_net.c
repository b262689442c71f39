/* net_split_hostport / net_listen: every listen key reads the same. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "net.h"
#include "tap.h"

static const struct {
	const char *spec, *host, *port; /* host NULL: refused */
} cases[] = {
	{ "127.0.0.1:8080", "127.0.0.1", "8080" },
	{ "*:25", "0.0.0.0", "25" },
	{ ":9100", "0.0.0.0", "9100" },
	{ "[::1]:443", "::1", "443" },
	{ "[::]:0", "::", "0" },
	{ "localhost:0065", "localhost", "65" },
	{ "host.example:65535", "host.example", "65535" },
	{ "127.0.0.1", NULL, NULL },
	{ "127.0.0.1:", NULL, NULL },
	{ "127.0.0.1:65536", NULL, NULL },
	{ "127.0.0.1:-1", NULL, NULL },
	{ "127.0.0.1:http", NULL, NULL },
	{ "[::1]", NULL, NULL },
	{ "[::1:80", NULL, NULL },
	{ "[]:80", NULL, NULL },
	{ "::1:80x", NULL, NULL },
};

static void
test_split(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;
		char host[64] = "", port[16] = "";
		int r = net_split_hostport(cases[i].spec, host, sizeof(host),
		    port, sizeof(port), "x.listen", &e);

		if (cases[i].host == NULL) {
			ok(r == -1 && e.kind == ERR_CONFIG &&
				strstr(e.msg, "x.listen: '") != NULL &&
				strstr(e.msg, "is not host:port") != NULL,
			    "'%s' refused, naming the key (%s)", cases[i].spec,
			    e.msg);
			continue;
		}
		ok(r == 0, "'%s' splits", cases[i].spec);
		is_str(host, cases[i].host, "'%s' host", cases[i].spec);
		is_str(port, cases[i].port, "'%s' port", cases[i].spec);
	}
	{
		struct err e = ERR_INIT;
		char host[8], port[16];

		ok(net_split_hostport("very-long-host:1", host, sizeof(host),
		       port, sizeof(port), "x", &e) == -1,
		    "a host longer than the buffer is refused, not cut");
	}
}

static void
test_listen(void)
{
	struct err e = ERR_INIT;
	char where[64], again[64];
	int fd, fd2;

	fd = net_listen("127.0.0.1:0", 8, "x.listen", where, sizeof(where), &e);
	ok(fd >= 0, "127.0.0.1:0 listens (%s)", e.msg);
	ok(strncmp(where, "127.0.0.1:", 10) == 0 &&
		strcmp(where, "127.0.0.1:0"),
	    "where names the port the kernel chose (%s)", where);
	/* The same port again: a clear error naming the key and the spec. */
	fd2 = net_listen(where, 8, "x.listen", again, sizeof(again), &e);
	ok(fd2 == -1 && e.kind == ERR_CONFIG &&
		strstr(e.msg, "x.listen: cannot listen on") != NULL &&
		strstr(e.msg, where) != NULL,
	    "a port in use is refused (%s)", e.msg);
	{
		struct sockaddr_in sin;
		int c = socket(AF_INET, SOCK_STREAM, 0), port = 0;

		sscanf(where + 10, "%d", &port);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok(connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		    "a client connects to it");
		close(c);
	}
	close(fd);
}

int
main(void)
{
	test_split();
	test_listen();
	return done_testing();
}
