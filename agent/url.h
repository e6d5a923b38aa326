/* url.h - one check for the http(s) URLs a config names (hsts urls, cloud endpoints). */
#ifndef TK_URL_H
#define TK_URL_H

#include <stddef.h>

/*
 * Check url: scheme http or https, a host, and a port from 1 to 65535.
 * Returns TK_OK, or TK_ERR_CONFIG with a reason in why (e.g. "port 70000
 * out of range (1-65535)", "not an http(s) URL") for the caller's error.
 */
int tk_url_check(const char *url, char *why, size_t size);

#endif
