/*
 * tls_hello.h - hand-built ClientHellos and a parser for the server's first
 * flight (ServerHello .. ServerHelloDone, or an alert), for SSL 2.0 .. TLS 1.3.
 * Independent of the local OpenSSL's policy: any version, any code point.
 * Everything the server sends is hostile: the parser is bounded and total.
 */
#ifndef TK_TLS_HELLO_H
#define TK_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TK_SSL2 0x0002
#define TK_SSL3 0x0300
#define TK_TLS10 0x0301
#define TK_TLS11 0x0302
#define TK_TLS12 0x0303
#define TK_TLS13 0x0304

#define TK_HELLO_MAX 16384          /* a ClientHello fits one record */
#define TK_FLIGHT_MAX_HS 65536      /* handshake bytes kept from the server's first flight */
#define TK_FLIGHT_MAX_CERTS 10
#define TK_FLIGHT_MAX_SSL2_SPECS 16

struct tk_hello_opts {
	uint16_t version;        /* TK_SSL2 .. TK_TLS13 */
	const uint16_t *suites;  /* code points to offer (SSLv2: ignored, all 7 kinds offered) */
	size_t nsuites;
	const char *sni;         /* host name for server_name, or NULL */
	const uint16_t *groups;  /* named groups to offer; NULL: a default list */
	size_t ngroups;
	bool key_share;          /* TLS 1.3: send an X25519 share when X25519 is offered */
	bool status_request;     /* ask for an OCSP staple */
};

/* Build a ClientHello record into out (cap bytes); *len is its length. */
int tk_tls_build_client_hello(const struct tk_hello_opts *o, uint8_t *out, size_t cap, size_t *len);

enum tk_flight_state {
	TK_FLIGHT_MORE = 0, /* a complete answer needs more bytes */
	TK_FLIGHT_DONE,     /* ServerHello seen and the flight is complete (or encrypted from here on) */
	TK_FLIGHT_ALERT,    /* the server sent an alert (before or instead of a ServerHello) */
	TK_FLIGHT_BAD,      /* not TLS, or malformed: `why` says where */
};

struct tk_flight {
	enum tk_flight_state state;
	bool hello;          /* a ServerHello (or SSLv2 SERVER-HELLO) was parsed */
	bool hrr;            /* it was a TLS 1.3 HelloRetryRequest */
	uint16_t version;    /* negotiated version (supported_versions wins over legacy_version) */
	uint16_t suite;
	uint8_t compression;
	uint16_t group;      /* TLS 1.3 key_share/HRR group or the ServerKeyExchange named curve; 0 none */
	unsigned dh_bits;    /* ServerKeyExchange finite-field DH prime size; 0 none */
	bool secure_renegotiation;
	bool ocsp_stapled;   /* CertificateStatus message seen */
	bool cert_request;   /* CertificateRequest message seen */
	size_t ncerts;       /* certificates in the Certificate message (at most TK_FLIGHT_MAX_CERTS kept) */
	size_t cert_off[TK_FLIGHT_MAX_CERTS], cert_len[TK_FLIGHT_MAX_CERTS]; /* into hs[] */
	uint8_t alert_level, alert_desc;
	/* SSLv2 */
	size_t nssl2_specs;
	uint32_t ssl2_specs[TK_FLIGHT_MAX_SSL2_SPECS];
	char why[160];
	/* reassembled handshake bytes */
	size_t hslen;
	uint8_t hs[TK_FLIGHT_MAX_HS];
};

/*
 * Parse what the server sent so far (buf, len: from the first byte). Call
 * again with more bytes while the state is TK_FLIGHT_MORE; `out` is rebuilt
 * from scratch on each call. Returns the state (also in out->state).
 */
enum tk_flight_state tk_tls_parse_flight(const uint8_t *buf, size_t len, struct tk_flight *out);

/* Names: "tls1_2" style keys and "TLS 1.2" labels; group names ("x25519", "secp256r1", "ffdhe2048"). */
const char *tk_tls_version_key(uint16_t v);
const char *tk_tls_version_label(uint16_t v);
const char *tk_tls_group_name(uint16_t g);
/* The default groups offered: for TLS 1.3 (EC and FFDHE) or earlier (EC only). */
const uint16_t *tk_tls_default_groups(bool tls13, size_t *n);

#endif
