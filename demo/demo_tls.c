/*
 * demo_tls.c - the TLS part of the demo partner: on loopback, a well
 * configured endpoint (TLS 1.2/1.3, ECDHE with AEAD only, ECDSA P-256,
 * server preference) and a weakly configured one (TLS 1.0-1.2 at security
 * level 0, static-RSA CBC suites, a 1024-bit RSA key signed with SHA-1 that
 * expires in 20 days).
 */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

struct tls_demo {
	SSL_CTX *ssl[2];
	struct tk_httpd *srv[2];
};

static void tls_demo_stop(void *state)
{
	struct tls_demo *d = state;
	size_t i;
	if (!d)
		return;
	for (i = 0; i < 2; i++)
		tk_httpd_stop(d->srv[i]);
	for (i = 0; i < 2; i++)
		SSL_CTX_free(d->ssl[i]);
	free(d);
}

static SSL_CTX *weak_ctx(X509 *cert, EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_security_level(ctx, 0); /* lets a 1024-bit key, SHA-1 and TLS 1.0 through */
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "AES128-SHA:AES256-SHA:CAMELLIA128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0") != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

static int tls_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	static const char *const names[2] = {"tls.good.demo", "tls.weak.demo"};
	static const char *const addrs[2] = {"127.0.0.1", "127.0.0.2"};
	struct tls_demo *d = calloc(1, sizeof(*d));
	struct tk_httpd_config hc;
	cJSON *sec, *eps;
	char ep[128];
	int rc = TK_OK, i;

	*state = NULL;
	if (!d)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	sec = cJSON_AddObjectToObject(probes, "tls");
	eps = cJSON_AddArrayToObject(sec, "endpoints");
	for (i = 0; i < 2; i++) {
		X509 *cert = NULL;
		EVP_PKEY *key = NULL;
		if ((rc = tk_testca_issue(env->ca, names[i], i == 0 ? 0 : 1024, i == 0 ? 365 : 20,
					  i == 0 ? NULL : EVP_sha1(), &cert, &key, err)))
			goto fail;
		if (i == 0) {
			d->ssl[i] = tk_testca_server_ctx(env->ca, cert, key, TLS1_2_VERSION, 0);
			if (d->ssl[i] &&
			    (SSL_CTX_set_cipher_list(d->ssl[i], "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
			     !SSL_CTX_set_options(d->ssl[i], SSL_OP_CIPHER_SERVER_PREFERENCE))) {
				SSL_CTX_free(d->ssl[i]);
				d->ssl[i] = NULL;
			}
		} else {
			d->ssl[i] = weak_ctx(cert, key);
		}
		X509_free(cert);
		EVP_PKEY_free(key);
		if (!d->ssl[i]) {
			rc = tk_seterr(err, TK_ERR_TLS, "cannot build the demo TLS context for %s", names[i]);
			goto fail;
		}
		memset(&hc, 0, sizeof(hc));
		hc.addr = addrs[i];
		hc.ssl = d->ssl[i];
		if ((rc = tk_demo_httpd_start(env, i == 0 ? TK_DEMO_TLS_GOOD : TK_DEMO_TLS_WEAK, &hc, &d->srv[i], err)))
			goto fail;
		snprintf(ep, sizeof(ep), "%s@%s:%d", names[i], addrs[i], tk_httpd_port(d->srv[i]));
		cJSON_AddItemToArray(eps, cJSON_CreateString(ep));
	}
	cJSON_AddStringToObject(sec, "ca_file", env->ca_file);
	cJSON_AddNumberToObject(sec, "connection_timeout_s", 5);
	*state = d;
	return TK_OK;
fail:
	tls_demo_stop(d);
	return rc;
}

const struct tk_demo_part tk_demo_tls = {
	.name = "tls",
	.start = tls_demo_start,
	.stop = tls_demo_stop,
};
