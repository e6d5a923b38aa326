/*
 * demo.h - the built-in demo partner: real servers on loopback, one "part"
 * per probe. A part starts its servers and writes its probe's config section.
 */
#ifndef TK_DEMO_H
#define TK_DEMO_H

#include <cjson/cJSON.h>
#include "localsrv.h"

struct tk_demo_env {
	const char *dir;          /* the demo's output directory */
	struct tk_testca *ca;     /* CA whose certificate is DIR/ca.pem */
	const char *ca_file;      /* "ca.pem" (relative to the config) */
	int port_base;            /* --ports: servers listen on port_base + slot (stable target
				   * names across runs); 0, or a port taken: any free port */
};

/* Port slots of the demo's listeners (port_base + slot). */
enum tk_demo_slot {
	TK_DEMO_HSTS_GOOD, TK_DEMO_HSTS_WEAK, TK_DEMO_HSTS_HTTP, TK_DEMO_TLS_GOOD, TK_DEMO_TLS_WEAK,
	TK_DEMO_LEGACY_TELNET, TK_DEMO_LEGACY_FTP, TK_DEMO_CLOUD_IAM, TK_DEMO_NSLOTS
};
#define TK_DEMO_PORT_BASE 24300

/* The fixed port of a slot, or 0 (any) when the demo runs without fixed ports. */
int tk_demo_port(const struct tk_demo_env *env, enum tk_demo_slot slot);
/* Start an HTTP(S) responder on the slot's fixed port; if that port is taken,
 * on any free port, with a warning that target names will differ. */
int tk_demo_httpd_start(const struct tk_demo_env *env, enum tk_demo_slot slot, struct tk_httpd_config *hc,
			struct tk_httpd **out, struct tk_err *err);

struct tk_demo_part {
	const char *name;
	/* Start servers; add this probe's section to `probes`; keep state in *state. */
	int (*start)(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err);
	void (*stop)(void *state);
};

extern const struct tk_demo_part tk_demo_hsts;
extern const struct tk_demo_part tk_demo_patch;
extern const struct tk_demo_part tk_demo_tls;
extern const struct tk_demo_part tk_demo_legacy;
extern const struct tk_demo_part tk_demo_cloud;
extern const struct tk_demo_part tk_demo_tokens;

#endif
