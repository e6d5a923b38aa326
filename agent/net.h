/*
 * net.h - the one TCP connect helper every probe uses: each connection takes
 * a slot of the per-host politeness budget (agent/budget.h) for the peer's
 * address before connect() and gives it back in tk_net_close().
 *
 * Ownership: the caller owns the returned descriptor and must close it with
 * tk_net_close() (never plain close(): the budget slot would leak).
 * Sockets are non-blocking, close-on-exec, TCP_NODELAY.
 */
#ifndef TK_NET_H
#define TK_NET_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tk.h"

#define TK_NET_HOSTLEN 64 /* an IPv6 literal fits (INET6_ADDRSTRLEN is 46) */

/* A resolved peer: the address and its text form (the budget's key). */
struct tk_net_peer {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[TK_NET_HOSTLEN];
};

/*
 * Resolve host ("127.0.0.1", "::1", a name) and port into *peer (the first
 * address). TK_ERR_NET with the resolver's words in err on failure.
 */
int tk_net_resolve(const char *host, const char *port, struct tk_net_peer *peer, struct tk_err *err);

/*
 * Wait for a budget slot for peer->host, then connect, all before
 * deadline_ms (monotonic, tk_now_ms()). *fd_out is -1 on failure.
 * TK_ERR_TIMEOUT (no slot, or connect not done in time), TK_ERR_CANCELLED
 * (stop requested), TK_ERR_NET (refused, unreachable: err says which).
 */
int tk_net_connect(const struct tk_net_peer *peer, int64_t deadline_ms, int *fd_out, struct tk_err *err);

/* Close a descriptor from tk_net_connect() and release its budget slot. */
void tk_net_close(const struct tk_net_peer *peer, int fd);

/*
 * poll() one descriptor for events until deadline_ms; returns as soon as it
 * is ready (no polling granularity). TK_OK, TK_ERR_TIMEOUT, TK_ERR_IO.
 */
int tk_net_wait(int fd, short events, int64_t deadline_ms);

/* send() everything before deadline_ms: TK_OK, TK_ERR_TIMEOUT, TK_ERR_NET. */
int tk_net_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms);

#endif
