/*
 * tk.h - what every part of tenken shares: the error enum, error messages
 * that carry a context, bounded buffers, clocks, logging and fingerprints.
 *
 * Conventions (see README "Conventions"): functions return an enum tk_rc and
 * hand results back through out-parameters; *_free(NULL) is a no-op; every
 * growing buffer has a maximum and reports TK_ERR_LIMIT when it is reached.
 */
#ifndef TK_H
#define TK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum tk_rc {
	TK_OK = 0,
	TK_ERR_NOMEM,       /* allocation failed */
	TK_ERR_USAGE,       /* bad command line */
	TK_ERR_CONFIG,      /* config, tailoring or rule data is invalid */
	TK_ERR_IO,          /* file or socket I/O failed */
	TK_ERR_PARSE,       /* input is malformed */
	TK_ERR_LIMIT,       /* input exceeds a bound */
	TK_ERR_TIMEOUT,     /* a deadline passed */
	TK_ERR_CANCELLED,   /* stopped by a signal or the scan deadline */
	TK_ERR_NET,         /* connect/resolve failed */
	TK_ERR_TLS,         /* TLS handshake or verification machinery failed */
	TK_ERR_PROTOCOL,    /* the peer violated its protocol */
	TK_ERR_AUTH,        /* credentials refused */
	TK_ERR_NOTFOUND,    /* named thing does not exist */
	TK_ERR_UNSUPPORTED, /* not available on this system */
	TK_ERR_LOCKED,      /* another run holds the lock */
	TK_ERR_VERIFY,      /* a signature or hash check failed */
	TK_ERR_INTERNAL,    /* a bug */
	TK_RC_COUNT
};

/* A stable short name ("timeout", "parse", ...) for reports and logs. */
const char *tk_rc_name(int rc);
/* A human sentence for rc. */
const char *tk_strerror(int rc);

/* An error with its message; the message names file, field and offset. */
struct tk_err {
	int rc;
	char msg[1024];
};

/* Record rc and a formatted message in err (may be NULL); returns rc. */
int tk_seterr(struct tk_err *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tk_vseterr(struct tk_err *err, int rc, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Prefix the existing message with "prefix: ". */
void tk_err_prefix(struct tk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- bounded, length-carrying buffer ---- */
struct tk_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;   /* hard bound on len */
};

void tk_buf_init(struct tk_buf *b, size_t max);
int tk_buf_append(struct tk_buf *b, const void *p, size_t n);
int tk_buf_puts(struct tk_buf *b, const char *s);
int tk_buf_printf(struct tk_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tk_buf_reset(struct tk_buf *b);
void tk_buf_free(struct tk_buf *b);
/* Hand the data over to the caller (who frees it); the buffer becomes empty. */
char *tk_buf_steal(struct tk_buf *b);

/* ---- strings ---- */
/* strdup that returns NULL for NULL. */
char *tk_strdup(const char *s);
/* Bounded copy; always terminates; returns TK_ERR_LIMIT on truncation. */
int tk_strlcpy(char *dst, const char *src, size_t size);
/* Parse a decimal integer in [min,max]; the whole string must be used. */
int tk_parse_ll(const char *s, long long min, long long max, long long *out);
/* Escape control characters and non-UTF-8 bytes as \xNN, at most max_out
 * bytes of output (truncation marked with "..."). Result is malloc'd. */
char *tk_escape_bytes(const void *p, size_t n, size_t max_out);

/* Free a NULL-terminated vector of strings (NULL is a no-op). */
void tk_strv_free(char **v);

/* ---- time ---- */
/* Monotonic milliseconds. */
int64_t tk_now_ms(void);
/* ---- codecs (codec.c): the one implementation of each ---- */
/* RFC 3339 UTC with seconds, e.g. 2026-11-23T20:41:00Z (needs 21 bytes). */
void tk_rfc3339(time_t t, char out[32]);
/*
 * Parse RFC 3339 / ISO 8601 ("2026-11-20T10:11:12Z", fractions, "+09:00" offsets, 't' or ' '
 * as separator) or a plain date (YYYY-MM-DD, midnight UTC) into UTC seconds. TK_ERR_PARSE
 * on anything else, and before 1970.
 */
int tk_parse_time(const char *s, time_t *out);

enum tk_b64_alpha { TK_B64_URL, TK_B64_STD, TK_B64_ANY };
/*
 * Decode base64 (padding optional; no whitespace) into out (cap bytes).
 * Returns false on a character outside the alphabet, bad padding, a length
 * that cannot be base64, mixed alphabets, or output longer than cap.
 */
bool tk_b64_decode(const char *s, size_t n, enum tk_b64_alpha alpha, unsigned char *out, size_t cap,
		   size_t *outlen);
/* Encode: TK_B64_STD with '=' padding, TK_B64_URL without (JWS). malloc'd; NULL on no memory. */
char *tk_b64_encode(const unsigned char *p, size_t n, enum tk_b64_alpha alpha);

/* Percent-encoding (RFC 3986: unreserved kept, '/' too when keep_slash). malloc'd. */
char *tk_uri_encode(const char *s, bool keep_slash);

/*
 * An XML predefined entity or character reference at s (s[0] == '&', n bytes available):
 * its UTF-8 (1-4 bytes) into out, *outlen set; returns the bytes consumed through ';', or 0
 * when s does not start a well-formed one (unknown name, bad digits, code point 0, a
 * surrogate or beyond U+10FFFF, no ';' within 12 bytes).
 */
size_t tk_xml_entity(const char *s, size_t n, char out[4], size_t *outlen);

/*
 * "host:port" or "[IPv6]:port" (the one host:port parser): host into host (hostsz bytes,
 * NUL-terminated, brackets removed), port 1-65535. TK_ERR_PARSE with *why a static reason
 * ("port out of range (1-65535)", ...) on anything else.
 */
int tk_parse_hostport(const char *s, char *host, size_t hostsz, unsigned *port, const char **why);

/* ---- files ---- */
/* Read a whole file of at most max bytes (NUL-terminated). */
int tk_read_file(const char *path, size_t max, char **out, size_t *len, struct tk_err *err);
/* Write atomically: temp file in the same directory, fsync, rename, fsync dir. */
int tk_write_file_atomic(const char *path, const void *data, size_t len, int mode, struct tk_err *err);
/* mkdir -p with mode. */
int tk_mkdirs(const char *path, int mode, struct tk_err *err);
/* Directory part of path ("." when none); malloc'd. */
char *tk_dirname(const char *path);
/* Join dir and rel unless rel is absolute; malloc'd. */
char *tk_path_join(const char *dir, const char *rel);

/* ---- hashing and fingerprints ---- */
void tk_sha256(const void *p, size_t n, unsigned char out[32]);
void tk_hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */
/* "sha256:" + first 12 hex digits of SHA-256(p) - for secrets in evidence. */
void tk_fingerprint(const void *p, size_t n, char out[24]);

/* ---- logging (stderr; never pass secrets) ---- */
enum tk_log_level { TK_LOG_ERROR, TK_LOG_WARN, TK_LOG_INFO, TK_LOG_DEBUG };
void tk_log_set_level(enum tk_log_level lvl);
/* Also send log lines to syslog (LOG_DAEMON) under `ident`. */
void tk_log_syslog(const char *ident);
void tk_log(enum tk_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define TK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
