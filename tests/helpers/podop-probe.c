/*
 * podop-probe: send raw bytes to a socket server and print what comes
 * back, for tests that need what no real client sends (malformed frames,
 * pipelining, requests split across writes, oversized lines).
 *
 *	podop-probe [-c chunk] [-d delay_ms] [-w wait_ms] [-k] ENDPOINT
 *
 * ENDPOINT is a UNIX socket path or HOST:PORT.  Standard input is sent in
 * chunks of -c bytes (default: all at once) with -d ms between them; then
 * the write side is shut down (unless -k) and everything the server sends
 * is copied to standard output until it closes the connection or -w ms
 * (default 2000) pass without data.  The last line on standard error is
 * "closed" if the server closed the connection, "open" otherwise.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
connect_to(const char *ep)
{
	const char *colon = strrchr(ep, ':');
	int fd;

	if (ep[0] == '/' || colon == NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ep);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			return -1;
		return fd;
	} else {
		struct addrinfo hints, *res;
		char host[256];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - ep), ep);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, res->ai_socktype, 0);
		if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen)) {
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		return fd;
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Copy to stdout until nothing comes for wait_ms; -1 on EOF. */
static int
drain(int fd, int wait_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[65536];
	ssize_t n;

	while (poll(&p, 1, wait_ms) == 1) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	size_t chunk = 0, len = 0, cap = 1 << 16;
	long delay = 0, wait_ms = 2000;
	int keep = 0, ch, fd, closed = 0;
	char *in = malloc(cap);

	while ((ch = getopt(argc, argv, "c:d:w:k")) != -1) {
		switch (ch) {
		case 'c':
			chunk = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			delay = strtol(optarg, NULL, 10);
			break;
		case 'w':
			wait_ms = strtol(optarg, NULL, 10);
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: podop-probe [-c chunk] "
			    "[-d delay_ms] [-w wait_ms] [-k] ENDPOINT\n");
			return 64;
		}
	}
	if (optind != argc - 1)
		return 64;
	for (;;) {
		size_t n;

		if (len == cap)
			in = realloc(in, cap *= 2);
		n = fread(in + len, 1, cap - len, stdin);
		if (n == 0)
			break;
		len += n;
	}
	if ((fd = connect_to(argv[optind])) == -1) {
		fprintf(stderr, "podop-probe: cannot connect to %s: %s\n",
		    argv[optind], strerror(errno));
		return 1;
	}
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	for (size_t off = 0; off < len && !closed; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t done = 0;

		while (done < n) {
			ssize_t w =
			    send(fd, in + off + done, n - done, MSG_NOSIGNAL);

			if (w <= 0) {
				closed = 1;
				break;
			}
			done += (size_t)w;
			/* Keep reading, or a server writing back blocks. */
			if (drain(fd, 0) == -1)
				closed = 1;
		}
		if (delay > 0 && off + n < len) {
			sleep_ms(delay);
			if (drain(fd, 0) == -1)
				closed = 1;
		}
	}
	if (!keep && !closed)
		shutdown(fd, SHUT_WR);
	if (!closed && drain(fd, (int)wait_ms) == -1)
		closed = 1;
	fprintf(stderr, "%s\n", closed ? "closed" : "open");
	close(fd);
	free(in);
	return 0;
}
