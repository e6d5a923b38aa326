/* url.c - see url.h. libcurl's URL parser, with the reason spelled out. */
#include "url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "tk.h"

/* The port as written after the host (digits only), or -1. */
static long long written_port(const char *url)
{
	const char *a = strstr(url, "://"), *end, *colon = NULL, *p;
	long long v = 0;
	if (!a)
		return -1;
	a += 3;
	end = a + strcspn(a, "/?#");
	if (*a == '[') {
		const char *rb = memchr(a, ']', (size_t)(end - a));
		if (!rb)
			return -1;
		a = rb;
	}
	for (p = a; p < end; p++)
		if (*p == ':')
			colon = p;
	if (!colon || colon + 1 == end)
		return -1;
	for (p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || v > 1000000000LL)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int tk_url_check(const char *url, char *why, size_t size)
{
	CURLU *u;
	CURLUcode uc;
	char *sch = NULL, *host = NULL;
	long long port = written_port(url);
	int rc = TK_ERR_CONFIG;
	if (port == 0 || port > 65535) {
		snprintf(why, size, "port %lld out of range (1-65535)", port);
		return TK_ERR_CONFIG;
	}
	if (!(u = curl_url())) {
		snprintf(why, size, "out of memory");
		return TK_ERR_NOMEM;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc == CURLUE_BAD_PORT_NUMBER)
		snprintf(why, size, "port out of range (1-65535)");
	else if (uc != CURLUE_OK)
		snprintf(why, size, "not a valid URL (%s)", curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK ||
		 (strcmp(sch, "http") != 0 && strcmp(sch, "https") != 0))
		snprintf(why, size, "not an http(s) URL");
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		snprintf(why, size, "no host");
	else
		rc = TK_OK;
	curl_free(sch);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}
