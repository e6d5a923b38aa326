/*
 * portfolio.h - the portfolio page (tenken portfolio; docs/desk.md): one
 * self-contained HTML file over every partner, rendered from the model that
 * agent/cmd_portfolio.c builds from the history index (portfolio.json).
 */
#ifndef TK_PORTFOLIO_H
#define TK_PORTFOLIO_H

#include <cjson/cJSON.h>
#include "tk.h"

/* Append the page for model (borrowed; schema tenken.portfolio/1) to out. */
int tk_portfolio_html(const cJSON *model, struct tk_buf *out, struct tk_err *err);

#endif
