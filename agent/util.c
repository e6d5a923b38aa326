/* util.c - errors, bounded buffers, strings, time, files, hashing. */
#include "tk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	const char *text;
} rc_table[TK_RC_COUNT] = {
	[TK_OK] = {"ok", "success"},
	[TK_ERR_NOMEM] = {"nomem", "out of memory"},
	[TK_ERR_USAGE] = {"usage", "invalid command line"},
	[TK_ERR_CONFIG] = {"config", "invalid configuration"},
	[TK_ERR_IO] = {"io", "input/output error"},
	[TK_ERR_PARSE] = {"parse", "malformed input"},
	[TK_ERR_LIMIT] = {"limit", "input exceeds a limit"},
	[TK_ERR_TIMEOUT] = {"timeout", "deadline exceeded"},
	[TK_ERR_CANCELLED] = {"cancelled", "cancelled"},
	[TK_ERR_NET] = {"net", "network error"},
	[TK_ERR_TLS] = {"tls", "TLS error"},
	[TK_ERR_PROTOCOL] = {"protocol", "protocol violation by the peer"},
	[TK_ERR_AUTH] = {"auth", "authentication refused"},
	[TK_ERR_NOTFOUND] = {"notfound", "not found"},
	[TK_ERR_UNSUPPORTED] = {"unsupported", "not supported here"},
	[TK_ERR_LOCKED] = {"locked", "locked by another run"},
	[TK_ERR_VERIFY] = {"verify", "verification failed"},
	[TK_ERR_INTERNAL] = {"internal", "internal error"},
};

const char *tk_rc_name(int rc)
{
	if (rc < 0 || rc >= TK_RC_COUNT)
		return "unknown";
	return rc_table[rc].name;
}

const char *tk_strerror(int rc)
{
	if (rc < 0 || rc >= TK_RC_COUNT)
		return "unknown error";
	return rc_table[rc].text;
}

int tk_vseterr(struct tk_err *err, int rc, const char *fmt, va_list ap)
{
	if (err) {
		err->rc = rc;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return rc;
}

int tk_seterr(struct tk_err *err, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tk_vseterr(err, rc, fmt, ap);
	va_end(ap);
	return rc;
}

void tk_err_prefix(struct tk_err *err, const char *fmt, ...)
{
	char pre[512], old[sizeof(err->msg)];
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	{
		size_t pl = strlen(pre);
		if (pl > sizeof(err->msg) - 3)
			pl = sizeof(err->msg) - 3;
		memcpy(err->msg, pre, pl);
		memcpy(err->msg + pl, ": ", 2);
		tk_strlcpy(err->msg + pl + 2, old, sizeof(err->msg) - pl - 2);
	}
}

/* ---- buffers ---- */
void tk_buf_init(struct tk_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int buf_reserve(struct tk_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;
	if (extra > b->max - b->len)
		return TK_ERR_LIMIT;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return TK_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (!p)
		return TK_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return TK_OK;
}

int tk_buf_append(struct tk_buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return TK_OK;
}

int tk_buf_puts(struct tk_buf *b, const char *s)
{
	return tk_buf_append(b, s, strlen(s));
}

int tk_buf_printf(struct tk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TK_ERR_INTERNAL;
	if ((rc = buf_reserve(b, (size_t)n)))
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return TK_OK;
}

void tk_buf_reset(struct tk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void tk_buf_free(struct tk_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *tk_buf_steal(struct tk_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- strings ---- */
char *tk_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int tk_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size == 0)
		return TK_ERR_LIMIT;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return TK_ERR_LIMIT;
	}
	memcpy(dst, src, n + 1);
	return TK_OK;
}

int tk_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;
	if (!s || !*s)
		return TK_ERR_PARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v < min || v > max)
		return TK_ERR_LIMIT;
	if (*end != '\0')
		return TK_ERR_PARSE;
	*out = v;
	return TK_OK;
}

/* Length of a valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *tk_escape_bytes(const void *ptr, size_t n, size_t max_out)
{
	const unsigned char *p = ptr;
	struct tk_buf b;
	size_t i = 0;
	tk_buf_init(&b, max_out + 8);
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		char esc[8];
		const char *chunk;
		size_t clen;
		if (l == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')) {
			if (p[i] == '\r')
				chunk = "\\r";
			else if (p[i] == '\n')
				chunk = "\\n";
			else if (p[i] == '\t')
				chunk = "\\t";
			else if (p[i] == '\\')
				chunk = "\\\\";
			else {
				snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
				chunk = esc;
			}
			clen = strlen(chunk);
			l = 1;
		} else if (l == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			chunk = esc;
			clen = 4;
			l = 1;
		} else {
			chunk = (const char *)p + i;
			clen = l;
		}
		if (b.len + clen > max_out) {
			tk_buf_puts(&b, "...");
			break;
		}
		if (tk_buf_append(&b, chunk, clen))
			break;
		i += l;
	}
	return tk_buf_steal(&b);
}

/* ---- time ---- */
int64_t tk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- files ---- */
int tk_read_file(const char *path, size_t max, char **out, size_t *len, struct tk_err *err)
{
	struct tk_buf b;
	char chunk[65536];
	int fd, rc = TK_OK;
	ssize_t n;
	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tk_seterr(err, errno == ENOENT ? TK_ERR_NOTFOUND : TK_ERR_IO, "%s: %s", path,
				 strerror(errno));
	tk_buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = tk_seterr(err, TK_ERR_IO, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = tk_buf_append(&b, chunk, (size_t)n))) {
			if (rc == TK_ERR_LIMIT)
				tk_seterr(err, rc, "%s: larger than the limit of %zu bytes", path, max);
			else
				tk_seterr(err, rc, "%s: %s", path, tk_strerror(rc));
			goto out;
		}
	}
	if (len)
		*len = b.len;
	*out = tk_buf_steal(&b);
out:
	close(fd);
	tk_buf_free(&b);
	return rc;
}

int tk_write_file_atomic(const char *path, const void *data, size_t len, int mode, struct tk_err *err)
{
	char *dir = NULL, *tmp = NULL;
	const char *p = data;
	int fd = -1, dfd = -1, rc = TK_OK;
	size_t tlen = strlen(path) + 32;

	tmp = malloc(tlen);
	dir = tk_dirname(path);
	if (!tmp || !dir) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	snprintf(tmp, tlen, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: cannot create temporary file: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: chmod: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = tk_seterr(err, TK_ERR_IO, "%s: write: %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = tk_seterr(err, TK_ERR_IO, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return rc;
}

int tk_mkdirs(const char *path, int mode, struct tk_err *err)
{
	char buf[PATH_MAX];
	size_t i;
	if (tk_strlcpy(buf, path, sizeof(buf)))
		return tk_seterr(err, TK_ERR_LIMIT, "%s: path too long", path);
	for (i = 1; buf[i]; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
			return tk_seterr(err, TK_ERR_IO, "%s: mkdir: %s", buf, strerror(errno));
		buf[i] = '/';
	}
	if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
		return tk_seterr(err, TK_ERR_IO, "%s: mkdir: %s", buf, strerror(errno));
	return TK_OK;
}

char *tk_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	d = malloc((size_t)(slash - path) + 1);
	if (!d)
		return NULL;
	memcpy(d, path, (size_t)(slash - path));
	d[slash - path] = '\0';
	return d;
}

char *tk_path_join(const char *dir, const char *rel)
{
	size_t n;
	char *p;
	if (!rel)
		return NULL;
	if (rel[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		return strdup(rel);
	n = strlen(dir) + strlen(rel) + 2;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

/* ---- hashing ---- */
void tk_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int olen = 32;
	EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL);
}

void tk_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void tk_fingerprint(const void *p, size_t n, char out[24])
{
	unsigned char h[32];
	char hex[65];
	tk_sha256(p, n, h);
	tk_hex(h, 6, hex);
	snprintf(out, 24, "sha256:%.12s", hex);
}
