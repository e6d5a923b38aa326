/*
 * nmapxml.h - a bounded streaming reader for nmap's XML output (-oX): hosts,
 * their address, and per port the protocol, number, state, service name,
 * product, version and CPEs. No tree, no DTD, no entity expansion beyond the
 * five predefined entities and character references; truncated input yields
 * what was complete so far (complete = false).
 */
#ifndef TK_NMAPXML_H
#define TK_NMAPXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tk.h"

#define TK_NMAP_MAX_CPE 8
#define TK_NMAP_MAX_HOSTS 65536
#define TK_NMAP_MAX_PORTS_TOTAL 400000

struct tk_nmap_port {
	char proto[8];       /* "tcp", "udp" */
	uint16_t portid;
	char state[24];      /* "open", "closed", "filtered", "open|filtered" */
	char service[48];    /* service name, e.g. "telnet" */
	char product[128];
	char version[64];
	char extrainfo[128];
	char method[16];     /* "probed" or "table" */
	int conf;
	int ncpe;
	char cpe[TK_NMAP_MAX_CPE][160];
};

struct tk_nmap_host {
	char addr[64];
	char addrtype[8];    /* "ipv4", "ipv6" */
	char status[16];     /* "up", "down" */
	struct tk_nmap_port *ports;
	size_t nports, cap;
};

struct tk_nmap_result {
	struct tk_nmap_host *hosts;
	size_t nhosts, cap;
	bool complete;       /* </nmaprun> was seen */
	bool truncated;      /* a bound was reached; the rest was skipped */
	char exit_status[16];/* <finished exit="..."> */
};

/* Parse len bytes; *out is always set on TK_OK (possibly partial). */
int tk_nmapxml_parse(const char *p, size_t len, struct tk_nmap_result **out, struct tk_err *err);
void tk_nmap_result_free(struct tk_nmap_result *r);

#endif
