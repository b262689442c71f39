/*
 * table_dns: a domain is in the table when its MX records point to us
 * (Podop's README, first use case), over c-ares.
 *
 * The parameter is one of
 *
 *	mx=HOST[,HOST...]	the key's MX set names one of these hosts
 *	mx-ip=ADDR[,ADDR...]	an MX host of the key has one of these IPv4 or
 *				IPv6 addresses (A/AAAA)
 *
 * followed by "?ad" to require DNSSEC: the query asks for the AD bit and
 * an answer without it (the resolver did not validate it) is a temporary
 * error, so that an unsigned or forged MX never makes a domain local.
 *
 * The value of a found key is the key itself.  A domain with no MX
 * records is not found: the implicit MX of RFC 5321 section 5.1 (the
 * domain's own address) is not applied, since a domain that wants our
 * mail says so with an MX record; a null MX (RFC 7505) is not found
 * either.  NXDOMAIN is not found; SERVFAIL, REFUSED, a timeout or any
 * other resolver failure is a temporary error, never "not found".  A
 * CNAME is followed by the resolver, as for any query.
 *
 * The resolver is table_env.dns_resolver ("HOST:PORT[,HOST:PORT]",
 * [v6]:port for IPv6) or, when empty, the system's (resolv.conf).  Each
 * lookup runs on a backend thread with a c-ares channel from a pool, so a
 * slow resolver holds only that thread, bounded by table_env.timeout_ms.
 * The answer's smallest TTL is the time the cache may keep it.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>
#include <ares_dns.h>

#include "buf.h"
#include "cache.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

#define DNS_MAX_LIST 32
#define DNS_MAX_MX 16

struct dnstab {
	bool by_ip;
	bool ad;		  /* require validated (AD) answers */
	char *want[DNS_MAX_LIST]; /* host names (no final dot), or addresses */
	size_t nwant;
	int64_t timeout_ms;
	char *servers; /* NULL: the system's */
	struct table_hpool channels;
};

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;

static void
ares_init_once(void)
{
	ares_library_init(ARES_LIB_INIT_ALL);
}

/* "a.b." and "A.B" are the same host. */
static char *
host_norm(const char *s, size_t n)
{
	char *h = xstrndup(s, n);
	size_t len = strlen(h);

	if (len > 0 && h[len - 1] == '.')
		h[len - 1] = '\0';
	return str_lower(h);
}

/* An address in its canonical text form, or NULL if it is none. */
static char *
addr_norm(const char *s)
{
	unsigned char bin[16];
	char out[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, s, bin) == 1)
		return xstrdup(inet_ntop(AF_INET, bin, out, sizeof(out)));
	if (inet_pton(AF_INET6, s, bin) == 1)
		return xstrdup(inet_ntop(AF_INET6, bin, out, sizeof(out)));
	return NULL;
}

static void
dnstab_free(struct dnstab *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nwant; i++)
		free(d->want[i]);
	free(d->servers);
	free(d);
}

static int
dns_open(struct table *t, struct err *err)
{
	const char *p = t->param, *list, *q;
	struct dnstab *d = xcalloc(1, sizeof(*d));
	char *copy, *tok, *save = NULL;

	if (str_prefix(p, "mx=")) {
		list = p + 3;
	} else if (str_prefix(p, "mx-ip=")) {
		list = p + 6;
		d->by_ip = true;
	} else {
		free(d);
		err_set(
		    err, ERR_CONFIG, "dns table '%s': unknown parameter", p);
		return err_hint(err, "mx=HOST[,HOST] or mx-ip=ADDR[,ADDR]");
	}
	if ((q = strchr(list, '?')) != NULL) {
		if (strcmp(q, "?ad") != 0) {
			free(d);
			err_set(err, ERR_CONFIG,
			    "dns table '%s': unknown option '%s'", p, q + 1);
			return err_hint(err, "the only option is ?ad");
		}
		d->ad = true;
		copy = xstrndup(list, (size_t)(q - list));
	} else
		copy = xstrdup(list);
	for (char *s = copy; (tok = strtok_r(s, ", ", &save)) != NULL;
	     s = NULL) {
		char *w =
		    d->by_ip ? addr_norm(tok) : host_norm(tok, strlen(tok));

		if (w == NULL || *w == '\0' || d->nwant == DNS_MAX_LIST) {
			err_set(err, ERR_CONFIG,
			    "dns table: '%s' is not a %s (at most %d)", tok,
			    d->by_ip ? "IP address" : "host name",
			    DNS_MAX_LIST);
			free(w);
			free(copy);
			dnstab_free(d);
			return -1;
		}
		d->want[d->nwant++] = w;
	}
	free(copy);
	if (d->nwant == 0) {
		dnstab_free(d);
		return err_set(
		    err, ERR_CONFIG, "dns table '%s' names nothing", p);
	}
	d->timeout_ms = t->env->timeout_ms > 0 ? t->env->timeout_ms : 5000;
	if (t->env->dns_resolver != NULL && *t->env->dns_resolver != '\0')
		d->servers = xstrdup(t->env->dns_resolver);
	pthread_once(&ares_once, ares_init_once);
	table_hpool_init(&d->channels);
	t->handle = d;
	/* Try the resolver setting once now: a typo is a config error. */
	{
		struct ares_options o = { .timeout = 1000, .tries = 1 };
		ares_channel ch;

		if (ares_init_options(&ch, &o,
			ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
			table_hpool_release(&d->channels, NULL);
			dnstab_free(d);
			t->handle = NULL;
			return err_set(err, ERR_CONFIG,
			    "dns table: cannot set up a resolver");
		}
		if (d->servers != NULL &&
		    ares_set_servers_ports_csv(ch, d->servers) !=
			ARES_SUCCESS) {
			ares_destroy(ch);
			table_hpool_release(&d->channels, NULL);
			err_set(err, ERR_CONFIG,
			    "dns table: resolver '%s' is not HOST:PORT[,...]",
			    d->servers);
			dnstab_free(d);
			t->handle = NULL;
			return -1;
		}
		ares_destroy(ch);
	}
	return 0;
}

static void
destroy_channel(void *ch)
{
	ares_destroy(ch);
}

static void
dns_close(struct table *t)
{
	struct dnstab *d = t->handle;

	if (d == NULL)
		return;
	table_hpool_release(&d->channels, destroy_channel);
	dnstab_free(d);
	t->handle = NULL;
}

static ares_channel
get_channel(struct dnstab *d)
{
	ares_channel ch = table_hpool_get(&d->channels);
	struct ares_options o;

	if (ch != NULL)
		return ch;
	memset(&o, 0, sizeof(o));
	o.timeout = (int)d->timeout_ms;
	o.tries = 1;
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	if (ares_init_options(&ch, &o,
		ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) !=
	    ARES_SUCCESS)
		return NULL;
	if (d->servers != NULL &&
	    ares_set_servers_ports_csv(ch, d->servers) != ARES_SUCCESS) {
		ares_destroy(ch);
		return NULL;
	}
	return ch;
}

/* One query's outcome. */
struct qres {
	bool done;
	int status;
	unsigned char *abuf;
	int alen;
};

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct qres *q = arg;

	(void)timeouts;
	q->done = true;
	q->status = status;
	if (abuf != NULL && alen > 0) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = alen;
	}
}

/* Drive the channel until q is answered or the deadline passes. */
static void
run_until(ares_channel ch, struct qres *q, int64_t deadline_ms)
{
	while (!q->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tv, *tvp;
		int64_t left = deadline_ms - cache_now_ms();
		int bits, n = 0, wait_ms;

		if (left <= 0) {
			ares_cancel(ch); /* calls on_answer, ECANCELLED */
			break;
		}
		bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* ARES_GETSOCK_WRITABLE() shifts into the sign bit. */
			if (((unsigned)bits >> i) & 1u)
				ev |= POLLIN;
			if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		maxtv.tv_sec = left / 1000;
		maxtv.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(ch, &maxtv, &tv);
		wait_ms = (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
		if (poll(pfd, (nfds_t)n, wait_ms > 0 ? wait_ms : 1) < 0)
			continue;
		for (int i = 0; i < n; i++)
			ares_process_fd(ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
				? pfd[i].fd
				: ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd
						     : ARES_SOCKET_BAD);
		if (n == 0)
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

/* The smallest TTL of the answer section's records of type, or -1. */
static int64_t
answer_ttl(const unsigned char *a, int alen, int type)
{
	const unsigned char *p = a + HFIXEDSZ, *end = a + alen;
	int qd, an;
	int64_t min = -1;

	if (alen < HFIXEDSZ)
		return -1;
	qd = DNS_HEADER_QDCOUNT(a);
	an = DNS_HEADER_ANCOUNT(a);
	for (int i = 0; i < qd; i++) {
		char *name;
		long len;

		if (ares_expand_name(p, a, alen, &name, &len) != ARES_SUCCESS)
			return -1;
		ares_free_string(name);
		p += len + QFIXEDSZ;
		if (p > end)
			return -1;
	}
	for (int i = 0; i < an; i++) {
		char *name;
		long len;
		int rtype, rdlen;
		int64_t ttl;

		if (ares_expand_name(p, a, alen, &name, &len) != ARES_SUCCESS)
			return min;
		ares_free_string(name);
		p += len;
		if (p + RRFIXEDSZ > end)
			return min;
		rtype = DNS_RR_TYPE(p);
		ttl = (int64_t)(uint32_t)DNS_RR_TTL(p);
		rdlen = DNS_RR_LEN(p);
		p += RRFIXEDSZ + rdlen;
		if (p > end)
			return min;
		if (rtype == type && (min < 0 || ttl < min))
			min = ttl;
	}
	return min;
}

/* Map a failed query: 0 not found, -1 temporary error. */
static int
query_failed(const char *name, const char *what, int status, struct err *err)
{
	switch (status) {
	case ARES_ENOTFOUND: /* NXDOMAIN */
	case ARES_ENODATA:   /* no such record */
		return 0;
	case ARES_ECANCELLED:
	case ARES_ETIMEOUT:
		return err_set(
		    err, ERR_TEMP, "DNS %s %s: no answer in time", what, name);
	default:
		return err_set(err, ERR_TEMP, "DNS %s %s: %s", what, name,
		    ares_strerror(status));
	}
}

/*
 * A query with the AD bit set (RFC 6840 section 5.7) and EDNS, sent as
 * is: the answer's RCODE and AD bit are then ours to read.
 */
static int
send_ad(ares_channel ch, const char *name, int type, struct qres *q)
{
	unsigned char *buf;
	int len;

	if (ares_create_query(name, C_IN, type, 0, 1, &buf, &len, 1232) !=
	    ARES_SUCCESS)
		return -1;
	buf[3] |= 0x20; /* AD */
	ares_send(ch, buf, len, on_answer, q);
	ares_free_string(buf);
	return 0;
}

/* Query name/type; 1 with q filled, 0 not found, -1 error. */
static int
query(ares_channel ch, bool ad, const char *name, int type, const char *what,
    int64_t deadline, struct qres *q, struct err *err)
{
	memset(q, 0, sizeof(*q));
	if (!ad)
		ares_query(ch, name, C_IN, type, on_answer, q);
	else if (send_ad(ch, name, type, q) == -1)
		return err_set(err, ERR_TEMP, "DNS %s %s: cannot make a query",
		    what, name);
	run_until(ch, q, deadline);
	if (!q->done)
		return err_set(
		    err, ERR_TEMP, "DNS %s %s: no answer in time", what, name);
	if (q->status == ARES_SUCCESS && ad) {
		/* ares_send() leaves the RCODE and the AD bit to us. */
		int rcode = q->alen >= HFIXEDSZ ? q->abuf[3] & 0x0f : -1;

		if (rcode == 3)
			q->status = ARES_ENOTFOUND;
		else if (rcode != 0)
			q->status = ARES_ESERVFAIL;
		else if (!(q->abuf[3] & 0x20)) {
			free(q->abuf);
			q->abuf = NULL;
			return err_set(err, ERR_TEMP,
			    "DNS %s %s: the answer is not DNSSEC-validated (no AD bit)",
			    what, name);
		} else if (DNS_HEADER_ANCOUNT(q->abuf) == 0)
			q->status = ARES_ENODATA;
	}
	if (q->status != ARES_SUCCESS) {
		free(q->abuf);
		q->abuf = NULL;
		return query_failed(name, what, q->status, err);
	}
	return 1;
}

static int64_t
ttl_min(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Whether one of host's addresses is wanted; 1, 0, or -1 on error. */
static int
host_has_addr(struct dnstab *d, ares_channel ch, const char *host,
    int64_t deadline, int64_t *ttl, struct err *err)
{
	static const int types[2] = { T_A, T_AAAA };

	for (int k = 0; k < 2; k++) {
		struct qres q;
		unsigned char bin[16];
		char txt[INET6_ADDRSTRLEN];
		int r = query(ch, d->ad, host, types[k], k ? "AAAA" : "A",
		    deadline, &q, err);

		if (r == -1)
			return -1;
		if (r == 0)
			continue;
		*ttl = ttl_min(*ttl, answer_ttl(q.abuf, q.alen, types[k]));
		if (types[k] == T_A) {
			struct ares_addrttl at[DNS_MAX_MX];
			int n = DNS_MAX_MX;

			if (ares_parse_a_reply(q.abuf, q.alen, NULL, at, &n) !=
			    ARES_SUCCESS)
				n = 0;
			for (int i = 0; i < n; i++) {
				memcpy(bin, &at[i].ipaddr, 4);
				inet_ntop(AF_INET, bin, txt, sizeof(txt));
				for (size_t w = 0; w < d->nwant; w++)
					if (strcmp(txt, d->want[w]) == 0) {
						free(q.abuf);
						return 1;
					}
			}
		} else {
			struct ares_addr6ttl at[DNS_MAX_MX];
			int n = DNS_MAX_MX;

			if (ares_parse_aaaa_reply(
				q.abuf, q.alen, NULL, at, &n) != ARES_SUCCESS)
				n = 0;
			for (int i = 0; i < n; i++) {
				memcpy(bin, &at[i].ip6addr, 16);
				inet_ntop(AF_INET6, bin, txt, sizeof(txt));
				for (size_t w = 0; w < d->nwant; w++)
					if (strcmp(txt, d->want[w]) == 0) {
						free(q.abuf);
						return 1;
					}
			}
		}
		free(q.abuf);
	}
	return 0;
}

static int
dns_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	struct dnstab *d = t->handle;
	struct ares_mx_reply *mx = NULL;
	int64_t deadline = cache_now_ms() + d->timeout_ms;
	int64_t ttl = -1;
	ares_channel ch;
	struct qres q;
	int r, found = 0;

	(void)user;
	if (*key == '\0' || strchr(key, ' ') != NULL)
		return 0;
	if ((ch = get_channel(d)) == NULL)
		return err_set(err, ERR_TEMP, "cannot set up a resolver");
	r = query(ch, d->ad, key, T_MX, "MX", deadline, &q, err);
	if (r == 1) {
		ttl = answer_ttl(q.abuf, q.alen, T_MX);
		if (ares_parse_mx_reply(q.abuf, q.alen, &mx) != ARES_SUCCESS)
			mx = NULL; /* a CNAME without MX at its end */
		free(q.abuf);
		for (struct ares_mx_reply *m = mx; m != NULL && found == 0;
		     m = m->next) {
			char *h = host_norm(m->host, strlen(m->host));

			if (*h == '\0') { /* null MX: no mail at all */
				free(h);
				break;
			}
			if (!d->by_ip) {
				for (size_t w = 0; w < d->nwant; w++)
					if (strcmp(h, d->want[w]) == 0)
						found = 1;
			} else
				found = host_has_addr(
				    d, ch, h, deadline, &ttl, err);
			free(h);
		}
		if (mx != NULL)
			ares_free_data(mx);
		r = found;
	}
	/* A cancelled channel is fine to reuse; keep it for the next. */
	table_hpool_put(&d->channels, ch);
	if (r == 1) {
		buf_puts(value_r, key);
	}
	if (r >= 0 && ttl >= 0 && ttl_ms_r != NULL)
		*ttl_ms_r = ttl * 1000;
	return r;
}

static bool
dns_tracked(struct table *t)
{
	(void)t;
	return true; /* DNS TTLs bound every cached answer */
}

const struct table_backend table_backend_dns = {
	.name = "dns",
	.open = dns_open,
	.lookup = dns_lookup,
	.tracked = dns_tracked,
	.close = dns_close,
};
