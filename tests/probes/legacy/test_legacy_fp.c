/* test_legacy_fp.c - the legacy fingerprint machine: dialogs fed in pieces, and the capture stream reader. */
#include "testutil.h"

#include <string.h>

#include "capparse.h"
#include "legacyfp.h"
#include "tk.h"

struct dialog {
	const char *reply[8]; /* what the server says after each of our sends (index 0: greeting) */
	size_t rlen[8];
};

/*
 * Drive the machine like the event loop does, delivering each server reply
 * `chunk` bytes at a time; returns the transcript of what we sent.
 */
static void drive(struct lg_fp *f, const struct dialog *d, size_t chunk, char *sent, size_t sentsize)
{
	unsigned char rx[8192], out[512];
	size_t rxlen = 0, olen, turn = 0, sl = 0;
	enum lg_act a;
	int guard = 0;
	memset(rx, 0, sizeof(rx));
	a = lg_fp_step(f, LG_EV_START, rx, 0, out, sizeof(out), &olen);
	sent[0] = '\0';
	while (a != LG_DONE && guard++ < 10000) {
		const char *r = turn < 8 ? d->reply[turn] : NULL;
		size_t rl = r ? (d->rlen[turn] ? d->rlen[turn] : strlen(r)) : 0, off = 0;
		if (!r) {
			a = lg_fp_step(f, LG_EV_EOF, rx, rxlen, out, sizeof(out), &olen);
		} else if (rl == 0) {
			a = lg_fp_step(f, LG_EV_TIMEOUT, rx, rxlen, out, sizeof(out), &olen);
		} else {
			a = LG_WAIT;
			while (off < rl && a == LG_WAIT) {
				size_t n = rl - off < chunk ? rl - off : chunk;
				memcpy(rx + rxlen, r + off, n);
				rxlen += n;
				off += n;
				a = lg_fp_step(f, LG_EV_DATA, rx, rxlen, out, sizeof(out), &olen);
			}
			assert_int_equal(off, rl); /* the machine must not act before a reply is complete */
		}
		turn++;
		if (a == LG_SEND) {
			assert_true(sl + olen < sentsize);
			memcpy(sent + sl, out, olen);
			sl += olen;
			sent[sl] = '\0';
		}
	}
	assert_int_equal(a, LG_DONE);
}

static void test_ftp_split_every_size(void **state)
{
	struct dialog d = {{"220-Welcome\r\n220-to FTP\r\n220 ready\r\n",
			    "211-Features:\r\n MDTM\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n", "331 Password please\r\n",
			    "230 Login successful\r\n", "221 bye\r\n", NULL}, {0}};
	size_t chunk;
	(void)state;
	for (chunk = 1; chunk < 64; chunk++) {
		struct lg_fp f;
		char sent[512];
		lg_fp_init(&f, 2121, true);
		drive(&f, &d, chunk, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_FTP);
		assert_true(f.ftp_auth_tls);
		assert_true(f.ftp_anon_checked);
		assert_true(f.ftp_anonymous);
		assert_string_equal(sent, "FEAT\r\nUSER anonymous\r\nPASS tenken@example.invalid\r\nQUIT\r\n");
	}
}

static void test_ftp_no_anonymous_attempt_when_not_allowed(void **state)
{
	struct dialog d = {{"220 FTP\r\n", "211-Features:\r\n SIZE\r\n211 End\r\n", "221 bye\r\n", NULL}, {0}};
	struct lg_fp f;
	char sent[512];
	(void)state;
	lg_fp_init(&f, 21, false);
	drive(&f, &d, 5, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_FTP);
	assert_false(f.ftp_auth_tls);
	assert_false(f.ftp_anon_checked);
	assert_null(strstr(sent, "USER"));
}

static void test_unlabelled_220_disambiguated(void **state)
{
	/* neither greeting says FTP or SMTP: FEAT fails, EHLO decides */
	struct dialog smtp = {
	    {"220 host ready\r\n", "502 unknown\r\n", "250-host\r\n250 STARTTLS\r\n", "221 bye\r\n", NULL}, {0}};
	struct dialog ftp = {{"220 host ready\r\n", "500 unknown\r\n", "500 unknown\r\n", "500 AUTH no\r\n", NULL},
			     {0}};
	struct lg_fp f;
	char sent[512];
	(void)state;
	lg_fp_init(&f, 2525, false);
	drive(&f, &smtp, 3, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_SMTP);
	assert_true(f.smtp_starttls);
	lg_fp_init(&f, 2121, false);
	drive(&f, &ftp, 3, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_FTP);
	assert_true(f.ftp_auth_known);
	assert_false(f.ftp_auth_tls);
}

static void test_telnet_and_silent_and_garbage(void **state)
{
	struct dialog tel = {{"\xff\xfd\x18\xff\xfb\x01", "\r\nlogin: ", NULL}, {0}};
	struct dialog silent = {{"", NULL}, {0}};
	struct dialog garbage = {{"\x01\x02\x03\xfe\n", NULL}, {0}};
	struct lg_fp f;
	char sent[512];
	unsigned char ban[64];
	(void)state;
	lg_fp_init(&f, 2323, false);
	drive(&f, &tel, 64, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_TELNET);
	assert_int_equal(f.telnet_nopts, 2);
	assert_memory_equal(sent, "\xff\xfc\x18\xff\xfe\x01", 6); /* WONT TTYPE, DONT ECHO */
	lg_fp_init(&f, 40000, false);
	drive(&f, &silent, 1, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_string_equal(f.how, "silent");
	lg_fp_init(&f, 40000, false);
	drive(&f, &garbage, 2, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_string_equal(f.how, "unrecognised-banner");
	assert_int_equal(lg_fp_banner(&f, (const unsigned char *)"\x01\x02\x03\xfe\n", 5, ban, sizeof(ban)), 5);
}

static void test_rpc_dump_truncated_and_wrong_xid(void **state)
{
	unsigned char rep[64] = {0x80, 0, 0, 28, 't', 'k', 'n', '1', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct lg_fp f;
	(void)state;
	lg_fp_init(&f, 111, false);
	/* accepted, SUCCESS, value_follows=1 then nothing: truncated list */
	assert_true(lg_rpc_parse_reply(&f, rep, 32, 0x746b6e31u, true));
	assert_int_equal(f.rpc_accept_stat, 0);
	assert_true(f.rpc_truncated);
	assert_int_equal(f.rpc_nprogs, 0);
	lg_fp_init(&f, 111, false);
	assert_false(lg_rpc_parse_reply(&f, rep, 32, 0x11111111u, true));
}

static void test_capture_reader(void **state)
{
	static const char http[] = "POST /token?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: bearer abc.def\r\n"
				   "Content-Length: 27\r\n\r\nrefresh_token=R1&scope=read"
				   "GET /b?access_token=T2 HTTP/1.1\r\n\r\n";
	struct tk_cap_finding f[8];
	char fp[24];
	int n;
	(void)state;
	n = tk_cap_analyze((const uint8_t *)http, sizeof(http) - 1, NULL, 0, 8080, f, 8);
	assert_int_equal(n, 3);
	assert_string_equal(f[0].what, "http-bearer-token");
	tk_fingerprint("abc.def", 7, fp);
	assert_string_equal(f[0].fingerprint, fp);
	assert_null(strstr(f[0].excerpt, "abc.def"));
	assert_string_equal(f[1].what, "http-refresh-token");
	tk_fingerprint("R1", 2, fp);
	assert_string_equal(f[1].fingerprint, fp);
	assert_string_equal(f[2].what, "http-access-token");
	assert_non_null(strstr(f[2].excerpt, "GET /b?..."));
	/* a TELNET server that echoes everything: the excerpt stops at the first prompt */
	n = tk_cap_analyze((const uint8_t *)"alice\r\nhunter2\r\n", 16,
			   (const uint8_t *)"\xff\xfb\x01Welcome\r\nlogin: alice\r\nPassword: hunter2\r\n$ ", 47, 2323, f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].what, "telnet-password");
	assert_null(strstr(f[0].excerpt, "hunter2"));
	assert_null(strstr(f[0].excerpt, "alice"));
	assert_non_null(strstr(f[0].excerpt, "Welcome login:"));
	/* TLS bytes to port 443: nothing */
	n = tk_cap_analyze((const uint8_t *)"\x16\x03\x01\x00\x05hello", 10, NULL, 0, 443, f, 8);
	assert_int_equal(n, 0);
	/* anonymous FTP is a legacy session, not a credential */
	n = tk_cap_analyze((const uint8_t *)"USER anonymous\r\nPASS me@x\r\n", 27, (const uint8_t *)"220 x\r\n", 7, 21,
			   f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].what, "ftp-anonymous-login");
	assert_false(f[0].credential);
	assert_true(f[0].legacy);
}


static void test_rexec_closed_after_request(void **state)
{
	/* Debian's in.rexecd: silent, then closes on the request without a status byte. */
	struct dialog closes = {{"", NULL}, {0}};
	struct dialog hangs = {{"", "", NULL}, {0}};
	struct dialog at_once = {{NULL}, {0}};
	struct lg_fp f;
	char sent[512];
	(void)state;
	lg_fp_init(&f, 512, false);
	drive(&f, &closes, 1, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_REXEC);
	assert_string_equal(f.how, "r-protocol-closed-after-request");
	assert_true(f.heuristic);
	assert_int_equal(f.r_status, -1);
	/* accepts, never answers, never closes: not rexec */
	lg_fp_init(&f, 512, false);
	drive(&f, &hangs, 1, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_string_equal(f.how, "silent");
	/* in.rshd closes at once on an unprivileged source port: rsh on 514 only */
	lg_fp_init(&f, 514, false);
	drive(&f, &at_once, 1, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_RSH);
	assert_string_equal(f.how, "r-service-closed-without-reply");
	assert_true(f.heuristic);
	lg_fp_init(&f, 40000, false);
	drive(&f, &at_once, 1, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_false(f.heuristic);
	/* the status byte stays the primary method, not a heuristic */
	{
		struct dialog st = {{"", "\001Login incorrect.\n", NULL}, {0}};
		lg_fp_init(&f, 512, false);
		drive(&f, &st, 3, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_REXEC);
		assert_false(f.heuristic);
		assert_int_equal(f.r_status, 1);
	}
}

static void test_ftp_220_never_ends_its_line(void **state)
{
	static char big[4097];
	struct dialog d = {{big, NULL}, {0}};
	struct dialog cut = {{"220 ProFTPD ready but cut", NULL}, {0}};
	struct lg_fp f;
	char sent[512];
	size_t chunk;
	(void)state;
	memcpy(big, "220 ", 4);
	memset(big + 4, 'A', sizeof(big) - 5);
	big[sizeof(big) - 1] = '\0';
	for (chunk = 1; chunk <= 4096; chunk *= 4) {
		lg_fp_init(&f, 21, false);
		drive(&f, &d, chunk, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_FTP);
		assert_string_equal(f.how, "220-unterminated-greeting");
		assert_null(f.truncated);
	}
	lg_fp_init(&f, 2121, false);
	drive(&f, &cut, 7, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_FTP);
	/* not a 220: a reply that never ends stays unrecognised and is marked cut short */
	{
		struct dialog junk = {{"250 no newline here", NULL}, {0}};
		lg_fp_init(&f, 2121, false);
		drive(&f, &junk, 5, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_UNKNOWN);
		assert_non_null(f.truncated);
	}
}

static void test_redis_memcached(void **state)
{
	struct dialog open = {{"", "+PONG\r\n", "$48\r\n# Server\r\nredis_version:7.0.15\r\nredis_mode:x\r\n\r\n", NULL}, {0}};
	struct dialog noauth = {{"", "-NOAUTH Authentication required.\r\n", NULL}, {0}};
	struct dialog denied = {{"", "-DENIED Redis is running in protected mode\r\n", NULL}, {0}};
	struct dialog mc = {{"", "VERSION 1.6.18\r\n", NULL}, {0}};
	struct dialog mca = {{"", "CLIENT_ERROR unauthenticated\r\n", NULL}, {0}};
	struct dialog cut = {{"", "+PON", NULL}, {0}};
	struct lg_fp f;
	char sent[512];
	size_t chunk;
	(void)state;
	for (chunk = 1; chunk < 40; chunk += 3) {
		lg_fp_init(&f, 6379, false);
		drive(&f, &open, chunk, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_REDIS);
		assert_int_equal(f.ds_auth, LG_AUTH_NONE);
		assert_string_equal(f.ds_version, "7.0.15");
		assert_string_equal(sent, "PING\r\nINFO server\r\n");
	}
	lg_fp_init(&f, 6379, false);
	drive(&f, &noauth, 4, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_REQUIRED);
	lg_fp_init(&f, 6379, false);
	drive(&f, &denied, 4, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_REDIS);
	assert_int_equal(f.ds_auth, LG_AUTH_REFUSED);
	lg_fp_init(&f, 6379, false);
	drive(&f, &cut, 4, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_non_null(f.truncated);
	lg_fp_init(&f, 11211, false);
	drive(&f, &mc, 2, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_MEMCACHED);
	assert_int_equal(f.ds_auth, LG_AUTH_NONE);
	assert_string_equal(f.ds_version, "1.6.18");
	lg_fp_init(&f, 11211, false);
	drive(&f, &mca, 2, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_REQUIRED);
}

static void test_postgresql(void **state)
{
	static const char ok[] = "R\0\0\0\x08\0\0\0\0"
				 "S\0\0\0\x19server_version\0" "15.18\0"
				 "Z\0\0\0\x05I";
	static const char sasl[] = "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0";
	static const char hba[] = "E\0\0\0\x13SFATAL\0C28000\0\0";
	struct dialog d1 = {{"", ok, NULL}, {0, sizeof(ok) - 1}};
	struct dialog d2 = {{"", sasl, NULL}, {0, sizeof(sasl) - 1}};
	struct dialog d3 = {{"", hba, NULL}, {0, sizeof(hba) - 1}};
	struct dialog d4 = {{"", ok, NULL}, {0, 7}}; /* cut inside the first message */
	struct lg_fp f;
	char sent[512];
	size_t chunk;
	(void)state;
	for (chunk = 1; chunk < 20; chunk++) {
		lg_fp_init(&f, 5432, false);
		drive(&f, &d1, chunk, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_POSTGRESQL);
		assert_int_equal(f.ds_auth, LG_AUTH_NONE);
		assert_string_equal(f.ds_version, "15.18");
	}
	lg_fp_init(&f, 5432, false);
	drive(&f, &d2, 3, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_REQUIRED);
	lg_fp_init(&f, 5432, false);
	drive(&f, &d3, 3, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_REFUSED);
	assert_string_equal(f.ds_sqlstate, "28000");
	lg_fp_init(&f, 5432, false);
	drive(&f, &d4, 3, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_UNKNOWN);
	assert_non_null(f.truncated);
}

static void test_mysql(void **state)
{
	/* v10 handshake: version, thread id, scramble, filler, capabilities (PROTOCOL_41 set) */
	static const char hs[] = "\x26\0\0\0\x0a" "5.5.5-10.11.6-MariaDB\0" "\1\0\0\0" "abcdefgh" "\0" "\xff\xf7";
	static const char okp[] = "\x07\0\0\x02\0\0\0\x02\0\0\0";
	static const char deny[] = "\x0d\0\0\x02\xff\x15\x04#28000deny";
	static const char sw[] = "\x16\0\0\x02\xfe" "mysql_native_password\0";
	static const char errhs[] = "\x08\0\0\0\xff\x6a\x04Host!";
	struct dialog d1 = {{hs, okp, NULL}, {sizeof(hs) - 1, sizeof(okp) - 1}};
	struct dialog d2 = {{hs, deny, NULL}, {sizeof(hs) - 1, sizeof(deny) - 1}};
	struct dialog d3 = {{hs, sw, okp, NULL}, {sizeof(hs) - 1, sizeof(sw) - 1, sizeof(okp) - 1}};
	struct dialog d4 = {{errhs, NULL}, {sizeof(errhs) - 1}};
	struct dialog d5 = {{hs, NULL}, {20}};
	struct lg_fp f;
	char sent[512];
	size_t chunk;
	(void)state;
	assert_int_equal(sizeof(hs) - 1, 4 + 0x26);
	for (chunk = 1; chunk < 48; chunk += 5) {
		lg_fp_init(&f, 3306, false);
		drive(&f, &d1, chunk, sent, sizeof(sent));
		assert_int_equal(f.proto, LG_P_MYSQL);
		assert_int_equal(f.ds_auth, LG_AUTH_NONE);
		assert_string_equal(f.ds_version, "5.5.5-10.11.6-MariaDB");
	}
	lg_fp_init(&f, 33060, false);
	drive(&f, &d2, 4, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_REQUIRED);
	assert_int_equal(f.ds_error_code, 1045);
	lg_fp_init(&f, 3306, false);
	drive(&f, &d3, 4, sent, sizeof(sent));
	assert_int_equal(f.ds_auth, LG_AUTH_NONE);
	lg_fp_init(&f, 3306, false);
	drive(&f, &d4, 2, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_MYSQL);
	assert_int_equal(f.ds_auth, LG_AUTH_REFUSED);
	assert_int_equal(f.ds_error_code, 1130);
	lg_fp_init(&f, 3306, false);
	drive(&f, &d5, 2, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_UNKNOWN);
	assert_non_null(f.truncated);
	lg_fp_init(&f, 3306, false);
	f.ds_login = false;
	drive(&f, &d1, 8, sent, sizeof(sent));
	assert_int_equal(f.proto, LG_P_MYSQL);
	assert_int_equal(f.ds_auth, LG_AUTH_UNKNOWN);
	assert_string_equal(f.ds_auth_how, "login-not-tried");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ftp_split_every_size),
		cmocka_unit_test(test_ftp_no_anonymous_attempt_when_not_allowed),
		cmocka_unit_test(test_unlabelled_220_disambiguated),
		cmocka_unit_test(test_telnet_and_silent_and_garbage),
		cmocka_unit_test(test_rpc_dump_truncated_and_wrong_xid),
		cmocka_unit_test(test_capture_reader),
		cmocka_unit_test(test_rexec_closed_after_request),
		cmocka_unit_test(test_ftp_220_never_ends_its_line),
		cmocka_unit_test(test_redis_memcached),
		cmocka_unit_test(test_postgresql),
		cmocka_unit_test(test_mysql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
