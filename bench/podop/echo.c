/*
 * echo: the physical baseline for podop's benchmark.  A socketmap server
 * that does nothing but frame: it parses each netstring request
 * "map key" and answers "OK key", on one epoll loop per thread (-t, like
 * podop's --workers), with no tables, cache or threads behind it.
 *
 *	echo -s SOCKET [-t threads]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUFSZ 65536

struct conn {
	int fd;
	size_t ilen;
	char in[BUFSZ];
	char out[BUFSZ + 64];
};

static int lfd;

static void *
loop(void *arg)
{
	struct epoll_event ev[256], e = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int ep = epoll_create1(0);

	(void)arg;
	e.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	for (;;) {
		int n = epoll_wait(ep, ev, 256, -1);

		for (int k = 0; k < n; k++) {
			struct conn *c = ev[k].data.ptr;
			size_t off = 0, olen = 0;
			ssize_t r;

			if (c == NULL) {
				int fd =
				    accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
				struct epoll_event ce = { .events = EPOLLIN };

				if (fd == -1)
					continue;
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				ce.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
				continue;
			}
			r = read(c->fd, c->in + c->ilen, BUFSZ - c->ilen);
			if (r <= 0) {
				if (r == -1 && errno == EAGAIN)
					continue;
				close(c->fd);
				free(c);
				continue;
			}
			c->ilen += (size_t)r;
			for (;;) {
				size_t len = 0, i = off;
				char *sp;

				while (i < c->ilen && c->in[i] != ':')
					len = len * 10 +
					    (size_t)(c->in[i++] - '0');
				if (i == c->ilen || c->ilen - i < len + 2)
					break;
				sp = memchr(c->in + i + 1, ' ', len);
				{
					const char *key =
					    sp != NULL ? sp + 1 : c->in + i + 1;
					size_t kl =
					    (size_t)(c->in + i + 1 + len - key);

					olen += (size_t)snprintf(c->out + olen,
					    sizeof(c->out) - olen,
					    "%zu:OK %.*s,", kl + 3, (int)kl,
					    key);
				}
				off = i + 1 + len + 1;
			}
			memmove(c->in, c->in + off, c->ilen - off);
			c->ilen -= off;
			if (olen > 0)
				(void)!write(c->fd, c->out, olen);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	const char *path = NULL;
	int threads = 1, ch;
	pthread_t th;

	while ((ch = getopt(argc, argv, "s:t:")) != -1) {
		if (ch == 's')
			path = optarg;
		else if (ch == 't')
			threads = atoi(optarg);
		else
			return 64;
	}
	if (path == NULL)
		return 64;
	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 1024) == -1) {
		perror("echo: bind");
		return 1;
	}
	for (int i = 1; i < threads; i++)
		pthread_create(&th, NULL, loop, NULL);
	loop(NULL);
	return 0;
}
