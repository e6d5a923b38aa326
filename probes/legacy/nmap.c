/*
 * nmap.c - the "legacy" probe's nmap engine: nmap -sT -sV -oX - under a
 * deadline (fork/execv with an argument vector, no shell; output bounded),
 * its XML read by nmapxml.c, its open TCP ports handed back to the native
 * fingerprint machine. See legacy.h for the contract of lg_nmap_engine.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "legacy.h"

static bool find_exec(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 && tk_strlcpy(out, name, size) == TK_OK;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t dl = colon ? (size_t)(colon - path) : strlen(path);
		struct stat st;
		if (dl > 0 && dl + strlen(name) + 2 <= size) {
			memcpy(out, path, dl);
			out[dl] = '/';
			memcpy(out + dl + 1, name, strlen(name) + 1);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return true;
		}
		if (!colon)
			break;
		path = colon + 1;
	}
	return false;
}

/* "21,23,1000-2000" for the TCP ports (bounded by out). */
static int port_spec(const struct lg_cfg *c, struct tk_buf *b)
{
	unsigned char *on = calloc(65536, 1);
	long i, start = -1;
	int rc = TK_OK;
	if (!on)
		return TK_ERR_NOMEM;
	for (i = 0; i < (long)c->nports; i++)
		if (!c->ports[i].udp)
			on[c->ports[i].port] = 1;
	for (i = 1; i <= 65536 && rc == TK_OK; i++) {
		bool set = i <= 65535 && on[i];
		if (set && start < 0)
			start = i;
		if (!set && start >= 0) {
			rc = tk_buf_printf(
			    b, b->len ? (start == i - 1 ? ",%ld" : ",%ld-%ld") : (start == i - 1 ? "%ld" : "%ld-%ld"),
			    start, i - 1);
			start = -1;
		}
	}
	free(on);
	return rc;
}

static bool host_in_family(const struct lg_host *h, int fam)
{
	return !h->failed && h->addr[0] && (strchr(h->addr, ':') ? AF_INET6 : AF_INET) == fam;
}

/* One nmap run over the hosts of one address family (nmap scans one family per run). */
static int run_nmap(struct lg_cfg *c, const char *nmap, struct tk_runctx *ctx, struct tk_buf *outb, char *why,
		    size_t wsize, int fam)
{
	struct tk_buf spec;
	char **argv = NULL;
	size_t na = 0, i;
	int pfd[2] = {-1, -1}, status = 0, rc = TK_OK;
	pid_t pid = -1;
	int64_t deadline = tk_now_ms() + tk_run_remaining_ms(ctx, (int)(c->nmap_timeout_s * 1000));
	char tmo[32];

	tk_buf_init(&spec, 1 << 20);
	if (port_spec(c, &spec) != TK_OK || spec.len == 0) {
		snprintf(why, wsize, "no TCP ports to give nmap");
		rc = TK_ERR_CONFIG;
		goto out;
	}
	argv = calloc(c->nhosts + 20, sizeof(char *));
	if (!argv) {
		rc = TK_ERR_NOMEM;
		goto out;
	}
	snprintf(tmo, sizeof(tmo), "%llds", c->nmap_timeout_s);
	argv[na++] = (char *)nmap;
	argv[na++] = "-sT";
	argv[na++] = "-sV";
	argv[na++] = "-Pn";
	argv[na++] = "-n";
	argv[na++] = "--host-timeout";
	argv[na++] = tmo;
	argv[na++] = "-oX";
	argv[na++] = "-";
	argv[na++] = "-p";
	argv[na++] = spec.data;
	if (fam == AF_INET6)
		argv[na++] = "-6";
	for (i = 0; i < c->nhosts; i++)
		if (host_in_family(&c->hosts[i], fam))
			argv[na++] = c->hosts[i].addr;
	argv[na] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = TK_ERR_IO;
		snprintf(why, wsize, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = TK_ERR_IO;
		snprintf(why, wsize, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 2);
		}
		dup2(pfd[1], 1);
		execv(nmap, argv);
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
		int64_t left = deadline - tk_now_ms();
		char buf[65536];
		ssize_t n;
		if (left <= 0 || tk_run_cancelled(ctx)) {
			kill(pid, SIGKILL);
			rc = TK_ERR_TIMEOUT;
			snprintf(why, wsize, "nmap did not finish before the deadline; killed");
			break;
		}
		if (poll(&pf, 1, left > 200 ? 200 : (int)left) <= 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = TK_ERR_IO;
			snprintf(why, wsize, "reading nmap output: %s", strerror(errno));
			kill(pid, SIGKILL);
			break;
		}
		if (tk_buf_append(outb, buf, (size_t)n) != TK_OK) {
			kill(pid, SIGKILL);
			rc = TK_ERR_LIMIT;
			snprintf(why, wsize, "nmap output exceeds %u bytes", LG_NMAP_OUT_MAX);
			break;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == TK_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		rc = TK_ERR_IO;
		snprintf(why, wsize, "nmap exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(argv);
	tk_buf_free(&spec);
	return rc;
}

/* Attach nmap's result to hosts: open TCP ports become the fingerprint list. */
static int apply_nmap(struct lg_cfg *c, const struct tk_nmap_result *r, int fam)
{
	size_t i, j, k;
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[i];
		const struct tk_nmap_host *nh = NULL;
		if (!host_in_family(h, fam))
			continue;
		for (j = 0; j < r->nhosts; j++)
			if (strcmp(r->hosts[j].addr, h->addr) == 0)
				nh = &r->hosts[j];
		h->nports = 0;
		h->ports = NULL;
		if (!nh) {
			h->nmap_missing = true; /* never report a host nmap did not report as clean */
			continue;
		}
		h->nmap_ports = calloc(nh->nports + 1, sizeof(*h->nmap_ports));
		h->nmap = calloc(nh->nports + 1, sizeof(*h->nmap));
		if (!h->nmap_ports || !h->nmap)
			return TK_ERR_NOMEM;
		for (j = 0; j < nh->nports; j++) {
			const struct tk_nmap_port *np = &nh->ports[j];
			struct lg_nmapinfo *ni = &h->nmap[h->nnmap++];
			ni->p.port = np->portid;
			ni->p.udp = strcmp(np->proto, "udp") == 0;
			tk_strlcpy(ni->state, np->state, sizeof(ni->state));
			tk_strlcpy(ni->service, np->service, sizeof(ni->service));
			tk_strlcpy(ni->product, np->product, sizeof(ni->product));
			tk_strlcpy(ni->version, np->version, sizeof(ni->version));
			ni->ncpe = np->ncpe;
			for (k = 0; k < (size_t)np->ncpe; k++)
				tk_strlcpy(ni->cpe[k], np->cpe[k], sizeof(ni->cpe[k]));
			if (strcmp(np->state, "open") == 0 && !ni->p.udp)
				h->nmap_ports[h->nports++] = ni->p;
			else if (strcmp(np->state, "closed") == 0)
				lg_mark_closed(h, &ni->p);
			else if (strcmp(np->state, "filtered") == 0)
				lg_mark_filtered(h, &ni->p);
		}
		h->ports = h->nmap_ports;
		/* nmap reports only a summary count of ports in the same state ("extraports"). */
		{
			size_t tcp = 0;
			for (k = 0; k < c->nports; k++)
				if (!c->ports[k].udp)
					tcp++;
			if (tcp > h->nports + h->nclosed + h->nfiltered)
				h->nclosed = tcp - h->nports - h->nfiltered;
		}
	}
	return TK_OK;
}

/* Forget whatever nmap reported: every host back to the configured ports. */
static void nmap_reset(struct lg_cfg *c)
{
	size_t i;
	c->use_nmap = false;
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[i];
		free(h->nmap_ports);
		free(h->nmap);
		h->nmap_ports = NULL;
		h->nmap = NULL;
		h->nnmap = 0;
		h->nmap_missing = false;
		h->nclosed = h->nfiltered = 0;
		cJSON_Delete(h->closed_ports);
		cJSON_Delete(h->filtered_ports);
		h->closed_ports = h->filtered_ports = NULL;
		h->ports = c->ports;
		h->nports = c->nports;
	}
}

/* One family's nmap run, read and applied; false when nmap failed (c->nmap_fallback says why). */
static bool nmap_family(struct lg_cfg *c, const char *path, struct tk_runctx *ctx, int fam, int *rc)
{
	struct tk_buf out;
	struct tk_nmap_result *r = NULL;
	struct tk_err perr = {0};
	char why[512];
	bool ok = false;
	*rc = TK_OK;
	tk_buf_init(&out, LG_NMAP_OUT_MAX);
	why[0] = '\0';
	if (run_nmap(c, path, ctx, &out, why, sizeof(why), fam) == TK_OK &&
	    tk_nmapxml_parse(out.data ? out.data : "", out.len, &r, &perr) == TK_OK && r->complete) {
		*rc = apply_nmap(c, r, fam);
		ok = *rc == TK_OK;
	} else {
		tk_log(TK_LOG_WARN, "legacy: nmap failed (%s); using the native scanner",
		       why[0] ? why : r ? "incomplete XML" : perr.msg);
		snprintf(c->nmap_fallback, sizeof(c->nmap_fallback), "nmap failed: %.200s",
			 why[0] ? why : r ? "incomplete XML" : perr.msg);
	}
	tk_nmap_result_free(r);
	tk_buf_free(&out);
	return ok;
}

int lg_nmap_engine(struct lg_cfg *c, struct tk_runctx *ctx, bool *done, struct tk_err *err)
{
	static int nmap_missing_logged;
	static const int fams[2] = {AF_INET, AF_INET6};
	char path[4096];
	size_t i, f, nports_tcp = 0;
	int rc = TK_OK;
	*done = false;
	for (i = 0; i < c->nports; i++)
		nports_tcp += !c->ports[i].udp;
	if (!c->use_nmap || nports_tcp == 0)
		return TK_OK;
	if (!find_exec(c->nmap_path, path, sizeof(path))) {
		if (__atomic_exchange_n(&nmap_missing_logged, 1, __ATOMIC_SEQ_CST) == 0)
			tk_log(TK_LOG_WARN, "legacy: nmap (%s) not found; using the native scanner", c->nmap_path);
		snprintf(c->nmap_fallback, sizeof(c->nmap_fallback), "nmap (%.200s) not found", c->nmap_path);
		c->use_nmap = false;
		return TK_OK;
	}
	*done = true;
	for (f = 0; f < 2 && *done; f++) {
		bool any = false;
		for (i = 0; i < c->nhosts; i++)
			any = any || host_in_family(&c->hosts[i], fams[f]);
		if (any && !nmap_family(c, path, ctx, fams[f], &rc)) {
			if (rc != TK_OK)
				return tk_seterr(err, rc, "out of memory");
			*done = false;
		}
	}
	if (!*done) {
		nmap_reset(c);
		return TK_OK;
	}
	/* UDP ports are not given to nmap (-sU needs root): probe them natively. */
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[i];
		size_t k;
		for (k = 0; k < c->nports; k++)
			if (c->ports[k].udp && h->nmap_ports) {
				struct lg_port *np = realloc(h->nmap_ports, (h->nports + 1) * sizeof(*np));
				if (!np)
					return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				h->nmap_ports = np;
				h->nmap_ports[h->nports++] = c->ports[k];
				h->ports = h->nmap_ports;
			}
	}
	return TK_OK;
}
