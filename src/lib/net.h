/*
 * net: the one place a daemon turns "host:port" into a listening socket.
 *
 * Used by postinod's HTTP listener, both metrics listeners and podop's
 * inet: listener, so that every listen key in postino.toml reads the same:
 * "host:port", "[v6addr]:port", "*:port" or ":port" (every IPv4 address).
 * The port is a number 0-65535 (0 lets the kernel choose; net_listen()
 * reports the one it chose in where).  Names are resolved once, with
 * AI_PASSIVE; the first address that binds wins.
 *
 * Nothing here allocates that the caller must free except the returned
 * descriptor (close-on-exec, blocking, SO_REUSEADDR set, listen() done).
 */
#ifndef POSTINO_NET_H
#define POSTINO_NET_H

#include <stddef.h>

#include "err.h"

/*
 * Split spec into host (hsize bytes; "*" and "" become "0.0.0.0") and
 * its decimal port (psize bytes).  what names the setting in the message
 * ("postinod.listen").  0, or -1 with ERR_CONFIG.
 */
int net_split_hostport(const char *spec, char *host, size_t hsize, char *port,
    size_t psize, const char *what, struct err *);

/*
 * Bind and listen on spec with the given backlog; the bound address, as
 * "127.0.0.1:8080" or "[::1]:8080", goes to where (wsize bytes; spec
 * itself if the kernel will not say).  The descriptor, or -1 with
 * ERR_CONFIG naming what.
 */
int net_listen(const char *spec, int backlog, const char *what, char *where,
    size_t wsize, struct err *);

#endif
