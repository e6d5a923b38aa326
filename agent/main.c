/* main.c - tenken: continuous compliance scanning of bank API partners. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "data.h"
#include "probe.h"

static void usage(FILE *f)
{
	fputs("usage: tenken COMMAND [OPTIONS]\n"
	      "\n"
	      "Checks a bank API partner (API接続先) against FISC's API接続チェックリスト (2018)\n"
	      "or the card-industry variant, with evidence from live probes.\n"
	      "\n"
	      "commands:\n"
	      "  scan       run the probes a partner config enables and write reports\n"
	      "  gate       the pre-go-live gate: a scan whose exit code is the verdict\n"
	      "  validate   check a partner config (and tailoring) without scanning\n"
	      "  checklist  list the checklists, or show one's items\n"
	      "  probes     list the registered probes\n"
	      "  rules      list the rules and the checklist items each maps to\n"
	      "  demo       start a demo partner on loopback, scan it, print the result\n"
	      "  history    list the partners with stored scans, or one partner's scans\n"
	      "  diff       compare two stored scans: new/resolved findings, changed items\n"
	      "  verify     check the stored reports' signatures and hash chain\n"
	      "  report     re-render a stored scan (html, csv, sarif, junit, json)\n"
	      "  portfolio  every partner at a glance: HTML + JSON from the history\n"
	      "  export     an auditor bundle of a partner's evidence (verify.sh: openssl only)\n"
	      "  notify     alerts: stale scans, verify failures, pending deliveries\n"
	      "  key        the agent's signing key (key show, key rotate)\n"
	      "  feed       feed update: download a vulnerability feed for the patch probe\n"
	      "  version    print the version\n"
	      "\n"
	      "Run 'tenken COMMAND --help' for a command's options.\n"
	      "exit codes: 0 ok/pass, 1 gate failed, 2 usage or config error,\n"
	      "            3 scan incomplete, 4 internal error, 5 inventory locked by another run\n"
	      "(see 'tenken gate --help'; the manual page is tenken(1))\n",
	      f);
}

int main(int argc, char **argv)
{
	int rc;
#ifdef __GLIBC__
	/* Keep freed memory for reuse instead of returning it to the kernel and faulting it in again: a
	 * scan frees and allocates feed buffers and JSON trees of tens of MB (a 2,000-package patch scan
	 * took 26,000 page faults, 0.34 s of system time, before; 19,700 after). 64 MiB bounds what a
	 * single allocation can hold back; larger ones are still mmap()ed and returned at once. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
	tk_cfg_set_data_reader(tk_dataset_read); /* probes read tables through their config context */
	if (argc < 2) {
		usage(stderr);
		return TK_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fputs("tenken: cannot initialise libcurl\n", stderr);
		return TK_EXIT_ERROR;
	}
	if (strcmp(argv[1], "scan") == 0)
		rc = tk_cmd_scan(argc - 1, argv + 1, false);
	else if (strcmp(argv[1], "gate") == 0)
		rc = tk_cmd_scan(argc - 1, argv + 1, true);
	else if (strcmp(argv[1], "validate") == 0)
		rc = tk_cmd_validate(argc - 1, argv + 1);
	else if (strcmp(argv[1], "checklist") == 0)
		rc = tk_cmd_checklist(argc - 1, argv + 1);
	else if (strcmp(argv[1], "probes") == 0)
		rc = tk_cmd_probes(argc - 1, argv + 1);
	else if (strcmp(argv[1], "rules") == 0)
		rc = tk_cmd_rules(argc - 1, argv + 1);
	else if (strcmp(argv[1], "demo") == 0)
		rc = tk_cmd_demo(argc - 1, argv + 1);
	else if (strcmp(argv[1], "key") == 0)
		rc = tk_cmd_key(argc - 1, argv + 1);
	else if (strcmp(argv[1], "history") == 0)
		rc = tk_cmd_history(argc - 1, argv + 1);
	else if (strcmp(argv[1], "diff") == 0)
		rc = tk_cmd_diff(argc - 1, argv + 1);
	else if (strcmp(argv[1], "verify") == 0)
		rc = tk_cmd_verify(argc - 1, argv + 1);
	else if (strcmp(argv[1], "report") == 0)
		rc = tk_cmd_report(argc - 1, argv + 1);
	else if (strcmp(argv[1], "notify") == 0)
		rc = tk_cmd_notify(argc - 1, argv + 1);
	else if (strcmp(argv[1], "export") == 0)
		rc = tk_cmd_export(argc - 1, argv + 1);
	else if (strcmp(argv[1], "portfolio") == 0)
		rc = tk_cmd_portfolio(argc - 1, argv + 1);
	else if (strcmp(argv[1], "feed") == 0)
		rc = tk_cmd_feed(argc - 1, argv + 1);
	else if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tenken %s\n", TENKEN_VERSION);
		rc = 0;
	} else if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "tenken: unknown command \"%s\"\n\n", argv[1]);
		usage(stderr);
		rc = TK_EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
