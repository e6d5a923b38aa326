/* curlbudget.c - libcurl socket callbacks that take and return politeness-budget slots. */
#include "curlbudget.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"

static curl_socket_t budget_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct tk_curlbudget *b = clientp;
	char host[64] = "";
	int rc;
	curl_socket_t fd;
	(void)purpose;
	if (a->family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a->addr)->sin_addr, host, sizeof(host));
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a->addr)->sin6_addr, host, sizeof(host));
	if (b->n >= TK_CURLBUDGET_MAX)
		return CURL_SOCKET_BAD;
	rc = b->nonblocking ? tk_budget_try_acquire(host) : tk_budget_acquire(host, b->deadline_ms);
	if (rc != TK_OK) {
		if (b->nonblocking)
			b->deferred = true;
		return CURL_SOCKET_BAD;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == CURL_SOCKET_BAD) {
		tk_budget_release(host);
		return fd;
	}
	b->e[b->n].fd = fd;
	memcpy(b->e[b->n].host, host, sizeof(host));
	b->n++;
	return fd;
}

static int budget_close(void *clientp, curl_socket_t fd)
{
	struct tk_curlbudget *b = clientp;
	unsigned i;
	for (i = 0; i < b->n; i++) {
		if (b->e[i].fd == fd) {
			tk_budget_release(b->e[i].host);
			b->e[i] = b->e[--b->n];
			break;
		}
	}
	return close(fd);
}

void tk_curlbudget_attach(void *curl_easy, struct tk_curlbudget *b, int64_t deadline_ms, bool nonblocking)
{
	CURL *e = curl_easy;
	memset(b, 0, sizeof(*b));
	b->deadline_ms = deadline_ms;
	b->nonblocking = nonblocking;
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, budget_open);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, b);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, budget_close);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, b);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
}

void tk_curlbudget_release_all(struct tk_curlbudget *b)
{
	while (b->n > 0)
		tk_budget_release(b->e[--b->n].host);
}
