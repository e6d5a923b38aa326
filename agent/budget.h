/*
 * budget.h - the per-host politeness budget, shared by every probe and every
 * partner scanned by this process: at most N connections in flight to one
 * host (IP address), and new connections from a token bucket per host: a
 * burst of B, then R per second sustained (so a host sees at most B + R*t
 * connections in any t seconds). One endpoint's full assessment fits the
 * burst; a host scanned by many probes or partners is held to R.
 * A probe acquires before it connects and releases when the socket closes.
 */
#ifndef TK_BUDGET_H
#define TK_BUDGET_H

#include <stdint.h>
#include "tk.h"

#define TK_BUDGET_DEFAULT_CONNS 8      /* concurrent connections per host */
#define TK_BUDGET_DEFAULT_RATE 50.0    /* new connections per second per host, sustained */
#define TK_BUDGET_DEFAULT_BURST 160    /* new connections per host before the rate applies */

/* Set the limits (process-wide; call before scanning). 0 keeps the current value. */
void tk_budget_set(int max_conns_per_host, double conns_per_second);
void tk_budget_get(int *max_conns_per_host, double *conns_per_second);
/* The bucket's depth (0 keeps it). The effective burst is never below the rate (one second's worth). */
void tk_budget_set_burst(int burst);
int tk_budget_get_burst(void);
/*
 * Wait until `host` has a free slot and the rate allows a new connection,
 * or until deadline_ms (monotonic) / a stop request: TK_OK, TK_ERR_TIMEOUT
 * or TK_ERR_CANCELLED.
 */
int tk_budget_acquire(const char *host, int64_t deadline_ms);
/* Non-blocking: TK_OK or TK_ERR_LIMIT (no slot or rate exhausted now). */
int tk_budget_try_acquire(const char *host);
void tk_budget_release(const char *host);
/* The highest number of concurrent connections `host` has had (tests, benchmarks). */
int tk_budget_peak(const char *host);
/* The highest concurrency any host has had. */
int tk_budget_peak_any(void);

#endif
