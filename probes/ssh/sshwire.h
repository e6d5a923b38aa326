/*
 * sshwire.h - what an SSH server says before any cryptography: its
 * identification line (RFC 4253 4.2) and its first binary packet, the
 * SSH_MSG_KEXINIT (RFC 4253 7.1) with the algorithm name-lists it offers.
 * Pure parsers over (ptr, len): every length is bounded, nothing is trusted.
 */
#ifndef TK_SSHWIRE_H
#define TK_SSHWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "tk.h"

#define TK_SSH_LINE_MAX 255 /* RFC 4253 4.2: the identification line, CR LF included */
#define TK_SSH_PRELINES_MAX 32 /* other lines a server may send before it */
#define TK_SSH_PACKET_MAX 65536 /* a KEXINIT larger than this is refused (OpenSSH's is < 2 KB) */
#define TK_SSH_NAMES_MAX 256 /* names kept per list; more marks the list truncated */
#define TK_SSH_NAME_MAX 64 /* RFC 4251 6: algorithm names are at most 64 characters */

/* The identification line: "SSH-protoversion-softwareversion SP comments". */
struct tk_ssh_ident {
	char line[TK_SSH_LINE_MAX + 1]; /* printable ASCII only (others replaced by '?') */
	char proto[16]; /* "2.0", "1.99", "1.5" */
	char software[TK_SSH_LINE_MAX + 1];
	char comments[TK_SSH_LINE_MAX + 1];
	size_t consumed; /* bytes of input up to and including the line's LF */
	unsigned prelines; /* lines before it */
};

/*
 * Find and parse the identification line in what the server sent so far.
 * TK_OK: *id filled, or *more set when more bytes are needed. TK_ERR_PARSE: not SSH
 * (too many or too long lines before it, a NUL, a line over 255 bytes,
 * "SSH-" without a version); *why says which.
 */
int tk_ssh_ident_parse(const unsigned char *p, size_t len, struct tk_ssh_ident *id, bool *more, const char **why);

enum tk_ssh_list {
	TK_SSH_KEX,
	TK_SSH_HOSTKEY,
	TK_SSH_ENC_C2S,
	TK_SSH_ENC_S2C,
	TK_SSH_MAC_C2S,
	TK_SSH_MAC_S2C,
	TK_SSH_COMP_C2S,
	TK_SSH_COMP_S2C,
	TK_SSH_LANG_C2S,
	TK_SSH_LANG_S2C,
	TK_SSH_NLISTS
};

struct tk_ssh_kexinit {
	char names[TK_SSH_NLISTS][TK_SSH_NAMES_MAX][TK_SSH_NAME_MAX + 1];
	size_t n[TK_SSH_NLISTS];
	bool truncated[TK_SSH_NLISTS]; /* more names than kept */
	bool first_kex_follows;
};

/* The list's RFC 4253 name ("kex_algorithms", ...). */
const char *tk_ssh_list_name(enum tk_ssh_list l);

/*
 * Parse one unencrypted binary packet holding SSH_MSG_KEXINIT from p (what
 * followed the identification line). TK_OK: *kx filled, *consumed set.
 * *more set (TK_OK): need more bytes. TK_ERR_PARSE: *why says what is wrong
 * (a length beyond the packet, a non-ASCII or over-long name, another
 * message type, padding under 4 bytes).
 */
int tk_ssh_kexinit_parse(const unsigned char *p, size_t len, struct tk_ssh_kexinit *kx, size_t *consumed, bool *more,
			 const char **why);

#endif
