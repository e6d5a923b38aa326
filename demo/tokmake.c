/* tokmake.c - real JWTs and envelopes for the demo partner and the tests. */
#include "tokmake.h"

#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk.h"

char *tk_make_b64(const unsigned char *p, size_t n, int url)
{
	return tk_b64_encode(p, n, url ? TK_B64_URL : TK_B64_STD);
}

static int gcm(const unsigned char key[32], const unsigned char iv[12], const unsigned char *aad, size_t aadl,
	       const void *pt, size_t n, unsigned char *ct, unsigned char tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, ok;
	if (!c)
		return TK_ERR_NOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
	     (!aadl || EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadl) == 1) &&
	     EVP_EncryptUpdate(c, ct, &l, pt, (int)n) == 1 && EVP_EncryptFinal_ex(c, ct + l, &l) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? TK_OK : TK_ERR_INTERNAL;
}

int tk_make_aesgcm(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *o = malloc(12 + n + 16);
	if (!o)
		return TK_ERR_NOMEM;
	if (RAND_bytes(o, 12) != 1 || gcm(key, o, NULL, 0, pt, n, o + 12, o + 12 + n)) {
		free(o);
		return TK_ERR_INTERNAL;
	}
	*out = o;
	*outlen = 12 + n + 16;
	return TK_OK;
}

int tk_make_jwt(const char *header_json, const char *payload_json, const unsigned char *hmac_key, size_t hkl,
		EVP_PKEY *pkey, char **out)
{
	char *h = tk_make_b64((const unsigned char *)header_json, strlen(header_json), 1);
	char *p = tk_make_b64((const unsigned char *)payload_json, strlen(payload_json), 1);
	char *s = NULL, *input = NULL;
	unsigned char sig[1024];
	size_t sl = sizeof(sig), il;
	int rc = TK_ERR_INTERNAL;
	*out = NULL;
	if (!h || !p)
		goto out;
	il = strlen(h) + 1 + strlen(p);
	if (!(input = malloc(il + 1)))
		goto out;
	snprintf(input, il + 1, "%s.%s", h, p);
	if (!pkey) {
		unsigned int ml = 0;
		if (!HMAC(EVP_sha256(), hmac_key, (int)hkl, (unsigned char *)input, il, sig, &ml))
			goto out;
		sl = ml;
	} else {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		int ok = m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, pkey) == 1 &&
			 EVP_DigestSign(m, sig, &sl, (unsigned char *)input, il) == 1;
		EVP_MD_CTX_free(m);
		if (!ok)
			goto out;
		if (EVP_PKEY_is_a(pkey, "EC")) {
			/* JWS wants r||s, not DER */
			const unsigned char *d = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sl);
			if (!es)
				goto out;
			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
			ECDSA_SIG_free(es);
			sl = 64;
		}
	}
	if (!(s = tk_make_b64(sig, sl, 1)))
		goto out;
	if (!(*out = malloc(il + 2 + strlen(s))))
		goto out;
	snprintf(*out, il + 2 + strlen(s), "%s.%s", input, s);
	rc = TK_OK;
out:
	free(h);
	free(p);
	free(s);
	free(input);
	return rc;
}

int tk_make_fernet(const unsigned char key[32], const void *pt, size_t n, unsigned long long ts, char **out)
{
	size_t padded = (n / 16 + 1) * 16, tl = 1 + 8 + 16 + padded + 32;
	unsigned char *t = malloc(tl);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned int ml = 0;
	int l1 = 0, l2 = 0, i, rc = TK_ERR_INTERNAL;
	*out = NULL;
	if (!t || !c)
		goto out;
	t[0] = 0x80;
	for (i = 0; i < 8; i++)
		t[1 + i] = (unsigned char)(ts >> (56 - 8 * i));
	if (RAND_bytes(t + 9, 16) != 1 || EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, key + 16, t + 9) != 1 ||
	    EVP_EncryptUpdate(c, t + 25, &l1, pt, (int)n) != 1 || EVP_EncryptFinal_ex(c, t + 25 + l1, &l2) != 1 ||
	    (size_t)(l1 + l2) != padded)
		goto out;
	if (!HMAC(EVP_sha256(), key, 16, t, 25 + padded, t + 25 + padded, &ml) || ml != 32)
		goto out;
	{
		/* Fernet uses base64url WITH padding */
		char *b = tk_make_b64(t, tl, 1);
		size_t bl;
		if (!b)
			goto out;
		bl = strlen(b);
		if (!(*out = malloc(bl + 3))) {
			free(b);
			goto out;
		}
		memcpy(*out, b, bl);
		while (bl % 4)
			(*out)[bl++] = '=';
		(*out)[bl] = '\0';
		free(b);
	}
	rc = TK_OK;
out:
	EVP_CIPHER_CTX_free(c);
	free(t);
	return rc;
}

int tk_make_jwe(const unsigned char key[32], const void *pt, size_t n, char **out)
{
	const char *hdr = "{\"alg\":\"dir\",\"enc\":\"A256GCM\"}";
	char *h = tk_make_b64((const unsigned char *)hdr, strlen(hdr), 1), *iv64 = NULL, *ct64 = NULL, *tag64 = NULL;
	unsigned char iv[12], tag[16], *ct = malloc(n + 1);
	int rc = TK_ERR_INTERNAL;
	size_t ol;
	*out = NULL;
	if (!h || !ct || RAND_bytes(iv, 12) != 1 ||
	    gcm(key, iv, (const unsigned char *)h, strlen(h), pt, n, ct, tag) != TK_OK)
		goto out;
	iv64 = tk_make_b64(iv, 12, 1);
	ct64 = tk_make_b64(ct, n, 1);
	tag64 = tk_make_b64(tag, 16, 1);
	if (!iv64 || !ct64 || !tag64)
		goto out;
	ol = strlen(h) + strlen(iv64) + strlen(ct64) + strlen(tag64) + 8;
	if (!(*out = malloc(ol)))
		goto out;
	snprintf(*out, ol, "%s..%s.%s.%s", h, iv64, ct64, tag64);
	rc = TK_OK;
out:
	free(h);
	free(ct);
	free(iv64);
	free(ct64);
	free(tag64);
	return rc;
}

int tk_make_vault(const unsigned char key[32], const void *pt, size_t n, char **out)
{
	unsigned char *b = NULL;
	size_t bl;
	char *e;
	int rc;
	*out = NULL;
	if ((rc = tk_make_aesgcm(key, pt, n, &b, &bl)))
		return rc;
	e = tk_make_b64(b, bl, 0);
	free(b);
	if (!e || !(*out = malloc(strlen(e) + 10))) {
		free(e);
		return TK_ERR_NOMEM;
	}
	snprintf(*out, strlen(e) + 10, "vault:v1:%s", e);
	free(e);
	return TK_OK;
}

int tk_make_tink(const unsigned char key[32], unsigned key_id, const void *pt, size_t n, unsigned char **out,
		 size_t *outlen)
{
	unsigned char *b = NULL, *o;
	size_t bl;
	int rc;
	if ((rc = tk_make_aesgcm(key, pt, n, &b, &bl)))
		return rc;
	if (!(o = malloc(bl + 5))) {
		free(b);
		return TK_ERR_NOMEM;
	}
	o[0] = 0x01;
	o[1] = (unsigned char)(key_id >> 24);
	o[2] = (unsigned char)(key_id >> 16);
	o[3] = (unsigned char)(key_id >> 8);
	o[4] = (unsigned char)key_id;
	memcpy(o + 5, b, bl);
	free(b);
	*out = o;
	*outlen = bl + 5;
	return TK_OK;
}

static void put16(struct tk_buf *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	tk_buf_append(b, x, 2);
}

static void put32(struct tk_buf *b, unsigned long v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	tk_buf_append(b, x, 4);
}

int tk_make_esdk(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen)
{
	/* Message format v2 (docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html):
	 * version 02 | suite 0478 | message id(32) | AAD length(2)=0 | EDK count(2)=1 |
	 * EDK: provider id len+id, provider info len+info, key len+key |
	 * content type 02 (framed) | frame length(4) | suite data(32) | header auth tag(16) |
	 * final frame: FFFFFFFF | seq(4) | IV(12) | content length(4) | content | tag(16) */
	struct tk_buf b;
	unsigned char mid[32], dk[32], iv[12], tag[16], commit[32], *wrapped = NULL, *ct = NULL;
	size_t wl;
	int rc = TK_ERR_INTERNAL;
	tk_buf_init(&b, 1 << 24);
	if (RAND_bytes(mid, 32) != 1 || RAND_bytes(dk, 32) != 1 || RAND_bytes(commit, 32) != 1 ||
	    RAND_bytes(iv, 12) != 1 || tk_make_aesgcm(key, dk, 32, &wrapped, &wl) || !(ct = malloc(n + 1)))
		goto out;
	tk_buf_append(&b, "\x02\x04\x78", 3);
	tk_buf_append(&b, mid, 32);
	put16(&b, 0);
	put16(&b, 1);
	put16(&b, 7);
	tk_buf_append(&b, "raw-aes", 7);
	put16(&b, 6);
	tk_buf_append(&b, "tenken", 6);
	put16(&b, (unsigned)wl);
	tk_buf_append(&b, wrapped, wl);
	tk_buf_append(&b, "\x02", 1);
	put32(&b, 4096);
	tk_buf_append(&b, commit, 32);
	if (gcm(dk, (const unsigned char *)"\0\0\0\0\0\0\0\0\0\0\0\0", b.data ? (const unsigned char *)b.data : NULL,
		b.len, "", 0, ct, tag))
		goto out;
	tk_buf_append(&b, tag, 16);
	put32(&b, 0xffffffffUL);
	put32(&b, 1);
	tk_buf_append(&b, iv, 12);
	put32(&b, (unsigned long)n);
	if (gcm(dk, iv, NULL, 0, pt, n, ct, tag))
		goto out;
	tk_buf_append(&b, ct, n);
	tk_buf_append(&b, tag, 16);
	*outlen = b.len;
	*out = (unsigned char *)tk_buf_steal(&b);
	rc = *out ? TK_OK : TK_ERR_NOMEM;
out:
	free(wrapped);
	free(ct);
	tk_buf_free(&b);
	return rc;
}

int tk_make_kms_blob(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *b = NULL, *o;
	size_t bl;
	int rc;
	/* header as seen on KMS blobs, then a 100-byte key reference area, then AES-GCM */
	if ((rc = tk_make_aesgcm(key, pt, n, &b, &bl)))
		return rc;
	if (!(o = malloc(4 + 100 + bl))) {
		free(b);
		return TK_ERR_NOMEM;
	}
	memcpy(o, "\x01\x02\x02\x00", 4);
	RAND_bytes(o + 4, 100);
	memcpy(o + 104, b, bl);
	free(b);
	*out = o;
	*outlen = 104 + bl;
	return TK_OK;
}
