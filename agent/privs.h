/*
 * privs.h - least privilege. tenken runs as an unprivileged user; the only
 * capability it can use is CAP_NET_RAW for live packet capture (granted to
 * the binary with `setcap cap_net_raw+ep`). Probes open privileged resources
 * in their `prepare` hook, in the main thread before any probe thread
 * exists; the agent then drops every capability (threads inherit the
 * creating thread's capabilities, so none of them ever holds one).
 */
#ifndef TK_PRIVS_H
#define TK_PRIVS_H

#include <stdbool.h>
#include "tk.h"

/* Does the process currently hold CAP_NET_RAW in its effective set? */
bool tk_have_net_raw(void);
/* Clear the effective, permitted and inheritable capability sets and set no_new_privs. */
int tk_drop_privileges(struct tk_err *err);

#endif
