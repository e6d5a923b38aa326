/*
 * test_patch_feeds.c - inventories (dpkg status, rpm -qa, apk installed,
 * os-release), feed loaders (Debian tracker, OSV, NVD) and the verdict for
 * each kind of package: vulnerable-and-fixable, vulnerable-unfixed, fixed,
 * not affected.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkginv.h"
#include "jsontok.h"
#include "vulnfeed.h"

static const char dpkg_status[] =
	"Package: libssl3\n"
	"Status: install ok installed\n"
	"Architecture: amd64\n"
	"Source: openssl\n"
	"Version: 3.0.11-1~deb12u2\n"
	"Description: Secure Sockets Layer toolkit - shared libraries\n"
	" continuation line: with a colon\n"
	" .\n"
	"\n"
	"Package: bash\n"
	"Status: install ok installed\n"
	"Version: 5.2.15-2+b2\n"
	"Source: bash (5.2.15-2)\n"
	"\n"
	"Package: exim4-base\n"
	"Status: deinstall ok config-files\n"
	"Source: exim4\n"
	"Version: 4.96-15+deb12u2\n"
	"\n"
	"Package: gone\n"
	"Status: purge ok not-installed\n"
	"Version: 1.0\n";

static void test_dpkg_status(void **state)
{
	struct tk_inventory inv = {0};
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_inv_parse_dpkg(dpkg_status, strlen(dpkg_status), &inv, &err), TK_OK);
	assert_int_equal(inv.n, 2);
	assert_string_equal(inv.pkgs[0].name, "libssl3");
	assert_string_equal(inv.pkgs[0].source, "openssl");
	assert_string_equal(inv.pkgs[0].source_version, "3.0.11-1~deb12u2");
	assert_string_equal(inv.pkgs[1].name, "bash");
	assert_string_equal(inv.pkgs[1].version, "5.2.15-2+b2");
	assert_string_equal(inv.pkgs[1].source, "bash");
	assert_string_equal(inv.pkgs[1].source_version, "5.2.15-2"); /* binNMU: the source's version */
	tk_inv_clear(&inv);
}

static void test_dpkg_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} v[] = {
		{"Package: a\nVersion: 1\nno colon here\n", "line 3"},
		{"Package: a\nStatus: install ok installed\n\n", "line 1: paragraph without Version"},
		{"Package: a\nPackage: b\nVersion: 1\n", "line 2: Package given twice"},
		{"Package: a\nVersion: 1\nSource: x (1.0\n", "without ')'"},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct tk_inventory inv = {0};
		struct tk_err err = {0};
		assert_int_not_equal(tk_inv_parse_dpkg(v[k].text, strlen(v[k].text), &inv, &err), TK_OK);
		if (!strstr(err.msg, v[k].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", k, err.msg, v[k].msg);
		tk_inv_clear(&inv);
	}
}

static void test_rpmqa(void **state)
{
	const char *t = "openssl-libs\t1\t3.0.7\t24.el9\tx86_64\topenssl-3.0.7-24.el9.src.rpm\n"
			"bash\t(none)\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\n"
			"gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n";
	struct tk_inventory inv = {0};
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_inv_parse_rpmqa(t, strlen(t), &inv, &err), TK_OK);
	assert_int_equal(inv.n, 3);
	assert_string_equal(inv.pkgs[0].version, "1:3.0.7-24.el9");
	assert_string_equal(inv.pkgs[0].source, "openssl");
	assert_string_equal(inv.pkgs[1].version, "5.1.8-9.el9");
	assert_string_equal(inv.pkgs[2].source, "gpg-pubkey"); /* no source rpm: itself */
	tk_inv_clear(&inv);
	t = "bash 5.1.8-9.el9.x86_64\n";
	assert_int_not_equal(tk_inv_parse_rpmqa(t, strlen(t), &inv, &err), TK_OK);
	assert_non_null(strstr(err.msg, "line 1"));
	tk_inv_clear(&inv);
	t = "bash\tx1\t5.1.8\t9.el9\n";
	assert_int_not_equal(tk_inv_parse_rpmqa(t, strlen(t), &inv, &err), TK_OK);
	assert_non_null(strstr(err.msg, "EPOCH"));
	tk_inv_clear(&inv);
}

static void test_apk(void **state)
{
	const char *t = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r1\nA:x86_64\no:openssl\n\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n";
	struct tk_inventory inv = {0};
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_inv_parse_apk(t, strlen(t), &inv, &err), TK_OK);
	assert_int_equal(inv.n, 2);
	assert_string_equal(inv.pkgs[0].source, "openssl");
	assert_string_equal(inv.pkgs[0].version, "3.1.4-r1");
	tk_inv_clear(&inv);
}

static void test_osrelease(void **state)
{
	const char *t =
	    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
	struct tk_osrel o;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_osrel_parse(t, strlen(t), &o, &err), TK_OK);
	assert_string_equal(o.id, "debian");
	assert_string_equal(o.version_id, "12");
	assert_string_equal(o.codename, "bookworm");
	assert_string_equal(o.pretty, "Debian GNU/Linux 12 (bookworm)");
	assert_int_not_equal(tk_osrel_parse("NAME=x\n", 7, &o, &err), TK_OK);
}

static const char tracker[] =
    "{\"openssl\": {\"CVE-2024-5535\": {\"scope\": \"remote\", \"releases\": {"
    "  \"bookworm\": {\"status\": \"resolved\", \"repositories\": {\"bookworm\": \"3.0.15-1~deb12u1\"},"
    "               \"fixed_version\": \"3.0.14-1~deb12u2\", \"urgency\": \"low\"},"
    "  \"bullseye\": {\"status\": \"resolved\", \"fixed_version\": \"1.1.1w-0+deb11u2\", \"urgency\": \"low\"}}}},"
    " \"curl\": {\"CVE-2024-2398\": {\"releases\": {\"bookworm\": {\"status\": \"open\", \"urgency\": \"not yet "
    "assigned\"}}},"
    "          \"CVE-2023-38545\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\", \"fixed_version\": "
    "\"7.88.1-10+deb12u4\"}}}},"
    " \"zlib\": {\"CVE-2023-45853\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\", \"fixed_version\": "
    "\"0\"}}}},"
    " \"tar\": {\"CVE-2005-2541\": {\"releases\": {\"bookworm\": {\"status\": \"open\", \"urgency\": "
    "\"unimportant\"}}}},"
    " \"sudo\": {\"CVE-2023-7090\": {\"releases\": {}}},"
    " \"nginx\": {\"CVE-2009-3896\": {\"releases\": {\"bookworm\": {\"status\": \"undetermined\"}}}}}";

static const struct tk_adv *find(const struct tk_vdb *db, const char *pkg, const char *cve)
{
	size_t first, n, k;
	tk_vdb_find_pkg(db, pkg, &first, &n);
	for (k = first; k < first + n; k++)
		if (strcmp(db->adv[k].cve, cve) == 0)
			return &db->adv[k];
	return NULL;
}

static void test_tracker_verdicts(void **state)
{
	static const char *const rels[] = {"bookworm"};
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	const struct tk_adv *a;
	const char *fix;
	size_t first, n;
	(void)state;
	want.all = false;
	{
		static const char *const pk[] = {"openssl", "curl", "zlib", "tar", "sudo", "nginx"};
		want.pkgs = pk;
		want.npkgs = 6;
	}
	want.releases = rels;
	want.nreleases = 1;
	tk_vdb_init(&db);
	assert_int_equal(tk_vdb_load_debian(&db, tracker, strlen(tracker), "t.json", &want, &st, &err), TK_OK);
	tk_vdb_index(&db);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.kept, 6); /* bullseye and the empty releases are not kept */
	/* vulnerable and fixable */
	a = find(&db, "openssl", "CVE-2024-5535");
	assert_non_null(a);
	assert_string_equal(a->urgency, "low");
	assert_int_equal(tk_adv_match(a, "3.0.11-1~deb12u2", &fix), TK_M_VULN_FIXABLE);
	assert_string_equal(fix, "3.0.14-1~deb12u2");
	/* fixed: installed at or above the fix */
	assert_int_equal(tk_adv_match(a, "3.0.14-1~deb12u2", &fix), TK_M_FIXED);
	assert_int_equal(tk_adv_match(a, "3.0.15-1~deb12u1", &fix), TK_M_FIXED);
	/* vulnerable, no fix released */
	assert_int_equal(tk_adv_match(find(&db, "curl", "CVE-2024-2398"), "7.88.1-10+deb12u5", &fix), TK_M_VULN_NOFIX);
	assert_null(fix);
	assert_int_equal(tk_adv_match(find(&db, "curl", "CVE-2023-38545"), "7.88.1-10+deb12u5", &fix), TK_M_FIXED);
	/* fixed_version "0": not affected whatever the version */
	assert_int_equal(tk_adv_match(find(&db, "zlib", "CVE-2023-45853"), "1:1.2.13.dfsg-1", &fix), TK_M_NOT_AFFECTED);
	/* unimportant: open, urgency kept for the rules */
	a = find(&db, "tar", "CVE-2005-2541");
	assert_string_equal(a->urgency, "unimportant");
	assert_int_equal(tk_adv_match(a, "1.34+dfsg-1.2+deb12u1", &fix), TK_M_VULN_NOFIX);
	/* empty releases: no statement */
	tk_vdb_find_pkg(&db, "sudo", &first, &n);
	assert_int_equal(n, 0);
	assert_int_equal(tk_adv_match(find(&db, "nginx", "CVE-2009-3896"), "1.22.1-9", &fix), TK_M_UNDETERMINED);
	tk_vdb_clear(&db);
}

static void test_tracker_filter_and_malformed(void **state)
{
	static const char *const pk[] = {"curl"}, *const rels[] = {"bookworm"};
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	const char *bad = "{\"openssl\": {\"CVE-2024-5535\": {\"releases\": {\"bookworm\": {\"status\": \"resol";
	(void)state;
	want.pkgs = pk;
	want.npkgs = 1;
	want.releases = rels;
	want.nreleases = 1;
	tk_vdb_init(&db);
	assert_int_equal(tk_vdb_load_debian(&db, tracker, strlen(tracker), "t.json", &want, &st, &err), TK_OK);
	assert_int_equal(st.kept, 2); /* only curl's two */
	assert_int_equal(tk_vdb_load_debian(&db, bad, strlen(bad), "feeds/debian.json", &want, &st, &err),
			 TK_ERR_PARSE);
	assert_string_equal(err.msg, "feeds/debian.json: malformed JSON: input ends early at byte offset 73 (truncated?)");
	assert_int_equal(tk_vdb_load_debian(&db, "{\"a\": {\"CVE-1\": x}}", 19, "x.json", &want, &st, &err),
			 TK_ERR_PARSE);
	assert_string_equal(err.msg, "x.json: malformed JSON at byte offset 16 of 19: expected a value");
	assert_int_equal(tk_vdb_load_debian(&db, "{\"a\": {}} x", 11, "x.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "offset 10 of 11: trailing data"));
	assert_int_equal(
	    tk_vdb_load_debian(
		&db, "{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\" \"x\"}}}}}",
		strlen("{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\" \"x\"}}}}}"), "x.json",
		&want, &st, &err),
	    TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "expected ',' or '}'"));
	assert_int_equal(tk_vdb_load_debian(&db, "[1,2]", 5, "x.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "expected an object"));
	tk_vdb_clear(&db);
}

static void test_osv_ranges(void **state)
{
	const char *rec =
	    "[{\"id\": \"OSV-1\", \"aliases\": [\"GHSA-x\", \"CVE-2024-0001\"], \"published\": "
	    "\"2024-03-01T00:00:00Z\","
	    "  \"severity\": [{\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
	    "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"foo\"},"
	    "    \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"fixed\": \"1.5-1\"}, {\"introduced\": "
	    "\"1.0-1\"},"
	    "                 {\"introduced\": \"2.0-1\"}, {\"fixed\": \"2.3-1\"}, {\"introduced\": \"3.0-1\"}, "
	    "{\"last_affected\": \"3.2-1\"}]}]}]},"
	    " {\"id\": \"OSV-2\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"bar\"},"
	    "    \"versions\": [\"1.0-1\", \"1.0-2\"]}]}]";
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	const struct tk_adv *a;
	const char *fix;
	size_t first, n;
	(void)state;
	want.all = true;
	tk_vdb_init(&db);
	assert_int_equal(tk_vdb_load_osv(&db, rec, strlen(rec), "osv.json", &want, &st, &err), TK_OK);
	tk_vdb_index(&db);
	a = find(&db, "foo", "CVE-2024-0001");
	assert_non_null(a);
	assert_int_equal(a->scheme, TK_VS_DPKG);
	assert_int_equal(tk_adv_match(a, "0.9-1", &fix), TK_M_NOT_AFFECTED);
	assert_int_equal(tk_adv_match(a, "1.0-1", &fix), TK_M_VULN_FIXABLE);
	assert_string_equal(fix, "1.5-1");
	assert_int_equal(tk_adv_match(a, "1.5-1", &fix), TK_M_FIXED);
	assert_int_equal(tk_adv_match(a, "2.1-1", &fix), TK_M_VULN_FIXABLE);
	assert_string_equal(fix, "2.3-1");
	assert_int_equal(tk_adv_match(a, "2.5-1", &fix), TK_M_FIXED);
	assert_int_equal(tk_adv_match(a, "3.1-1", &fix), TK_M_VULN_NOFIX); /* last_affected: no fix named */
	assert_int_equal(tk_adv_match(a, "3.3-1", &fix), TK_M_FIXED);
	assert_true(a->published > 0);
	tk_vdb_find_scores(&db, "CVE-2024-0001", &first, &n);
	assert_int_equal(n, 1);
	assert_true(db.sc[first].score == 9.8);
	assert_string_equal(db.sc[first].source, "osv:OSV-1");
	a = find(&db, "bar", "OSV-2"); /* no CVE alias: the record id */
	assert_non_null(a);
	assert_int_equal(tk_adv_match(a, "1.0-2", &fix), TK_M_VULN_NOFIX);
	assert_int_equal(tk_adv_match(a, "1.0-3", &fix), TK_M_NOT_AFFECTED);
	assert_int_equal(tk_vdb_load_osv(&db, "{\"affected\": []}", 16, "r.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "no \"id\""));
	tk_vdb_clear(&db);
}

static void test_nvd_scores(void **state)
{
	const char *page =
	    "{\"vulnerabilities\": ["
	    "{\"cve\": {\"id\": \"CVE-1\", \"metrics\": {"
	    "  \"cvssMetricV2\": [{\"source\": \"nvd@nist.gov\", \"type\": \"Primary\", \"cvssData\": {\"version\": "
	    "\"2.0\", \"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:N/A:N\", \"baseScore\": 5.0}}],"
	    "  \"cvssMetricV31\": [{\"source\": \"cna@example\", \"type\": \"Secondary\", \"cvssData\": {\"version\": "
	    "\"3.1\", \"vectorString\": \"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:L\", \"baseScore\": 4.8}},"
	    "                      {\"source\": \"nvd@nist.gov\", \"type\": \"Primary\", \"cvssData\": {\"version\": "
	    "\"3.1\", \"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H\", \"baseScore\": 9.1}}],"
	    "  \"cvssMetricV40\": [{\"source\": \"cna@example\", \"type\": \"Secondary\", \"cvssData\": {\"version\": "
	    "\"4.0\", \"vectorString\": \"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:H/SC:N/SI:N/SA:N\", "
	    "\"baseScore\": 8.8}}]},"
	    "  \"configurations\": [{\"nodes\": [{\"operator\": \"OR\", \"negate\": false, \"cpeMatch\": ["
	    "     {\"vulnerable\": true, \"criteria\": \"cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*\", "
	    "\"versionStartIncluding\": \"2.4.0\", \"versionEndExcluding\": \"2.4.51\"},"
	    "     {\"vulnerable\": false, \"criteria\": \"cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*\"}]}]}]}},"
	    "{\"cve\": {\"id\": \"CVE-2\", \"metrics\": {\"cvssMetricV30\": [{\"source\": \"nvd@nist.gov\", \"type\": "
	    "\"Primary\", \"cvssData\": {\"vectorString\": \"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:N\", "
	    "\"baseScore\": 7.2}}]}}},"
	    "{\"cve\": {\"id\": \"CVE-3\", \"metrics\": {}}}]}";
	static const char *const prods[] = {"apache:http_server"};
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	size_t first, n;
	(void)state;
	want.products = prods;
	want.nproducts = 1;
	tk_vdb_init(&db);
	assert_int_equal(tk_vdb_load_nvd(&db, page, strlen(page), "nvd.json", &want, &st, &err), TK_OK);
	tk_vdb_index(&db);
	assert_int_equal(st.records, 3);
	tk_vdb_find_scores(&db, "CVE-1", &first, &n);
	assert_int_equal(n, 4);
	/* NVD primary v3.1 > CNA v3.1 > v4.0 (published) > v2 */
	assert_int_equal(db.sc[first].version, 31);
	assert_string_equal(db.sc[first].source, "nvd:nvd@nist.gov");
	assert_true(db.sc[first].score == 9.1);
	assert_true(db.sc[first + 1].score == 4.8);
	assert_int_equal(db.sc[first + 2].version, 40);
	assert_true(db.sc[first + 2].score == 8.8);
	assert_int_equal(db.sc[first + 3].version, 2);
	tk_vdb_find_scores(&db, "CVE-2", &first, &n);
	assert_int_equal(n, 1);
	assert_true(db.sc[first].score == 7.2);
	tk_vdb_find_scores(&db, "CVE-3", &first, &n);
	assert_int_equal(n, 0); /* unscored */
	tk_vdb_find_cpe(&db, "apache", "http_server", &first, &n);
	assert_int_equal(n, 1);
	assert_string_equal(db.cm[first].ee, "2.4.51");
	assert_int_equal(tk_vdb_load_nvd(&db, "{\"a\": 1}", 8, "p.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "vulnerabilities"));
	assert_int_equal(tk_vdb_load_nvd(&db, "{\"vulnerabilities\": [", 21, "p.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "byte offset 21"));
	tk_vdb_clear(&db);
}

static void test_nmap_cpes_and_uris(void **state)
{
	const char *x = "<?xml version=\"1.0\"?><nmaprun><host><ports>"
			"<port protocol=\"tcp\" portid=\"22\"><service name=\"ssh\"><cpe>cpe:/a:openbsd:openssh:8.2p1</cpe>"
			"<cpe>cpe:/o:linux:linux_kernel</cpe></service></port>"
			"<port protocol=\"tcp\" portid=\"80\"><service name=\"http\"><cpe>cpe:/a:at%26t:web&amp;x:1.0</cpe>"
			"<cpe>cpe:/a:openbsd:openssh:8.2p1</cpe></service></port></ports></host></nmaprun>";
	char **v = NULL, vendor[64], product[64], version[64];
	size_t n = 0;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_nmap_cpes(x, strlen(x), &v, &n, &err), TK_OK);
	assert_int_equal(n, 2); /* the OS CPE is skipped, the duplicate merged */
	assert_string_equal(v[0], "cpe:/a:openbsd:openssh:8.2p1");
	assert_string_equal(v[1], "cpe:/a:at%26t:web&x:1.0");
	assert_int_equal(tk_cpe_parts(v[1], vendor, sizeof(vendor), product, sizeof(product), version, sizeof(version)),
			 0);
	assert_string_equal(vendor, "at&t");
	assert_string_equal(product, "web&x");
	assert_string_equal(version, "1.0");
	tk_strv_free(v);
	assert_int_equal(tk_cpe_parts("cpe:/a:apache:http_server", vendor, sizeof(vendor), product, sizeof(product),
				      version, sizeof(version)),
			 0);
	assert_string_equal(version, "*");
	assert_int_equal(tk_cpe_parts("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*", vendor, sizeof(vendor), product,
				      sizeof(product), version, sizeof(version)), 0);
	assert_string_equal(version, "2.4.49");
	assert_int_equal(
	    tk_cpe_parts("cpe:/a:", vendor, sizeof(vendor), product, sizeof(product), version, sizeof(version)), -1);
	assert_int_not_equal(tk_nmap_cpes("<a><cpe>cpe:/a:x:y", 18, &v, &n, &err), TK_OK);
	assert_non_null(strstr(err.msg, "without </cpe>"));
}

/* ---- real upstream files (tests/data/patch/upstream, see PROVENANCE) ---- */

static char *upstream(const char *rel, size_t *len)
{
	char path[1024];
	char *text = NULL;
	struct tk_err err = {0};
	snprintf(path, sizeof(path), "%s/tests/data/patch/upstream/%s", TK_SOURCE_DIR, rel);
	assert_int_equal(tk_read_file(path, 1 << 24, &text, len, &err), TK_OK);
	return text;
}

static size_t count_cve(const struct tk_vdb *db, const char *prefix)
{
	size_t k, n = 0;
	for (k = 0; k < db->nadv; k++)
		n += strncmp(db->adv[k].cve, prefix, strlen(prefix)) == 0;
	return n;
}

static void test_upstream_tracker_empty_releases(void **state)
{
	static const char *const pk[] = {"chromium", "chromium-browser", "sope"}, *const rels[] = {"bookworm"};
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	struct tk_vdb_mark m;
	size_t len, k;
	char *t = upstream("debian/debian.json", &len);
	(void)state;
	want.pkgs = pk;
	want.npkgs = 3;
	want.releases = rels;
	want.nreleases = 1;
	tk_vdb_init(&db);
	/* chromium-browser's CVE-2022-0358 has "releases": [] - it says nothing, the file loads */
	assert_int_equal(tk_vdb_load_debian(&db, t, len, "feeds/debian.json", &want, &st, &err), TK_OK);
	assert_int_equal(st.kept, 2); /* chromium and sope in bookworm */
	for (k = 0; k < db.nadv; k++) {
		assert_string_not_equal(db.adv[k].pkg, "chromium-browser");
		assert_string_equal(db.adv[k].file, "feeds/debian.json");
	}
	/* a non-empty array is still malformed */
	assert_int_equal(
	    tk_vdb_load_debian(&db, "{\"sope\": {\"CVE-1\": {\"releases\": [1]}}}", 38, "x.json", &want, &st, &err),
	    TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "releases: expected an object or []"));
	tk_vdb_rollback(&db, (struct tk_vdb_mark){2, 0, 0});
	/* truncated: the loader fails; a rollback to the mark removes what it had kept */
	m = tk_vdb_mark(&db);
	assert_int_equal(
	    tk_vdb_load_debian(&db, t, strstr(t, "\"sope\"") - t + 40, "feeds/debian.json", &want, &st, &err),
	    TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_true(db.nadv > m.nadv); /* chromium came before the cut */
	tk_vdb_rollback(&db, m);
	assert_int_equal(db.nadv, 2);
	tk_vdb_clear(&db);
	free(t);
}

static void load_osv_file(struct tk_vdb *db, const char *rel, struct tk_vdb_stats *st)
{
	struct tk_vdb_want want = {0};
	struct tk_err err = {0};
	size_t len;
	char *t = upstream(rel, &len);
	want.all = true;
	assert_int_equal(tk_vdb_load_osv(db, t, len, rel, &want, st, &err), TK_OK);
	free(t);
}

static void test_upstream_osv(void **state)
{
	struct tk_vdb db;
	struct tk_vdb_stats st;
	(void)state;
	tk_vdb_init(&db);
	/* AlmaLinux: 10 CVEs in "related" x 3 packages, keyed by CVE; no record severity */
	load_osv_file(&db, "osv-alma/ALSA-2022_8194.json", &st);
	assert_int_equal(db.nadv, 30);
	assert_int_equal(count_cve(&db, "CVE-2022-"), 30);
	assert_int_equal(count_cve(&db, "ALSA-"), 0);
	tk_vdb_clear(&db);
	/* Rocky: 10 CVEs in "related" and one record-level CVSS vector: not given to each CVE */
	load_osv_file(&db, "osv-rocky/RLSA-2021_3891.json", &st);
	assert_int_equal(db.nadv, 10);
	assert_int_equal(count_cve(&db, "CVE-2021-"), 10);
	assert_int_equal(db.nsc, 0);
	tk_vdb_clear(&db);
	/* Ubuntu USN whose upstream is UBUNTU-CVE-2021-3782: the CVE, not the USN id */
	load_osv_file(&db, "osv-ubuntu/USN-5614-1.json", &st);
	assert_int_equal(db.nadv, 3);
	assert_int_equal(count_cve(&db, "CVE-2021-3782"), 3);
	/* the per-CVE record: same CVE, scored (one CVE: its severity applies) */
	load_osv_file(&db, "osv-ubuntu/UBUNTU-CVE-2021-3782.json", &st);
	assert_int_equal(count_cve(&db, "CVE-2021-3782"), db.nadv);
	assert_true(db.nsc >= 1);
	assert_string_equal(db.sc[0].cve, "CVE-2021-3782");
	tk_vdb_clear(&db);
	/* withdrawn: nothing kept */
	load_osv_file(&db, "osv-ubuntu/UBUNTU-CVE-2013-2208.json", &st);
	assert_int_equal(db.nadv, 0);
	assert_int_equal(st.withdrawn, 1);
	/* a bug-fix advisory without a CVE: not a vulnerability */
	load_osv_file(&db, "osv-alma/ALBA-2021_4378.json", &st);
	assert_int_equal(db.nadv, 0);
	assert_int_equal(st.no_cve, 1);
	tk_vdb_clear(&db);
}

static void test_upstream_nvd_per_cve(void **state)
{
	struct tk_vdb_want want = {0};
	struct tk_vdb db;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	size_t len;
	char *t = upstream("nvd/CVE-2023-38469.json", &len), *wrapped;
	(void)state;
	want.all = true;
	tk_vdb_init(&db);
	/* a bare cve object (NVD mirror, one file per CVE) */
	assert_int_equal(tk_vdb_load_nvd(&db, t, len, "CVE-2023-38469.json", &want, &st, &err), TK_OK);
	assert_int_equal(st.records, 1);
	assert_int_equal(db.nsc, 2); /* NVD Primary 5.5, Red Hat Secondary 6.2 */
	tk_vdb_index(&db);
	assert_string_equal(db.sc[0].source, "nvd:nvd@nist.gov");
	assert_true(db.sc[0].score == 5.5);
	tk_vdb_clear(&db);
	/* the same object wrapped as one API entry {"cve": ...} */
	wrapped = malloc(len + 16);
	assert_non_null(wrapped);
	snprintf(wrapped, len + 16, "{\"cve\": %s}", t);
	tk_vdb_init(&db);
	assert_int_equal(tk_vdb_load_nvd(&db, wrapped, strlen(wrapped), "w.json", &want, &st, &err), TK_OK);
	assert_int_equal(db.nsc, 2);
	tk_vdb_clear(&db);
	/* neither a page, an entry nor a CVE */
	assert_int_equal(tk_vdb_load_nvd(&db, "{\"id\": \"GHSA-x\"}", 16, "g.json", &want, &st, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "not NVD CVE data"));
	tk_vdb_clear(&db);
	free(wrapped);
	free(t);
}

/* Strings: the 8-byte scan (jsontok.c plain_run) stops at '"', '\\' and control characters at every
 * offset of a word, and at the end of the buffer. */
static void test_jsontok_strings(void **state)
{
	size_t at, n;
	(void)state;
	for (n = 1; n <= 19; n++) {
		for (at = 0; at <= n; at++) {
			char in[64], out[64], want[64];
			struct tk_err err = {0};
			struct tk_jt t = {in, 0, 0, "s.json", &err};
			size_t k, len = 0;
			bool tl;
			/* n plain bytes (with a UTF-8 pair), an escaped quote inserted at offset at */
			in[len++] = '"';
			for (k = 0; k < n; k++) {
				if (k == at) {
					in[len++] = '\\';
					in[len++] = '"';
				}
				in[len++] = k == 3 ? (char)0xC3 : k == 4 ? (char)0xA9 : (char)('a' + k);
			}
			in[len++] = '"';
			t.len = len;
			assert_int_equal(tk_jt_string(&t, out, sizeof(out), &tl), TK_OK);
			memcpy(want, in + 1, len - 2);
			want[len - 2] = '\0';
			if (at < n)
				memmove(want + at, want + at + 1, strlen(want + at + 1) + 1); /* the backslash goes */
			assert_string_equal(out, want);
			assert_int_equal(t.i, len);
			/* a control character at that offset is refused there; a buffer ending early is unterminated */
			if (at < n) {
				in[1 + at] = '\n';
				t.i = 0;
				assert_int_equal(tk_jt_string(&t, out, sizeof(out), &tl), TK_ERR_PARSE);
				assert_non_null(strstr(err.msg, "control character"));
				assert_int_equal(t.i, 1 + at);
			}
			t.i = 0;
			t.len = 1 + at;
			assert_int_equal(tk_jt_string(&t, NULL, 0, NULL), TK_ERR_PARSE);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsontok_strings),
		cmocka_unit_test(test_dpkg_status),	   cmocka_unit_test(test_dpkg_errors),
		cmocka_unit_test(test_rpmqa),		   cmocka_unit_test(test_apk),
		cmocka_unit_test(test_osrelease),	   cmocka_unit_test(test_tracker_verdicts),
		cmocka_unit_test(test_tracker_filter_and_malformed), cmocka_unit_test(test_osv_ranges),
		cmocka_unit_test(test_nvd_scores),	   cmocka_unit_test(test_nmap_cpes_and_uris),
		cmocka_unit_test(test_upstream_tracker_empty_releases), cmocka_unit_test(test_upstream_osv),
		cmocka_unit_test(test_upstream_nvd_per_cve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
