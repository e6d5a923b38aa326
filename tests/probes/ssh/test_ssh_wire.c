/* test_ssh_wire.c - the SSH identification line and KEXINIT parsers on well-formed, truncated
 * and hostile input. The KEXINIT below is built the way RFC 4253 7.1 lays it out; the
 * integration test (tests/integration/test_ssh.py) reads real OpenSSH servers. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshwire.h"

static size_t put32(unsigned char *p, size_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	return 4;
}

/* A KEXINIT packet with the given ten name-lists; returns its length. */
static size_t kexinit(unsigned char *out, const char *const lists[10])
{
	unsigned char pl[4096];
	size_t n = 0, i, plen, pad = 8;
	pl[n++] = 20;
	memset(pl + n, 0xAB, 16);
	n += 16;
	for (i = 0; i < 10; i++) {
		size_t l = strlen(lists[i]);
		n += put32(pl + n, l);
		memcpy(pl + n, lists[i], l);
		n += l;
	}
	pl[n++] = 0;
	n += put32(pl + n, 0);
	plen = n + pad + 1;
	put32(out, plen);
	out[4] = (unsigned char)pad;
	memcpy(out + 5, pl, n);
	memset(out + 5 + n, 0, pad);
	return 4 + plen;
}

static const char *const openssh[10] = {"curve25519-sha256,diffie-hellman-group14-sha1", "ssh-ed25519,ssh-rsa",
					"aes128-ctr,3des-cbc", "aes128-ctr,aes128-cbc", "hmac-sha2-256",
					"hmac-sha1", "none", "none,zlib@openssh.com", "", ""};

static void test_ident(void **state)
{
	static const char in[] = "Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\nrest";
	struct tk_ssh_ident id;
	const char *why;
	bool more;
	(void)state;
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)in, strlen(in), &id, &more, &why), TK_OK);
	assert_false(more);
	assert_string_equal(id.proto, "2.0");
	assert_string_equal(id.software, "OpenSSH_9.2p1");
	assert_string_equal(id.comments, "Debian-2+deb12u3");
	assert_int_equal(id.prelines, 1);
	assert_int_equal(id.consumed, strlen(in) - 4);
	/* every byte short of the line's end asks for more */
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)in, 30, &id, &more, &why), TK_OK);
	assert_true(more);
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)"SSH-1.99-x\n", 11, &id, &more, &why), TK_OK);
	assert_string_equal(id.proto, "1.99");
	assert_string_equal(id.software, "x");
}

static void test_ident_hostile(void **state)
{
	struct tk_ssh_ident id;
	const char *why;
	bool more;
	unsigned char big[2000];
	char lines[40 * 3 + 20];
	size_t i;
	(void)state;
	memset(big, 'A', sizeof(big));
	assert_int_equal(tk_ssh_ident_parse(big, sizeof(big), &id, &more, &why), TK_ERR_PARSE);
	memcpy(big, "SSH-2.0-", 8);
	big[300] = '\n';
	assert_int_equal(tk_ssh_ident_parse(big, 301, &id, &more, &why), TK_ERR_PARSE); /* > 255 bytes */
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)"SSH-\n", 5, &id, &more, &why), TK_ERR_PARSE);
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)"SSH-2.0-a\0b\n", 12, &id, &more, &why),
			 TK_ERR_PARSE);
	for (i = 0; i < 40; i++)
		memcpy(lines + i * 3, "x\r\n", 3);
	memcpy(lines + 120, "SSH-2.0-late\n", 14);
	assert_int_equal(tk_ssh_ident_parse((const unsigned char *)lines, 133, &id, &more, &why), TK_ERR_PARSE);
	assert_non_null(strstr(why, "32 lines"));
}

static void test_kexinit(void **state)
{
	unsigned char pkt[4096];
	struct tk_ssh_kexinit *kx = calloc(1, sizeof(*kx));
	size_t n = kexinit(pkt, openssh), used, cut;
	const char *why;
	bool more;
	(void)state;
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_OK);
	assert_false(more);
	assert_int_equal(used, n);
	assert_int_equal(kx->n[TK_SSH_KEX], 2);
	assert_string_equal(kx->names[TK_SSH_KEX][1], "diffie-hellman-group14-sha1");
	assert_string_equal(kx->names[TK_SSH_ENC_S2C][1], "aes128-cbc");
	assert_int_equal(kx->n[TK_SSH_LANG_C2S], 0);
	for (cut = 0; cut < n; cut++) { /* a packet cut anywhere asks for more, never reads past */
		assert_int_equal(tk_ssh_kexinit_parse(pkt, cut, kx, &used, &more, &why), TK_OK);
		assert_true(more);
	}
	free(kx);
}

static void test_kexinit_hostile(void **state)
{
	unsigned char pkt[4096];
	struct tk_ssh_kexinit *kx = calloc(1, sizeof(*kx));
	const char *bad[10];
	size_t n, used;
	const char *why;
	bool more;
	char many[256 * 4 + 64];
	size_t i;
	(void)state;
	memcpy(bad, openssh, sizeof(bad));
	bad[2] = "aes128-ctr,,3des-cbc"; /* an empty name */
	n = kexinit(pkt, bad);
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	bad[2] = "aes128-ctr,3des\x01" "cbc"; /* a control byte */
	n = kexinit(pkt, bad);
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	memcpy(bad, openssh, sizeof(bad));
	n = kexinit(pkt, bad);
	pkt[4 + 1 + 17 + 3] = 0xff; /* the first name-list claims more than the packet holds */
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	n = kexinit(pkt, openssh);
	pkt[5] = 21; /* not a KEXINIT */
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	n = kexinit(pkt, openssh);
	pkt[4] = 2; /* padding under 4 */
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	put32(pkt, 1u << 30); /* a length no KEXINIT has */
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_ERR_PARSE);
	for (i = 0, n = 0; i < 300; i++) /* more names than kept: marked truncated */
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%sa%zu", i ? "," : "", i % 10);
	memcpy(bad, openssh, sizeof(bad));
	bad[0] = many;
	n = kexinit(pkt, bad);
	assert_int_equal(tk_ssh_kexinit_parse(pkt, n, kx, &used, &more, &why), TK_OK);
	assert_true(kx->truncated[TK_SSH_KEX]);
	assert_int_equal(kx->n[TK_SSH_KEX], TK_SSH_NAMES_MAX);
	free(kx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_ident_hostile),
		cmocka_unit_test(test_kexinit),
		cmocka_unit_test(test_kexinit_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
