/* securitytxt.h - a bounded RFC 9116 security.txt parser (the web probe's; exposed for tests and fuzzing). */
#ifndef TK_SECURITYTXT_H
#define TK_SECURITYTXT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define TK_SECTXT_MAX (32 * 1024)   /* bytes parsed; a larger file is an error (RFC 9116 sets no limit) */
#define TK_SECTXT_LINE_MAX 2048     /* a longer line is an error and is skipped */
#define TK_SECTXT_ERRORS_MAX 16     /* errors kept; errors_more counts the rest */

struct tk_sectxt_error {
	unsigned line; /* 1-based line of the file (0: the file as a whole) */
	char msg[112];
};

struct tk_sectxt {
	bool valid;            /* contact_count > 0, one parsable Expires, not expired, file readable */
	bool pgp_signed;       /* an OpenPGP cleartext signature framed the fields (not verified) */
	unsigned contact_count; /* Contact: lines holding a URI (not http:) */
	unsigned expires_count; /* Expires: lines */
	bool expires_ok;       /* exactly one, an RFC 3339 date-time */
	long long expires;     /* UTC seconds when expires_ok */
	bool expired;          /* expires_ok and expires <= now */
	unsigned lines;
	unsigned nerrors;
	unsigned errors_more;
	struct tk_sectxt_error errors[TK_SECTXT_ERRORS_MAX];
};

/*
 * Parse a security.txt body (data, len: not NUL-terminated) as of `now`:
 * LF or CRLF lines; '#' comments and blank lines skipped; "Name: value" with
 * the name case-insensitive; unknown fields ignored; an OpenPGP cleartext
 * signature (RFC 4880 7) tolerated: armor headers and the signature block
 * skipped, dash-escaped lines unescaped. Every problem is recorded with its
 * line; only those named at `valid` make the file invalid.
 */
void tk_sectxt_parse(const char *data, size_t len, time_t now, struct tk_sectxt *out);

#endif
