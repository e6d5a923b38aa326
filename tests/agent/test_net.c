/* test_net.c - the budgeted connect helper: connects, refuses, releases its slot, honours the deadline. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "budget.h"
#include "net.h"

/* A listener on 127.0.0.1, port chosen by the kernel. */
static int listen_any(char *port, size_t cap, int backlog)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	snprintf(port, cap, "%u", (unsigned)ntohs(a.sin_port));
	return fd;
}

static void test_connect_and_release(void **state)
{
	struct tk_net_peer peer;
	struct tk_err err;
	char port[8];
	int lfd = listen_any(port, sizeof(port), 8), fd = -1;
	(void)state;
	tk_budget_set(1, 100000);
	assert_int_equal(tk_net_resolve("127.0.0.1", port, &peer, &err), TK_OK);
	assert_string_equal(peer.host, "127.0.0.1");
	assert_int_equal(tk_net_connect(&peer, tk_now_ms() + 5000, &fd, &err), TK_OK);
	assert_true(fd >= 0);
	/* the slot is taken: one connection per host allowed */
	assert_int_equal(tk_budget_try_acquire("127.0.0.1"), TK_ERR_LIMIT);
	{
		int fd2 = -1;
		assert_int_equal(tk_net_connect(&peer, tk_now_ms() + 100, &fd2, &err), TK_ERR_TIMEOUT);
		assert_int_equal(fd2, -1);
		assert_non_null(strstr(err.msg, "politeness budget"));
	}
	tk_net_close(&peer, fd);
	assert_int_equal(tk_budget_try_acquire("127.0.0.1"), TK_OK);
	tk_budget_release("127.0.0.1");
	close(lfd);
}

static void test_refused_releases_slot(void **state)
{
	struct tk_net_peer peer;
	struct tk_err err;
	char port[8];
	int lfd = listen_any(port, sizeof(port), 1), fd = 0;
	(void)state;
	close(lfd); /* nothing listens on that port now */
	tk_budget_set(1, 100000);
	assert_int_equal(tk_net_resolve("127.0.0.1", port, &peer, &err), TK_OK);
	assert_int_equal(tk_net_connect(&peer, tk_now_ms() + 5000, &fd, &err), TK_ERR_NET);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "refused"));
	assert_int_equal(tk_budget_try_acquire("127.0.0.1"), TK_OK);
	tk_budget_release("127.0.0.1");
}

static void test_resolve_error(void **state)
{
	struct tk_net_peer peer;
	struct tk_err err;
	(void)state;
	assert_int_equal(tk_net_resolve("no-such-host.invalid", "443", &peer, &err), TK_ERR_NET);
	assert_non_null(strstr(err.msg, "no-such-host.invalid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_release),
		cmocka_unit_test(test_refused_releases_slot),
		cmocka_unit_test(test_resolve_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
