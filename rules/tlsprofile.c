/* tlsprofile.c - grading TLS endpoint facts against the profiles in rules/profiles/tls-*.json. */
#include "tlsprofile.h"

#include <stdio.h>
#include <string.h>

static const char *const versions[][2] = {{"ssl2", "SSL 2.0"},   {"ssl3", "SSL 3.0"},   {"tls1_0", "TLS 1.0"},
					  {"tls1_1", "TLS 1.1"}, {"tls1_2", "TLS 1.2"}, {"tls1_3", "TLS 1.3"}};

static const char *verif(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "verification");
	return cJSON_IsString(v) ? v->valuestring : "UNCONFIRMED";
}

/*
 * The label of one field of a profile section: "<field>_verification" when
 * the section has it, else verification_by_version.<field>, else the
 * section's own "verification".
 */
static const char *verif_of(const cJSON *o, const char *field)
{
	char k[64];
	const cJSON *v;
	snprintf(k, sizeof(k), "%s_verification", field);
	v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsString(v))
		return v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "verification_by_version"), field);
	return cJSON_IsString(v) ? v->valuestring : verif(o);
}

static bool str_in(const cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return true;
	return false;
}

static void violation(cJSON *list, const char *fact, const char *detail, const char *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "fact", fact);
	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddStringToObject(o, "verification", v);
	cJSON_AddItemToArray(list, o);
}

/* The profile's certificate requirements against one certificate the server presents. */
static void grade_certificate(const cJSON *cp, const cJSON *cert, cJSON *viol)
{
	const cJSON *kt = cJSON_GetObjectItemCaseSensitive(cert, "key_type");
	const cJSON *kb = cJSON_GetObjectItemCaseSensitive(cert, "key_bits");
	const cJSON *mr = cJSON_GetObjectItemCaseSensitive(cp, "min_rsa_bits");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(cp, "min_ec_bits");
	char d[256];
	if (cJSON_IsString(kt) && cJSON_IsNumber(kb)) {
		if (strncmp(kt->valuestring, "RSA", 3) == 0 && cJSON_IsNumber(mr) &&
		    kb->valuedouble < mr->valuedouble) {
			snprintf(d, sizeof(d), "RSA key of %d bits (< %d)", kb->valueint, mr->valueint);
			violation(viol, "certificate.key", d, verif_of(cp, "min_rsa_bits"));
		}
		if (strcmp(kt->valuestring, "EC") == 0 && cJSON_IsNumber(me) && kb->valuedouble < me->valuedouble) {
			snprintf(d, sizeof(d), "EC key of %d bits (< %d)", kb->valueint, me->valueint);
			violation(viol, "certificate.key", d, verif_of(cp, "min_ec_bits"));
		}
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cp, "sha1_forbidden")) &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "weak_signature_hash")))
		violation(viol, "certificate.signature", "SHA-1 (or weaker) signature in the chain",
			  verif_of(cp, "sha1_forbidden"));
}

/* The accepted suites of one version against the profile's forbidden classes and allowed list. */
static void grade_suites(const cJSON *prof, const char *vk, const cJSON *accepted, cJSON *viol, cJSON *und)
{
	const cJSON *vs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(prof, "suites"), vk);
	const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(vs, "allowed");
	const cJSON *complete = cJSON_GetObjectItemCaseSensitive(vs, "complete");
	const cJSON *forb = cJSON_GetObjectItemCaseSensitive(prof, "forbidden_classes"), *su;
	char d[256];
	cJSON_ArrayForEach(su, accepted)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(su, "name");
		const cJSON *classes = cJSON_GetObjectItemCaseSensitive(su, "classes"), *c;
		bool forbidden = false;
		if (!cJSON_IsObject(su) || !cJSON_IsString(name) || strcmp(name->valuestring, "unknown") == 0)
			continue;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(forb, "classes"))
		{
			if (cJSON_IsString(c) && str_in(classes, c->valuestring)) {
				snprintf(d, sizeof(d), "%s: %s is %s", vk, name->valuestring, c->valuestring);
				violation(viol, "forbidden_classes", d, verif(forb));
				forbidden = true;
				break;
			}
		}
		if (forbidden || !allowed || str_in(allowed, name->valuestring))
			continue;
		if (cJSON_IsTrue(complete)) {
			snprintf(d, sizeof(d), "%s: %s is not in the profile's list", vk, name->valuestring);
			violation(viol, "suites", d, verif(vs));
		} else {
			snprintf(d, sizeof(d), "%s: %s", vk, name->valuestring);
			cJSON_AddItemToArray(und, cJSON_CreateString(d));
		}
	}
}

/* One profile against one endpoint's facts. */
static cJSON *grade(const cJSON *prof, const cJSON *obs)
{
	cJSON *r = cJSON_CreateObject(), *viol = cJSON_CreateArray(), *und = cJSON_CreateArray();
	const cJSON *protos = cJSON_GetObjectItemCaseSensitive(prof, "protocols");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(prof, "certificate");
	const cJSON *dh = cJSON_GetObjectItemCaseSensitive(prof, "min_dh_bits");
	const cJSON *mdh = cJSON_GetObjectItemCaseSensitive(obs, "min_dh_bits"), *cert;
	const cJSON *protocols = cJSON_GetObjectItemCaseSensitive(obs, "protocols");
	char d[256];
	size_t i;
	cJSON_AddStringToObject(r, "id", cJSON_GetObjectItemCaseSensitive(prof, "id")->valuestring);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		const char *vk = versions[i][0];
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(protocols, vk)))
			continue;
		if (protos && !str_in(cJSON_GetObjectItemCaseSensitive(protos, "allowed"), vk)) {
			snprintf(d, sizeof(d), "%s accepted; not allowed by the profile", versions[i][1]);
			violation(viol, "protocols", d, verif_of(protos, vk));
			continue; /* suites of a forbidden version are moot */
		}
		grade_suites(prof, vk,
			     cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obs, "suites"), vk),
				 "accepted"),
			     viol, und);
	}
	cJSON_ArrayForEach(cert, cJSON_GetObjectItemCaseSensitive(obs, "certificates")) if (cp)
	    grade_certificate(cp, cert, viol);
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(dh, "value")) && cJSON_IsNumber(mdh) &&
	    mdh->valuedouble > 0 && mdh->valuedouble < cJSON_GetObjectItemCaseSensitive(dh, "value")->valuedouble) {
		snprintf(d, sizeof(d), "DHE group of %d bits", mdh->valueint);
		violation(viol, "min_dh_bits", d, verif(dh));
	}
	cJSON_AddBoolToObject(r, "conforms", cJSON_GetArraySize(viol) == 0);
	cJSON_AddItemToObject(r, "violations", viol);
	cJSON_AddItemToObject(r, "undetermined", und);
	return r;
}

/* Every profile of every rules/profiles/tls-*.json file, parsed (the caller frees the docs). */
static int load(const struct tk_dataset *ds, cJSON *docs, struct tk_err *err)
{
	size_t i;
	for (i = 0; ds && i < ds->n; i++) {
		const struct tk_datafile *f = &ds->files[i];
		cJSON *doc, *p;
		if (strncmp(f->name, "profiles/tls-", 13) != 0)
			continue;
		doc = cJSON_ParseWithLength((const char *)f->data, f->len);
		if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "profiles"))) {
			cJSON_Delete(doc);
			return tk_seterr(err, TK_ERR_CONFIG, "rules/%s: expected {\"profiles\": [...]}", f->name);
		}
		cJSON_AddItemToArray(docs, doc);
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "profiles"))
		{
			if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "id")))
				return tk_seterr(err, TK_ERR_CONFIG, "rules/%s: profiles[]: \"id\" missing", f->name);
		}
	}
	return TK_OK;
}

int tk_tls_profiles_derive(const struct tk_dataset *ds, cJSON *observations, struct tk_err *err)
{
	cJSON *docs = cJSON_CreateArray(), *o;
	int rc;
	if (!docs)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = load(ds, docs, err)))
		goto out;
	cJSON_ArrayForEach(o, observations)
	{
		const cJSON *probe = cJSON_GetObjectItemCaseSensitive(o, "probe");
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind"), *doc, *p;
		cJSON *profs;
		if (!cJSON_IsString(probe) || strcmp(probe->valuestring, "tls") != 0 || !cJSON_IsString(kind) ||
		    strcmp(kind->valuestring, "endpoint") != 0 || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "tls")))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(o, "profiles");
		profs = cJSON_AddArrayToObject(o, "profiles");
		cJSON_ArrayForEach(doc, docs)
		{
			cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "profiles"))
				cJSON_AddItemToArray(profs, grade(p, o));
		}
	}
out:
	cJSON_Delete(docs);
	return rc;
}
