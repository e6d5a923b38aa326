/*
 * jwt.c - classify compact JWS tokens by decoding header and payload.
 * Nothing here verifies a signature: tenken only needs to know what a
 * stored string is (RFC 7519 section 7.2 steps 1-6, without validation).
 */
#include "jwt.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk.h"

static void set_why(char *why, size_t whysz, const char *s)
{
	if (why && whysz)
		snprintf(why, whysz, "%s", s);
}

static void copy_str(char *dst, size_t size, const cJSON *v)
{
	char *e;
	dst[0] = '\0';
	if (!cJSON_IsString(v) || !v->valuestring)
		return;
	e = tk_escape_bytes(v->valuestring, strlen(v->valuestring), size - 1);
	if (e) {
		tk_strlcpy(dst, e, size);
		free(e);
	}
}

static bool get_num(const cJSON *obj, const char *k, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, k);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < -1e15 || v->valuedouble > 1e15)
		return false;
	*out = (long long)v->valuedouble;
	return true;
}

static cJSON *decode_json_part(const char *p, size_t n)
{
	unsigned char buf[TK_JWT_MAX_LEN];
	size_t ol = 0;
	cJSON *j;
	if (n == 0 || !tk_b64_decode(p, n, TK_B64_URL, buf, sizeof(buf), &ol) || ol == 0)
		return NULL;
	/* JSON text starts with '{' after optional whitespace. */
	j = cJSON_ParseWithLength((const char *)buf, ol);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

int tk_jwt_decode(const char *p, size_t len, struct tk_jwt *out, char *why, size_t whysz)
{
	const char *d1, *d2;
	size_t i;
	cJSON *h = NULL, *pl = NULL;
	const cJSON *v;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (len < 10 || len > TK_JWT_MAX_LEN) {
		set_why(why, whysz, "length out of range");
		return -1;
	}
	d1 = memchr(p, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - p)) : NULL;
	if (!d1 || !d2) {
		set_why(why, whysz, "not three dot-separated parts");
		return -1;
	}
	for (i = (size_t)(d2 + 1 - p); i < len; i++)
		if (p[i] == '.') {
			set_why(why, whysz, "more than three parts");
			return -1;
		}
	for (i = (size_t)(d2 + 1 - p); i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_') {
			set_why(why, whysz, "signature is not base64url");
			return -1;
		}
	if (!(h = decode_json_part(p, (size_t)(d1 - p)))) {
		set_why(why, whysz, "header is not base64url JSON");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(h, "alg");
	if (!cJSON_IsString(v)) {
		set_why(why, whysz, "header has no \"alg\"");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "enc")) {
		set_why(why, whysz, "header has \"enc\": a JWE, not a JWS");
		goto out;
	}
	copy_str(out->alg, sizeof(out->alg), v);
	copy_str(out->typ, sizeof(out->typ), cJSON_GetObjectItemCaseSensitive(h, "typ"));
	if (!(pl = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1)))) {
		set_why(why, whysz, "payload is not base64url JSON");
		goto out;
	}
	copy_str(out->iss, sizeof(out->iss), cJSON_GetObjectItemCaseSensitive(pl, "iss"));
	v = cJSON_GetObjectItemCaseSensitive(pl, "token_use");
	if (!v)
		v = cJSON_GetObjectItemCaseSensitive(pl, "typ");
	copy_str(out->use, sizeof(out->use), v);
	out->has_exp = get_num(pl, "exp", &out->exp);
	out->has_iat = get_num(pl, "iat", &out->iat);
	out->has_nbf = get_num(pl, "nbf", &out->nbf);
	out->has_scope = cJSON_GetObjectItemCaseSensitive(pl, "scope") || cJSON_GetObjectItemCaseSensitive(pl, "scp");
	out->has_nonce = cJSON_GetObjectItemCaseSensitive(pl, "nonce") != NULL;
	rc = 0;
out:
	cJSON_Delete(h);
	cJSON_Delete(pl);
	return rc;
}

long long tk_jwt_lifetime(const struct tk_jwt *j)
{
	long long start;
	if (!j->has_exp)
		return -1;
	start = j->has_iat ? j->iat : j->has_nbf ? j->nbf : -1;
	if (start < 0 || j->exp < start)
		return -1;
	return j->exp - start;
}
