/* test_legacy_nmapxml.c - the nmap XML reader on nmap 7.93 output, truncated and hostile input. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "nmapxml.h"

/* Output of `nmap -sT -sV -Pn -n -oX - -p 2121,2122,2323 127.0.0.2` (nmap 7.93) against pyftpdlib. */
static const char real_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n"
	"<?xml-stylesheet href=\"file:///usr/bin/../share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n"
	"<!-- Nmap 7.93 scan initiated Mon Nov 23 20:59:11 2026 as: nmap -sT -sV -Pn -n -oX - -p 2121,2122 127.0.0.2 -->\n"
	"<nmaprun scanner=\"nmap\" args=\"nmap -sT -sV -Pn -n -oX - -p 2121,2122 127.0.0.2\" start=\"1795467551\" "
	"version=\"7.93\" xmloutputversion=\"1.05\">\n"
	"<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"2\" services=\"2121-2122\"/>\n"
	"<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n"
	"<host starttime=\"1795467551\" endtime=\"1795467551\"><status state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n"
	"<address addr=\"127.0.0.2\" addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n"
	"<ports><port protocol=\"tcp\" portid=\"2121\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"0\"/>"
	"<service name=\"ftp\" product=\"pyftpdlib\" version=\"1.5.7\" method=\"probed\" conf=\"10\">"
	"<cpe>cpe:/a:giampaolo_rodola:pyftpdlib</cpe></service></port>\n"
	"<port protocol=\"tcp\" portid=\"2122\"><state state=\"closed\" reason=\"conn-refused\" reason_ttl=\"0\"/>"
	"<service name=\"caupc-remote\" method=\"table\" conf=\"3\"/></port>\n"
	"<port protocol=\"tcp\" portid=\"2323\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"0\"/>"
	"<service name=\"telnet\" product=\"Linux telnetd\" ostype=\"Linux\" method=\"probed\" conf=\"10\">"
	"<cpe>cpe:/o:linux:linux_kernel</cpe></service></port>\n"
	"</ports>\n<times srtt=\"231\" rttvar=\"3804\" to=\"100000\"/>\n</host>\n"
	"<runstats><finished time=\"1795467551\" elapsed=\"0.38\" exit=\"success\"/><hosts up=\"1\" down=\"0\" total=\"1\"/>\n"
	"</runstats>\n</nmaprun>\n";

static struct tk_nmap_result *parse(const char *p, size_t n)
{
	struct tk_nmap_result *r = NULL;
	struct tk_err err = {0};
	assert_int_equal(tk_nmapxml_parse(p, n, &r, &err), TK_OK);
	assert_non_null(r);
	return r;
}

static void test_real(void **state)
{
	struct tk_nmap_result *r = parse(real_xml, sizeof(real_xml) - 1);
	(void)state;
	assert_true(r->complete);
	assert_string_equal(r->exit_status, "success");
	assert_int_equal(r->nhosts, 1);
	assert_string_equal(r->hosts[0].addr, "127.0.0.2");
	assert_string_equal(r->hosts[0].status, "up");
	assert_int_equal(r->hosts[0].nports, 3);
	assert_int_equal(r->hosts[0].ports[0].portid, 2121);
	assert_string_equal(r->hosts[0].ports[0].state, "open");
	assert_string_equal(r->hosts[0].ports[0].service, "ftp");
	assert_string_equal(r->hosts[0].ports[0].product, "pyftpdlib");
	assert_string_equal(r->hosts[0].ports[0].version, "1.5.7");
	assert_int_equal(r->hosts[0].ports[0].conf, 10);
	assert_int_equal(r->hosts[0].ports[0].ncpe, 1);
	assert_string_equal(r->hosts[0].ports[0].cpe[0], "cpe:/a:giampaolo_rodola:pyftpdlib");
	assert_string_equal(r->hosts[0].ports[1].state, "closed");
	assert_int_equal(r->hosts[0].ports[1].ncpe, 0);
	assert_string_equal(r->hosts[0].ports[2].product, "Linux telnetd");
	assert_string_equal(r->hosts[0].ports[2].cpe[0], "cpe:/o:linux:linux_kernel");
	tk_nmap_result_free(r);
}

/* Every prefix parses without error; only the whole document is complete. */
static void test_truncated_everywhere(void **state)
{
	size_t n, len = sizeof(real_xml) - 1;
	(void)state;
	for (n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1);
		struct tk_nmap_result *r;
		assert_non_null(copy);
		memcpy(copy, real_xml, n); /* exact-size buffer: ASan catches any over-read */
		r = parse(copy, n);
		assert_true(r->nhosts <= 1);
		if (r->nhosts == 1)
			assert_true(r->hosts[0].nports <= 3);
		if (n < len - 12)
			assert_false(r->complete);
		tk_nmap_result_free(r);
		free(copy);
	}
}

static void test_entities_and_bounds(void **state)
{
	struct tk_buf b;
	struct tk_nmap_result *r;
	size_t i;
	(void)state;
	tk_buf_init(&b, 1 << 22);
	tk_buf_puts(&b, "<nmaprun><host><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/><ports>"
			"<port protocol=\"tcp\" portid=\"21\"><state state=\"open\"/>"
			"<service name=\"ftp\" product=\"A &amp; B &lt;x&gt; &#x41;&#66;&bogus; &#xFFFFFFFFFF; &#1114112;\" version=\"");
	for (i = 0; i < 100000; i++) /* a 100 KB attribute: cut, not overflowed */
		tk_buf_puts(&b, "v");
	tk_buf_puts(&b, "\">");
	for (i = 0; i < 50; i++) /* more CPEs than kept */
		tk_buf_printf(&b, "<cpe>cpe:/a:x:y%zu</cpe>", i);
	tk_buf_puts(&b, "</service></port>"
			"<port protocol=\"tcp\" portid=\"99999\"><state state=\"open\"/></port>" /* out of range: dropped */
			"<port protocol=\"tcp\" portid=\"-1\"/><port portid=\"abc\"/>"
			"<port protocol=\"tcp\" portid=\"23\" <<<< junk><state state='open'/></port>"
			"</ports></host></nmaprun>");
	r = parse(b.data, b.len);
	assert_true(r->complete);
	assert_int_equal(r->nhosts, 1);
	assert_int_equal(r->hosts[0].nports, 1);
	/* references the shared decoder declines (unknown, beyond U+10FFFF) are kept as text */
	assert_string_equal(r->hosts[0].ports[0].product, "A & B <x> AB&bogus; &#xFFFFFFFFFF; &#1114112;");
	assert_true(strlen(r->hosts[0].ports[0].version) < sizeof(r->hosts[0].ports[0].version));
	assert_int_equal(r->hosts[0].ports[0].ncpe, TK_NMAP_MAX_CPE);
	assert_string_equal(r->hosts[0].ports[0].cpe[7], "cpe:/a:x:y7");
	tk_nmap_result_free(r);
	tk_buf_free(&b);
}

static void test_hostile_shapes(void **state)
{
	static const char *const docs[] = {
		"",
		"<",
		"<<<<<<<<<<",
		"<!--",
		"<![CDATA[<host>",
		"<host><port portid=\"1\"><service name=\"x\"><cpe>unterminated",
		"<nmaprun></nmaprun></nmaprun><host>",
		"<host/><host/><port portid=\"5\"/>",
		"<a b=\"unterminated>",
		"<host><address addr=\"&#0;&#xD800;\" addrtype=\"ipv4\"/></host>",
		"</host></port></service></cpe>",
		"<!DOCTYPE x [<!ENTITY a \"&a;&a;\">]><nmaprun>&a;</nmaprun>",
	};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(docs); i++) {
		struct tk_nmap_result *r = parse(docs[i], strlen(docs[i]));
		tk_nmap_result_free(r);
	}
}

static void test_many_hosts_bounded(void **state)
{
	struct tk_buf b;
	struct tk_nmap_result *r;
	size_t i;
	(void)state;
	tk_buf_init(&b, 1 << 24);
	tk_buf_puts(&b, "<nmaprun>");
	for (i = 0; i < TK_NMAP_MAX_HOSTS + 10; i++)
		tk_buf_puts(&b, "<host></host>");
	tk_buf_puts(&b, "</nmaprun>");
	r = parse(b.data, b.len);
	assert_int_equal(r->nhosts, TK_NMAP_MAX_HOSTS);
	assert_true(r->truncated);
	tk_nmap_result_free(r);
	tk_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_entities_and_bounds),
		cmocka_unit_test(test_hostile_shapes),
		cmocka_unit_test(test_many_hosts_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
