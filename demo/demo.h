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
};

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
