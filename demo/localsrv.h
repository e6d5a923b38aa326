/*
 * localsrv.h - small real servers on loopback for the demo and the tests:
 * a throwaway CA that issues certificates, and an HTTP/HTTPS responder.
 * Never used against anything but addresses the caller chooses (loopback).
 */
#ifndef TK_LOCALSRV_H
#define TK_LOCALSRV_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include "tk.h"

struct tk_testca;

/* New CA (EC P-256, 10 years), in memory. */
int tk_testca_new(const char *cn, struct tk_testca **out, struct tk_err *err);
void tk_testca_free(struct tk_testca *ca);
int tk_testca_write_pem(const struct tk_testca *ca, const char *path, struct tk_err *err);
/*
 * Issue a server certificate for `name` (CN and DNS SAN; IP SANs for
 * addresses). rsa_bits = 0 for EC P-256. days may be negative (expired).
 * md NULL = SHA-256.
 */
int tk_testca_issue(struct tk_testca *ca, const char *name, int rsa_bits, int days, const EVP_MD *md,
		    X509 **cert, EVP_PKEY **key, struct tk_err *err);
/* A server SSL_CTX for cert/key (chain: the CA). min/max: TLS1_2_VERSION etc, 0 = default. */
SSL_CTX *tk_testca_server_ctx(struct tk_testca *ca, X509 *cert, EVP_PKEY *key, int min_version,
			      int max_version);

struct tk_httpd_config {
	const char *addr;          /* "127.0.0.1", "::1" */
	int port;                  /* 0: pick a free port */
	SSL_CTX *ssl;              /* NULL: plain HTTP (not owned; must outlive the server) */
	int status;                /* response status, default 200 */
	const char *headers;       /* extra header lines, each ending "\r\n" (may be NULL) */
	const char *body;          /* default "ok\n" */
	/*
	 * Optional: serve each accepted (plain) connection with this instead of
	 * the fixed response above; the server closes fd afterwards.
	 */
	void (*serve)(void *arg, int fd);
	void *serve_arg;
};

struct tk_httpd;

int tk_httpd_start(const struct tk_httpd_config *cfg, struct tk_httpd **out, struct tk_err *err);
int tk_httpd_port(const struct tk_httpd *h);
/* Number of requests answered so far. */
unsigned tk_httpd_requests(const struct tk_httpd *h);
void tk_httpd_stop(struct tk_httpd *h);

#endif
