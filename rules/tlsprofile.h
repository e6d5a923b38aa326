/*
 * tlsprofile.h - TLS configuration profiles (rules/profiles/tls-*.json:
 * CRYPTREC GL-3001, Mozilla) judged by the rules engine, not by the probe.
 * The tls probe reports facts (protocols, suites with their classes,
 * certificates, min_dh_bits); tk_tls_profiles_derive() adds to each tls
 * "endpoint" observation a "profiles" array (id, conforms, violations[],
 * undetermined[]) that the rule TLS-PROFILE-NONCONFORMANT reads.
 */
#ifndef TK_TLSPROFILE_H
#define TK_TLSPROFILE_H

#include <cjson/cJSON.h>

#include "data.h"

/*
 * For every observation of probe "tls", kind "endpoint", with "tls": true in
 * `observations` (an array the caller owns and may have modified): replace
 * "profiles" by the grading against every profile in ds. TK_ERR_CONFIG when a
 * profile file is malformed (the message names it).
 */
int tk_tls_profiles_derive(const struct tk_dataset *ds, cJSON *observations, struct tk_err *err);

#endif
