/*
 * notify.h - alerts on change (docs/desk.md "Alerts"): transitions computed
 * from the history, delivered once each to a webhook (JSON {"text": ...},
 * the shape Slack and Microsoft Teams incoming webhooks accept), syslog
 * and e-mail (SMTP with STARTTLS, libcurl).
 *
 * The "notify" section (partner config, or notify.json in an inventory):
 *   {"webhook": {"url_file": "secret/webhook-url", "timeout_s": 5},
 *    "syslog":  {"socket": "/dev/log", "facility": "local0"},
 *    "email":   {"smtp_url": "smtp://mail.bank.example:587", "from": "tenken@...",
 *                "to": ["desk@..."], "username": "tenken", "password_file": "secret/smtp",
 *                "ca_file": "smtp-ca.pem", "timeout_s": 10},
 *    "stale_hours": 48, "deadline_s": 30}
 * Secret files (url_file, password_file) must be regular files with mode
 * 0600 or stricter, else the channel is refused; their contents never appear
 * in reports or logs (a webhook is named by a fingerprint of its URL).
 *
 * State: index table desk_alerts(key, channel, partner, kind, text,
 * created_at, state 'pending'|'sent', attempts, last_error, last_attempt).
 * A transition's key names partner, kind, item and the scan where it
 * happened, so the next run never raises it again; a delivery that failed
 * stays pending and is retried on the next run. Delivery is bounded by
 * deadline_s in total (retries with backoff inside it) and never fails the
 * scan.
 */
#ifndef TK_NOTIFY_H
#define TK_NOTIFY_H

#include <cjson/cJSON.h>
#include "history.h"

/* Check a notify section; where prefixes messages ("file: notify"). */
int tk_notify_validate(const cJSON *section, const char *where, struct tk_err *err);

/* After a scan of partner was stored: raise its item transitions, then
 * deliver everything pending. section (borrowed) may be NULL: then
 * notify_file (a notify.json, may be NULL) is used; neither: nothing.
 * base_dir resolves relative secret/CA paths. Never fails. */
void tk_notify_after_scan(struct tk_history *h, const char *partner, const cJSON *section, const char *base_dir,
			  const char *notify_file);

/* tenken notify: raise stale-scan and verify-failure alerts over every
 * partner of the history, then deliver everything pending. Returns the
 * number of deliveries still pending (0: all delivered). */
int tk_notify_sweep(struct tk_history *h, const cJSON *section, const char *base_dir, bool verify, time_t now,
		    FILE *out);

#endif
