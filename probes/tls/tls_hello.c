/*
 * tls_hello.c - hand-built ClientHellos and the server-flight parser
 * (see tls_hello.h). RFC 5246 (TLS 1.2), RFC 8446 (TLS 1.3), RFC 6101
 * (SSL 3.0), and the SSL 2.0 draft for the SSLv2 CLIENT-HELLO.
 */
#include "tls_hello.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "tk.h"
#include "tls_suites.h"

static const uint16_t groups13[] = {29, 23, 24, 25, 30, 256, 257, 258, 259, 260, 22, 26, 27, 28, 21};
static const uint16_t groups12[] = {29, 23, 24, 25, 30, 22, 26, 27, 28, 21, 19, 20, 14, 13, 11, 12, 9, 10};

static const uint16_t sigalgs[] = {
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
	0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202,
};

/* SHA-256("HelloRetryRequest"): the ServerHello.random of an HRR (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
				       0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
				       0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

const uint16_t *tk_tls_default_groups(bool tls13, size_t *n)
{
	if (tls13) {
		*n = TK_ARRAY_LEN(groups13);
		return groups13;
	}
	*n = TK_ARRAY_LEN(groups12);
	return groups12;
}

const char *tk_tls_version_key(uint16_t v)
{
	switch (v) {
	case TK_SSL2: return "ssl2";
	case TK_SSL3: return "ssl3";
	case TK_TLS10: return "tls1_0";
	case TK_TLS11: return "tls1_1";
	case TK_TLS12: return "tls1_2";
	case TK_TLS13: return "tls1_3";
	default: return "unknown";
	}
}

const char *tk_tls_version_label(uint16_t v)
{
	switch (v) {
	case TK_SSL2: return "SSL 2.0";
	case TK_SSL3: return "SSL 3.0";
	case TK_TLS10: return "TLS 1.0";
	case TK_TLS11: return "TLS 1.1";
	case TK_TLS12: return "TLS 1.2";
	case TK_TLS13: return "TLS 1.3";
	default: return "unknown";
	}
}

const char *tk_tls_group_name(uint16_t g)
{
	switch (g) {
	case 9: return "sect283k1";
	case 10: return "sect283r1";
	case 11: return "sect409k1";
	case 12: return "sect409r1";
	case 13: return "sect571k1";
	case 14: return "sect571r1";
	case 19: return "secp192r1";
	case 20: return "secp224k1";
	case 21: return "secp224r1";
	case 22: return "secp256k1";
	case 23: return "secp256r1";
	case 24: return "secp384r1";
	case 25: return "secp521r1";
	case 26: return "brainpoolP256r1";
	case 27: return "brainpoolP384r1";
	case 28: return "brainpoolP512r1";
	case 29: return "x25519";
	case 30: return "x448";
	case 256: return "ffdhe2048";
	case 257: return "ffdhe3072";
	case 258: return "ffdhe4096";
	case 259: return "ffdhe6144";
	case 260: return "ffdhe8192";
	default: return "unknown";
	}
}

/* ---- writer ---- */
struct wr {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct wr *w, const void *d, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}
static void put8(struct wr *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}
static void put16(struct wr *w, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}
/* Reserve an n-byte length field; returns its position. */
static size_t open_len(struct wr *w, size_t n)
{
	size_t at = w->len;
	uint8_t z[3] = {0, 0, 0};
	put(w, z, n);
	return at;
}
static void close_len(struct wr *w, size_t at, size_t n)
{
	size_t v, i;
	if (w->overflow)
		return;
	v = w->len - at - n;
	for (i = 0; i < n; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static bool is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int build_ssl2(uint8_t *out, size_t cap, size_t *len)
{
	static const uint8_t specs[] = {0x01, 0x00, 0x80, 0x02, 0x00, 0x80, 0x03, 0x00, 0x80, 0x04, 0x00, 0x80,
					0x05, 0x00, 0x80, 0x06, 0x00, 0x40, 0x07, 0x00, 0xC0};
	struct wr w = {out, cap, 0, false};
	uint8_t challenge[16];
	size_t body = 9 + sizeof(specs) + sizeof(challenge);
	RAND_bytes(challenge, sizeof(challenge));
	put8(&w, 0x80 | (unsigned)(body >> 8));
	put8(&w, (unsigned)(body & 0xff));
	put8(&w, 1);         /* CLIENT-HELLO */
	put16(&w, 0x0002);   /* version */
	put16(&w, sizeof(specs));
	put16(&w, 0);        /* session id */
	put16(&w, sizeof(challenge));
	put(&w, specs, sizeof(specs));
	put(&w, challenge, sizeof(challenge));
	if (w.overflow)
		return TK_ERR_LIMIT;
	*len = w.len;
	return TK_OK;
}

int tk_tls_build_client_hello(const struct tk_hello_opts *o, uint8_t *out, size_t cap, size_t *len)
{
	struct wr w = {out, cap, 0, false};
	uint8_t rnd[32];
	size_t rec, hs, l, ext, e, i, ngroups = o->ngroups;
	const uint16_t *groups = o->groups;
	bool tls13 = o->version == TK_TLS13, has_x25519 = false;

	*len = 0;
	if (o->version == TK_SSL2)
		return build_ssl2(out, cap, len);
	if (o->version < TK_SSL3 || o->version > TK_TLS13 || o->nsuites == 0 || o->nsuites > 4000)
		return TK_ERR_USAGE;
	if (!groups)
		groups = tk_tls_default_groups(tls13, &ngroups);
	put8(&w, 22);
	put16(&w, o->version == TK_SSL3 ? TK_SSL3 : TK_TLS10);
	rec = open_len(&w, 2);
	put8(&w, 1); /* client_hello */
	hs = open_len(&w, 3);
	put16(&w, tls13 ? TK_TLS12 : o->version);
	RAND_bytes(rnd, sizeof(rnd));
	put(&w, rnd, sizeof(rnd));
	if (tls13) { /* middlebox-compatibility session id */
		RAND_bytes(rnd, sizeof(rnd));
		put8(&w, 32);
		put(&w, rnd, 32);
	} else {
		put8(&w, 0);
	}
	l = open_len(&w, 2);
	for (i = 0; i < o->nsuites; i++)
		put16(&w, o->suites[i]);
	if (o->version == TK_SSL3)
		put16(&w, 0x00FF); /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV: no extensions in SSL 3.0 */
	close_len(&w, l, 2);
	put8(&w, 1);
	put8(&w, 0); /* null compression */
	if (o->version > TK_SSL3) {
		ext = open_len(&w, 2);
		if (o->sni && *o->sni && !is_ip_literal(o->sni) && strlen(o->sni) < 256) {
			size_t n = strlen(o->sni);
			put16(&w, 0x0000);
			put16(&w, (unsigned)(n + 5));
			put16(&w, (unsigned)(n + 3));
			put8(&w, 0);
			put16(&w, (unsigned)n);
			put(&w, o->sni, n);
		}
		put16(&w, 0x000a); /* supported_groups */
		e = open_len(&w, 2);
		l = open_len(&w, 2);
		for (i = 0; i < ngroups; i++) {
			put16(&w, groups[i]);
			if (groups[i] == 29)
				has_x25519 = true;
		}
		close_len(&w, l, 2);
		close_len(&w, e, 2);
		put16(&w, 0x000b); /* ec_point_formats: uncompressed */
		put16(&w, 2);
		put8(&w, 1);
		put8(&w, 0);
		put16(&w, 0x000d); /* signature_algorithms */
		e = open_len(&w, 2);
		l = open_len(&w, 2);
		for (i = 0; i < TK_ARRAY_LEN(sigalgs); i++)
			put16(&w, sigalgs[i]);
		close_len(&w, l, 2);
		close_len(&w, e, 2);
		if (o->status_request) {
			static const uint8_t sr[] = {0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
			put(&w, sr, sizeof(sr));
		}
		put16(&w, 0x0017); /* extended_master_secret */
		put16(&w, 0);
		if (!tls13) {
			static const uint8_t ri[] = {0xff, 0x01, 0x00, 0x01, 0x00};
			put(&w, ri, sizeof(ri));
		} else {
			static const uint8_t sv[] = {0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04};
			static const uint8_t pskm[] = {0x00, 0x2d, 0x00, 0x02, 0x01, 0x01};
			put(&w, sv, sizeof(sv));
			put(&w, pskm, sizeof(pskm));
			put16(&w, 0x0033); /* key_share */
			e = open_len(&w, 2);
			l = open_len(&w, 2);
			if (o->key_share && has_x25519) {
				/* Any 32 bytes are an X25519 public key; we never finish the handshake. */
				RAND_bytes(rnd, sizeof(rnd));
				put16(&w, 29);
				put16(&w, 32);
				put(&w, rnd, 32);
			}
			close_len(&w, l, 2);
			close_len(&w, e, 2);
		}
		close_len(&w, ext, 2);
	}
	close_len(&w, hs, 3);
	close_len(&w, rec, 2);
	if (w.overflow || w.len - 5 > 16384)
		return TK_ERR_LIMIT;
	*len = w.len;
	return TK_OK;
}

/* ---- parser ---- */
static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}
static uint32_t rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Malformed input: `what` at byte `off` of the stream ("hs" offsets: of the handshake bytes). */
static enum tk_flight_state bad(struct tk_flight *f, const char *what, size_t off)
{
	f->state = TK_FLIGHT_BAD;
	snprintf(f->why, sizeof(f->why), "%s (offset %zu)", what, off);
	return TK_FLIGHT_BAD;
}

static enum tk_flight_state parse_ssl2(const uint8_t *b, size_t len, struct tk_flight *f)
{
	size_t rlen, hdr, cert_len, specs_len, i;
	if (len < 2)
		return TK_FLIGHT_MORE;
	rlen = ((size_t)(b[0] & 0x7f) << 8) | b[1];
	hdr = 2;
	if (len < hdr + rlen)
		return TK_FLIGHT_MORE;
	if (rlen < 11)
		return bad(f, "SSLv2 record too short", rlen);
	if (b[2] == 0) /* SSLv2 ERROR */
		return bad(f, "SSLv2 ERROR message", 2);
	if (b[2] != 4)
		return bad(f, "SSLv2 message type is not SERVER-HELLO", 2);
	cert_len = rd16(b + 7);
	specs_len = rd16(b + 9);
	if (13 + cert_len + specs_len > hdr + rlen || specs_len % 3)
		return bad(f, "SSLv2 SERVER-HELLO lengths exceed the record", 7);
	f->hello = true;
	f->version = (uint16_t)rd16(b + 5);
	if (cert_len > 0 && cert_len <= sizeof(f->hs)) {
		memcpy(f->hs, b + 13, cert_len);
		f->hslen = cert_len;
		f->ncerts = 1;
		f->cert_off[0] = 0;
		f->cert_len[0] = cert_len;
	}
	for (i = 0; i < specs_len / 3 && i < TK_FLIGHT_MAX_SSL2_SPECS; i++) {
		const uint8_t *s = b + 13 + cert_len + 3 * i;
		f->ssl2_specs[f->nssl2_specs++] = (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
	}
	f->state = TK_FLIGHT_DONE;
	return TK_FLIGHT_DONE;
}

static enum tk_flight_state parse_server_hello(const uint8_t *m, size_t n, size_t at, struct tk_flight *f)
{
	size_t p = 0, sid, extlen, end;
	if (n < 38)
		return bad(f, "ServerHello too short [hs]", at);
	f->version = (uint16_t)rd16(m);
	f->hrr = memcmp(m + 2, hrr_random, 32) == 0;
	p = 34;
	sid = m[p++];
	if (sid > 32 || p + sid + 3 > n)
		return bad(f, "ServerHello session id overruns the message [hs]", at);
	p += sid;
	f->suite = (uint16_t)rd16(m + p);
	p += 2;
	f->compression = m[p++];
	f->hello = true;
	if (p == n)
		return TK_FLIGHT_MORE;
	if (p + 2 > n)
		return bad(f, "ServerHello extensions length cut [hs]", at + p);
	extlen = rd16(m + p);
	p += 2;
	if (p + extlen != n)
		return bad(f, "ServerHello extensions length mismatch [hs]", at + p);
	end = p + extlen;
	while (p < end) {
		uint32_t type, len;
		if (p + 4 > end)
			return bad(f, "extension header cut [hs]", at + p);
		type = rd16(m + p);
		len = rd16(m + p + 2);
		p += 4;
		if (p + len > end)
			return bad(f, "extension overruns ServerHello [hs]", at + p);
		if (type == 0x002b) {
			if (len != 2)
				return bad(f, "supported_versions of bad length [hs]", at + p);
			f->version = (uint16_t)rd16(m + p);
		} else if (type == 0x0033 && len >= 2) {
			f->group = (uint16_t)rd16(m + p);
		} else if (type == 0xff01) {
			f->secure_renegotiation = true;
		}
		p += len;
	}
	return TK_FLIGHT_MORE;
}

static void parse_ske(const uint8_t *m, size_t n, struct tk_flight *f)
{
	const struct tk_suite *s = tk_suite_by_code(f->suite);
	if (!s)
		return;
	if (strncmp(s->kx, "ECDH", 4) == 0) {
		if (n >= 3 && m[0] == 3)
			f->group = (uint16_t)rd16(m + 1);
	} else if (strcmp(s->kx, "DHE") == 0 || (strcmp(s->kx, "DH") == 0 && strcmp(s->auth, "anon") == 0)) {
		size_t plen, i;
		if (n < 2)
			return;
		plen = rd16(m);
		if (plen == 0 || 2 + plen > n)
			return;
		for (i = 0; i < plen && m[2 + i] == 0; i++)
			;
		if (i == plen)
			return;
		{
			unsigned top = m[2 + i], bits = 0;
			while (top) {
				bits++;
				top >>= 1;
			}
			f->dh_bits = (unsigned)(plen - i - 1) * 8 + bits;
		}
	}
}

static void parse_certificate(size_t moff, size_t n, struct tk_flight *f)
{
	const uint8_t *m = f->hs + moff;
	size_t p = 3, total;
	if (n < 3)
		return;
	total = rd24(m);
	if (total + 3 > n)
		return;
	while (p + 3 <= 3 + total) {
		size_t cl = rd24(m + p);
		p += 3;
		if (p + cl > 3 + total)
			return;
		if (f->ncerts < TK_FLIGHT_MAX_CERTS) {
			f->cert_off[f->ncerts] = moff + p;
			f->cert_len[f->ncerts] = cl;
		}
		f->ncerts++;
		p += cl;
	}
}

enum tk_flight_state tk_tls_parse_flight(const uint8_t *buf, size_t len, struct tk_flight *f)
{
	size_t pos = 0, hpos = 0, nmsg = 0;
	memset(f, 0, offsetof(struct tk_flight, hs));
	f->hslen = 0;
	if (len == 0)
		return TK_FLIGHT_MORE;
	if (buf[0] & 0x80)
		return parse_ssl2(buf, len, f);
	while (pos + 5 <= len) {
		uint8_t type = buf[pos];
		size_t rlen = rd16(buf + pos + 3);
		const uint8_t *pl = buf + pos + 5;
		if (buf[pos + 1] != 3 || buf[pos + 2] > 4)
			return bad(f, "not a TLS record (version bytes)", pos + 1);
		if (rlen > 16384 + 2048)
			return bad(f, "record longer than 2^14+2048", pos + 3);
		if (pos + 5 + rlen > len)
			return f->state = TK_FLIGHT_MORE;
		if (type == 21) {
			if (rlen < 2)
				return bad(f, "alert record too short", pos);
			f->alert_level = pl[0];
			f->alert_desc = pl[1];
			return f->state = TK_FLIGHT_ALERT;
		} else if (type == 22) {
			if (rlen == 0)
				return bad(f, "empty handshake record", pos);
			if (rlen > sizeof(f->hs) - f->hslen)
				return bad(f, "server flight exceeds 64 KiB", pos);
			memcpy(f->hs + f->hslen, pl, rlen);
			f->hslen += rlen;
		} else if (type == 20 || type == 23) {
			if (!f->hello)
				return bad(f, "record type before ServerHello", pos);
			/* TLS 1.3: everything after the ServerHello is encrypted. */
			return f->state = TK_FLIGHT_DONE;
		} else {
			return bad(f, "unknown record type", pos);
		}
		pos += 5 + rlen;
		/* complete handshake messages */
		while (hpos + 4 <= f->hslen) {
			uint8_t mt = f->hs[hpos];
			size_t ml = rd24(f->hs + hpos + 1);
			if (hpos + 4 + ml > f->hslen)
				break;
			if (++nmsg > 64)
				return bad(f, "more than 64 handshake messages [hs]", hpos);
			if (!f->hello && mt != 2)
				return bad(f, "first handshake message is not a ServerHello [hs]", hpos);
			switch (mt) {
			case 2:
				if (f->hello)
					return bad(f, "second ServerHello [hs]", hpos);
				if (parse_server_hello(f->hs + hpos + 4, ml, hpos + 4, f) == TK_FLIGHT_BAD)
					return TK_FLIGHT_BAD;
				if (f->hrr || f->version == TK_TLS13)
					return f->state = TK_FLIGHT_DONE;
				break;
			case 11: parse_certificate(hpos + 4, ml, f); break;
			case 12: parse_ske(f->hs + hpos + 4, ml, f); break;
			case 13: f->cert_request = true; break;
			case 22: f->ocsp_stapled = true; break;
			case 14: return f->state = TK_FLIGHT_DONE;
			default: break;
			}
			hpos += 4 + ml;
		}
	}
	if (pos < len && len - pos >= 3 && (buf[pos + 1] != 3 || buf[pos + 2] > 4))
		return bad(f, "not a TLS record (version bytes)", pos + 1);
	return f->state = TK_FLIGHT_MORE;
}
