/* net.c - budgeted TCP connect, wait and send (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "run.h"

int tk_net_resolve(const char *host, const char *port, struct tk_net_peer *peer, struct tk_err *err)
{
	struct addrinfo hints, *res = NULL;
	const void *a;
	int r;
	memset(peer, 0, sizeof(*peer));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0 || !res)
		return tk_seterr(err, TK_ERR_NET, "cannot resolve \"%s\": %s", host, gai_strerror(r));
	if (res->ai_addrlen > sizeof(peer->addr)) {
		freeaddrinfo(res);
		return tk_seterr(err, TK_ERR_NET, "cannot resolve \"%s\": address too long", host);
	}
	memcpy(&peer->addr, res->ai_addr, res->ai_addrlen);
	peer->addrlen = res->ai_addrlen;
	a = res->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
				      : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, a, peer->host, sizeof(peer->host));
	freeaddrinfo(res);
	return TK_OK;
}

int tk_net_wait(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = {fd, events, 0};
		int64_t left = deadline_ms - tk_now_ms();
		int r;
		if (left <= 0)
			return TK_ERR_TIMEOUT;
		/* 200 ms slices only bound how late a cancelled scan notices; readiness returns at once */
		r = poll(&pfd, 1, left > 200 ? 200 : (int)left);
		if (r > 0)
			return TK_OK;
		if (r < 0 && errno != EINTR)
			return TK_ERR_IO;
		if (tk_stop_requested)
			return TK_ERR_CANCELLED;
	}
}

int tk_net_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	const uint8_t *b = buf;
	while (len > 0) {
		ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			int rc = tk_net_wait(fd, POLLOUT, deadline_ms);
			if (rc)
				return rc;
			continue;
		}
		return TK_ERR_NET;
	}
	return TK_OK;
}

void tk_net_close(const struct tk_net_peer *peer, int fd)
{
	if (fd < 0)
		return;
	close(fd);
	tk_budget_release(peer->host);
}

int tk_net_connect(const struct tk_net_peer *peer, int64_t deadline_ms, int *fd_out, struct tk_err *err)
{
	int fd, rc, one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);
	*fd_out = -1;
	if ((rc = tk_budget_acquire(peer->host, deadline_ms)))
		return tk_seterr(err, rc, rc == TK_ERR_CANCELLED ? "stopped while waiting for a connection slot to %s"
							      : "no connection slot for %s within the timeout (politeness budget)",
				 peer->host);
	fd = socket(peer->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tk_budget_release(peer->host);
		return tk_seterr(err, TK_ERR_NET, "socket: %s", strerror(errno));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&peer->addr, peer->addrlen) == 0) {
		*fd_out = fd;
		return TK_OK;
	}
	if (errno != EINPROGRESS) {
		rc = tk_seterr(err, TK_ERR_NET, "connect: %s", strerror(errno));
		goto fail;
	}
	if ((rc = tk_net_wait(fd, POLLOUT, deadline_ms))) {
		tk_seterr(err, rc, "connect: %s", rc == TK_ERR_TIMEOUT ? "timed out" : tk_rc_name(rc));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
		rc = tk_seterr(err, TK_ERR_NET, "connect: %s", strerror(soerr ? soerr : errno));
		goto fail;
	}
	*fd_out = fd;
	return TK_OK;
fail:
	tk_net_close(peer, fd);
	return rc;
}
