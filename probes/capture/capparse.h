/*
 * capparse.h - packet and stream parsers of the "capture" probe: link layer
 * (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw IP, BSD loopback/null)
 * down to TCP, and a reader of one reassembled TCP conversation that spots
 * cleartext legacy sessions and credentials (TELNET, FTP USER/PASS, rlogin,
 * rsh, rexec, HTTP bearer/access/refresh tokens). Inputs are captured bytes:
 * every read is bounded by the given lengths.
 */
#ifndef TK_CAPPARSE_H
#define TK_CAPPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libpcap LINKTYPE_ values this decoder understands. */
#define TK_LINKTYPE_NULL 0
#define TK_LINKTYPE_ETHERNET 1
#define TK_LINKTYPE_RAW 101
#define TK_LINKTYPE_LOOP 108
#define TK_LINKTYPE_LINUX_SLL 113
#define TK_LINKTYPE_IPV4 228
#define TK_LINKTYPE_IPV6 229
#define TK_LINKTYPE_LINUX_SLL2 276

enum tk_cap_dec {
	TK_CAP_TCP = 0,      /* a TCP segment: out is filled */
	TK_CAP_NOT_TCP,      /* valid, but not TCP over IP (ARP, UDP, ...) */
	TK_CAP_FRAGMENT,     /* an IP fragment (not reassembled) */
	TK_CAP_TRUNCATED,    /* the capture cut the headers short */
	TK_CAP_MALFORMED,    /* header fields are inconsistent */
	TK_CAP_UNSUPPORTED   /* link type not understood */
};

struct tk_cap_pkt {
	int af;              /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;       /* TCP flags: FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10 */
	const uint8_t *payload;
	size_t plen;         /* payload bytes present in the capture */
};

bool tk_cap_linktype_supported(int linktype);
const char *tk_cap_linktype_name(int linktype);
enum tk_cap_dec tk_cap_decode(int linktype, const uint8_t *p, size_t caplen, struct tk_cap_pkt *out);

#define TK_CAP_EXCERPT_MAX 200

struct tk_cap_finding {
	char protocol[12];   /* telnet ftp rlogin rsh rexec http */
	char what[40];       /* e.g. "ftp-password", "http-bearer-token" */
	bool credential;     /* a password or token crossed the wire in cleartext */
	bool legacy;         /* a remote-operation protocol session */
	char excerpt[TK_CAP_EXCERPT_MAX]; /* redacted, control characters escaped */
	char fingerprint[24];/* tk_fingerprint of the secret, "" when none */
};

/*
 * Read one TCP conversation: c2s/s2c are the reassembled client-to-server and
 * server-to-client bytes (each possibly a prefix), server_port the server's
 * port. Writes up to max findings; returns how many were found (may exceed max).
 */
int tk_cap_analyze(const uint8_t *c2s, size_t clen, const uint8_t *s2c, size_t slen, uint16_t server_port,
		   struct tk_cap_finding *out, int max);

#endif
