/* hsts.h - RFC 6797 Strict-Transport-Security parsing (exposed for tests and fuzzing). */
#ifndef TK_HSTS_H
#define TK_HSTS_H

#include <stdbool.h>
#include <stddef.h>

struct tk_hsts {
	bool valid;                  /* the header is well-formed and has max-age */
	unsigned long long max_age;  /* seconds, saturated at 2^53 */
	bool include_subdomains;
	bool preload;
	char why[160];               /* reason when !valid */
};

/*
 * Parse one header value (without the field name) by RFC 6797 section 6.1:
 * directives separated by ';', names case-insensitive, values token or
 * quoted-string, each directive at most once, unknown directives ignored,
 * max-age required and made of digits only.
 */
void tk_hsts_parse(const char *value, size_t len, struct tk_hsts *out);

#endif
