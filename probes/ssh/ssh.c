/*
 * ssh.c - probe "ssh": what an SSH server offers before anyone logs in.
 *
 * Config: {"endpoints": ["127.0.0.1:22", "[::1]:2222"], "connect_timeout_s": 5,
 *          "auth_methods": true, "ssh_client": "ssh", "user": "tenken-probe"}
 *
 * For each endpoint, one connection through the per-host politeness budget
 * (agent/net.h): tenken sends its identification line, reads the server's
 * (RFC 4253 4.2) and its SSH_MSG_KEXINIT (RFC 4253 7.1), and closes before
 * any key exchange. The algorithm lists are observed as offered; rules/ssh.json
 * grades them against a profile held in rule parameters (tailorable).
 *
 * Which user-authentication methods the server offers needs a finished key
 * exchange; tenken does not implement SSH's transport. With "auth_methods"
 * (default true) it asks the OpenSSH client, an independent implementation,
 * to try the "none" method only (BatchMode, no keys, no agent, no known-hosts
 * or user config) and reads the methods the server lists in its
 * SSH_MSG_USERAUTH_FAILURE from the client's debug output. That connection
 * also takes a budget slot. When that cannot be learnt (no client, timeout,
 * a server that closes), the "ssh_auth" evidence is an error: the items it
 * feeds are incomplete, never pass.
 *
 * Emits "ssh" per endpoint (target "host:port"): banner, proto, software,
 * comments, cpe (OpenSSH only), kex, hostkey, ciphers, macs, compression
 * (each as offered, in order), algorithms (every offered name with its
 * type, for the rules); and "ssh_auth": methods,
 * password, keyboard_interactive, publickey, method_source.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "budget.h"
#include "net.h"
#include "probe.h"
#include "sshwire.h"

extern char **environ;

#define SSH_RX_MAX (TK_SSH_LINE_MAX * 4 + TK_SSH_PACKET_MAX + 4)
#define SSH_CLIENT_OUT_MAX (64 * 1024)
#define SSH_IDENT "SSH-2.0-tenken_" TENKEN_VERSION "\r\n"

struct ssh_ep {
	char *label; /* as configured */
	char host[256];
	char port[8];
};

struct ssh_cfg {
	struct ssh_ep *eps;
	size_t neps;
	int connect_timeout_ms;
	bool auth_methods;
	char *client;
	char *user;
};

static void ssh_free(void *state)
{
	struct ssh_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->neps; i++)
		free(c->eps[i].label);
	free(c->eps);
	free(c->client);
	free(c->user);
	free(c);
}

static bool user_ok(const char *u)
{
	size_t i;
	if (!*u || strlen(u) > 32 || u[0] == '-')
		return false;
	for (i = 0; u[i]; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '-' && u[i] != '_' && u[i] != '.')
			return false;
	return true;
}

static int ssh_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"endpoints", "connect_timeout_s", "auth_methods", "ssh_client", "user",
					   NULL};
	struct ssh_cfg *c = calloc(1, sizeof(*c));
	const char *client = "ssh", *user = "tenken-probe";
	const cJSON *eps, *e;
	long long tmo = 5;
	char path[600];
	int rc;
	size_t i = 0;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->auth_methods = true;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "endpoints", true, &eps, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "connect_timeout_s", false, 1, 120, &tmo, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "auth_methods", false, &c->auth_methods, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "ssh_client", false, &client, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "user", false, &user, cc, cc->path, err)))
		goto out;
	tk_path_key(path, sizeof(path), cc->path, "user");
	if (!user_ok(user)) {
		rc = tk_cfg_err(err, cc, path, "expected 1-32 of a-z A-Z 0-9 - _ . (not starting with -)");
		goto out;
	}
	c->connect_timeout_ms = (int)tmo * 1000;
	if (!(c->eps = calloc((size_t)cJSON_GetArraySize(eps), sizeof(*c->eps))) || !(c->client = strdup(client)) ||
	    !(c->user = strdup(user))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(e, eps)
	{
		struct ssh_ep *ep = &c->eps[c->neps];
		const char *why;
		unsigned port;
		tk_path_idx(path, sizeof(path), cc->path, i++);
		if (!cJSON_IsString(e)) {
			rc = tk_cfg_err(err, cc, path, "expected \"host:port\"");
			goto out;
		}
		if (tk_parse_hostport(e->valuestring, ep->host, sizeof(ep->host), &port, &why)) {
			rc = tk_cfg_err(err, cc, path, "\"%s\": %s", e->valuestring, why);
			goto out;
		}
		snprintf(ep->port, sizeof(ep->port), "%u", port);
		if (!(ep->label = strdup(e->valuestring))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		c->neps++;
	}
	*state = c;
	c = NULL;
out:
	ssh_free(c);
	return rc;
}

/* ---- the server's identification and KEXINIT ---- */

struct ssh_seen {
	struct tk_ssh_ident id;
	struct tk_ssh_kexinit kx;
	bool have_kexinit; /* false for an SSH-1-only server */
};

/* Read until the identification line and (for SSH-2) the KEXINIT are parsed. */
static int read_server(int fd, int64_t deadline, struct ssh_seen *s, struct tk_err *err)
{
	unsigned char *buf = malloc(SSH_RX_MAX);
	size_t len = 0, used = 0;
	bool have_id = false, more;
	const char *why = NULL;
	int rc = TK_OK;
	if (!buf)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	for (;;) {
		ssize_t r;
		if (!have_id) {
			if ((rc = tk_ssh_ident_parse(buf, len, &s->id, &more, &why))) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL, "not an SSH server: %s", why);
				break;
			}
			if (!more) {
				have_id = true;
				used = s->id.consumed;
				if (strcmp(s->id.proto, "2.0") != 0 && strcmp(s->id.proto, "1.99") != 0)
					break; /* SSH-1 only: no KEXINIT follows */
			}
		}
		if (have_id) {
			size_t consumed;
			if ((rc = tk_ssh_kexinit_parse(buf + used, len - used, &s->kx, &consumed, &more, &why))) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL, "the server's KEXINIT is malformed: %s", why);
				break;
			}
			if (!more) {
				s->have_kexinit = true;
				break;
			}
		}
		if (len == SSH_RX_MAX) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "more than %d bytes without a complete KEXINIT",
				       SSH_RX_MAX);
			break;
		}
		if ((rc = tk_net_wait(fd, POLLIN, deadline))) {
			rc = tk_seterr(err, rc, "%s after %zu bytes",
				       rc == TK_ERR_TIMEOUT
					   ? "the server did not send its identification and KEXINIT in time"
					   : "stopped",
				       len);
			break;
		}
		r = recv(fd, buf + len, SSH_RX_MAX - len, 0);
		if (r == 0) {
			rc = have_id
				 ? tk_seterr(
				       err, TK_ERR_PROTOCOL,
				       "the server closed the connection after its identification, before a KEXINIT")
				 : tk_seterr(err, TK_ERR_PROTOCOL,
					     "not an SSH server: the connection closed after %zu bytes without an "
					     "identification line",
					     len);
			break;
		}
		if (r < 0 && errno == ECONNRESET && !have_id) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL,
				       "not an SSH server: the connection was reset after %zu bytes without an "
				       "identification line",
				       len);
			break;
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			rc = tk_seterr(err, TK_ERR_NET, "recv: %s", strerror(errno));
			break;
		}
		len += (size_t)r;
	}
	free(buf);
	return rc;
}

/* "OpenSSH_9.2p1" -> cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:* (NVD's form); false for others. */
static bool openssh_cpe(const char *software, char *out, size_t size)
{
	const char *v;
	size_t i, n;
	char ver[32], upd[16] = "*";
	if (strncmp(software, "OpenSSH_", 8) != 0)
		return false;
	v = software + 8;
	for (n = 0; v[n] && (isdigit((unsigned char)v[n]) || v[n] == '.'); n++)
		;
	if (n == 0 || n >= sizeof(ver))
		return false;
	memcpy(ver, v, n);
	ver[n] = '\0';
	if (v[n] == 'p' && isdigit((unsigned char)v[n + 1])) {
		for (i = 1; isdigit((unsigned char)v[n + i]) && i < sizeof(upd) - 1; i++)
			;
		memcpy(upd, v + n, i);
		upd[i] = '\0';
	}
	snprintf(out, size, "cpe:2.3:a:openbsd:openssh:%s:%s:*:*:*:*:*:*", ver, upd);
	return true;
}

static cJSON *names_array(const struct tk_ssh_kexinit *kx, enum tk_ssh_list a, enum tk_ssh_list b)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i, j;
	for (i = 0; i < kx->n[a]; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(kx->names[a][i]));
	if ((int)b >= 0)
		for (i = 0; i < kx->n[b]; i++) {
			bool dup = false;
			for (j = 0; j < kx->n[a]; j++)
				if (strcmp(kx->names[a][j], kx->names[b][i]) == 0)
					dup = true;
			if (!dup)
				cJSON_AddItemToArray(arr, cJSON_CreateString(kx->names[b][i]));
		}
	return arr;
}

static void add_algorithms(cJSON *obs, const char *type, const cJSON *names)
{
	cJSON *all = cJSON_GetObjectItemCaseSensitive(obs, "algorithms");
	const cJSON *n;
	cJSON_ArrayForEach(n, names)
	{
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "type", type);
		cJSON_AddStringToObject(a, "name", n->valuestring);
		cJSON_AddItemToArray(all, a);
	}
}

static cJSON *endpoint_obs(struct tk_runctx *ctx, const struct ssh_ep *ep, const struct ssh_seen *s)
{
	cJSON *o = tk_obs_new(ctx, "ssh", ep->label), *v;
	char cpe[128];
	cJSON_AddStringToObject(o, "endpoint", ep->label);
	cJSON_AddStringToObject(o, "banner", s->id.line);
	cJSON_AddStringToObject(o, "proto", s->id.proto);
	cJSON_AddStringToObject(o, "software", s->id.software);
	cJSON_AddStringToObject(o, "comments", s->id.comments);
	cJSON_AddNumberToObject(o, "lines_before_banner", s->id.prelines);
	cJSON_AddBoolToObject(o, "ssh1", strcmp(s->id.proto, "2.0") != 0);
	if (openssh_cpe(s->id.software, cpe, sizeof(cpe)))
		cJSON_AddStringToObject(o, "cpe", cpe);
	cJSON_AddBoolToObject(o, "kexinit", s->have_kexinit);
	cJSON_AddArrayToObject(o, "algorithms");
	if (!s->have_kexinit)
		return o;
	v = names_array(&s->kx, TK_SSH_KEX, (enum tk_ssh_list) - 1);
	add_algorithms(o, "kex", v);
	cJSON_AddItemToObject(o, "kex", v);
	v = names_array(&s->kx, TK_SSH_HOSTKEY, (enum tk_ssh_list) - 1);
	add_algorithms(o, "hostkey", v);
	cJSON_AddItemToObject(o, "hostkey", v);
	v = names_array(&s->kx, TK_SSH_ENC_S2C, TK_SSH_ENC_C2S);
	add_algorithms(o, "cipher", v);
	cJSON_AddItemToObject(o, "ciphers", v);
	v = names_array(&s->kx, TK_SSH_MAC_S2C, TK_SSH_MAC_C2S);
	add_algorithms(o, "mac", v);
	cJSON_AddItemToObject(o, "macs", v);
	cJSON_AddItemToObject(o, "compression", names_array(&s->kx, TK_SSH_COMP_S2C, TK_SSH_COMP_C2S));
	return o;
}

static int probe_endpoint(struct tk_runctx *ctx, const struct ssh_cfg *c, const struct ssh_ep *ep, struct ssh_seen *s,
			  struct tk_err *err)
{
	struct tk_net_peer peer;
	int64_t deadline = tk_now_ms() + tk_run_remaining_ms(ctx, c->connect_timeout_ms * 2);
	int fd = -1, rc;
	if ((rc = tk_net_resolve(ep->host, ep->port, &peer, err)) || (rc = tk_net_connect(&peer, deadline, &fd, err)))
		return rc;
	if ((rc = tk_net_send_all(fd, SSH_IDENT, sizeof(SSH_IDENT) - 1, deadline)))
		rc = tk_seterr(err, rc, "could not send the identification line");
	else
		rc = read_server(fd, deadline, s, err);
	tk_net_close(&peer, fd);
	return rc;
}

/* ---- authentication methods, through the OpenSSH client ---- */

/* Run argv with stdout+stderr into out (bounded) until it exits or deadline passes (then killed). */
static int run_client(char *const argv[], int64_t deadline, struct tk_buf *out, int *status, struct tk_err *err)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], rc = TK_OK;
	pid_t pid;
	bool killed = false;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return tk_seterr(err, TK_ERR_IO, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return tk_seterr(err, TK_ERR_UNSUPPORTED, "cannot run the OpenSSH client \"%s\"", argv[0]);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	for (;;) {
		char buf[4096];
		ssize_t r;
		int w = tk_net_wait(pfd[0], POLLIN, deadline);
		if (w) {
			kill(pid, SIGKILL);
			killed = true;
			rc = tk_seterr(err, w == TK_ERR_TIMEOUT ? TK_ERR_TIMEOUT : w,
				       "the OpenSSH client did not finish in time (killed)");
			break;
		}
		r = read(pfd[0], buf, sizeof(buf));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (out->len + (size_t)r <= out->max)
			tk_buf_append(out, buf, (size_t)r);
	}
	close(pfd[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	(void)killed;
	return rc;
}

static int auth_methods(struct tk_runctx *ctx, const struct ssh_cfg *c, const struct ssh_ep *ep, cJSON *obs,
			struct tk_err *err)
{
	char tmo[32], *argv[40];
	struct tk_buf out;
	struct tk_net_peer peer;
	int64_t deadline = tk_now_ms() + tk_run_remaining_ms(ctx, c->connect_timeout_ms * 3);
	int n = 0, status = 0, rc;
	const char *line, *end;
	cJSON *methods;
	if ((rc = tk_net_resolve(ep->host, ep->port, &peer, err)))
		return rc;
	snprintf(tmo, sizeof(tmo), "ConnectTimeout=%d", c->connect_timeout_ms / 1000);
	argv[n++] = c->client;
	argv[n++] = "-v";
	argv[n++] = "-F";
	argv[n++] = "/dev/null";
	argv[n++] = "-T";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "PreferredAuthentications=none";
	argv[n++] = "-o";
	argv[n++] = "PubkeyAuthentication=no";
	argv[n++] = "-o";
	argv[n++] = "IdentityAgent=none";
	argv[n++] = "-o";
	argv[n++] = "IdentitiesOnly=yes";
	argv[n++] = "-o";
	argv[n++] = "StrictHostKeyChecking=no";
	argv[n++] = "-o";
	argv[n++] = "UserKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = "GlobalKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = "LogLevel=DEBUG1";
	argv[n++] = "-o";
	argv[n++] = tmo;
	argv[n++] = "-p";
	argv[n++] = (char *)ep->port;
	argv[n++] = "-l";
	argv[n++] = c->user;
	argv[n++] = "--";
	argv[n++] = peer.host;
	argv[n++] = "true";
	argv[n] = NULL;
	if ((rc = tk_budget_acquire(peer.host, deadline)))
		return tk_seterr(err, rc, "no connection slot for %s within the timeout (politeness budget)",
				 peer.host);
	tk_buf_init(&out, SSH_CLIENT_OUT_MAX);
	rc = run_client(argv, deadline, &out, &status, err);
	tk_budget_release(peer.host);
	if (rc)
		goto out;
	line = out.data ? strstr(out.data, "Authentications that can continue: ") : NULL;
	if (!line) {
		rc = tk_seterr(err, TK_ERR_PROTOCOL,
			       "the server listed no authentication methods to the OpenSSH client (exit status %d)",
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	line += strlen("Authentications that can continue: ");
	end = line + strcspn(line, "\r\n");
	methods = cJSON_AddArrayToObject(obs, "methods");
	while (line < end) {
		size_t k = strcspn(line, ",\r\n");
		char m[64];
		if (k > 0 && k < sizeof(m)) {
			memcpy(m, line, k);
			m[k] = '\0';
			cJSON_AddItemToArray(methods, cJSON_CreateString(m));
		}
		line += k + (line[k] == ',');
		if (k == 0)
			break;
	}
	{
		const cJSON *m;
		bool pw = false, kbd = false, pk = false;
		cJSON_ArrayForEach(m, methods)
		{
			pw |= strcmp(m->valuestring, "password") == 0;
			kbd |= strcmp(m->valuestring, "keyboard-interactive") == 0;
			pk |= strcmp(m->valuestring, "publickey") == 0;
		}
		cJSON_AddBoolToObject(obs, "password", pw);
		cJSON_AddBoolToObject(obs, "keyboard_interactive", kbd);
		cJSON_AddBoolToObject(obs, "publickey", pk);
	}
	cJSON_AddStringToObject(obs, "method_source", "openssh-client (none method, SSH_MSG_USERAUTH_FAILURE)");
out:
	tk_buf_free(&out);
	return rc;
}

static bool lists_truncated(const struct tk_ssh_kexinit *kx)
{
	int l;
	for (l = 0; l < TK_SSH_NLISTS; l++)
		if (kx->truncated[l])
			return true;
	return false;
}

/* An error observation that fails only the rules of one kind ("ssh_auth"). */
static void emit_kind_error(struct tk_runctx *ctx, const char *target, const char *kind, int rc, const char *msg)
{
	cJSON *o = tk_obs_new(ctx, "error", target);
	cJSON_AddStringToObject(o, "for_kind", kind);
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	tk_emit(ctx, o);
}

static int ssh_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	const struct ssh_cfg *c = state;
	size_t i;
	(void)err;
	for (i = 0; i < c->neps && !tk_run_cancelled(ctx); i++) {
		const struct ssh_ep *ep = &c->eps[i];
		struct ssh_seen *s = calloc(1, sizeof(*s));
		struct tk_err e = {0};
		int rc;
		if (!s)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		if ((rc = probe_endpoint(ctx, c, ep, s, &e))) {
			tk_emit_error(ctx, ep->label, rc, "%s", e.msg);
			free(s);
			continue;
		}
		if (s->have_kexinit && lists_truncated(&s->kx)) {
			/* a weak name beyond what was kept could not be judged: unknown is not pass */
			tk_emit_error(ctx, ep->label, TK_ERR_LIMIT, "the server offered more than %d names in a list",
				      TK_SSH_NAMES_MAX);
			free(s);
			continue;
		}
		tk_emit(ctx, endpoint_obs(ctx, ep, s));
		free(s);
		if (c->auth_methods) {
			cJSON *a = tk_obs_new(ctx, "ssh_auth", ep->label);
			cJSON_AddStringToObject(a, "endpoint", ep->label);
			memset(&e, 0, sizeof(e));
			if ((rc = auth_methods(ctx, c, ep, a, &e))) {
				cJSON_Delete(a);
				emit_kind_error(ctx, ep->label, "ssh_auth", rc, e.msg);
			} else {
				tk_emit(ctx, a);
			}
		} else {
			emit_kind_error(ctx, ep->label, "ssh_auth", TK_ERR_UNSUPPORTED,
					"authentication methods not checked (probes.ssh.auth_methods is false)");
		}
	}
	return TK_OK;
}

TK_PROBE_TARGETS(ssh_targets, struct ssh_cfg, eps, neps, struct ssh_ep, label)

const struct tk_probe tk_probe_ssh = {
    .name = "ssh",
    .summary = "SSH servers: protocol, key exchange, ciphers, MACs, host-key algorithms; password login offered",
    .configure = ssh_configure,
    .targets = ssh_targets,
    .run = ssh_run,
    .free_state = ssh_free,
};
