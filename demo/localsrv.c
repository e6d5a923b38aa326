/* localsrv.c - a throwaway CA and a small HTTP/HTTPS responder on loopback. */
#include "localsrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tk_testca {
	X509 *cert;
	EVP_PKEY *key;
	long serial;
};

static EVP_PKEY *new_key(int rsa_bits)
{
	if (rsa_bits > 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return 0;
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return 1;
}

int tk_testca_new(const char *cn, struct tk_testca **out, struct tk_err *err)
{
	struct tk_testca *ca = calloc(1, sizeof(*ca));
	X509_NAME *name;
	*out = NULL;
	if (!ca)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	ca->serial = 1000;
	if (!(ca->key = new_key(0)) || !(ca->cert = X509_new()))
		goto fail;
	X509_set_version(ca->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ca->cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(ca->cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(ca->cert), 3650L * 86400);
	X509_set_pubkey(ca->cert, ca->key);
	name = X509_get_subject_name(ca->cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tenken test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(ca->cert, name);
	if (!add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
	    !X509_sign(ca->cert, ca->key, EVP_sha256()))
		goto fail;
	*out = ca;
	return TK_OK;
fail:
	tk_testca_free(ca);
	return tk_seterr(err, TK_ERR_TLS, "cannot create the test CA");
}

void tk_testca_free(struct tk_testca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

int tk_testca_write_pem(const struct tk_testca *ca, const char *path, struct tk_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;
	if (!b || !PEM_write_bio_X509(b, ca->cert)) {
		BIO_free(b);
		return tk_seterr(err, TK_ERR_TLS, "cannot encode the CA certificate");
	}
	len = BIO_get_mem_data(b, &data);
	rc = tk_write_file_atomic(path, data, (size_t)len, 0644, err);
	BIO_free(b);
	return rc;
}

int tk_testca_issue(struct tk_testca *ca, const char *name, int rsa_bits, int days, const EVP_MD *md,
		    X509 **cert_out, EVP_PKEY **key_out, struct tk_err *err)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	X509_NAME *subj;
	char san[600];
	unsigned char buf[16];
	*cert_out = NULL;
	*key_out = NULL;
	if (!(key = new_key(rsa_bits)) || !(cert = X509_new()))
		goto fail;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), ++ca->serial);
	if (days >= 0) {
		X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
		X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
	} else {
		X509_gmtime_adj(X509_getm_notBefore(cert), (long)(days - 30) * 86400);
		X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
	}
	X509_set_pubkey(cert, key);
	subj = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(ca->cert));
	if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1)
		snprintf(san, sizeof(san), "IP:%s", name);
	else
		snprintf(san, sizeof(san), "DNS:%s", name);
	if (!add_ext(cert, ca->cert, NID_subject_alt_name, san) ||
	    !add_ext(cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, ca->cert, NID_ext_key_usage, "serverAuth") ||
	    !X509_sign(cert, ca->key, md ? md : EVP_sha256()))
		goto fail;
	*cert_out = cert;
	*key_out = key;
	return TK_OK;
fail:
	X509_free(cert);
	EVP_PKEY_free(key);
	return tk_seterr(err, TK_ERR_TLS, "cannot issue a certificate for %s", name);
}

SSL_CTX *tk_testca_server_ctx(struct tk_testca *ca, X509 *cert, EVP_PKEY *key, int min_version,
			      int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, ca->cert) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (min_version)
		SSL_CTX_set_min_proto_version(ctx, min_version);
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	return ctx;
}

/* ---- HTTP responder ---- */
struct tk_httpd {
	int fd;
	int port;
	int wake[2];
	pthread_t thread;
	struct tk_httpd_config cfg;
	char *headers;
	char *body;
	atomic_uint requests;
};

static void serve_one(struct tk_httpd *h, int cfd)
{
	SSL *ssl = NULL;
	char req[8192];
	size_t have = 0;
	struct tk_buf resp;
	struct timeval tv = {5, 0};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (h->cfg.ssl) {
		ssl = SSL_new(h->cfg.ssl);
		if (!ssl)
			return;
		SSL_set_fd(ssl, cfd);
		if (SSL_accept(ssl) != 1)
			goto out;
	}
	while (have < sizeof(req) - 1) {
		int n = ssl ? SSL_read(ssl, req + have, (int)(sizeof(req) - 1 - have))
			    : (int)read(cfd, req + have, sizeof(req) - 1 - have);
		if (n <= 0)
			goto out;
		have += (size_t)n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	atomic_fetch_add(&h->requests, 1);
	tk_buf_init(&resp, 1 << 20);
	tk_buf_printf(
	    &resp, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
	    h->cfg.status, h->cfg.status >= 300 && h->cfg.status < 400 ? "Redirect" : "OK", strlen(h->body), h->headers,
	    h->body);
	if (ssl)
		SSL_write(ssl, resp.data, (int)resp.len);
	else
		(void)!write(cfd, resp.data, resp.len);
	tk_buf_free(&resp);
	if (ssl)
		SSL_shutdown(ssl);
out:
	SSL_free(ssl);
}

static void *httpd_thread(void *arg)
{
	struct tk_httpd *h = arg;
	for (;;) {
		struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->wake[0], POLLIN, 0}};
		int cfd;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		cfd = accept(h->fd, NULL, NULL);
		if (cfd < 0)
			continue;
		if (h->cfg.serve)
			h->cfg.serve(h->cfg.serve_arg, cfd);
		else
			serve_one(h, cfd);
		close(cfd);
	}
	return NULL;
}

int tk_httpd_start(const struct tk_httpd_config *cfg, struct tk_httpd **out, struct tk_err *err)
{
	struct tk_httpd *h = calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	*out = NULL;
	if (!h)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	h->fd = -1;
	h->wake[0] = h->wake[1] = -1;
	h->cfg = *cfg;
	if (!h->cfg.status)
		h->cfg.status = 200;
	h->headers = strdup(cfg->headers ? cfg->headers : "");
	h->body = strdup(cfg->body ? cfg->body : "ok\n");
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		tk_httpd_stop(h);
		return tk_seterr(err, TK_ERR_CONFIG, "%s: not an IP address", cfg->addr);
	}
	if (!h->headers || !h->body || pipe(h->wake) != 0 ||
	    (h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(h->fd, (struct sockaddr *)&ss, sl) != 0 || listen(h->fd, 64) != 0 ||
	    getsockname(h->fd, (struct sockaddr *)&ss, &sl) != 0) {
		int e = errno;
		tk_httpd_stop(h);
		return tk_seterr(err, TK_ERR_NET, "cannot listen on %s:%d: %s", cfg->addr, cfg->port, strerror(e));
	}
	h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (pthread_create(&h->thread, NULL, httpd_thread, h) != 0) {
		tk_httpd_stop(h);
		return tk_seterr(err, TK_ERR_INTERNAL, "cannot start server thread");
	}
	*out = h;
	return TK_OK;
}

int tk_httpd_port(const struct tk_httpd *h)
{
	return h->port;
}

unsigned tk_httpd_requests(const struct tk_httpd *h)
{
	return atomic_load(&((struct tk_httpd *)h)->requests);
}

void tk_httpd_stop(struct tk_httpd *h)
{
	if (!h)
		return;
	if (h->thread) {
		(void)!write(h->wake[1], "x", 1);
		pthread_join(h->thread, NULL);
	}
	if (h->fd >= 0)
		close(h->fd);
	if (h->wake[0] >= 0) {
		close(h->wake[0]);
		close(h->wake[1]);
	}
	free(h->headers);
	free(h->body);
	free(h);
}
