/*
 * loadgen: drive a socketmap or Dovecot dict server with N persistent
 * connections and one request in flight per connection (as Postfix and
 * Dovecot do), and report lookups per second and latency percentiles.
 *
 *	loadgen -s ENDPOINT [-p sm|dict] [-c conns] [-T threads]
 *	        [-d seconds] [-w warmup] [-m map] [-n keys] [-f format]
 *	        [-o once]
 *
 * ENDPOINT is a UNIX socket path or HOST:PORT.  Keys are printf(format, i)
 * for i in [0, n) (default "user%d@bench.example"), each connection
 * walking them from its own offset.  With -o every key is asked exactly
 * once (to fill a cache) and -d is ignored.  The result is one line:
 *
 *	lookups=N seconds=S rate=R p50_us=A p99_us=B p999_us=C max_us=D
 *	found=F notfound=G errors=E
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 200000 /* 1 us buckets up to 200 ms */
#define BUFSZ 65536

struct conn {
	int fd;
	long next; /* next key index */
	int64_t sent_ns;
	char in[BUFSZ];
	size_t ilen;
};

struct worker {
	pthread_t th;
	int id;
	int nconns;
	struct conn *conns;
	uint32_t *hist;
	uint64_t done, found, notfound, errors, slow;
	uint64_t max_ns;
};

static const char *endpoint, *proto = "sm", *map = "mailbox";
static const char *format = "user%ld@bench.example";
static int nconns = 50, nthreads = 1, once;
static double duration = 5, warmup = 1;
static long nkeys = 100000;
static _Atomic long once_next;
static _Atomic int phase; /* 0 warmup, 1 measure, 2 stop */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
dial(void)
{
	const char *colon = strrchr(endpoint, ':');
	int fd, one = 1;

	if (endpoint[0] == '/' || colon == NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", endpoint);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			return -1;
	} else {
		struct addrinfo hints, *res;
		char host[256];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - endpoint),
		    endpoint);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen)) {
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send the next request of c; 0, or 1 when -o ran out of keys. */
static int
send_next(struct conn *c)
{
	char key[512], req[1024];
	long i;
	int kl, n;

	if (once) {
		i = atomic_fetch_add(&once_next, 1);
		if (i >= nkeys)
			return 1;
	} else {
		i = c->next;
		c->next = (c->next + 1) % nkeys;
	}
	kl = snprintf(key, sizeof(key), format, i);
	if (strcmp(proto, "sm") == 0)
		n = snprintf(req, sizeof(req), "%zu:%s %s,",
		    strlen(map) + 1 + (size_t)kl, map, key);
	else
		n = snprintf(req, sizeof(req), "Lshared/%s\t\n", key);
	c->sent_ns = now_ns();
	if (send_all(c->fd, req, (size_t)n) == -1) {
		perror("send");
		exit(1);
	}
	return 0;
}

/* A complete reply at the start of c->in: its length, or 0. */
static size_t
reply_len(struct conn *c, char *status_r)
{
	if (strcmp(proto, "sm") == 0) {
		size_t n = 0, i;

		for (i = 0; i < c->ilen && c->in[i] != ':'; i++)
			n = n * 10 + (size_t)(c->in[i] - '0');
		if (i == c->ilen || c->ilen < i + 1 + n + 1)
			return 0;
		*status_r = c->in[i + 1];
		return i + 1 + n + 1;
	} else {
		char *lf = memchr(c->in, '\n', c->ilen);

		if (lf == NULL)
			return 0;
		*status_r = c->in[0] == 'O' ? 'O' : c->in[0] == 'N' ? 'N' : 'T';
		return (size_t)(lf - c->in) + 1;
	}
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];
	int ep = epoll_create1(0), live = w->nconns;

	for (int i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };

		if ((c->fd = dial()) == -1) {
			fprintf(stderr, "loadgen: cannot connect to %s: %s\n",
			    endpoint, strerror(errno));
			exit(1);
		}
		c->next = ((long)(w->id * w->nconns + i) * 7919) % nkeys;
		if (strcmp(proto, "dict") == 0) {
			char hello[300];
			int n = snprintf(
			    hello, sizeof(hello), "H3\t2\t0\t\t%s\n", map);

			send_all(c->fd, hello, (size_t)n);
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
		if (send_next(c) == 1)
			live--;
	}
	while (live > 0 && atomic_load(&phase) < 2) {
		int n = epoll_wait(ep, ev, 256, 100);

		for (int k = 0; k < n; k++) {
			struct conn *c = ev[k].data.ptr;
			ssize_t r = read(
			    c->fd, c->in + c->ilen, sizeof(c->in) - c->ilen);
			size_t len;
			char st;

			if (r <= 0) {
				fprintf(stderr,
				    "loadgen: server closed a "
				    "connection\n");
				exit(1);
			}
			c->ilen += (size_t)r;
			while ((len = reply_len(c, &st)) > 0) {
				int64_t lat = now_ns() - c->sent_ns;

				memmove(c->in, c->in + len, c->ilen - len);
				c->ilen -= len;
				if (atomic_load(&phase) == 1 || once) {
					uint64_t us = (uint64_t)lat / 1000;

					w->done++;
					if (us >= HIST_US)
						w->slow++;
					else
						w->hist[us]++;
					if ((uint64_t)lat > w->max_ns)
						w->max_ns = (uint64_t)lat;
					if (st == 'O')
						w->found++;
					else if (st == 'N')
						w->notfound++;
					else
						w->errors++;
				}
				if (send_next(c) == 1) {
					live--;
					epoll_ctl(
					    ep, EPOLL_CTL_DEL, c->fd, NULL);
				}
			}
		}
	}
	for (int i = 0; i < w->nconns; i++)
		close(w->conns[i].fd);
	close(ep);
	return NULL;
}

static uint64_t
percentile(const uint32_t *h, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p), seen = 0;

	for (uint64_t us = 0; us < HIST_US; us++) {
		seen += h[us];
		if (seen > want)
			return us;
	}
	return HIST_US;
}

int
main(int argc, char **argv)
{
	struct worker *ws;
	uint32_t *hist;
	uint64_t done = 0, found = 0, notfound = 0, errors = 0, slow = 0;
	uint64_t maxns = 0;
	int64_t t0, t1 = 0;
	int ch;

	while ((ch = getopt(argc, argv, "s:p:c:T:d:w:m:n:f:o")) != -1) {
		switch (ch) {
		case 's':
			endpoint = optarg;
			break;
		case 'p':
			proto = optarg;
			break;
		case 'c':
			nconns = atoi(optarg);
			break;
		case 'T':
			nthreads = atoi(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'm':
			map = optarg;
			break;
		case 'n':
			nkeys = atol(optarg);
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			once = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: loadgen -s ENDPOINT [-p sm|dict] "
			    "[-c conns] [-T threads] [-d secs] [-w secs] "
			    "[-m map] [-n keys] [-f format] [-o]\n");
			return 64;
		}
	}
	if (endpoint == NULL || nconns < 1 || nthreads < 1 || nkeys < 1)
		return 64;
	if (nthreads > nconns)
		nthreads = nconns;
	ws = calloc((size_t)nthreads, sizeof(*ws));
	for (int i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].nconns = nconns / nthreads + (i < nconns % nthreads);
		ws[i].conns = calloc((size_t)ws[i].nconns, sizeof(struct conn));
		ws[i].hist = calloc(HIST_US, sizeof(uint32_t));
	}
	atomic_store(&phase, once ? 1 : 0);
	t0 = now_ns();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	if (!once) {
		struct timespec w = { (time_t)warmup,
			(long)((warmup - (double)(time_t)warmup) * 1e9) };
		struct timespec d = { (time_t)duration,
			(long)((duration - (double)(time_t)duration) * 1e9) };

		nanosleep(&w, NULL);
		atomic_store(&phase, 1);
		t0 = now_ns();
		nanosleep(&d, NULL);
		atomic_store(&phase, 2);
		t1 = now_ns();
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(ws[i].th, NULL);
	if (once)
		t1 = now_ns();
	hist = calloc(HIST_US, sizeof(uint32_t));
	for (int i = 0; i < nthreads; i++) {
		for (int us = 0; us < HIST_US; us++)
			hist[us] += ws[i].hist[us];
		done += ws[i].done;
		found += ws[i].found;
		notfound += ws[i].notfound;
		errors += ws[i].errors;
		slow += ws[i].slow;
		if (ws[i].max_ns > maxns)
			maxns = ws[i].max_ns;
	}
	{
		double secs = (double)(t1 - t0) / 1e9;

		printf("lookups=%llu seconds=%.2f rate=%.0f p50_us=%llu "
		       "p99_us=%llu p999_us=%llu max_us=%llu found=%llu "
		       "notfound=%llu errors=%llu\n",
		    (unsigned long long)done, secs, (double)done / secs,
		    (unsigned long long)percentile(hist, done, 0.50),
		    (unsigned long long)percentile(hist, done, 0.99),
		    (unsigned long long)percentile(hist, done, 0.999),
		    (unsigned long long)(maxns / 1000),
		    (unsigned long long)found, (unsigned long long)notfound,
		    (unsigned long long)errors);
	}
	return errors > 0 ? 2 : 0;
}
