/*
 * envelope.c - structural recognition of encrypted envelopes.
 *
 * How each format is recognised (structural unless marked heuristic):
 *  - JWE (RFC 7516 7.1): exactly five '.'-separated base64url parts; the first
 *    decodes to a JSON object with string "alg" and "enc"; IV, ciphertext and
 *    tag non-empty (the encrypted key may be empty for "dir").
 *  - Fernet (spec.md of the Fernet project): base64url of
 *    0x80 | timestamp(8, big-endian) | IV(16) | ciphertext(16*k, k>=1) | HMAC(32);
 *    the timestamp must lie between 2000 and 2200. The HMAC cannot be checked
 *    without the key.
 *  - Vault transit: "vault:v<N>:" followed by standard base64 of at least
 *    28 bytes (96-bit nonce + 128-bit tag of AES-GCM).
 *  - AWS Encryption SDK message (docs: message-format): version 1 with type
 *    0x80 and a known algorithm suite id, 16-byte message id, AAD length and
 *    at least one encrypted data key inside the message; or version 2 with a
 *    committing suite (0x0478, 0x0578) and a 32-byte message id.
 *  - AWS KMS CiphertextBlob (heuristic): AWS does not document the layout;
 *    blobs observed in practice start 01 02 0{1,2,3} 00 (base64 "AQIBAH",
 *    "AQICAH", "AQIDAH") and are at least 100 bytes long.
 *  - Tink (heuristic, 1/256 chance for random bytes): output prefix 0x01 +
 *    4-byte key id, then at least a 12-byte IV and 16-byte tag.
 *  - Raw AEAD (heuristic): binary of at least 28 bytes (nonce + tag + data)
 *    that is not text, in a field whose name marks it encrypted, or wrapped
 *    in a marker used by common libraries: ENC(...) (Jasypt), {cipher}
 *    (Spring Cloud Config), enc: / aes-gcm: / gcm: prefixes.
 */
#include "envelope.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "jwt.h"

#define ENV_MAX_TEXT (64 * 1024)
#define ENV_MAX_BIN (48 * 1024)

static const char *const env_names[TK_ENV_COUNT] = {
	"none", "jwe", "fernet", "vault-transit", "aws-kms", "aws-encryption-sdk", "tink", "raw-aead",
};

const char *tk_envelope_name(enum tk_env_kind k)
{
	return (unsigned)k < TK_ENV_COUNT ? env_names[k] : "none";
}

static bool found(struct tk_envelope *out, enum tk_env_kind k, bool heur, const char *detail)
{
	out->kind = k;
	out->heuristic = heur;
	snprintf(out->detail, sizeof(out->detail), "%s", detail ? detail : "");
	return true;
}

bool tk_is_text(const unsigned char *p, size_t len)
{
	size_t i, bad = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c == 0)
			return false;
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
			bad++;
		else if (c >= 0x80) {
			/* a UTF-8 sequence: lead byte then continuation bytes */
			size_t need = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
			size_t k;
			if (need == 0 || i + need >= len) {
				bad++;
				continue;
			}
			for (k = 1; k <= need; k++)
				if ((p[i + k] & 0xc0) != 0x80)
					break;
			if (k <= need) {
				bad++;
				continue;
			}
			i += need;
		}
	}
	return bad * 50 <= len; /* at most 2% odd bytes */
}

static bool b64_any(const char *p, size_t len, unsigned char *out, size_t cap, size_t *ol)
{
	return tk_b64_decode(p, len, TK_B64_STD, out, cap, ol) || tk_b64_decode(p, len, TK_B64_URL, out, cap, ol);
}

static bool is_jwe(const char *p, size_t len, struct tk_envelope *out)
{
	const char *parts[5];
	size_t plen[5], n = 0, i, start = 0;
	unsigned char hdr[4096];
	size_t hl = 0;
	cJSON *h;
	const cJSON *alg, *enc;
	bool ok = false;
	for (i = 0; i <= len && n <= 5; i++) {
		if (i == len || p[i] == '.') {
			if (n == 5)
				return false;
			parts[n] = p + start;
			plen[n++] = i - start;
			start = i + 1;
		}
	}
	if (n != 5 || plen[0] == 0 || plen[2] == 0 || plen[3] == 0 || plen[4] == 0)
		return false;
	for (i = 1; i < 5; i++) {
		unsigned char tmp[ENV_MAX_TEXT];
		size_t tl;
		if (plen[i] && !tk_b64_decode(parts[i], plen[i], TK_B64_URL, tmp, sizeof(tmp), &tl))
			return false;
	}
	if (!tk_b64_decode(parts[0], plen[0], TK_B64_URL, hdr, sizeof(hdr), &hl) || hl == 0)
		return false;
	if (!(h = cJSON_ParseWithLength((const char *)hdr, hl)))
		return false;
	alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	enc = cJSON_GetObjectItemCaseSensitive(h, "enc");
	if (cJSON_IsObject(h) && cJSON_IsString(alg) && cJSON_IsString(enc)) {
		char d[64];
		snprintf(d, sizeof(d), "alg=%.20s enc=%.20s", alg->valuestring, enc->valuestring);
		/* header values are attacker text: keep only safe characters */
		for (i = 0; d[i]; i++)
			if ((unsigned char)d[i] < 0x20 || (unsigned char)d[i] >= 0x7f)
				d[i] = '?';
		ok = found(out, TK_ENV_JWE, false, d);
	}
	cJSON_Delete(h);
	return ok;
}

static bool is_fernet(const unsigned char *b, size_t n, struct tk_envelope *out)
{
	uint64_t ts = 0;
	size_t i;
	if (n < 1 + 8 + 16 + 16 + 32 || (n - 57) % 16 != 0 || b[0] != 0x80)
		return false;
	for (i = 1; i <= 8; i++)
		ts = (ts << 8) | b[i];
	if (ts < 946684800ULL || ts > 7258118400ULL) /* 2000-01-01 .. 2200-01-01 */
		return false;
	return found(out, TK_ENV_FERNET, false, "version=0x80");
}

static const uint16_t esdk_v1_suites[] = {0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378};

static bool is_esdk(const unsigned char *b, size_t n, struct tk_envelope *out)
{
	size_t off, i, aad, edks;
	uint16_t suite;
	bool known = false;
	char d[48];
	if (n < 4)
		return false;
	if (b[0] == 0x01 && b[1] == 0x80) {
		suite = (uint16_t)(b[2] << 8 | b[3]);
		for (i = 0; i < sizeof(esdk_v1_suites) / sizeof(esdk_v1_suites[0]); i++)
			known |= suite == esdk_v1_suites[i];
		off = 4 + 16; /* message id */
	} else if (b[0] == 0x02) {
		suite = (uint16_t)(b[1] << 8 | b[2]);
		known = suite == 0x0478 || suite == 0x0578;
		off = 3 + 32;
	} else {
		return false;
	}
	if (!known || n < off + 2)
		return false;
	aad = (size_t)(b[off] << 8 | b[off + 1]);
	off += 2 + aad;
	if (n < off + 2)
		return false;
	edks = (size_t)(b[off] << 8 | b[off + 1]);
	if (edks == 0)
		return false;
	snprintf(d, sizeof(d), "version=%u suite=0x%04x edks=%zu", b[0], suite, edks);
	return found(out, TK_ENV_ESDK, false, d);
}

bool tk_envelope_binary(const unsigned char *b, size_t n, bool enc_hint, struct tk_envelope *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0 || n > ENV_MAX_BIN)
		return false;
	if (is_esdk(b, n, out) || is_fernet(b, n, out))
		return true;
	if (n >= 100 && b[0] == 0x01 && b[1] == 0x02 && b[2] >= 1 && b[2] <= 3 && b[3] == 0x00)
		return found(out, TK_ENV_KMS, true, "prefix 01 02 0x 00");
	if (n >= 5 + 12 + 16 && b[0] == 0x01 && !tk_is_text(b + 5, n - 5))
		return found(out, TK_ENV_TINK, true, "output prefix TINK");
	if (enc_hint && n >= 28 && !tk_is_text(b, n))
		return found(out, TK_ENV_RAW_AEAD, true, "binary under an encryption marker");
	return false;
}

static bool has_prefix_ci(const char *p, size_t len, const char *pre, size_t *plen)
{
	size_t l = strlen(pre);
	if (len < l || strncasecmp(p, pre, l) != 0)
		return false;
	*plen = l;
	return true;
}

bool tk_envelope_text(const char *p, size_t len, bool enc_hint, struct tk_envelope *out)
{
	unsigned char bin[ENV_MAX_BIN];
	size_t bl = 0, pl = 0, i;
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > ENV_MAX_TEXT)
		return false;
	/* Vault transit: vault:v<digits>:<base64> */
	if (len > 8 && memcmp(p, "vault:v", 7) == 0) {
		i = 7;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i > 7 && i < len && p[i] == ':' &&
		    tk_b64_decode(p + i + 1, len - i - 1, TK_B64_STD, bin, sizeof(bin), &bl) && bl >= 28)
			return found(out, TK_ENV_VAULT, false, "transit ciphertext");
		return false;
	}
	if (memchr(p, '.', len))
		return is_jwe(p, len, out);
	/* Library markers around base64 ciphertext. */
	if (len > 5 && strncmp(p, "ENC(", 4) == 0 && p[len - 1] == ')') {
		if (b64_any(p + 4, len - 5, bin, sizeof(bin), &bl) && bl >= 16)
			return found(out, TK_ENV_RAW_AEAD, true, "ENC(...) marker");
		return false;
	}
	if (has_prefix_ci(p, len, "{cipher}", &pl) || has_prefix_ci(p, len, "enc:", &pl) ||
	    has_prefix_ci(p, len, "aes-gcm:", &pl) || has_prefix_ci(p, len, "gcm:", &pl)) {
		if ((b64_any(p + pl, len - pl, bin, sizeof(bin), &bl) && bl >= 28) ||
		    (pl == 8 && len - pl >= 32)) /* {cipher} is followed by hex */
			return found(out, TK_ENV_RAW_AEAD, true, "prefix marker");
		return false;
	}
	if (!b64_any(p, len, bin, sizeof(bin), &bl))
		return false;
	return tk_envelope_binary(bin, bl, enc_hint, out);
}
