/*
 * demo_legacy.c - the demo partner's legacy services: a TELNET-speaking and
 * an FTP-speaking server (anonymous login allowed, no AUTH TLS) on 127.0.0.3,
 * high ports chosen by the kernel and listed in the demo config. No root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo.h"

#define DEMO_LEGACY_ADDR "127.0.0.3"

struct legacy_srv {
	int lfd;
	int stop_pipe[2];
	int port;
	bool ftp;
	pthread_t thread;
	bool started;
};

struct legacy_demo {
	struct legacy_srv srv[2];
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* One line (bounded), or -1 on EOF/timeout. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);
		if (r <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return (int)n;
}

static void serve_telnet(int fd)
{
	static const unsigned char neg[] = {255, 253, 24, 255, 251, 1, 255, 251, 3}; /* DO TTYPE, WILL ECHO, WILL SGA */
	char buf[256];
	send_all(fd, neg, sizeof(neg));
	(void)recv(fd, buf, sizeof(buf), 0); /* the client's answers, if any */
	send_str(fd, "\r\ntenken demo host (cleartext TELNET)\r\nlogin: ");
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		send_str(fd, "\r\nPassword: ");
}

static void serve_ftp(int fd)
{
	char line[512];
	bool anon = false;
	send_str(fd, "220 tenken demo FTP server ready\r\n");
	while (read_line(fd, line, sizeof(line)) >= 0) {
		if (strncasecmp(line, "FEAT", 4) == 0)
			send_str(fd, "211-Features:\r\n MDTM\r\n SIZE\r\n UTF8\r\n211 End\r\n");
		else if (strncasecmp(line, "USER ", 5) == 0) {
			anon = strcasecmp(line + 5, "anonymous") == 0 || strcasecmp(line + 5, "ftp") == 0;
			send_str(fd, "331 Please specify the password.\r\n");
		} else if (strncasecmp(line, "PASS", 4) == 0)
			send_str(fd, anon ? "230 Login successful.\r\n" : "530 Login incorrect.\r\n");
		else if (strncasecmp(line, "QUIT", 4) == 0) {
			send_str(fd, "221 Goodbye.\r\n");
			break;
		} else
			send_str(fd, "500 Unknown command.\r\n");
	}
}

static void *srv_main(void *arg)
{
	struct legacy_srv *s = arg;
	for (;;) {
		struct pollfd pf[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->stop_pipe[0], .events = POLLIN}};
		struct timeval tv = {3, 0};
		int c;
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		if ((c = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (s->ftp)
			serve_ftp(c);
		else
			serve_telnet(c);
		close(c);
	}
	return NULL;
}

static void legacy_demo_stop(void *state)
{
	struct legacy_demo *d = state;
	size_t i;
	if (!d)
		return;
	for (i = 0; i < 2; i++) {
		struct legacy_srv *s = &d->srv[i];
		if (s->started) {
			if (write(s->stop_pipe[1], "x", 1) < 0) {
				/* the thread still ends when the socket closes below */
			}
			pthread_join(s->thread, NULL);
		}
		if (s->lfd >= 0)
			close(s->lfd);
		if (s->stop_pipe[0] >= 0)
			close(s->stop_pipe[0]);
		if (s->stop_pipe[1] >= 0)
			close(s->stop_pipe[1]);
	}
	free(d);
}

static int srv_start(struct legacy_srv *s, bool ftp, int port, struct tk_err *err)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int one = 1, tries;
	s->ftp = ftp;
	if (pipe(s->stop_pipe) < 0)
		return tk_seterr(err, TK_ERR_IO, "pipe: %s", strerror(errno));
	if ((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tk_seterr(err, TK_ERR_NET, "socket: %s", strerror(errno));
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The fixed port first (stable target names across demo runs), else any free port. */
	for (tries = port ? 0 : 1; tries < 2; tries++) {
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)(tries == 0 ? port : 0));
		inet_pton(AF_INET, DEMO_LEGACY_ADDR, &sa.sin_addr);
		if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (tries == 0)
			fprintf(stderr, "tenken demo: %s:%d is taken; using another port (target names will differ "
					"from earlier demo runs)\n", DEMO_LEGACY_ADDR, port);
	}
	if (tries == 2 || listen(s->lfd, 16) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0)
		return tk_seterr(err, TK_ERR_NET, "cannot listen on %s: %s", DEMO_LEGACY_ADDR, strerror(errno));
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&s->thread, NULL, srv_main, s) != 0)
		return tk_seterr(err, TK_ERR_INTERNAL, "cannot start a demo server thread");
	s->started = true;
	return TK_OK;
}

static int legacy_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	struct legacy_demo *d = calloc(1, sizeof(*d));
	cJSON *sec, *hosts, *ports;
	int rc, i;
	*state = NULL;
	if (!d)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	for (i = 0; i < 2; i++)
		d->srv[i].lfd = d->srv[i].stop_pipe[0] = d->srv[i].stop_pipe[1] = -1;
	if ((rc = srv_start(&d->srv[0], false, tk_demo_port(env, TK_DEMO_LEGACY_TELNET), err)) ||
	    (rc = srv_start(&d->srv[1], true, tk_demo_port(env, TK_DEMO_LEGACY_FTP), err))) {
		legacy_demo_stop(d);
		return rc;
	}
	sec = cJSON_AddObjectToObject(probes, "legacy");
	hosts = cJSON_AddArrayToObject(sec, "hosts");
	cJSON_AddItemToArray(hosts, cJSON_CreateString(DEMO_LEGACY_ADDR));
	ports = cJSON_AddArrayToObject(sec, "ports");
	cJSON_AddItemToArray(ports, cJSON_CreateNumber(d->srv[0].port));
	cJSON_AddItemToArray(ports, cJSON_CreateNumber(d->srv[1].port));
	cJSON_AddStringToObject(sec, "engine", "native");
	cJSON_AddBoolToObject(sec, "try_anonymous_ftp", 1);
	cJSON_AddNumberToObject(sec, "banner_timeout_ms", 1500);
	*state = d;
	return TK_OK;
}

const struct tk_demo_part tk_demo_legacy = {
	.name = "legacy",
	.start = legacy_demo_start,
	.stop = legacy_demo_stop,
};
