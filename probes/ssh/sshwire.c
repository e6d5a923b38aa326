/* sshwire.c - the SSH identification line and KEXINIT parsers (see sshwire.h). */
#include "sshwire.h"

#include <stdint.h>
#include <string.h>

static const char *const list_names[TK_SSH_NLISTS] = {"kex_algorithms",
						      "server_host_key_algorithms",
						      "encryption_algorithms_client_to_server",
						      "encryption_algorithms_server_to_client",
						      "mac_algorithms_client_to_server",
						      "mac_algorithms_server_to_client",
						      "compression_algorithms_client_to_server",
						      "compression_algorithms_server_to_client",
						      "languages_client_to_server",
						      "languages_server_to_client"};

const char *tk_ssh_list_name(enum tk_ssh_list l)
{
	return (unsigned)l < TK_SSH_NLISTS ? list_names[l] : "?";
}

static void printable(char *dst, size_t cap, const unsigned char *s, size_t n)
{
	size_t i;
	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[n] = '\0';
}

int tk_ssh_ident_parse(const unsigned char *p, size_t len, struct tk_ssh_ident *id, bool *more, const char **why)
{
	size_t off = 0;
	memset(id, 0, sizeof(*id));
	*why = NULL;
	*more = false;
	for (;;) {
		const unsigned char *lf = memchr(p + off, '\n', len - off);
		size_t n, end;
		if (!lf) {
			if (len - off > TK_SSH_LINE_MAX * 4) {
				*why = "a line of more than 1020 bytes without a newline";
				return TK_ERR_PARSE;
			}
			if (memchr(p + off, '\0', len - off)) {
				*why = "a NUL byte before the identification line";
				return TK_ERR_PARSE;
			}
			{
				*more = true;
				return TK_OK;
			}
		}
		end = (size_t)(lf - p) + 1;
		n = end - off;
		if (n >= 4 && memcmp(p + off, "SSH-", 4) == 0) {
			const unsigned char *s = p + off + 4, *dash, *sp;
			size_t body = n - 4 - 1; /* without "SSH-" and LF */
			if (body > 0 && s[body - 1] == '\r')
				body--;
			if (n > TK_SSH_LINE_MAX) {
				*why = "the identification line is longer than 255 bytes (RFC 4253 4.2)";
				return TK_ERR_PARSE;
			}
			if (memchr(s, '\0', body)) {
				*why = "a NUL byte in the identification line";
				return TK_ERR_PARSE;
			}
			dash = memchr(s, '-', body);
			if (!dash || dash == s || (size_t)(dash - s) >= sizeof(id->proto)) {
				*why = "\"SSH-\" without a protocol version";
				return TK_ERR_PARSE;
			}
			printable(id->line, sizeof(id->line), p + off, body + 4);
			printable(id->proto, sizeof(id->proto), s, (size_t)(dash - s));
			sp = memchr(dash + 1, ' ', body - (size_t)(dash + 1 - s));
			if (sp) {
				printable(id->software, sizeof(id->software), dash + 1, (size_t)(sp - dash - 1));
				printable(id->comments, sizeof(id->comments), sp + 1, body - (size_t)(sp + 1 - s));
			} else {
				printable(id->software, sizeof(id->software), dash + 1, body - (size_t)(dash + 1 - s));
			}
			id->consumed = end;
			return TK_OK;
		}
		if (n > TK_SSH_LINE_MAX * 4 || memchr(p + off, '\0', n)) {
			*why = "a NUL byte or an over-long line before the identification line";
			return TK_ERR_PARSE;
		}
		if (++id->prelines > TK_SSH_PRELINES_MAX) {
			*why = "more than 32 lines before the identification line";
			return TK_ERR_PARSE;
		}
		off = end;
	}
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One name-list at payload[*at], bounded by plen, into kx->names[l]. */
static int name_list(const unsigned char *pl, size_t plen, size_t *at, struct tk_ssh_kexinit *kx, enum tk_ssh_list l,
		     const char **why)
{
	size_t n, i, start;
	if (plen - *at < 4) {
		*why = "a name-list length beyond the packet";
		return TK_ERR_PARSE;
	}
	n = be32(pl + *at);
	*at += 4;
	if (n > plen - *at) {
		*why = "a name-list longer than the packet";
		return TK_ERR_PARSE;
	}
	for (i = 0, start = 0; i <= n; i++) {
		if (i < n && pl[*at + i] != ',') {
			unsigned char c = pl[*at + i];
			if (c <= 0x20 || c >= 0x7f) {
				*why = "a name-list with a byte that is not printable US-ASCII";
				return TK_ERR_PARSE;
			}
			continue;
		}
		if (i > start) {
			if (i - start > TK_SSH_NAME_MAX) {
				*why = "an algorithm name longer than 64 characters (RFC 4251 6)";
				return TK_ERR_PARSE;
			}
			if (kx->n[l] < TK_SSH_NAMES_MAX) {
				memcpy(kx->names[l][kx->n[l]], pl + *at + start, i - start);
				kx->names[l][kx->n[l]][i - start] = '\0';
				kx->n[l]++;
			} else {
				kx->truncated[l] = true;
			}
		} else if (n > 0) {
			*why = "an empty name in a name-list";
			return TK_ERR_PARSE;
		}
		start = i + 1;
	}
	*at += n;
	return TK_OK;
}

int tk_ssh_kexinit_parse(const unsigned char *p, size_t len, struct tk_ssh_kexinit *kx, size_t *consumed, bool *more,
			 const char **why)
{
	uint32_t plen;
	size_t padlen, paylen, at = 17;
	const unsigned char *pl;
	int l, rc;
	memset(kx, 0, sizeof(*kx));
	*why = NULL;
	*more = false;
	*consumed = 0;
	if (len < 5) {
		*more = true;
		return TK_OK;
	}
	plen = be32(p);
	if (plen < 5 || plen > TK_SSH_PACKET_MAX) {
		*why = "a packet length out of range (not an unencrypted SSH packet)";
		return TK_ERR_PARSE;
	}
	if (len - 4 < plen) {
		*more = true;
		return TK_OK;
	}
	padlen = p[4];
	if (padlen < 4 || padlen + 1 > plen) {
		*why = "padding under 4 bytes or beyond the packet (RFC 4253 6)";
		return TK_ERR_PARSE;
	}
	paylen = plen - padlen - 1;
	pl = p + 5;
	if (paylen < 1 || pl[0] != 20) {
		*why = "the first packet is not SSH_MSG_KEXINIT";
		return TK_ERR_PARSE;
	}
	if (paylen < 17) {
		*why = "a KEXINIT shorter than its cookie";
		return TK_ERR_PARSE;
	}
	for (l = 0; l < TK_SSH_NLISTS; l++)
		if ((rc = name_list(pl, paylen, &at, kx, (enum tk_ssh_list)l, why)))
			return rc;
	if (paylen - at < 5) {
		*why = "a KEXINIT without first_kex_packet_follows and reserved";
		return TK_ERR_PARSE;
	}
	kx->first_kex_follows = pl[at] != 0;
	*consumed = 4 + (size_t)plen;
	return TK_OK;
}
