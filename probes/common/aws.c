/* aws.c - the AWS client: SigV4, credentials, STS AssumeRole, requests (see aws.h). */
#include "aws.h"
#include "curlbudget.h"
#include "url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awsxml.h"
#include "httpreq.h"
#include "scrub.h"
#include "cloudjson.h"

#define AWS_MAX_CRED_FILE (256 * 1024)
#define AWS_MAX_XML (8u << 20)

const char *const tk_aws_account_keys[] = {"endpoint", "endpoints", "region", "credentials_file", "profile",
					   "role_arn", "external_id", "role_session_name", "request_timeout_s",
					   "max_retries", "ca_file", "proxy", "s3_classification_tag", NULL};

struct tk_aws_account {
	char *endpoint;        /* override for every service, or NULL */
	cJSON *endpoints;      /* per-service overrides (owned) */
	char *region;
	char *ca_file;
	char *proxy;           /* "" = none */
	char *source;          /* description of the credential source */
	char *role_arn, *external_id, *session_name;
	char *s3_tag;          /* the data-classification tag key read by the S3 posture check */
	char account_id[16];   /* from STS GetCallerIdentity, "" until asked */
	struct tk_aws_creds base;
	struct tk_aws_creds session;
	bool have_session;
	int timeout_ms;
	int max_retries;
	bool (*cancelled)(void *);
	void *cancel_arg;
};

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void tk_aws_creds_clear(struct tk_aws_creds *c)
{
	if (!c)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

/* ---- encoding and hashing ---- */


static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];
	tk_sha256(p, n, d);
	tk_hex(d, 32, out);
}

static void hmac256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned int ol = 32;
	HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &ol);
}

/* ---- SigV4 ---- */

struct hdr {
	char name[64];
	char value[1024];
};

static int hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

static int add_hdr(struct hdr *h, size_t *n, size_t max, const char *name, size_t nlen, const char *value)
{
	size_t i, o = 0;
	bool space = false;
	if (*n >= max || nlen == 0 || nlen >= sizeof(h[0].name))
		return TK_ERR_LIMIT;
	for (i = 0; i < nlen; i++)
		h[*n].name[i] = (char)tolower((unsigned char)name[i]);
	h[*n].name[nlen] = '\0';
	/* trim and collapse runs of spaces, as botocore does (' '.join(v.split())) */
	for (i = 0; value[i]; i++) {
		if (isspace((unsigned char)value[i])) {
			space = o > 0;
			continue;
		}
		if (space) {
			if (o + 1 >= sizeof(h[0].value))
				return TK_ERR_LIMIT;
			h[*n].value[o++] = ' ';
			space = false;
		}
		if (o + 1 >= sizeof(h[0].value))
			return TK_ERR_LIMIT;
		h[*n].value[o++] = value[i];
	}
	h[*n].value[o] = '\0';
	(*n)++;
	return TK_OK;
}

struct qpair {
	const char *k, *v;
	size_t kl, vl;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	size_t m = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, m);
	if (c || x->kl != y->kl)
		return c ? c : (x->kl < y->kl ? -1 : 1);
	m = x->vl < y->vl ? x->vl : y->vl;
	c = memcmp(x->v, y->v, m);
	if (c || x->vl != y->vl)
		return c ? c : (x->vl < y->vl ? -1 : 1);
	return 0;
}

/* Canonical query: the raw pairs sorted by key then value, "k=v" joined by '&'. */
static int canonical_query(const char *q, struct tk_buf *out)
{
	struct qpair *pairs;
	size_t n = 1, i, np = 0;
	const char *p;
	int rc = TK_OK;
	for (p = q; *p; p++)
		if (*p == '&')
			n++;
	if (!(pairs = calloc(n, sizeof(*pairs))))
		return TK_ERR_NOMEM;
	p = q;
	for (;;) {
		const char *amp = strchr(p, '&');
		size_t l = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', l);
		pairs[np].k = p;
		pairs[np].kl = eq ? (size_t)(eq - p) : l;
		pairs[np].v = eq ? eq + 1 : p + l;
		pairs[np].vl = eq ? l - pairs[np].kl - 1 : 0;
		np++;
		if (!amp)
			break;
		p = amp + 1;
	}
	qsort(pairs, np, sizeof(*pairs), qpair_cmp);
	for (i = 0; i < np && !rc; i++) {
		if (i)
			rc = tk_buf_puts(out, "&");
		if (!rc)
			rc = tk_buf_append(out, pairs[i].k, pairs[i].kl);
		if (!rc)
			rc = tk_buf_puts(out, "=");
		if (!rc)
			rc = tk_buf_append(out, pairs[i].v, pairs[i].vl);
	}
	free(pairs);
	return rc;
}

int tk_aws_sigv4_sign(const struct tk_aws_sigv4_req *r, const struct tk_aws_creds *c, char *authz,
		      size_t authz_size, char amz_date[17], struct tk_err *err)
{
	struct hdr h[16];
	size_t nh = 0, i;
	struct tk_buf creq, sts, signed_names;
	struct tm tm;
	char date[9], payload_hash[65], creq_hash[65], sig[65], scope[256];
	const char *q;
	char *path = NULL, *upath = NULL;
	unsigned char k1[32], k2[32], k3[32], k4[32], k5[32];
	size_t klen;
	char *kdate = NULL;
	int rc = TK_OK;

	tk_buf_init(&creq, 1 << 20);
	tk_buf_init(&sts, 4096);
	tk_buf_init(&signed_names, 4096);
	if (!r->method || !r->host || !r->path_and_query || !r->service || !r->region || !c ||
	    !c->access_key_id || !c->secret_access_key || r->path_and_query[0] != '/') {
		rc = tk_seterr(err, TK_ERR_INTERNAL, "SigV4: incomplete request or credentials");
		goto out;
	}
	if (!gmtime_r(&r->when, &tm)) {
		rc = tk_seterr(err, TK_ERR_INTERNAL, "SigV4: bad time");
		goto out;
	}
	strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	if (add_hdr(h, &nh, TK_ARRAY_LEN(h), "host", 4, r->host) ||
	    add_hdr(h, &nh, TK_ARRAY_LEN(h), "x-amz-date", 10, amz_date) ||
	    (c->session_token && add_hdr(h, &nh, TK_ARRAY_LEN(h), "x-amz-security-token", 20, c->session_token))) {
		rc = tk_seterr(err, TK_ERR_LIMIT, "SigV4: header too long");
		goto out;
	}
	for (i = 0; r->headers && r->headers[i]; i++) {
		const char *colon = strchr(r->headers[i], ':');
		if (!colon ||
		    add_hdr(h, &nh, TK_ARRAY_LEN(h), r->headers[i], (size_t)(colon - r->headers[i]), colon + 1)) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "SigV4: bad or too many headers");
			goto out;
		}
	}
	qsort(h, nh, sizeof(h[0]), hdr_cmp);

	q = strchr(r->path_and_query, '?');
	path = strndup(r->path_and_query, q ? (size_t)(q - r->path_and_query) : strlen(r->path_and_query));
	if (!path) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(r->service, "s3") == 0) {
		upath = strdup(path); /* S3: the path as sent, no double encoding */
	} else {
		upath = tk_uri_encode(path, true); /* others: encode the (encoded) path again */
	}
	if (!upath) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, payload_hash);

	rc = tk_buf_printf(&creq, "%s\n%s\n", r->method, upath);
	if (!rc && q && q[1])
		rc = canonical_query(q + 1, &creq);
	if (!rc)
		rc = tk_buf_puts(&creq, "\n");
	for (i = 0; i < nh && !rc; i++) {
		rc = tk_buf_printf(&creq, "%s:%s\n", h[i].name, h[i].value);
		if (!rc)
			rc = tk_buf_printf(&signed_names, "%s%s", i ? ";" : "", h[i].name);
	}
	if (!rc)
		rc = tk_buf_printf(&creq, "\n%s\n%s", signed_names.data, payload_hash);
	if (rc) {
		rc = tk_seterr(err, rc, "SigV4: request too large to sign");
		goto out;
	}
	sha256_hex(creq.data, creq.len, creq_hash);
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, r->region, r->service);
	if ((rc = tk_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash))) {
		rc = tk_seterr(err, rc, "SigV4: scope too long");
		goto out;
	}
	klen = strlen(c->secret_access_key) + 4;
	if (!(kdate = malloc(klen + 1))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(kdate, klen + 1, "AWS4%s", c->secret_access_key);
	hmac256(kdate, klen, date, strlen(date), k1);
	hmac256(k1, 32, r->region, strlen(r->region), k2);
	hmac256(k2, 32, r->service, strlen(r->service), k3);
	hmac256(k3, 32, "aws4_request", 12, k4);
	hmac256(k4, 32, sts.data, sts.len, k5);
	tk_hex(k5, 32, sig);
	if ((size_t)snprintf(authz, authz_size, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			     c->access_key_id, scope, signed_names.data, sig) >= authz_size)
		rc = tk_seterr(err, TK_ERR_LIMIT, "SigV4: Authorization header too long");
out:
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	OPENSSL_cleanse(k4, sizeof(k4));
	wipe_free(kdate);
	free(path);
	free(upath);
	tk_buf_free(&creq);
	tk_buf_free(&sts);
	tk_buf_free(&signed_names);
	return rc;
}

/* ---- time ---- */


/* ---- credentials file ---- */

static void trim(char **s, char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static int load_profile(const char *file, const char *shown, const char *profile, struct tk_aws_creds *c,
			struct tk_err *err)
{
	struct stat st;
	char *text = NULL, *p, *end;
	size_t len = 0, lineno = 0;
	bool in = false, found = false;
	int rc;
	if (stat(file, &st) != 0)
		return tk_seterr(err, TK_ERR_IO, "%s: cannot read the AWS credentials file", shown);
	if (st.st_mode & 077)
		return tk_seterr(err, TK_ERR_CONFIG,
				 "%s: refusing an AWS credentials file that group or others may access (mode %04o); "
				 "run chmod 600 on it",
				 shown, (unsigned)(st.st_mode & 07777));
	if ((rc = tk_read_file(file, AWS_MAX_CRED_FILE, &text, &len, err)))
		return rc;
	p = text;
	end = text + len;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *ls = p, *le = eol ? eol : end;
		lineno++;
		p = eol ? eol + 1 : end;
		trim(&ls, &le);
		if (ls == le || *ls == '#' || *ls == ';')
			continue;
		if (*ls == '[') {
			char *ns = ls + 1, *ne = le;
			if (ne[-1] != ']') {
				rc = tk_seterr(err, TK_ERR_PARSE, "%s:%zu: malformed section header", shown, lineno);
				goto out;
			}
			ne--;
			trim(&ns, &ne);
			if ((size_t)(ne - ns) > 8 && strncmp(ns, "profile ", 8) == 0) {
				ns += 8;
				trim(&ns, &ne);
			}
			in = strlen(profile) == (size_t)(ne - ns) && memcmp(ns, profile, (size_t)(ne - ns)) == 0;
			found = found || in;
			continue;
		}
		if (in) {
			char *eq = memchr(ls, '=', (size_t)(le - ls)), *ks = ls, *ke, *vs, *ve = le;
			char **dst = NULL;
			if (!eq) {
				rc = tk_seterr(err, TK_ERR_PARSE, "%s:%zu: expected key = value", shown, lineno);
				goto out;
			}
			ke = eq;
			vs = eq + 1;
			trim(&ks, &ke);
			trim(&vs, &ve);
			if ((size_t)(ke - ks) == 17 && strncasecmp(ks, "aws_access_key_id", 17) == 0)
				dst = &c->access_key_id;
			else if ((size_t)(ke - ks) == 21 && strncasecmp(ks, "aws_secret_access_key", 21) == 0)
				dst = &c->secret_access_key;
			else if ((size_t)(ke - ks) == 17 && strncasecmp(ks, "aws_session_token", 17) == 0)
				dst = &c->session_token;
			if (dst) {
				wipe_free(*dst);
				if (!(*dst = strndup(vs, (size_t)(ve - vs)))) {
					rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
					goto out;
				}
			}
		}
	}
	if (!found) {
		rc = tk_seterr(err, TK_ERR_NOTFOUND, "%s: no profile [%s]", shown, profile);
		goto out;
	}
	if (!c->access_key_id || !*c->access_key_id || !c->secret_access_key || !*c->secret_access_key) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: profile [%s] lacks aws_access_key_id or aws_secret_access_key",
			       shown, profile);
		goto out;
	}
	rc = TK_OK;
out:
	if (text) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (rc)
		tk_aws_creds_clear(c);
	return rc;
}

/* ---- accounts ---- */

void tk_aws_account_free(struct tk_aws_account *a)
{
	if (!a)
		return;
	free(a->endpoint);
	cJSON_Delete(a->endpoints);
	free(a->region);
	free(a->ca_file);
	free(a->proxy);
	free(a->source);
	free(a->role_arn);
	free(a->external_id);
	free(a->session_name);
	free(a->s3_tag);
	tk_aws_creds_clear(&a->base);
	tk_aws_creds_clear(&a->session);
	free(a);
}

static bool url_ok(const char *u)
{
	return (strncmp(u, "https://", 8) == 0 && u[8]) || (strncmp(u, "http://", 7) == 0 && u[7]);
}

static char *strip_slash(const char *u)
{
	char *s = strdup(u);
	size_t l;
	if (!s)
		return NULL;
	l = strlen(s);
	while (l > 0 && s[l - 1] == '/')
		s[--l] = '\0';
	return s;
}

int tk_aws_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			 struct tk_aws_account **out, struct tk_err *err)
{
	struct tk_aws_account *a = calloc(1, sizeof(*a));
	const char *endpoint = NULL, *region = "us-east-1", *file = NULL, *profile = NULL, *role = NULL,
		   *ext = NULL, *sess = "tenken-audit", *ca = NULL, *proxy = "", *s3tag = "DataClassification";
	const cJSON *eps, *e;
	long long tmo = 20, retries = 4;
	char p[600];
	int rc;
	*out = NULL;
	if (!a)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_cfg_string(acct, "endpoint", false, &endpoint, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "region", false, &region, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "credentials_file", false, &file, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "profile", false, &profile, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "role_arn", false, &role, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "external_id", false, &ext, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "role_session_name", false, &sess, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "ca_file", false, &ca, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "proxy", false, &proxy, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "s3_classification_tag", false, &s3tag, cc, path, err)) ||
	    (rc = tk_cfg_int(acct, "request_timeout_s", false, 1, 600, &tmo, cc, path, err)) ||
	    (rc = tk_cfg_int(acct, "max_retries", false, 0, 10, &retries, cc, path, err)))
		goto fail;
	a->timeout_ms = (int)tmo * 1000;
	a->max_retries = (int)retries;
	tk_path_key(p, sizeof(p), path, "endpoint");
	if (endpoint && !url_ok(endpoint)) {
		rc = tk_cfg_err(err, cc, p, "expected an http:// or https:// URL");
		goto fail;
	}
	if (endpoint) {
		char why[128];
		if (tk_url_check(endpoint, why, sizeof(why)) != TK_OK) {
			rc = tk_cfg_err(err, cc, p, "\"%s\": %s", endpoint, why);
			goto fail;
		}
	}
	tk_path_key(p, sizeof(p), path, "proxy");
	if (*proxy && !url_ok(proxy) && strncmp(proxy, "socks5h://", 10) != 0) {
		rc = tk_cfg_err(err, cc, p, "expected an http://, https:// or socks5h:// proxy URL");
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "region");
	if (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)) {
		rc = tk_cfg_err(err, cc, p, "\"%s\" is not an AWS region name", region);
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "s3_classification_tag");
	if (!*s3tag || strlen(s3tag) > 128 || strpbrk(s3tag, "\r\n\t")) {
		rc = tk_cfg_err(err, cc, p, "expected an S3 tag key (1 to 128 characters, one line)");
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "role_arn");
	if (role && strncmp(role, "arn:", 4) != 0) {
		rc = tk_cfg_err(err, cc, p, "expected a role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
		goto fail;
	}
	if ((eps = cJSON_GetObjectItemCaseSensitive(acct, "endpoints"))) {
		tk_path_key(p, sizeof(p), path, "endpoints");
		if (!cJSON_IsObject(eps)) {
			rc = tk_cfg_err(err, cc, p, "expected {\"service\": \"URL\"}");
			goto fail;
		}
		cJSON_ArrayForEach(e, eps)
		{
			if (!cJSON_IsString(e) || !url_ok(e->valuestring)) {
				char ep[700];
				tk_path_key(ep, sizeof(ep), p, e->string);
				rc = tk_cfg_err(err, cc, ep, "expected an http:// or https:// URL");
				goto fail;
			}
		}
		a->endpoints = cJSON_Duplicate(eps, true);
	}
	if ((endpoint && !(a->endpoint = strip_slash(endpoint))) || !(a->region = strdup(region)) ||
	    (role && !(a->role_arn = strdup(role))) || (ext && !(a->external_id = strdup(ext))) ||
	    !(a->session_name = strdup(sess)) || (ca && !(a->ca_file = tk_cfg_resolve(cc, ca))) ||
	    !(a->proxy = strdup(proxy)) || !(a->s3_tag = strdup(s3tag))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (file) {
		char *full = tk_cfg_resolve(cc, file), desc[700];
		if (!profile)
			profile = getenv("AWS_PROFILE") && *getenv("AWS_PROFILE") ? getenv("AWS_PROFILE") : "default";
		tk_path_key(p, sizeof(p), path, "credentials_file");
		if (!full) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		rc = load_profile(full, file, profile, &a->base, err);
		free(full);
		if (rc) {
			tk_err_prefix(err, "%s: %s", cc->file, p);
			rc = TK_ERR_CONFIG;
			err->rc = rc;
			goto fail;
		}
		snprintf(desc, sizeof(desc), "profile %s in %s", profile, file);
		a->source = strdup(desc);
	} else {
		const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY"),
			   *st = getenv("AWS_SESSION_TOKEN");
		if (!ak || !*ak || !sk || !*sk) {
			rc = tk_cfg_err(err, cc, path,
					"no AWS credentials: name a credentials_file (and profile) or set "
					"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
			goto fail;
		}
		a->base.access_key_id = strdup(ak);
		a->base.secret_access_key = strdup(sk);
		if (st && *st)
			a->base.session_token = strdup(st);
		a->source = strdup("environment (AWS_ACCESS_KEY_ID)");
		if (!a->base.access_key_id || !a->base.secret_access_key || (st && *st && !a->base.session_token)) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	if (!a->source) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	*out = a;
	return TK_OK;
fail:
	tk_aws_account_free(a);
	return rc;
}

const char *tk_aws_account_source(const struct tk_aws_account *a)
{
	return a->source;
}

void tk_aws_account_set_cancel(struct tk_aws_account *a, bool (*cancelled)(void *), void *arg)
{
	a->cancelled = cancelled;
	a->cancel_arg = arg;
}

void tk_aws_account_key_fingerprint(const struct tk_aws_account *a, char out[24])
{
	const struct tk_aws_creds *c = a->have_session ? &a->session : &a->base;
	tk_fingerprint(c->access_key_id, strlen(c->access_key_id), out);
}

static const char *endpoint_in(const struct tk_aws_account *a, const char *service, const char *region,
			       const char *account_id, char *buf, size_t size)
{
	const cJSON *e = a->endpoints ? cJSON_GetObjectItemCaseSensitive(a->endpoints, service) : NULL;
	bool cn = strncmp(region, "cn-", 3) == 0, gov = strncmp(region, "us-gov-", 7) == 0;
	const char *sfx = cn ? "amazonaws.com.cn" : "amazonaws.com";
	size_t l;
	if (cJSON_IsString(e))
		snprintf(buf, size, "%s", e->valuestring);
	else if (a->endpoint)
		snprintf(buf, size, "%s", a->endpoint);
	else if (strcmp(service, "iam") == 0 && !cn)
		snprintf(buf, size, "https://iam.%s", gov ? "us-gov.amazonaws.com" : "amazonaws.com");
	else if (strcmp(service, "s3-control") == 0 && account_id)
		snprintf(buf, size, "https://%s.s3-control.%s.%s", account_id, region, sfx);
	else
		snprintf(buf, size, "https://%s.%s.%s", service, region, sfx);
	l = strlen(buf);
	while (l > 0 && buf[l - 1] == '/')
		buf[--l] = '\0';
	return buf;
}

const char *tk_aws_account_endpoint(struct tk_aws_account *a, const char *service, char *buf, size_t size)
{
	return endpoint_in(a, service, a->region, NULL, buf, size);
}

static const char *signing_region(const char *region, const char *service)
{
	if (strcmp(service, "iam") != 0)
		return region;
	if (strncmp(region, "cn-", 3) == 0)
		return "cn-north-1";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "us-gov-west-1";
	return "us-east-1";
}

/* The account's credentials, for tk_scrub_*: every error text passes through it. */
static void scrub_list(const struct tk_aws_account *a, const char *list[8])
{
	size_t n = 0;
	const struct tk_aws_creds *cs[2] = {&a->base, &a->session};
	for (size_t i = 0; i < 2; i++) {
		if (cs[i]->access_key_id)
			list[n++] = cs[i]->access_key_id;
		if (cs[i]->secret_access_key)
			list[n++] = cs[i]->secret_access_key;
		if (cs[i]->session_token)
			list[n++] = cs[i]->session_token;
	}
	list[n] = NULL;
}

static void scrub(const struct tk_aws_account *a, char *msg, size_t size)
{
	const char *list[8];
	scrub_list(a, list);
	tk_scrub_inplace(msg, size, list);
}

/* ---- errors ---- */

static void copy_escaped(char *dst, size_t size, const char *s, size_t n)
{
	char *e = tk_escape_bytes(s, n, size > 4 ? size - 1 : 1);
	snprintf(dst, size, "%s", e ? e : "");
	free(e);
}

void tk_aws_error_describe(long status, const char *body, size_t len, char *out, size_t size, char *code,
			   size_t code_size)
{
	char c[128] = "", m[512] = "", rid[128] = "";
	size_t i = 0;
	/* credentials out of the whole body first: the cuts below must not leave a piece */
	char *clean = tk_scrub_dup(body ? body : "", body ? len : 0, NULL);
	if (!clean) {
		snprintf(out, size, "HTTP %ld (error body withheld: out of memory)", status);
		if (code)
			snprintf(code, code_size, "%s", "");
		return;
	}
	body = clean;
	len = strlen(clean);
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == '<') {
		struct tk_xml_node *doc = NULL;
		struct tk_err e = {0};
		if (tk_xml_parse(body, len, &doc, &e) == TK_OK) {
			const struct tk_xml_node *er =
			    strcmp(doc->name, "Error") == 0 ? doc : tk_xml_find(doc, "Error");
			const char *t;
			if (!er) {
				const struct tk_xml_node *ers = tk_xml_find(doc, "Errors"); /* EC2 style */
				er = ers ? tk_xml_find(ers, "Error") : NULL;
			}
			if (er && (t = tk_xml_text(er, "Code")))
				copy_escaped(c, sizeof(c), t, strlen(t));
			if (er && (t = tk_xml_text(er, "Message")))
				copy_escaped(m, sizeof(m), t, strlen(t));
			if ((t = tk_xml_text(doc, "RequestId")) || (t = tk_xml_text(doc, "RequestID")))
				copy_escaped(rid, sizeof(rid), t, strlen(t));
		}
		tk_xml_free(doc);
	} else if (i < len && body[i] == '{') {
		cJSON *j = cJSON_ParseWithLength(body, len);
		const cJSON *t;
		if (j) {
			t = cJSON_GetObjectItemCaseSensitive(j, "__type");
			if (!cJSON_IsString(t))
				t = cJSON_GetObjectItemCaseSensitive(j, "code");
			if (cJSON_IsString(t)) {
				const char *h = strrchr(t->valuestring, '#');
				h = h ? h + 1 : t->valuestring;
				copy_escaped(c, sizeof(c), h, strlen(h));
			}
			t = cJSON_GetObjectItemCaseSensitive(j, "message");
			if (!cJSON_IsString(t))
				t = cJSON_GetObjectItemCaseSensitive(j, "Message");
			if (cJSON_IsString(t))
				copy_escaped(m, sizeof(m), t->valuestring, strlen(t->valuestring));
			cJSON_Delete(j);
		}
	}
	if (code)
		snprintf(code, code_size, "%s", c);
	if (c[0])
		snprintf(out, size, "HTTP %ld %s: %s%s%s%s", status, c, m[0] ? m : "(no message)",
			 rid[0] ? " (request id " : "", rid, rid[0] ? ")" : "");
	else if (len == 0)
		snprintf(out, size, "HTTP %ld with an empty body", status);
	else {
		char b[200];
		copy_escaped(b, sizeof(b), body, len < 120 ? len : 120);
		snprintf(out, size, "HTTP %ld with a body that is not an AWS error: %s", status, b);
	}
	free(clean);
}

static bool throttle_code(const char *c)
{
	static const char *const codes[] = {"Throttling", "ThrottlingException", "ThrottledException",
					    "RequestThrottledException", "TooManyRequestsException",
					    "ProvisionedThroughputExceededException", "TransactionInProgressException",
					    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
					    "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
					    "EC2ThrottledException", NULL};
	size_t i;
	for (i = 0; codes[i]; i++)
		if (strcmp(c, codes[i]) == 0)
			return true;
	return false;
}

/* ---- requests (through the one helper, httpreq.h) ---- */

struct sign_ctx {
	const struct tk_aws_account *a;
	const struct tk_aws_creds *cr;
	struct tk_aws_sigv4_req sr;
	const char *host;
};

/* Before each attempt: a fresh X-Amz-Date and signature (a retry must not replay an old date). */
static int sign_attempt(void *arg, struct curl_slist **hl, struct tk_err *err)
{
	struct sign_ctx *c = arg;
	char authz[2048], amz_date[17], line[2100];
	struct curl_slist *t;
	int rc;
	c->sr.when = time(NULL);
	if ((rc = tk_aws_sigv4_sign(&c->sr, c->cr, authz, sizeof(authz), amz_date, err)))
		return rc;
	snprintf(line, sizeof(line), "Host: %s", c->host);
	if ((t = curl_slist_append(*hl, line)))
		*hl = t;
	snprintf(line, sizeof(line), "X-Amz-Date: %s", amz_date);
	if ((t = curl_slist_append(*hl, line)))
		*hl = t;
	snprintf(line, sizeof(line), "Authorization: %s", authz);
	t = curl_slist_append(*hl, line); /* curl copies it */
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_cleanse(authz, sizeof(authz));
	if (!t)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	*hl = t;
	if (c->cr->session_token) {
		size_t tl = strlen(c->cr->session_token) + 32;
		char *tok = malloc(tl);
		if (!tok)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		snprintf(tok, tl, "X-Amz-Security-Token: %s", c->cr->session_token);
		t = curl_slist_append(*hl, tok);
		OPENSSL_cleanse(tok, tl);
		free(tok);
		if (!t)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		*hl = t;
	}
	return TK_OK;
}

/* AWS's throttling codes come in 400 answers too. */
static bool aws_retry_answer(long st, const struct tk_buf *resp, void *arg)
{
	char msg[900], code[128];
	(void)arg;
	if (st != 400)
		return false;
	tk_aws_error_describe(st, resp->data ? resp->data : "", resp->len, msg, sizeof(msg), code, sizeof(code));
	return throttle_code(code);
}

static bool acct_cancelled(void *arg)
{
	const struct tk_aws_account *a = arg;
	return a->cancelled && a->cancelled(a->cancel_arg);
}

static int host_of(const char *url, char *host, size_t size)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL, *sch = NULL;
	int rc = TK_ERR_PARSE;
	if (!u)
		return TK_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &p, 0); /* only when explicit */
		if (p && ((strcmp(sch, "https") == 0 && strcmp(p, "443") == 0) ||
			  (strcmp(sch, "http") == 0 && strcmp(p, "80") == 0))) {
			curl_free(p);
			p = NULL;
		}
		if ((size_t)snprintf(host, size, "%s%s%s", h, p ? ":" : "", p ? p : "") < size)
			rc = TK_OK;
	}
	curl_free(h);
	curl_free(p);
	curl_free(sch);
	curl_url_cleanup(u);
	return rc;
}

static int assume_role(struct tk_aws_account *a, int timeout_ms, struct tk_err *err);

/* account_id: S3 Control only (its host and x-amz-account-id header), else NULL. */
static int do_request(struct tk_aws_account *a, const struct tk_aws_creds *cr, const char *region, const char *service,
		      const char *account_id, const char *method, const char *path_and_query,
		      const char *content_type, const char *amz_target, const char *body, size_t body_len,
		      int timeout_ms, long *http_status, struct tk_buf *resp, struct tk_err *err)
{
	char base[1024], url[4096], host[512], ctype[300], target[300], psha[65], s3sha[100], what[1100], acct[64];
	const char *sign_hdrs[5] = {NULL, NULL, NULL, NULL, NULL}, *extra[4] = {NULL, NULL, NULL, NULL}, *secrets[8];
	bool s3ctl = strcmp(service, "s3-control") == 0;
	size_t nsh = 0, nx = 0;
	struct sign_ctx sc;
	struct tk_http_req r;
	int rc;

	*http_status = 0;
	endpoint_in(a, service, region, account_id, base, sizeof(base));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", base, path_and_query) >= sizeof(url))
		return tk_seterr(err, TK_ERR_LIMIT, "%s: request URL too long", service);
	if (host_of(url, host, sizeof(host)))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: cannot parse the endpoint URL %s", service, base);
	if (content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type); /* as the helper sends it */
		sign_hdrs[nsh++] = ctype;
	}
	if (amz_target) {
		snprintf(target, sizeof(target), "X-Amz-Target: %s", amz_target);
		sign_hdrs[nsh++] = extra[nx++] = target;
	}
	if (strcmp(service, "s3") == 0 || s3ctl) {
		sha256_hex(body ? body : "", body ? body_len : 0, psha);
		snprintf(s3sha, sizeof(s3sha), "X-Amz-Content-SHA256: %s", psha);
		sign_hdrs[nsh++] = extra[nx++] = s3sha;
	}
	if (s3ctl && account_id) {
		snprintf(acct, sizeof(acct), "x-amz-account-id: %s", account_id);
		sign_hdrs[nsh++] = extra[nx++] = acct;
	}
	memset(&sc, 0, sizeof(sc));
	sc.a = a;
	sc.cr = cr;
	sc.host = host;
	sc.sr = (struct tk_aws_sigv4_req){method, host, path_and_query, s3ctl ? "s3" : service,
					  signing_region(region, service), sign_hdrs, body, body_len, 0};
	snprintf(what, sizeof(what), "%s %s", service, base);
	scrub_list(a, secrets);
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.url = url;
	r.what = what;
	r.content_type = content_type;
	r.headers = extra;
	r.body = body;
	r.body_len = body ? body_len : 0;
	r.ca_file = a->ca_file;
	r.proxy = a->proxy;
	r.timeout_ms = timeout_ms;
	r.attempt_timeout_ms = a->timeout_ms; /* request_timeout_s bounds each attempt; timeout_ms bounds them all */
	r.max_retries = a->max_retries;
	r.prepare = sign_attempt;
	r.prepare_arg = &sc;
	r.retry_answer = aws_retry_answer;
	r.cancelled = acct_cancelled;
	r.cancel_arg = a;
	r.secrets = secrets;
	rc = tk_http_call(&r, http_status, resp, err);
	return rc;
}

static int ensure_creds(struct tk_aws_account *a, int timeout_ms, const struct tk_aws_creds **cr,
			struct tk_err *err)
{
	int rc;
	if (a->role_arn && (!a->have_session || (a->session.expires && a->session.expires - time(NULL) < 300))) {
		if ((rc = assume_role(a, timeout_ms, err)))
			return rc;
	}
	*cr = a->have_session ? &a->session : &a->base;
	return TK_OK;
}

int tk_aws_request_in(struct tk_aws_account *a, const char *region, const char *service, const char *method,
		      const char *path_and_query, const char *content_type, const char *amz_target, const char *body,
		      size_t body_len, int timeout_ms, long *http_status, struct tk_buf *resp, struct tk_err *err)
{
	const struct tk_aws_creds *cr;
	int rc;
	*http_status = 0;
	if (region && (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)))
		return tk_seterr(err, TK_ERR_USAGE, "\"%s\" is not an AWS region name", region);
	if ((rc = ensure_creds(a, timeout_ms, &cr, err)))
		return rc;
	return do_request(a, cr, region ? region : a->region, service, NULL, method, path_and_query, content_type,
			  amz_target, body, body_len, timeout_ms, http_status, resp, err);
}

int tk_aws_request(struct tk_aws_account *a, const char *service, const char *method,
		   const char *path_and_query, const char *content_type, const char *amz_target,
		   const char *body, size_t body_len, int timeout_ms, long *http_status, struct tk_buf *resp,
		   struct tk_err *err)
{
	return tk_aws_request_in(a, NULL, service, method, path_and_query, content_type, amz_target, body, body_len,
				 timeout_ms, http_status, resp, err);
}

static int query_with(struct tk_aws_account *a, const struct tk_aws_creds *cr, const char *region,
		      const char *service, const char *version, const char *action, const char *params,
		      int timeout_ms, struct tk_xml_node **doc, struct tk_err *err)
{
	struct tk_buf body, resp;
	long st = 0;
	int rc;
	*doc = NULL;
	tk_buf_init(&body, 64 * 1024);
	tk_buf_init(&resp, AWS_MAX_XML);
	if (tk_buf_printf(&body, "Action=%s&Version=%s%s", action, version, params ? params : "")) {
		rc = tk_seterr(err, TK_ERR_LIMIT, "%s %s: request too large", service, action);
		goto out;
	}
	if ((rc = do_request(a, cr, region ? region : a->region, service, NULL, "POST", "/",
			     "application/x-www-form-urlencoded; charset=utf-8", NULL,
			     body.data, body.len, timeout_ms, &st, &resp, err))) {
		tk_err_prefix(err, "%s", action);
		goto out;
	}
	if (st != 200) {
		char msg[900], code[128];
		tk_aws_error_describe(st, resp.data ? resp.data : "", resp.len, msg, sizeof(msg), code, sizeof(code));
		if (throttle_code(code) || st >= 500)
			rc = TK_ERR_NET; /* still throttled or unavailable after the retries */
		else if (st == 401 || st == 403 || strcmp(code, "AccessDenied") == 0 ||
			 strcmp(code, "InvalidClientTokenId") == 0 || strcmp(code, "SignatureDoesNotMatch") == 0 ||
			 strcmp(code, "ExpiredToken") == 0)
			rc = TK_ERR_AUTH;
		else if (st == 404)
			rc = TK_ERR_NOTFOUND;
		else
			rc = TK_ERR_PROTOCOL;
		tk_seterr(err, rc, "%s %s: %s", service, action, msg);
		scrub(a, err->msg, sizeof(err->msg));
		goto out;
	}
	if ((rc = tk_xml_parse(resp.data ? resp.data : "", resp.len, doc, err))) {
		tk_err_prefix(err, "%s %s: malformed response", service, action);
		err->rc = rc = TK_ERR_PROTOCOL;
		goto out;
	}
out:
	if (resp.data)
		OPENSSL_cleanse(resp.data, resp.len); /* an AssumeRole answer carries credentials */
	tk_buf_free(&body);
	tk_buf_free(&resp);
	return rc;
}

int tk_aws_query_in(struct tk_aws_account *a, const char *region, const char *service, const char *version,
		    const char *action, const char *params, int timeout_ms, struct tk_xml_node **doc,
		    struct tk_err *err)
{
	const struct tk_aws_creds *cr;
	int rc;
	*doc = NULL;
	if ((rc = ensure_creds(a, timeout_ms, &cr, err)))
		return rc;
	return query_with(a, cr, region, service, version, action, params, timeout_ms, doc, err);
}

int tk_aws_query(struct tk_aws_account *a, const char *service, const char *version, const char *action,
		 const char *params, int timeout_ms, struct tk_xml_node **doc, struct tk_err *err)
{
	return tk_aws_query_in(a, NULL, service, version, action, params, timeout_ms, doc, err);
}

static int assume_role(struct tk_aws_account *a, int timeout_ms, struct tk_err *err)
{
	struct tk_xml_node *doc = NULL;
	const struct tk_xml_node *c;
	struct tk_buf params;
	char *arn = NULL, *ext = NULL, *sess = NULL;
	const char *ak, *sk, *tok, *exp;
	int rc;
	tk_buf_init(&params, 8192);
	arn = tk_uri_encode(a->role_arn, false);
	sess = tk_uri_encode(a->session_name, false);
	ext = a->external_id ? tk_uri_encode(a->external_id, false) : NULL;
	if (!arn || !sess || (a->external_id && !ext)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (tk_buf_printf(&params, "&RoleArn=%s&RoleSessionName=%s&DurationSeconds=3600%s%s", arn, sess,
			  ext ? "&ExternalId=" : "", ext ? ext : "")) {
		rc = tk_seterr(err, TK_ERR_LIMIT, "AssumeRole: parameters too long");
		goto out;
	}
	if ((rc = query_with(a, &a->base, NULL, "sts", "2011-06-15", "AssumeRole", params.data, timeout_ms, &doc,
			     err))) {
		tk_err_prefix(err, "assuming %s with %s", a->role_arn, a->source);
		goto out;
	}
	c = tk_xml_find(doc, "AssumeRoleResult/Credentials");
	ak = tk_xml_text(c, "AccessKeyId");
	sk = tk_xml_text(c, "SecretAccessKey");
	tok = tk_xml_text(c, "SessionToken");
	exp = tk_xml_text(c, "Expiration");
	if (!ak || !*ak || !sk || !*sk || !tok || !*tok) {
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "sts AssumeRole: the response has no Credentials");
		goto out;
	}
	tk_aws_creds_clear(&a->session);
	a->have_session = false;
	a->session.access_key_id = strdup(ak);
	a->session.secret_access_key = strdup(sk);
	a->session.session_token = strdup(tok);
	if (!a->session.access_key_id || !a->session.secret_access_key || !a->session.session_token) {
		tk_aws_creds_clear(&a->session);
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!exp || tk_parse_time(exp, &a->session.expires))
		a->session.expires = time(NULL) + 900;
	a->have_session = true;
	tk_log(TK_LOG_DEBUG, "assumed %s (session until %lld)", a->role_arn, (long long)a->session.expires);
out:
	if (doc) {
		/* wipe the secrets in the parsed response before freeing */
		struct tk_xml_node *cc = (struct tk_xml_node *)tk_xml_find(doc, "AssumeRoleResult/Credentials");
		struct tk_xml_node *k;
		for (k = cc ? cc->child : NULL; k; k = k->next)
			OPENSSL_cleanse(k->text, k->text_len);
	}
	tk_xml_free(doc);
	free(arn);
	free(sess);
	free(ext);
	tk_buf_free(&params);
	return rc;
}

int tk_aws_cloud_account(const struct tk_cfgctx *cc, long long idx, const char *ref_path,
			 struct tk_aws_account **out, struct tk_err *err)
{
	const cJSON *probes = cJSON_GetObjectItemCaseSensitive(cc->root, "probes");
	const cJSON *cloud = cJSON_GetObjectItemCaseSensitive(probes, "cloud");
	const cJSON *accts = cJSON_GetObjectItemCaseSensitive(cloud, "accounts");
	const cJSON *acct = cJSON_IsArray(accts) && idx >= 0 && idx < INT32_MAX ? cJSON_GetArrayItem(accts, (int)idx)
										   : NULL;
	const cJSON *prov = cJSON_GetObjectItemCaseSensitive(acct, "provider");
	struct tk_cfgctx acc = *cc;
	char path[200];
	*out = NULL;
	if (!acct)
		return tk_cfg_err(err, cc, ref_path, "no probes.cloud.accounts[%lld] to refer to", idx);
	if (!cJSON_IsString(prov) || strcmp(prov->valuestring, "aws") != 0 ||
	    cJSON_GetObjectItemCaseSensitive(acct, "credential_report"))
		return tk_cfg_err(err, cc, ref_path, "probes.cloud.accounts[%lld] is not an AWS API account", idx);
	snprintf(path, sizeof(path), "probes.cloud.accounts[%lld]", idx);
	acc.path = path;
	return tk_aws_account_parse(acct, &acc, path, out, err);
}

const char *tk_aws_account_region(const struct tk_aws_account *a)
{
	return a->region;
}

const char *tk_aws_account_s3_tag(const struct tk_aws_account *a)
{
	return a->s3_tag;
}

int tk_aws_account_id(struct tk_aws_account *a, int timeout_ms, char out[16], struct tk_err *err)
{
	struct tk_xml_node *doc = NULL;
	const char *id;
	int rc;
	out[0] = '\0';
	if (!a->account_id[0]) {
		if ((rc = tk_aws_query(a, "sts", "2011-06-15", "GetCallerIdentity", "", timeout_ms, &doc, err)))
			return rc;
		id = tk_xml_text(doc, "GetCallerIdentityResult/Account");
		if (!id || strlen(id) != 12 || strspn(id, "0123456789") != 12) {
			tk_xml_free(doc);
			return tk_seterr(err, TK_ERR_PROTOCOL, "sts GetCallerIdentity: no 12-digit Account in the answer");
		}
		memcpy(a->account_id, id, 13);
		tk_xml_free(doc);
	}
	memcpy(out, a->account_id, 13);
	return TK_OK;
}

int tk_aws_s3control_request(struct tk_aws_account *a, const char *region, const char *account_id,
			     const char *method, const char *path_and_query, int timeout_ms, long *http_status,
			     struct tk_buf *resp, struct tk_err *err)
{
	const struct tk_aws_creds *cr;
	int rc;
	*http_status = 0;
	if (!account_id || strlen(account_id) != 12 || strspn(account_id, "0123456789") != 12)
		return tk_seterr(err, TK_ERR_USAGE, "S3 Control: an account id is 12 digits");
	if (region && (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)))
		return tk_seterr(err, TK_ERR_USAGE, "\"%s\" is not an AWS region name", region);
	if ((rc = ensure_creds(a, timeout_ms, &cr, err)))
		return rc;
	return do_request(a, cr, region ? region : a->region, "s3-control", account_id, method, path_and_query, NULL,
			  NULL, NULL, 0, timeout_ms, http_status, resp, err);
}
