/*
 * net: "host:port" to a listening TCP socket (net.h).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "strutil.h"
#include "banned.h"

int
net_split_hostport(const char *spec, char *host, size_t hsize, char *port,
    size_t psize, const char *what, struct err *err)
{
	const char *colon;
	size_t hl;
	int p;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		hl = (size_t)(end - spec - 1);
		if (hl == 0 || hl >= hsize)
			goto bad;
		memcpy(host, spec + 1, hl);
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - spec);
		if (hl >= hsize)
			goto bad;
		memcpy(host, spec, hl);
	}
	host[hl] = '\0';
	if (spec[0] != '[' && (strcmp(host, "*") == 0 || host[0] == '\0'))
		str_copy(host, "0.0.0.0", hsize);
	if (str_to_int(colon + 1, 0, 65535, &p) == -1)
		goto bad;
	snprintf(port, psize, "%d", p);
	return 0;
bad:
	return err_set(err, ERR_CONFIG,
	    "%s: '%s' is not host:port (write \"127.0.0.1:8080\", \"[::1]:8080\" or \"*:8080\")",
	    what, spec);
}

int
net_listen(const char *spec, int backlog, const char *what, char *where,
    size_t wsize, struct err *err)
{
	char host[256], port[16], hh[NI_MAXHOST], pp[NI_MAXSERV];
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, rc, one = 1, saved = 0;

	if (net_split_hostport(
		spec, host, sizeof(host), port, sizeof(port), what, err) == -1)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_set(err, ERR_CONFIG, "%s: cannot resolve '%s': %s",
		    what, host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return err_set(err, ERR_CONFIG, "%s: cannot listen on '%s': %s",
		    what, spec, strerror(saved));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, hh, sizeof(hh), pp,
		sizeof(pp), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(where, wsize,
		    ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", hh, pp);
	else
		str_copy(where, spec, wsize);
	return fd;
}
