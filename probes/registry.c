/* registry.c - every probe tenken has. Adding a probe touches this list only. */
#include <string.h>

#include "probe.h"

extern const struct tk_probe tk_probe_tls;
extern const struct tk_probe tk_probe_hsts;
extern const struct tk_probe tk_probe_legacy;
extern const struct tk_probe tk_probe_capture;
extern const struct tk_probe tk_probe_patch;
extern const struct tk_probe tk_probe_cloud;
extern const struct tk_probe tk_probe_tokens;
extern const struct tk_probe tk_probe_ssh;
extern const struct tk_probe tk_probe_web;

const struct tk_probe *const tk_probes[] = {
	&tk_probe_tls,
	&tk_probe_hsts,
	&tk_probe_legacy,
	&tk_probe_capture,
	&tk_probe_patch,
	&tk_probe_cloud,
	&tk_probe_tokens,
	&tk_probe_ssh,
	&tk_probe_web,
	NULL,
};

const struct tk_probe *tk_probe_find(const char *name)
{
	size_t i;
	for (i = 0; tk_probes[i]; i++)
		if (strcmp(tk_probes[i]->name, name) == 0)
			return tk_probes[i];
	return NULL;
}
