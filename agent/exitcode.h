/*
 * exitcode.h - tenken's process exit codes, beside the command line (cli.h)
 * that returns them. A header of its own in the core so that reports/ can
 * fill the report's gate.exit_code without depending on the commands.
 */
#ifndef TK_EXITCODE_H
#define TK_EXITCODE_H

/*
 * Process exit codes (documented in `tenken gate --help`, tenken(1) and the
 * README; the report's gate.exit_code uses the same numbers). With
 * --inventory the overall code is the most serious partner's:
 * 1 over 2 over 4 over 3 over 0 (5 only for the inventory itself).
 */
enum tk_exit {
	TK_EXIT_OK = 0,          /* gate: no item fails; scan: completed */
	TK_EXIT_FAIL = 1,        /* gate: at least one item fails */
	TK_EXIT_USAGE = 2,       /* usage or config error; nothing was scanned */
	TK_EXIT_INCOMPLETE = 3,  /* a probe errored or timed out, or a target was not observed */
	TK_EXIT_ERROR = 4,       /* tenken itself failed (cannot write the report, ...) */
	TK_EXIT_LOCKED = 5,      /* another run holds the inventory's lock */
};

#endif
