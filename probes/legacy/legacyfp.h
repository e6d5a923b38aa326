/*
 * legacyfp.h - service fingerprinting for the "legacy" probe: a state machine
 * that is fed what a TCP peer has sent so far and says what to send next.
 * It identifies a service from what answers (TELNET option negotiation, FTP
 * and SMTP reply codes, r-protocol status bytes, ONC RPC replies, Redis,
 * memcached, PostgreSQL and MySQL replies), never from the port number alone;
 * the port only chooses which client-first probe to send to a peer that
 * stays silent. Two r-service identifications rest on behaviour (closing on
 * the request); they set `heuristic`. Data stores are asked nothing that
 * reads data.
 *
 * No I/O here: the caller owns the socket and the transcript buffer, which
 * makes the machine testable and fuzzable on arbitrary bytes.
 */
#ifndef TK_LEGACYFP_H
#define TK_LEGACYFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lg_proto {
	LG_P_UNKNOWN = 0,
	LG_P_TELNET,
	LG_P_FTP,
	LG_P_SMTP,
	LG_P_RLOGIN,
	LG_P_RSH,
	LG_P_REXEC,
	LG_P_RPCBIND,
	LG_P_NFS,
	LG_P_RPC,
	LG_P_TFTP,
	LG_P_SSH,
	LG_P_HTTP,
	LG_P_REDIS,
	LG_P_MEMCACHED,
	LG_P_POSTGRESQL,
	LG_P_MYSQL,
	LG_P_COUNT
};

/* Data stores: did the service answer without authentication? */
enum lg_auth {
	LG_AUTH_UNKNOWN = 0, /* not learnt (dialog cut short, or not tried) */
	LG_AUTH_NONE,        /* answered / logged in without any credential */
	LG_AUTH_REQUIRED,    /* asked for a credential (NOAUTH, auth request, access denied) */
	LG_AUTH_REFUSED      /* refused us before authentication (protected mode, host not allowed) */
};

/* Events that drive the machine. */
enum lg_ev { LG_EV_START, LG_EV_DATA, LG_EV_TIMEOUT, LG_EV_EOF };
/* What the caller does next. */
enum lg_act { LG_WAIT, LG_SEND, LG_DONE };

#define LG_FP_MAX_TELNET_OPTS 16
#define LG_FP_MAX_RPC_PROGS 32
#define LG_FP_MAX_FEAT 16

struct lg_rpc_prog {
	uint32_t prog, vers, prot, port;
};

struct lg_fp {
	/* in */
	uint16_t port;
	bool try_anonymous;
	bool ds_login;      /* data stores: try an empty-credential login (PostgreSQL, MySQL) */
	int greet_ms;       /* wait for a greeting (default 2500) */
	int stage_ms;       /* wait for each later reply (default 3000) */
	/* which client-first probe a silent peer gets: rexec, rlogin, rsh, rpcbind,
	 * nfs or unknown (none); lg_fp_init derives it from the well-known port */
	enum lg_proto hint;
	/* machine */
	int stage;
	size_t stage_off;   /* transcript offset where the current reply starts */
	int wait_ms;        /* how long the caller waits for the current stage */
	bool greeting_said_ftp, greeting_said_smtp;
	/* results */
	enum lg_proto proto;
	const char *how;      /* how it was identified (static string) */
	size_t banner_off, banner_len; /* the greeting or first reply in the transcript */
	bool silent;          /* accepted and never spoke */
	int telnet_nopts;
	uint8_t telnet_cmd[LG_FP_MAX_TELNET_OPTS], telnet_opt[LG_FP_MAX_TELNET_OPTS];
	bool ftp_feat;        /* FEAT answered with 211 */
	bool ftp_auth_tls;    /* AUTH TLS offered (FEAT) or accepted (234) */
	bool ftp_auth_known;
	bool ftp_anon_checked, ftp_anonymous;
	int ftp_greeting_code;
	bool smtp_esmtp, smtp_starttls;
	int r_status;         /* r-protocols: first reply byte (0 ok, 1 error), -1 none */
	int rpc_reply_stat, rpc_accept_stat; /* -1 when unknown */
	int rpc_nprogs;
	struct lg_rpc_prog rpc_progs[LG_FP_MAX_RPC_PROGS];
	bool rpc_truncated;
	bool heuristic;       /* identified by behaviour, not by what the peer said (see docs) */
	bool smtp_ehlo_answered;
	/* the dialog ended (EOF, timeout, buffer full) inside a reply before the
	 * service was identified: a static reason, NULL when the evidence is whole */
	const char *truncated;
	/* data stores */
	enum lg_auth ds_auth;
	const char *ds_auth_how; /* static: what the auth verdict rests on */
	char ds_version[64];
	int ds_error_code;       /* MySQL error number / 0 */
	char ds_sqlstate[6];     /* PostgreSQL / MySQL SQLSTATE of an error reply */
};

const char *lg_proto_name(enum lg_proto p);
/* Protocols the checklists call remote-operation services. */
bool lg_proto_remote_operation(enum lg_proto p);
/* Data stores (Redis, memcached, PostgreSQL, MySQL/MariaDB). */
bool lg_proto_datastore(enum lg_proto p);
const char *lg_auth_name(enum lg_auth a);

/* The client-first probe a silent peer on this well-known port gets (LG_P_UNKNOWN: none). */
enum lg_proto lg_port_hint(uint16_t port);

void lg_fp_init(struct lg_fp *f, uint16_t port, bool try_anonymous);
/*
 * Advance on `ev`; rx/rxlen is everything received on the connection so far.
 * On LG_SEND, *outlen bytes were written to out (outsize >= 256). After every
 * call f->wait_ms is the time to wait for the next event.
 */
enum lg_act lg_fp_step(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen,
		       unsigned char *out, size_t outsize, size_t *outlen);

/* The banner with TELNET IAC sequences removed, into out (bounded); returns length. */
size_t lg_fp_banner(const struct lg_fp *f, const unsigned char *rx, size_t rxlen, unsigned char *out,
		    size_t outsize);

/* Build a TFTP read request for a file that should not exist; returns length. */
size_t lg_tftp_rrq(unsigned char *out, size_t outsize);
/* Is this datagram a TFTP reply (DATA, ERROR, OACK)? */
bool lg_tftp_is_reply(const unsigned char *p, size_t n);

/* Parse one ONC RPC reply record (TCP record mark included) into f; tests/fuzzing. */
bool lg_rpc_parse_reply(struct lg_fp *f, const unsigned char *p, size_t n, uint32_t xid, bool dump);

#endif
