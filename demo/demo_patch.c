/*
 * demo_patch.c - the patch part of `tenken demo`: writes two hosts' package
 * inventories and small excerpts of the Debian security tracker and NVD
 * feeds into DIR/patch/ - a Debian 12 host with an OpenSSL that misses a
 * fix for a CVSS 9.1 CVE, and a Debian 10 host past its end of support -
 * so the demo shows FISC item 27 / card 26 failing. No servers, no network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static const char demo_status_app[] =
	"Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n"
	"Description: Secure Sockets Layer toolkit - cryptographic utility\n\n"
	"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
	"Version: 3.0.11-1~deb12u2\nDescription: Secure Sockets Layer toolkit - shared libraries\n\n"
	"Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u8\n"
	"Description: command line tool for transferring data with URL syntax\n";

static const char demo_status_legacy[] =
	"Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.1.1n-0+deb10u6\n"
	"Description: Secure Sockets Layer toolkit - cryptographic utility\n";

static const char demo_osrel_app[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n"
				     "VERSION_CODENAME=bookworm\nID=debian\n";
static const char demo_osrel_legacy[] = "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nVERSION_ID=\"10\"\n"
					"VERSION_CODENAME=buster\nID=debian\n";

static const char demo_tracker[] =
    "{\"openssl\": {\"CVE-2024-5535\": {\"scope\": \"remote\", \"releases\": {\n"
    "  \"bookworm\": {\"status\": \"resolved\", \"repositories\": {\"bookworm\": \"3.0.15-1~deb12u1\"},"
    " \"fixed_version\": \"3.0.14-1~deb12u2\", \"urgency\": \"low\"},\n"
    "  \"buster\": {\"status\": \"open\", \"repositories\": {\"buster\": \"1.1.1n-0+deb10u6\"}, \"urgency\": "
    "\"low\"}}}},\n"
    " \"curl\": {\"CVE-2023-38545\": {\"scope\": \"remote\", \"releases\": {\n"
    "  \"bookworm\": {\"status\": \"resolved\", \"repositories\": {\"bookworm\": \"7.88.1-10+deb12u8\"},"
    " \"fixed_version\": \"7.88.1-10+deb12u4\", \"urgency\": \"not yet assigned\"}}}}}\n";

static const char demo_nvd[] =
    "{\"resultsPerPage\": 2, \"startIndex\": 0, \"totalResults\": 2, \"format\": \"NVD_CVE\", \"version\": \"2.0\",\n"
    " \"vulnerabilities\": [\n"
    "  {\"cve\": {\"id\": \"CVE-2024-5535\", \"published\": \"2024-06-27T11:15:24.447\", \"metrics\": "
    "{\"cvssMetricV31\": "
    "[{\"source\": \"nvd@nist.gov\", \"type\": \"Primary\", \"cvssData\": {\"version\": \"3.1\", \"vectorString\": "
    "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H\", \"baseScore\": 9.1, \"baseSeverity\": \"CRITICAL\"}}]}}},\n"
    "  {\"cve\": {\"id\": \"CVE-2023-38545\", \"published\": \"2023-10-18T04:15:11.077\", \"metrics\": "
    "{\"cvssMetricV31\": "
    "[{\"source\": \"nvd@nist.gov\", \"type\": \"Primary\", \"cvssData\": {\"version\": \"3.1\", \"vectorString\": "
    "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\", \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\"}}]}}}]}\n";

static int put(const char *dir, const char *rel, const char *text, struct tk_err *err)
{
	char *p = tk_path_join(dir, rel), *d = NULL;
	int rc;
	if (!p)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	d = tk_dirname(p);
	if (!d) {
		free(p);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	rc = tk_mkdirs(d, 0755, err);
	if (!rc)
		rc = tk_write_file_atomic(p, text, strlen(text), 0644, err);
	free(d);
	free(p);
	return rc;
}

static int patch_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	static const struct {
		const char *rel, *text;
	} files[] = {
		{"patch/app/status", demo_status_app},	     {"patch/app/os-release", demo_osrel_app},
		{"patch/legacy/status", demo_status_legacy}, {"patch/legacy/os-release", demo_osrel_legacy},
		{"patch/feeds/debian.json", demo_tracker},   {"patch/feeds/nvd/nvd-0000.json", demo_nvd},
	};
	cJSON *sec, *invs, *inv, *feeds, *f;
	size_t k;
	int rc;
	*state = NULL;
	for (k = 0; k < TK_ARRAY_LEN(files); k++)
		if ((rc = put(env->dir, files[k].rel, files[k].text, err)))
			return rc;
	sec = cJSON_AddObjectToObject(probes, "patch");
	invs = cJSON_AddArrayToObject(sec, "inventories");
	inv = cJSON_CreateObject();
	cJSON_AddStringToObject(inv, "host", "app.weak.demo");
	cJSON_AddStringToObject(inv, "dpkg_status", "patch/app/status");
	cJSON_AddStringToObject(inv, "os_release", "patch/app/os-release");
	cJSON_AddItemToArray(invs, inv);
	inv = cJSON_CreateObject();
	cJSON_AddStringToObject(inv, "host", "legacy.weak.demo");
	cJSON_AddStringToObject(inv, "dpkg_status", "patch/legacy/status");
	cJSON_AddStringToObject(inv, "os_release", "patch/legacy/os-release");
	cJSON_AddItemToArray(invs, inv);
	feeds = cJSON_AddArrayToObject(sec, "feeds");
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "format", "debian-tracker");
	cJSON_AddStringToObject(f, "path", "patch/feeds/debian.json");
	cJSON_AddItemToArray(feeds, f);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "format", "nvd");
	cJSON_AddStringToObject(f, "path", "patch/feeds/nvd/");
	cJSON_AddItemToArray(feeds, f);
	return TK_OK;
}

static void patch_demo_stop(void *state)
{
	(void)state;
}

const struct tk_demo_part tk_demo_patch = {
	.name = "patch",
	.start = patch_demo_start,
	.stop = patch_demo_stop,
};
