/* log.c - leveled logging to stderr. Callers never pass secrets. */
#include "tk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

static enum tk_log_level log_level = TK_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool use_syslog;

void tk_log_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void tk_log_set_level(enum tk_log_level lvl)
{
	log_level = lvl;
}

void tk_log(enum tk_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	va_list ap;
	if (lvl > log_level)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "tenken: %s: ", names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (use_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		va_start(ap, fmt);
		vsyslog(prio[lvl], fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&log_lock);
}
