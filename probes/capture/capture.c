/*
 * capture.c - probe "capture": cleartext legacy sessions and credentials seen
 * on the wire, from capture files (pcap/pcapng via libpcap) or, when the
 * process may capture, a live interface for a few seconds.
 *
 * Config: {"files": ["traffic.pcap"], "interface": "lo", "filter": "tcp",
 *          "seconds": 10, "max_flows": 65536, "stream_bytes": 16384}
 *
 * TCP is reassembled per direction in sequence order (segments that arrive
 * ahead of a gap are dropped and counted), bounded per flow (stream_bytes)
 * and in flow count (max_flows). Each conversation is read by capparse.c.
 * Emits "cleartext" per finding (target = the file or "interface:NAME") and
 * "capture_file" per source as its summary, so a clean capture passes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libpcap-dev provides both the header and libpcap.pc (CMake links it when found). */
#if defined(__has_include)
#if __has_include(<pcap/pcap.h>)
#define TK_HAVE_PCAP 1
#include <pcap/pcap.h>
#endif
#endif

#include "capparse.h"
#include "probe.h"

#define CAP_MAX_FINDINGS 500
#define CAP_S2C_BYTES 2048
#define CAP_PEND_SEGS 4       /* segments held per direction while a gap is open */
#define CAP_PEND_BYTES 4096   /* largest segment held */
#define CAP_MEM_MAX ((size_t)256 << 20)

struct pend {
	uint32_t seq;
	uint32_t len;
	uint8_t *data;
};

struct cap_cfg {
	char **files;      /* as configured (targets) */
	char **paths;      /* resolved */
	size_t nfiles;
	char *iface, *filter;
	long long seconds, max_flows, stream_bytes;
	void *live;           /* pcap_t opened by cap_prepare (while privileged) */
	int live_rc;          /* why it could not be opened (TK_OK: not tried or opened) */
	char live_err[512];
};

struct flow {
	bool used, syn_seen, done;
	int af;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	uint32_t next[2];     /* next expected seq: [0] client->server, [1] server->client */
	bool have_next[2];
	uint8_t *buf[2];
	size_t len[2];
	bool fin[2];
	struct pend *pend[2]; /* CAP_PEND_SEGS each, allocated at the first gap */
	uint8_t npend[2];
	double first_ts;
	uint64_t packets;
};

struct cap_state {
	struct cap_cfg *cfg;
	struct tk_runctx *ctx;
	const char *target;
	int linktype;
	struct flow *flows;
	size_t cap, nflows;
	uint64_t packets, tcp, truncated, fragments, malformed, not_tcp, ooo, ooo_dropped, flows_dropped;
	size_t mem_bytes;
	int findings, credentials, legacy;
	cJSON *protocols;
	bool truncated_file;
};

static void cap_free(void *state)
{
	struct cap_cfg *c = state;
	if (!c)
		return;
#ifdef TK_HAVE_PCAP
	if (c->live)
		pcap_close(c->live);
#endif
	tk_strv_free(c->files);
	tk_strv_free(c->paths);
	free(c->iface);
	free(c->filter);
	free(c);
}

static int cap_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"files", "interface", "filter", "seconds", "max_flows", "stream_bytes",
					   NULL};
	struct cap_cfg *c = calloc(1, sizeof(*c));
	const char *iface = NULL, *filter = NULL;
	char p[512];
	size_t i;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->seconds = 10;
	c->max_flows = 65536;
	c->stream_bytes = 16384;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "files", false, &c->files, &c->nfiles, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "interface", false, &iface, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "filter", false, &filter, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "seconds", false, 1, 3600, &c->seconds, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_flows", false, 16, 1 << 22, &c->max_flows, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "stream_bytes", false, 256, 1 << 20, &c->stream_bytes, cc, cc->path, err)))
		goto fail;
	if (c->nfiles == 0 && !iface) {
		rc = tk_cfg_err(err, cc, cc->path, "give \"files\" or \"interface\"");
		goto fail;
	}
	if (filter && !iface) {
		tk_path_key(p, sizeof(p), cc->path, "filter");
		rc = tk_cfg_err(err, cc, p, "a filter applies to live capture only (set \"interface\")");
		goto fail;
	}
	if (iface && (!*iface || strlen(iface) > 64 || strpbrk(iface, " /"))) {
		tk_path_key(p, sizeof(p), cc->path, "interface");
		rc = tk_cfg_err(err, cc, p, "\"%s\" is not an interface name", iface);
		goto fail;
	}
	c->paths = calloc(c->nfiles + 1, sizeof(char *));
	if (!c->paths || (iface && !(c->iface = strdup(iface))) || (filter && !(c->filter = strdup(filter)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < c->nfiles; i++)
		if (!(c->paths[i] = tk_cfg_resolve(cc, c->files[i]))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
	*state = c;
	return TK_OK;
fail:
	cap_free(c);
	return rc;
}

static int cap_targets(const void *state, cJSON *list)
{
	const struct cap_cfg *c = state;
	char t[128];
	int rc = tk_targets_add(list, c->files, c->nfiles, sizeof(char *), 0);
	if (rc || !c->iface)
		return rc;
	snprintf(t, sizeof(t), "interface:%s", c->iface);
	return cJSON_AddItemToArray(list, cJSON_CreateString(t)) ? TK_OK : TK_ERR_NOMEM;
}

/* ---- flows ---- */

static uint64_t flow_hash(int af, const uint8_t *a, const uint8_t *b, uint16_t pa, uint16_t pb)
{
	/* Direction-independent: combine the two endpoints symmetrically (FNV-1a over each). */
	uint64_t ha = 1469598103934665603ULL, hb = 1469598103934665603ULL;
	size_t i, n = af == 4 ? 4 : 16;
	for (i = 0; i < n; i++) {
		ha = (ha ^ a[i]) * 1099511628211ULL;
		hb = (hb ^ b[i]) * 1099511628211ULL;
	}
	ha = (ha ^ pa) * 1099511628211ULL;
	hb = (hb ^ pb) * 1099511628211ULL;
	return (ha ^ hb) * 0x9E3779B97F4A7C15ULL + (ha + hb);
}

static bool ep_eq(const struct flow *f, int af, const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	size_t n = af == 4 ? 4 : 16;
	return f->af == af && f->cport == pa && f->sport == pb && memcmp(f->cli, a, n) == 0 &&
	       memcmp(f->srv, b, n) == 0;
}

static void fmt_addr(int af, const uint8_t *a, char *out, size_t size)
{
	inet_ntop(af == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)size);
}

static void flow_report(struct cap_state *S, struct flow *f)
{
	struct tk_cap_finding fs[8];
	int n, i;
	if (f->done)
		return;
	f->done = true;
	n = tk_cap_analyze(f->buf[0], f->len[0], f->buf[1], f->len[1], f->sport, fs, (int)TK_ARRAY_LEN(fs));
	for (i = 0; i < n && i < (int)TK_ARRAY_LEN(fs); i++) {
		char cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN], ts[32];
		cJSON *o, *fl;
		const cJSON *e;
		bool have = false;
		S->findings++;
		if (fs[i].credential)
			S->credentials++;
		if (fs[i].legacy)
			S->legacy++;
		cJSON_ArrayForEach(e, S->protocols) if (strcmp(e->valuestring, fs[i].protocol) == 0) have = true;
		if (!have)
			cJSON_AddItemToArray(S->protocols, cJSON_CreateString(fs[i].protocol));
		if (S->findings > CAP_MAX_FINDINGS)
			continue;
		fmt_addr(f->af, f->cli, cli, sizeof(cli));
		fmt_addr(f->af, f->srv, srv, sizeof(srv));
		o = tk_obs_new(S->ctx, "cleartext", S->target);
		cJSON_AddStringToObject(o, "source", S->target);
		fl = cJSON_AddObjectToObject(o, "flow");
		cJSON_AddStringToObject(fl, "client", cli);
		cJSON_AddNumberToObject(fl, "client_port", f->cport);
		cJSON_AddStringToObject(fl, "server", srv);
		cJSON_AddNumberToObject(fl, "server_port", f->sport);
		cJSON_AddStringToObject(fl, "transport", "tcp");
		tk_rfc3339((time_t)f->first_ts, ts);
		cJSON_AddStringToObject(fl, "first_seen", ts);
		cJSON_AddNumberToObject(fl, "first_seen_epoch", f->first_ts);
		cJSON_AddNumberToObject(fl, "packets", (double)f->packets);
		cJSON_AddStringToObject(o, "protocol", fs[i].protocol);
		cJSON_AddStringToObject(o, "what", fs[i].what);
		cJSON_AddBoolToObject(o, "credential", fs[i].credential);
		cJSON_AddBoolToObject(o, "legacy_protocol", fs[i].legacy);
		cJSON_AddStringToObject(o, "excerpt", fs[i].excerpt);
		if (fs[i].fingerprint[0])
			cJSON_AddStringToObject(o, "fingerprint", fs[i].fingerprint);
		tk_emit(S->ctx, o);
	}
	for (i = 0; i < 2; i++) {
		int k;
		if (f->buf[i]) {
			S->mem_bytes -= i == 0 ? (size_t)S->cfg->stream_bytes : CAP_S2C_BYTES;
			free(f->buf[i]);
			f->buf[i] = NULL;
		}
		f->len[i] = 0;
		for (k = 0; k < f->npend[i]; k++) {
			S->mem_bytes -= f->pend[i][k].len;
			free(f->pend[i][k].data);
		}
		f->npend[i] = 0;
		free(f->pend[i]);
		f->pend[i] = NULL;
	}
}

/* Double the table (up to twice max_flows) when it is half full. */
static void flow_grow(struct cap_state *S)
{
	size_t ncap = S->cap * 2, i, j;
	struct flow *nf;
	if (S->nflows * 2 < S->cap || ncap > (size_t)S->cfg->max_flows * 2)
		return;
	if (!(nf = calloc(ncap, sizeof(*nf))))
		return;
	for (i = 0; i < S->cap; i++) {
		struct flow *f = &S->flows[i];
		uint64_t h;
		if (!f->used)
			continue;
		h = flow_hash(f->af, f->cli, f->srv, f->cport, f->sport);
		for (j = 0; j < ncap; j++)
			if (!nf[(h + j) & (ncap - 1)].used) {
				nf[(h + j) & (ncap - 1)] = *f;
				break;
			}
	}
	free(S->flows);
	S->flows = nf;
	S->cap = ncap;
}

static struct flow *flow_get(struct cap_state *S, const struct tk_cap_pkt *p, int *dir)
{
	uint64_t h;
	size_t i, mask;
	flow_grow(S);
	h = flow_hash(p->af, p->src, p->dst, p->sport, p->dport);
	mask = S->cap - 1;
	for (i = 0; i < S->cap; i++) {
		struct flow *f = &S->flows[(h + i) & mask];
		if (!f->used) {
			/* New flow. The SYN sender is the client; else the lower port is the server's. */
			bool from_client = (p->flags & 0x12) == 0x02 || ((p->flags & 0x02) == 0 && p->dport < p->sport);
			if (S->nflows >= (size_t)S->cfg->max_flows) {
				S->flows_dropped++;
				return NULL;
			}
			memset(f, 0, sizeof(*f));
			f->used = true;
			f->af = p->af;
			memcpy(f->cli, from_client ? p->src : p->dst, 16);
			memcpy(f->srv, from_client ? p->dst : p->src, 16);
			f->cport = from_client ? p->sport : p->dport;
			f->sport = from_client ? p->dport : p->sport;
			S->nflows++;
			*dir = from_client ? 0 : 1;
			return f;
		}
		if (ep_eq(f, p->af, p->src, p->sport, p->dst, p->dport)) {
			*dir = 0;
			return f;
		}
		if (ep_eq(f, p->af, p->dst, p->dport, p->src, p->sport)) {
			*dir = 1;
			return f;
		}
	}
	S->flows_dropped++;
	return NULL;
}

/* Append the part of segment (seq, data, n) beyond the next expected byte; advance. */
static void append_inorder(struct cap_state *S, struct flow *f, int dir, uint32_t seq, const uint8_t *data, size_t n)
{
	uint32_t skip = f->next[dir] - seq;
	size_t bound, room;
	if (skip >= n)
		return; /* a retransmission of bytes already seen */
	data += skip;
	n -= skip;
	bound = dir == 0 ? (size_t)S->cfg->stream_bytes : CAP_S2C_BYTES;
	if (!f->buf[dir] && f->len[dir] < bound && S->mem_bytes + bound <= CAP_MEM_MAX &&
	    (f->buf[dir] = malloc(bound)))
		S->mem_bytes += bound;
	room = bound - f->len[dir];
	if (f->buf[dir] && room > 0) {
		size_t k = n < room ? n : room;
		memcpy(f->buf[dir] + f->len[dir], data, k);
		f->len[dir] += k;
	}
	f->next[dir] += (uint32_t)n;
}

static void on_tcp(struct cap_state *S, const struct tk_cap_pkt *p, double ts)
{
	int dir = 0;
	struct flow *f = flow_get(S, p, &dir);
	const uint8_t *data = p->payload;
	size_t n = p->plen;
	uint32_t seq = p->seq;
	if (!f)
		return;
	if (f->packets++ == 0)
		f->first_ts = ts;
	if (p->flags & 0x02) { /* SYN: data starts at seq + 1 */
		if (f->done && dir == 0 && f->fin[0]) {
			/* the 4-tuple is reused by a new connection */
			int i;
			for (i = 0; i < 2; i++) {
				f->have_next[i] = false;
				f->fin[i] = false;
			}
			f->done = false;
			f->first_ts = ts;
			f->packets = 1;
		}
		f->next[dir] = seq + 1;
		f->have_next[dir] = true;
		seq++;
	}
	if (f->done)
		return;
	if (n > 0) {
		if (!f->have_next[dir]) {
			f->next[dir] = seq;
			f->have_next[dir] = true;
		}
		if ((int32_t)(seq - f->next[dir]) > 0) {
			/* Ahead of a gap: hold a few segments until the gap is filled. */
			struct pend *pe;
			S->ooo++;
			if (f->npend[dir] >= CAP_PEND_SEGS || n > CAP_PEND_BYTES || S->mem_bytes + n > CAP_MEM_MAX ||
			    (!f->pend[dir] && !(f->pend[dir] = calloc(CAP_PEND_SEGS, sizeof(struct pend))))) {
				S->ooo_dropped++;
			} else {
				pe = &f->pend[dir][f->npend[dir]];
				if ((pe->data = malloc(n))) {
					memcpy(pe->data, data, n);
					pe->seq = seq;
					pe->len = (uint32_t)n;
					f->npend[dir]++;
					S->mem_bytes += n;
				} else {
					S->ooo_dropped++;
				}
			}
		} else {
			bool progress;
			append_inorder(S, f, dir, seq, data, n);
			do { /* held segments the stream has now reached */
				int k;
				progress = false;
				for (k = 0; k < f->npend[dir]; k++) {
					struct pend pe = f->pend[dir][k];
					if ((int32_t)(pe.seq - f->next[dir]) > 0)
						continue;
					append_inorder(S, f, dir, pe.seq, pe.data, pe.len);
					free(pe.data);
					S->mem_bytes -= pe.len;
					f->pend[dir][k] = f->pend[dir][--f->npend[dir]];
					progress = true;
					break;
				}
			} while (progress);
		}
	}
	if (p->flags & 0x05) { /* FIN or RST */
		f->fin[dir] = true;
		if ((p->flags & 0x04) || (f->fin[0] && f->fin[1]))
			flow_report(S, f);
	}
}

static void on_packet(struct cap_state *S, const uint8_t *data, size_t caplen, size_t wirelen, double ts)
{
	struct tk_cap_pkt p;
	S->packets++;
	if (caplen < wirelen)
		S->truncated++;
	switch (tk_cap_decode(S->linktype, data, caplen, &p)) {
	case TK_CAP_TCP:
		S->tcp++;
		on_tcp(S, &p, ts);
		break;
	case TK_CAP_FRAGMENT: S->fragments++; break;
	case TK_CAP_TRUNCATED: S->truncated++; break;
	case TK_CAP_MALFORMED: S->malformed++; break;
	default: S->not_tcp++; break;
	}
}

static int state_init(struct cap_state *S, struct cap_cfg *c, struct tk_runctx *ctx, const char *target)
{
	memset(S, 0, sizeof(*S));
	S->cfg = c;
	S->ctx = ctx;
	S->target = target;
	S->cap = 1024;
	S->flows = calloc(S->cap, sizeof(*S->flows));
	S->protocols = cJSON_CreateArray();
	return S->flows && S->protocols ? TK_OK : TK_ERR_NOMEM;
}

static void state_finish(struct cap_state *S, bool emit_summary, const char *kind_source, const char *error)
{
	size_t i;
	for (i = 0; i < S->cap; i++)
		if (S->flows[i].used)
			flow_report(S, &S->flows[i]);
	if (emit_summary) {
		cJSON *o = tk_obs_new(S->ctx, "capture_file", S->target);
		cJSON_AddStringToObject(o, "source", S->target);
		cJSON_AddStringToObject(o, "source_kind", kind_source);
		cJSON_AddStringToObject(o, "link_type", tk_cap_linktype_name(S->linktype));
		cJSON_AddNumberToObject(o, "link_type_code", S->linktype);
		cJSON_AddNumberToObject(o, "packets", (double)S->packets);
		cJSON_AddNumberToObject(o, "tcp_packets", (double)S->tcp);
		cJSON_AddNumberToObject(o, "flows", (double)S->nflows);
		cJSON_AddNumberToObject(o, "flows_dropped", (double)S->flows_dropped);
		cJSON_AddNumberToObject(o, "truncated_packets", (double)S->truncated);
		cJSON_AddNumberToObject(o, "ip_fragments_skipped", (double)S->fragments);
		cJSON_AddNumberToObject(o, "malformed_packets", (double)S->malformed);
		cJSON_AddNumberToObject(o, "out_of_order_segments", (double)S->ooo);
		cJSON_AddNumberToObject(o, "out_of_order_dropped", (double)S->ooo_dropped);
		cJSON_AddNumberToObject(o, "findings", S->findings);
		cJSON_AddNumberToObject(o, "credential_findings", S->credentials);
		cJSON_AddNumberToObject(o, "legacy_sessions", S->legacy);
		cJSON_AddItemToObject(o, "cleartext_protocols", S->protocols);
		S->protocols = NULL;
		cJSON_AddBoolToObject(o, "file_truncated", S->truncated_file);
		if (error)
			cJSON_AddStringToObject(o, "read_error", error);
		{
			/* fail closed: evidence cut short or unreadable makes the capture's items
			 * incomplete (an error observation for this source), unless something fails */
			char why[900] = "";
			size_t w = 0;
#define WHY(...) \
	(w < sizeof(why) ? (void)(w += (size_t)snprintf(why + w, sizeof(why) - w, __VA_ARGS__)) : (void)0)
			if (S->truncated_file)
				WHY("; the capture file is truncated or malformed (%s)", error ? error : "read error");
			if (S->truncated)
				WHY("; %llu packets cut short by the capture's snap length",
				    (unsigned long long)S->truncated);
			if (S->malformed)
				WHY("; %llu malformed packets", (unsigned long long)S->malformed);
			if (S->flows_dropped)
				WHY("; %llu flows not followed (flow table full)", (unsigned long long)S->flows_dropped);
			if (S->ooo_dropped)
				WHY("; %llu out-of-order segments dropped", (unsigned long long)S->ooo_dropped);
			if (S->fragments)
				WHY("; %llu IP fragments not reassembled", (unsigned long long)S->fragments);
#undef WHY
			cJSON_AddBoolToObject(o, "complete", why[0] == '\0');
			if (why[0])
				cJSON_AddStringToObject(o, "incomplete_reason", why + 2);
			tk_emit(S->ctx, o);
			if (why[0])
				tk_emit_error(S->ctx, S->target, S->truncated_file ? TK_ERR_PARSE : TK_ERR_LIMIT,
					      "%s: evidence cut short: %s", S->target, why + 2);
		}
	}
	for (i = 0; i < S->cap; i++) {
		free(S->flows[i].buf[0]);
		free(S->flows[i].buf[1]);
	}
	free(S->flows);
	cJSON_Delete(S->protocols);
}

#ifdef TK_HAVE_PCAP
static void pcap_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_state *S = (struct cap_state *)user;
	on_packet(S, bytes, h->caplen, h->len, (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6);
}

static void read_file(struct cap_cfg *c, struct tk_runctx *ctx, size_t idx)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = NULL;
	struct cap_state S;
	struct tk_err oe = {0};
	FILE *fp = NULL;
	int r, fd = -1;
	const char *error = NULL;
	/* a FIFO or device never blocks the scan; only regular files are read */
	if (tk_open_regular(c->paths[idx], 0, &fd, NULL, &oe) != TK_OK) {
		tk_emit_error(ctx, c->files[idx], TK_ERR_IO, "cannot read capture %s: %s", c->files[idx], oe.msg);
		return;
	}
	if (!(fp = fdopen(fd, "rb")))
		close(fd);
	else if (!(pc = pcap_fopen_offline(fp, eb)))
		fclose(fp); /* pcap owns fp once it opened */
	if (!pc) {
		tk_emit_error(ctx, c->files[idx], TK_ERR_IO, "cannot read capture %s: %s", c->files[idx],
			      eb[0] ? eb : "out of memory");
		return;
	}
	if (state_init(&S, c, ctx, c->files[idx]) != TK_OK) {
		pcap_close(pc);
		tk_emit_error(ctx, c->files[idx], TK_ERR_NOMEM, "out of memory");
		return;
	}
	S.linktype = pcap_datalink(pc);
	if (!tk_cap_linktype_supported(S.linktype)) {
		tk_emit_error(ctx, c->files[idx], TK_ERR_UNSUPPORTED, "%s: link type %d (%s) is not supported",
			      c->files[idx], S.linktype, pcap_datalink_val_to_name(S.linktype) ?
			      pcap_datalink_val_to_name(S.linktype) : "?");
		state_finish(&S, false, "file", NULL);
		pcap_close(pc);
		return;
	}
	while ((r = pcap_dispatch(pc, 4096, pcap_cb, (u_char *)&S)) > 0) {
		if (tk_run_cancelled(ctx))
			break;
	}
	if (r == PCAP_ERROR) {
		S.truncated_file = true;
		error = pcap_geterr(pc);
	}
	if (tk_run_cancelled(ctx)) {
		tk_emit_error(ctx, c->files[idx], TK_ERR_TIMEOUT, "stopped by the deadline after %llu packets",
			      (unsigned long long)S.packets);
		state_finish(&S, false, "file", NULL);
	} else {
		state_finish(&S, true, "file", error);
	}
	pcap_close(pc);
}

/*
 * Open the live capture in the main thread, before the agent drops
 * CAP_NET_RAW. A missing permission is not fatal: run() reports it as an
 * error observation for the interface. A bad filter is a config error.
 */
static int cap_prepare(void *state, struct tk_err *err)
{
	struct cap_cfg *c = state;
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *pc;
	int r;
	if (!c->iface || c->live)
		return TK_OK;
	if (!(pc = pcap_create(c->iface, eb))) {
		c->live_rc = TK_ERR_IO;
		snprintf(c->live_err, sizeof(c->live_err), "cannot open %s: %s", c->iface, eb);
		return TK_OK;
	}
	pcap_set_snaplen(pc, 65535);
	pcap_set_promisc(pc, 0);
	pcap_set_timeout(pc, 100);
	if ((r = pcap_activate(pc)) < 0) {
		c->live_rc = r == PCAP_ERROR_PERM_DENIED || r == PCAP_ERROR ? TK_ERR_UNSUPPORTED : TK_ERR_IO;
		snprintf(c->live_err, sizeof(c->live_err), "cannot capture on %s (needs CAP_NET_RAW): %s", c->iface,
			 pcap_geterr(pc));
		pcap_close(pc);
		return TK_OK;
	}
	if (c->filter) {
		if (pcap_compile(pc, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(pc, &prog) < 0) {
			int rc = tk_seterr(err, TK_ERR_CONFIG, "capture filter \"%s\": %s", c->filter, pcap_geterr(pc));
			pcap_close(pc);
			return rc;
		}
		pcap_freecode(&prog);
	}
	c->live = pc;
	return TK_OK;
}

static void read_live(struct cap_cfg *c, struct tk_runctx *ctx)
{
	char eb[PCAP_ERRBUF_SIZE] = "", target[128];
	pcap_t *pc = c->live;
	struct cap_state S;
	int64_t end;
	int r = 0;
	snprintf(target, sizeof(target), "interface:%s", c->iface);
	if (!pc) {
		tk_emit_error(ctx, target, c->live_rc ? c->live_rc : TK_ERR_INTERNAL, "%s",
			      c->live_err[0] ? c->live_err : "the live capture was not prepared");
		return;
	}
	pcap_setnonblock(pc, 1, eb);
	if (state_init(&S, c, ctx, target) != TK_OK) {
		tk_emit_error(ctx, target, TK_ERR_NOMEM, "out of memory");
		return;
	}
	S.linktype = pcap_datalink(pc);
	end = tk_now_ms() + tk_run_remaining_ms(ctx, (int)(c->seconds * 1000));
	while (tk_now_ms() < end && !tk_run_cancelled(ctx)) {
		r = pcap_dispatch(pc, 1024, pcap_cb, (u_char *)&S);
		if (r < 0)
			break;
		if (r == 0) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	state_finish(&S, true, "interface", r < 0 ? pcap_geterr(pc) : NULL);
	pcap_close(pc);
	c->live = NULL;
}
#endif

static int cap_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct cap_cfg *c = state;
	size_t i;
	(void)err;
#ifdef TK_HAVE_PCAP
	for (i = 0; i < c->nfiles && !tk_run_cancelled(ctx); i++)
		read_file(c, ctx, i);
	if (c->iface && !tk_run_cancelled(ctx))
		read_live(c, ctx);
#else
	for (i = 0; i < c->nfiles; i++)
		tk_emit_error(ctx, c->files[i], TK_ERR_UNSUPPORTED, "tenken was built without libpcap");
	if (c->iface) {
		char t[128];
		snprintf(t, sizeof(t), "interface:%s", c->iface);
		tk_emit_error(ctx, t, TK_ERR_UNSUPPORTED, "tenken was built without libpcap");
	}
#endif
	return TK_OK;
}

const struct tk_probe tk_probe_capture = {
	.name = "capture",
	.summary = "Cleartext TELNET/FTP/rlogin/rsh/rexec sessions and HTTP tokens in capture files or live traffic (libpcap)",
	.configure = cap_configure,
#ifdef TK_HAVE_PCAP
	.prepare = cap_prepare,
#endif
	.targets = cap_targets,
	.run = cap_run,
	.free_state = cap_free,
};
