/*
 * curlbudget.h - libcurl transfers under the per-host politeness budget
 * (budget.h): every socket libcurl opens takes a slot of its host and gives
 * it back when closed. Sets CURLOPT_FORBID_REUSE so that each socket closes
 * within the transfer that opened it.
 *
 * Two modes:
 *  - blocking (the easy interface, one transfer at a time): the connect waits
 *    for a slot until deadline_ms;
 *  - non-blocking (the multi interface): waiting inside the callback would
 *    stall the very loop that frees slots, so with no slot free the connect
 *    fails at once and `deferred` is set: the caller queues the transfer again.
 * `b` must outlive the transfer (re-attach after curl_easy_reset).
 */
#ifndef TK_CURLBUDGET_H
#define TK_CURLBUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define TK_CURLBUDGET_MAX 4 /* sockets one transfer may hold (happy eyeballs: 2) */

struct tk_curlbudget {
	int64_t deadline_ms;
	bool nonblocking;
	bool deferred;   /* non-blocking mode: a connect found no slot */
	unsigned n;
	struct {
		int fd;
		char host[64];
	} e[TK_CURLBUDGET_MAX];
};

/* Reset b and attach it to an easy handle. */
void tk_curlbudget_attach(void *curl_easy, struct tk_curlbudget *b, int64_t deadline_ms, bool nonblocking);
/* Give back the slots of sockets libcurl did not close through the callback. */
void tk_curlbudget_release_all(struct tk_curlbudget *b);

#endif
