/*
 * legacy.h - what the "legacy" probe's files share (legacy.c: configuration,
 * event loop, observations; nmap.c: the nmap engine). Internal to probes/legacy/.
 * The configuration (struct lg_cfg) owns its hosts, their port lists and cJSON
 * lists; lg_free (legacy.c) releases all of it.
 */
#ifndef TK_LEGACY_H
#define TK_LEGACY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "legacyfp.h"
#include "nmapxml.h"
#include "probe.h"

#define LG_MAX_ADDRESSES 65536
#define LG_RX_MAX 8192
#define LG_BANNER_MAX 256
#define LG_LIST_MAX 64
#define LG_SERVICE_CAP_MS 20000
#define LG_NMAP_OUT_MAX (32u << 20)

struct lg_port {
	uint16_t port;
	bool udp;
};

struct lg_nmapinfo {
	struct lg_port p;
	char state[24], service[48], product[128], version[64];
	int ncpe;
	char cpe[TK_NMAP_MAX_CPE][160];
};

struct lg_host {
	char *label;   /* target as configured (a CIDR is expanded to addresses) */
	bool is_name;  /* resolve at run time */
	struct sockaddr_storage sa;
	socklen_t salen;
	char addr[INET6_ADDRSTRLEN];
	/* run state */
	bool failed;
	const struct lg_port *ports; /* borrowed: the config's list or nmap's open ports */
	size_t nports, next;
	int inflight;
	int64_t next_us;   /* earliest start of the next connection (rate) */
	size_t nopen, nclosed, nfiltered, nopenfiltered, nerrors, ngaps;
	cJSON *open_ports, *closed_ports, *filtered_ports, *services, *remote, *datastores;
	int last_errno;    /* of the last port that could not be probed (nerrors) */
	struct lg_port *nmap_ports;
	struct lg_nmapinfo *nmap;
	size_t nnmap;
	bool nmap_missing;
};

struct lg_cfg {
	struct lg_host *hosts;
	size_t nhosts;
	struct lg_port *ports;
	size_t nports;
	bool use_nmap, try_anon, ds_login;
	long long maxc, per_host_c, rate, connect_ms, banner_ms, reply_ms, udp_ms, nmap_timeout_s;
	char *nmap_path;
	char nmap_fallback[256]; /* why the nmap engine gave way to the native one ("" = it did not) */
	uint16_t hint_port[32];
	enum lg_proto hint_proto[32];
	size_t nhints;
};

/* Port bookkeeping (legacy.c). */
void lg_mark_closed(struct lg_host *h, const struct lg_port *p);
void lg_mark_filtered(struct lg_host *h, const struct lg_port *p);

/*
 * The nmap engine (nmap.c): when c->use_nmap, run nmap over the hosts' TCP
 * ports and make its open ports (plus the configured UDP ports) each host's
 * fingerprint list; *done = true then. When nmap is missing or fails, the
 * hosts are reset to the configured ports, c->use_nmap is cleared,
 * c->nmap_fallback says why, and *done = false: the native engine runs.
 * Returns TK_OK or TK_ERR_NOMEM.
 */
int lg_nmap_engine(struct lg_cfg *c, struct tk_runctx *ctx, bool *done, struct tk_err *err);

#endif
