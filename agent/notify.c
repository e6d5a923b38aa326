/*
 * notify.c - alerts on change (see notify.h): transitions from the index,
 * the desk_alerts table, and the three channels (webhook, syslog, e-mail).
 */
#include "notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "httpreq.h"

#define SECRET_MAX 4096
#define ATTEMPTS_PER_RUN 3

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- configuration ---- */

static bool only_keys(const cJSON *o, const char *const *keys, const char *where, const char *sec, struct tk_err *err)
{
	const cJSON *k;
	cJSON_ArrayForEach(k, o)
	{
		size_t i;
		bool ok = false;
		for (i = 0; keys[i] && !ok; i++)
			ok = strcmp(k->string, keys[i]) == 0;
		if (!ok) {
			tk_seterr(err, TK_ERR_CONFIG, "%s%s%s.%s: unknown key", where, *sec ? "." : "", sec, k->string);
			return false;
		}
	}
	return true;
}

static bool num_in(const cJSON *o, const char *k, double lo, double hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return !v || (cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi);
}

int tk_notify_validate(const cJSON *n, const char *where, struct tk_err *err)
{
	static const char *const top[] = {"webhook", "syslog", "email", "stale_hours", "deadline_s", NULL};
	static const char *const wh[] = {"url_file", "timeout_s", NULL};
	static const char *const sl[] = {"socket", "facility", NULL};
	static const char *const em[] = {"smtp_url",      "from",    "to",        "username",
					 "password_file", "ca_file", "timeout_s", NULL};
	const cJSON *w, *s, *e, *t;
	if (!cJSON_IsObject(n))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: expected an object", where);
	if (!only_keys(n, top, where, "", err))
		return TK_ERR_CONFIG;
	if (!num_in(n, "stale_hours", 1, 24 * 3650) || !num_in(n, "deadline_s", 1, 600))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: stale_hours 1..87600, deadline_s 1..600", where);
	if ((w = cJSON_GetObjectItemCaseSensitive(n, "webhook"))) {
		if (!cJSON_IsObject(w) || !only_keys(w, wh, where, "webhook", err) || !*jstr(w, "url_file") ||
		    !num_in(w, "timeout_s", 1, 60))
			return err->rc ? err->rc
				       : tk_seterr(err, TK_ERR_CONFIG,
						   "%s.webhook: url_file (a 0600 file holding the URL) is required; timeout_s 1..60",
						   where);
	}
	if ((s = cJSON_GetObjectItemCaseSensitive(n, "syslog"))) {
		if (!cJSON_IsObject(s) || !only_keys(s, sl, where, "syslog", err))
			return err->rc ? err->rc
				       : tk_seterr(err, TK_ERR_CONFIG, "%s.syslog: expected an object", where);
		if (*jstr(s, "facility") && strcmp(jstr(s, "facility"), "user") != 0 &&
		    (strncmp(jstr(s, "facility"), "local", 5) != 0 || jstr(s, "facility")[5] < '0' ||
		     jstr(s, "facility")[5] > '7' || jstr(s, "facility")[6]))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.syslog.facility: user or local0..local7", where);
	}
	if ((e = cJSON_GetObjectItemCaseSensitive(n, "email"))) {
		if (!cJSON_IsObject(e) || !only_keys(e, em, where, "email", err))
			return err->rc ? err->rc : tk_seterr(err, TK_ERR_CONFIG, "%s.email: expected an object", where);
		if (strncmp(jstr(e, "smtp_url"), "smtp://", 7) != 0 && strncmp(jstr(e, "smtp_url"), "smtps://", 8) != 0)
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email.smtp_url: smtp:// (STARTTLS required) or smtps://", where);
		if (!*jstr(e, "from") || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "to")) ||
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "to")) == 0)
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email: from and a non-empty to list are required", where);
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(e, "to")) if (!cJSON_IsString(t) ||
										    strpbrk(t->valuestring, "\r\n<>"))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email.to: plain addresses only", where);
		if (strpbrk(jstr(e, "from"), "\r\n<>"))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email.from: a plain address", where);
		if (*jstr(e, "username") && !*jstr(e, "password_file"))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email: username needs password_file (a 0600 file)", where);
		if (!num_in(e, "timeout_s", 1, 120))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.email.timeout_s: 1..120", where);
	}
	return TK_OK;
}

static void resolve(const char *base, const char *p, char *out, size_t size)
{
	if (p[0] == '/' || !base)
		snprintf(out, size, "%s", p);
	else
		snprintf(out, size, "%s/%s", base, p);
}

/* Read a secret: a regular file, mode 0600 or stricter, trimmed. */
static int read_secret(const char *path, char *out, size_t size, struct tk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;
	if (fd < 0)
		return tk_seterr(err, TK_ERR_CONFIG, "secret file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tk_seterr(err, TK_ERR_CONFIG, "secret file %s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return tk_seterr(err, TK_ERR_CONFIG, "secret file %s: mode %04o refused: it must be 0600 (chmod 600)", path,
				 (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0 || (size_t)n >= size - 1)
		return tk_seterr(err, TK_ERR_CONFIG, "secret file %s: unreadable or larger than %zu bytes", path, size - 2);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (n == 0)
		return tk_seterr(err, TK_ERR_CONFIG, "secret file %s: empty", path);
	return TK_OK;
}

/* ---- state ---- */

static int ensure_table(sqlite3 *db)
{
	return sqlite3_exec(db,
			    "CREATE TABLE IF NOT EXISTS desk_alerts(key TEXT NOT NULL, channel TEXT NOT NULL,"
			    " partner TEXT, kind TEXT, text TEXT NOT NULL, created_at TEXT, state TEXT NOT NULL,"
			    " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_attempt TEXT,"
			    " PRIMARY KEY(key, channel)) WITHOUT ROWID;",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? TK_OK
		       : TK_ERR_IO;
}

static const char *const channels[] = {"webhook", "syslog", "email"};

/* Raise one alert: a pending row per configured channel, unless raised before. */
static void raise_alert(sqlite3 *db, const cJSON *cfg, const char *key, const char *partner, const char *kind,
			const char *text)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	size_t i;
	tk_rfc3339(time(NULL), now);
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO desk_alerts(key, channel, partner, kind, text, created_at, state)"
			       " VALUES(?,?,?,?,?,?,'pending')",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	for (i = 0; i < 3; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(cfg, channels[i]))
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, channels[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, partner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) > 0)
			tk_log(TK_LOG_INFO, "notify: raised %s for %s: %s", kind, channels[i], text);
	}
	sqlite3_finalize(st);
}

/* ---- transitions of one partner (newest scan vs the one before) ---- */

struct rec {
	long long seq;
	char finished[32], verdict[16];
	char *items;
	cJSON *extra;
};

static const char *status_of(const char *items, const char *no)
{
	static const char *const w[] = {"pass", "fail", "incomplete", "manual", "not_applicable", "waived"};
	static const char l[] = "pfimnw";
	size_t nl = strlen(no);
	const char *p = items;
	while (p && *p) {
		const char *semi = strchr(p, ';');
		if (strncmp(p, no, nl) == 0 && p[nl] == '=') {
			const char *c = strchr(l, p[nl + 1]);
			return c && *c ? w[c - l] : "unknown";
		}
		p = semi ? semi + 1 : NULL;
	}
	return "";
}

static int load_recs(sqlite3 *db, const char *partner, struct rec r[2], int *n)
{
	sqlite3_stmt *st = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT s.seq, s.finished_at, s.verdict, d.items, d.extra FROM scans AS s"
			       " LEFT JOIN desk_items AS d ON d.partner=s.partner AND d.seq=s.seq"
			       " WHERE s.partner=? ORDER BY s.seq DESC LIMIT 2",
			       -1, &st, NULL) != SQLITE_OK)
		return TK_ERR_IO;
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	while (*n < 2 && sqlite3_step(st) == SQLITE_ROW) {
		struct rec *x = &r[*n];
		memset(x, 0, sizeof(*x));
		x->seq = sqlite3_column_int64(st, 0);
		tk_strlcpy(x->finished, sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "",
			   sizeof(x->finished));
		tk_strlcpy(x->verdict, sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "",
			   sizeof(x->verdict));
		x->items = tk_strdup(sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
		x->extra = sqlite3_column_text(st, 4) ? cJSON_Parse((const char *)sqlite3_column_text(st, 4)) : NULL;
		(*n)++;
	}
	sqlite3_finalize(st);
	return TK_OK;
}

static void raise_transitions(sqlite3 *db, const cJSON *cfg, const char *partner)
{
	struct rec r[2];
	int n = 0, i;
	const char *p;
	const cJSON *x;
	if (load_recs(db, partner, r, &n) != TK_OK || n == 0)
		return;
	/* every item of the newest scan against its status in the one before (none: the first scan) */
	for (p = r[0].items; p && *p;) {
		const char *semi = strchr(p, ';'), *eq = strchr(p, '=');
		char no[32], key[512], text[1024];
		const char *now, *before, *kind = NULL;
		if (!eq || (semi && eq > semi) || (size_t)(eq - p) >= sizeof(no))
			break;
		snprintf(no, sizeof(no), "%.*s", (int)(eq - p), p);
		now = status_of(r[0].items, no);
		before = n > 1 ? status_of(r[1].items, no) : "";
		if (strcmp(now, "fail") == 0 && strcmp(before, "fail") != 0)
			kind = "newly_failing";
		else if (strcmp(before, "fail") == 0 && strcmp(now, "fail") != 0 && strcmp(now, "incomplete") != 0)
			kind = "resolved";
		else if (strcmp(now, "incomplete") == 0 && strcmp(before, "incomplete") != 0)
			kind = "became_incomplete";
		if (kind) {
			const char *why = strcmp(kind, "became_incomplete") == 0
						  ? jstr(cJSON_GetObjectItemCaseSensitive(r[0].extra, "incomplete"), no)
						  : "";
			snprintf(key, sizeof(key), "%s|%s|%s|%lld", partner, kind, no, r[0].seq);
			snprintf(text, sizeof(text), "[tenken] %s: item %s %s (%s -> %s) in scan #%lld at %s%s%s", partner, no,
				 strcmp(kind, "newly_failing") == 0 ? "newly failing"
				 : strcmp(kind, "resolved") == 0    ? "resolved"
								    : "became incomplete",
				 *before ? before : "first scan", now, r[0].seq, r[0].finished, *why ? ": " : "", why);
			raise_alert(db, cfg, key, partner, kind, text);
		}
		p = semi ? semi + 1 : NULL;
	}
	/* waivers that expired since the scan before */
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r[0].extra, "expired_ids"))
	{
		const cJSON *y;
		bool before = false;
		char key[512], text[1024];
		if (!cJSON_IsString(x))
			continue;
		cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(n > 1 ? r[1].extra : NULL, "expired_ids"))
			before = before || (cJSON_IsString(y) && strcmp(y->valuestring, x->valuestring) == 0);
		if (before)
			continue;
		snprintf(key, sizeof(key), "%s|waiver_expired|%s|%lld", partner, x->valuestring, r[0].seq);
		snprintf(text, sizeof(text), "[tenken] %s: waiver %s expired (scan #%lld at %s no longer applies it)", partner,
			 x->valuestring, r[0].seq, r[0].finished);
		raise_alert(db, cfg, key, partner, "waiver_expired", text);
	}
	for (i = 0; i < n; i++) {
		free(r[i].items);
		cJSON_Delete(r[i].extra);
	}
}

/* ---- channels ---- */

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nitems < u->left ? size * nitems : u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/*
 * One alert to the webhook through the one request helper (httpreq.h): up to
 * ATTEMPTS_PER_RUN attempts of at most attempt_ms each, all inside total_ms,
 * retried on transport failures, 429 and 5xx with its back-off. *tries gets
 * the attempts made (at least 1). The URL is a secret: errors name its
 * fingerprint, never its path or query (both are also scrubbed from any
 * error text). TK_ERR_PROTOCOL: the receiver answered with a non-2xx status;
 * TK_ERR_NET: no answer (refused, timed out, TLS, not HTTP).
 */
static int send_webhook(const cJSON *w, const char *base, const char *text, long attempt_ms, long total_ms, int *tries,
			struct tk_err *err)
{
	char path[PATH_MAX], url[SECRET_MAX], fp[24], what[40];
	const char *secrets[3] = {url, NULL, NULL}, *p;
	cJSON *body = NULL;
	char *json = NULL;
	struct tk_buf resp;
	struct tk_http_req hr;
	struct tk_http_info info;
	int rc;
	*tries = 1; /* a delivery that fails before sending (a bad URL file) still counts as one */
	tk_buf_init(&resp, 4096);
	resolve(base, jstr(w, "url_file"), path, sizeof(path));
	if ((rc = read_secret(path, url, sizeof(url), err)))
		return rc;
	tk_fingerprint(url, strlen(url), fp);
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "webhook %s: the URL in %s is not http(s)", fp, path);
		goto out;
	}
	if ((p = strchr(strstr(url, "://") + 3, '/')) && strlen(p) >= 4)
		secrets[1] = p; /* the path and query carry the token: scrubbed from any error text too */
	snprintf(what, sizeof(what), "webhook %s", fp);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "text", text);
	if (!(json = cJSON_PrintUnformatted(body))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&hr, 0, sizeof(hr));
	hr.method = "POST";
	hr.url = url;
	hr.what = what;
	hr.content_type = "application/json";
	hr.body = json;
	hr.body_len = strlen(json);
	hr.timeout_ms = (int)total_ms;
	hr.attempt_timeout_ms = (int)attempt_ms;
	hr.max_retries = ATTEMPTS_PER_RUN - 1;
	hr.secrets = secrets;
	hr.body_cut_ok = true; /* the receiver's answer is not read past 4 KiB */
	hr.env_proxy = true;   /* as before: the *_proxy environment (never for localhost) */
	rc = tk_http_call_ex(&hr, &info, &resp, err);
	*tries = info.attempts > 0 ? info.attempts : 1;
	if (rc == TK_OK && (info.status < 200 || info.status > 299))
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "webhook %s: HTTP status %ld", fp, info.status);
	else if (rc != TK_OK && rc != TK_ERR_NOMEM)
		rc = err->rc = TK_ERR_NET; /* no answer of any kind: the channel is down for this run (deliver) */
out:
	tk_buf_free(&resp);
	cJSON_free(json);
	cJSON_Delete(body);
	explicit_bzero(url, sizeof(url));
	return rc;
}

static int send_syslog(const cJSON *s, const char *text, struct tk_err *err)
{
	const char *sock = *jstr(s, "socket") ? jstr(s, "socket") : "/dev/log", *fac = jstr(s, "facility");
	int facility = 1, fd, pri; /* user */
	struct sockaddr_un sa;
	char msg[2048], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	if (strncmp(fac, "local", 5) == 0)
		facility = 16 + (fac[5] - '0');
	pri = facility * 8 + 4; /* warning */
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	snprintf(msg, sizeof(msg), "<%d>%s tenken[%d]: %s", pri, ts, (int)getpid(), text);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (tk_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path)))
		return tk_seterr(err, TK_ERR_CONFIG, "syslog: socket path too long");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return tk_seterr(err, TK_ERR_IO, "syslog: %s", strerror(errno));
	/* never block the scan on a full syslog queue: EAGAIN is a failed delivery, retried next run */
	if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return tk_seterr(err, TK_ERR_NET, "syslog %s: %s", sock, strerror(e));
	}
	close(fd);
	return TK_OK;
}

static int send_email(const cJSON *e, const char *base, const char *text, long timeout_ms, struct tk_err *err)
{
	char pw[SECRET_MAX] = "", path[PATH_MAX], date[64], subj[160];
	struct curl_slist *rcpt = NULL;
	struct tk_buf msg;
	struct upload up;
	const cJSON *t;
	CURL *cu = NULL;
	CURLcode cc;
	time_t now = time(NULL);
	struct tm tm;
	int rc = TK_OK;
	tk_buf_init(&msg, 1 << 16);
	if (*jstr(e, "password_file")) {
		resolve(base, jstr(e, "password_file"), path, sizeof(path));
		if ((rc = read_secret(path, pw, sizeof(pw), err)))
			goto out;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(subj, sizeof(subj), "%.120s", text);
	for (char *c = subj; *c; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	tk_buf_printf(&msg, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, jstr(e, "from"));
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(e, "to"))
	{
		char a[512];
		tk_buf_printf(&msg, "%s<%s>", t == cJSON_GetObjectItemCaseSensitive(e, "to")->child ? "" : ", ", t->valuestring);
		snprintf(a, sizeof(a), "<%s>", t->valuestring);
		rcpt = curl_slist_append(rcpt, a);
	}
	tk_buf_printf(&msg,
		      "\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		      subj, text);
	if (!(cu = curl_easy_init())) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		char from[512];
		snprintf(from, sizeof(from), "<%s>", jstr(e, "from"));
		curl_easy_setopt(cu, CURLOPT_MAIL_FROM, from);
	}
	curl_easy_setopt(cu, CURLOPT_URL, jstr(e, "smtp_url"));
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(cu, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL); /* STARTTLS or fail: never in clear */
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
	up.p = msg.data;
	up.left = msg.len;
	curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(cu, CURLOPT_READDATA, &up);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	if (*jstr(e, "ca_file")) {
		resolve(base, jstr(e, "ca_file"), path, sizeof(path));
		curl_easy_setopt(cu, CURLOPT_CAINFO, path);
	}
	if (*jstr(e, "username")) {
		curl_easy_setopt(cu, CURLOPT_USERNAME, jstr(e, "username"));
		curl_easy_setopt(cu, CURLOPT_PASSWORD, pw);
	}
	if ((cc = curl_easy_perform(cu)) != CURLE_OK)
		rc = tk_seterr(err, cc == CURLE_LOGIN_DENIED ? TK_ERR_AUTH : TK_ERR_NET, "email via %s: %s",
			       jstr(e, "smtp_url"), curl_easy_strerror(cc));
out:
	if (cu)
		curl_easy_cleanup(cu);
	curl_slist_free_all(rcpt);
	tk_buf_free(&msg);
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/* ---- delivery ---- */

/* Deliver every pending alert (any partner) within the deadline. Returns the number still pending. */
static int deliver(sqlite3 *db, const cJSON *cfg, const char *base, FILE *out)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	int64_t deadline = tk_now_ms() + 1000LL * (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(cfg, "deadline_s"))
						       ? cJSON_GetObjectItemCaseSensitive(cfg, "deadline_s")->valueint
						       : 30);
	int pending = 0;
	bool down[3] = {false, false, false};
	struct item {
		char *key, *channel, *text;
	} *v = NULL;
	size_t n = 0, cap = 0, i;

	if (sqlite3_prepare_v2(db, "SELECT key, channel, text FROM desk_alerts WHERE state='pending' ORDER BY created_at, key",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			struct item *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].key = tk_strdup((const char *)sqlite3_column_text(st, 0));
		v[n].channel = tk_strdup((const char *)sqlite3_column_text(st, 1));
		v[n].text = tk_strdup((const char *)sqlite3_column_text(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db,
			       "UPDATE desk_alerts SET state=?, attempts=attempts+?, last_error=?, last_attempt=?"
			       " WHERE key=? AND channel=?",
			       -1, &up, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		int ch, attempt, rc = TK_ERR_CONFIG, tries = 0;
		struct tk_err err = {0};
		char now[32];
		const cJSON *sec;
		for (ch = 0; ch < 3 && strcmp(channels[ch], v[i].channel) != 0; ch++)
			;
		sec = ch < 3 ? cJSON_GetObjectItemCaseSensitive(cfg, channels[ch]) : NULL;
		if (!sec) {
			pending++;
			continue; /* that channel is not configured for this run: kept for a run that has it */
		}
		if (down[ch]) {
			pending++;
			continue;
		}
		for (attempt = 0; attempt < ATTEMPTS_PER_RUN; attempt++) {
			int64_t left = deadline - tk_now_ms();
			long tmo = (long)(1000 * (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sec, "timeout_s"))
							  ? cJSON_GetObjectItemCaseSensitive(sec, "timeout_s")->valueint
							  : 5));
			if (left < 200)
				break;
			if (tmo > left)
				tmo = (long)left;
			memset(&err, 0, sizeof(err));
			if (ch == 0) { /* the request helper retries and backs off itself, inside the deadline */
				rc = send_webhook(sec, base, v[i].text, tmo, (long)left, &tries, &err);
				break;
			}
			tries++;
			rc = ch == 1 ? send_syslog(sec, v[i].text, &err) : send_email(sec, base, v[i].text, tmo, &err);
			if (rc == TK_OK || rc == TK_ERR_CONFIG)
				break;
			/* backoff 0.5 s, 1 s, ... inside the deadline */
			if (attempt + 1 < ATTEMPTS_PER_RUN && deadline - tk_now_ms() > (500LL << attempt) + 200)
				usleep((useconds_t)(500000U << attempt));
		}
		if (tries == 0)
			tk_seterr(&err, TK_ERR_TIMEOUT, "notify deadline reached before this delivery");
		tk_rfc3339(time(NULL), now);
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, rc == TK_OK ? "sent" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_int(up, 2, tries);
		sqlite3_bind_text(up, 3, rc == TK_OK ? "" : err.msg, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 4, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 5, v[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 6, v[i].channel, -1, SQLITE_STATIC);
		sqlite3_step(up);
		if (rc == TK_OK) {
			tk_log(TK_LOG_INFO, "notify: %s delivered: %s", v[i].channel, v[i].key);
			if (out)
				fprintf(out, "sent    %-7s %s\n", v[i].channel, v[i].key);
		} else {
			pending++;
			tk_log(TK_LOG_WARN, "notify: %s delivery failed (%s); recorded, retried on the next run", v[i].channel,
			       err.msg);
			if (out)
				fprintf(out, "pending %-7s %s: %s\n", v[i].channel, v[i].key, err.msg);
			if (tries == 0 || rc == TK_ERR_CONFIG || rc == TK_ERR_NET)
				down[ch] = true; /* the rest of this channel waits for the next run */
		}
	}
out:
	sqlite3_finalize(up);
	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].channel);
		free(v[i].text);
	}
	free(v);
	return pending;
}

static cJSON *load_notify_file(const char *file, char **base)
{
	char *text = NULL;
	size_t len;
	struct tk_err err = {0};
	cJSON *j = NULL;
	*base = NULL;
	if (!file || access(file, F_OK) != 0)
		return NULL;
	if (tk_read_file(file, 1 << 20, &text, &len, &err) != TK_OK) {
		tk_log(TK_LOG_WARN, "notify: %s", err.msg);
		return NULL;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!j || tk_notify_validate(j, file, &err) != TK_OK) {
		tk_log(TK_LOG_WARN, "notify: %s", j ? err.msg : "not valid JSON");
		tk_log(TK_LOG_WARN, "notify: %s: not used (no alerts this run)", file);
		cJSON_Delete(j);
		return NULL;
	}
	*base = tk_dirname(file);
	return j;
}

void tk_notify_after_scan(struct tk_history *h, const char *partner, const cJSON *section, const char *base_dir,
			  const char *notify_file)
{
	cJSON *owned = NULL;
	char *fbase = NULL;
	sqlite3 *db = tk_history_db(h);
	if (!section) {
		if (!(owned = load_notify_file(notify_file, &fbase)))
			return;
		section = owned;
		base_dir = fbase;
	}
	if (ensure_table(db) != TK_OK) {
		tk_log(TK_LOG_WARN, "notify: index: %s", sqlite3_errmsg(db));
		goto out;
	}
	raise_transitions(db, section, partner);
	deliver(db, section, base_dir, NULL);
out:
	cJSON_Delete(owned);
	free(fbase);
}

int tk_notify_sweep(struct tk_history *h, const cJSON *cfg, const char *base_dir, bool verify, time_t now, FILE *out)
{
	sqlite3 *db = tk_history_db(h);
	sqlite3_stmt *st = NULL;
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(cfg, "stale_hours");
	double stale_h = cJSON_IsNumber(sh) ? sh->valuedouble : 48;
	if (ensure_table(db) != TK_OK)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT s.partner, s.seq, s.finished_at FROM (SELECT partner AS p, max(seq) AS m FROM scans"
			       " GROUP BY partner) AS t JOIN scans AS s ON s.partner=t.p AND s.seq=t.m ORDER BY s.partner",
			       -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *partner = (const char *)sqlite3_column_text(st, 0);
			long long seq = sqlite3_column_int64(st, 1);
			const char *fin = sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "";
			time_t t;
			char key[512], text[1024];
			bool ok = tk_parse_time(fin, &t) == TK_OK;
			if (!ok || difftime(now, t) / 3600.0 > stale_h) {
				snprintf(key, sizeof(key), "%s|scan_stale|-|%lld", partner, seq);
				snprintf(text, sizeof(text),
					 "[tenken] %s: scan stale: the newest scan #%lld finished %s, more than %.0f hours ago",
					 partner, seq, ok ? fin : "(unreadable time)", stale_h);
				raise_alert(db, cfg, key, partner, "scan_stale", text);
			}
			if (verify) {
				struct tk_err err = {0};
				int nr = 0;
				char *pcopy = tk_strdup(partner);
				if (pcopy && tk_history_verify(h, pcopy, NULL, &nr, &err) == TK_ERR_VERIFY) {
					unsigned char d[32];
					char hex[65];
					tk_sha256(err.msg, strlen(err.msg), d);
					tk_hex(d, 8, hex);
					snprintf(key, sizeof(key), "%s|verify_fails|%s|%lld", pcopy, hex, seq);
					snprintf(text, sizeof(text), "[tenken] %.128s: verify fails: %.700s (run tenken verify %.128s)", pcopy,
						 err.msg, pcopy);
					raise_alert(db, cfg, key, pcopy, "verify_fails", text);
				}
				free(pcopy);
			}
		}
		sqlite3_finalize(st);
	}
	return deliver(db, cfg, base_dir, out);
}
