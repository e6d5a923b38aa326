/*
 * signer.c - the history's signing key: an Ed25519 key file, or a key kept
 * in a PKCS#11 token (see signer.h).
 *
 * Why p11-kit and C_Sign directly (not libp11's engine or an OpenSSL
 * provider): Debian 12 has no pkcs11-provider; libp11 0.4.12 exposes EC keys
 * through the deprecated ENGINE API but no EdDSA keys at all. p11-kit (on
 * every Debian system as a dependency of GnuTLS) parses RFC 7512 URIs and
 * loads the module; the signature itself is one C_SignInit/C_Sign with
 * CKM_ECDSA or CKM_EDDSA, so both key types work and every PKCS#11 error code
 * (wrong PIN, token absent, no such object) is reported as itself.
 */
#include "signer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#define ALG_ED "Ed25519"
#define ALG_P256 "ECDSA-P256-SHA256"

struct tk_signer {
	struct tk_pubkey pub;
	char where[640];
	EVP_PKEY *key;            /* file key */
	CK_FUNCTION_LIST *mod;    /* token key */
	CK_SESSION_HANDLE sess;
	CK_OBJECT_HANDLE obj;
	bool have_sess, logged_in, initialized;
};

/* SubjectPublicKeyInfo DER prefixes: prefix + raw key = the DER PUBKEY. */
static const unsigned char spki_ed[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const unsigned char spki_p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
					  0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
					  0x07, 0x03, 0x42, 0x00};
static const unsigned char oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char name_ed25519[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

/* ---- public keys ---- */

int tk_pubkey_set(struct tk_pubkey *k, const char *alg, const unsigned char *raw, size_t len, struct tk_err *err)
{
	unsigned char d[32];
	char hex[65];
	memset(k, 0, sizeof(*k));
	if (!((strcmp(alg, ALG_ED) == 0 && len == 32) || (strcmp(alg, ALG_P256) == 0 && len == 65 && raw[0] == 4)))
		return tk_seterr(err, TK_ERR_VERIFY, "public key: %zu bytes is not a %s key", len, alg);
	tk_strlcpy(k->alg, alg, sizeof(k->alg));
	memcpy(k->raw, raw, len);
	k->len = len;
	tk_sha256(raw, len, d);
	tk_hex(d, 32, hex);
	snprintf(k->fp, sizeof(k->fp), "SHA256:%s", hex);
	return TK_OK;
}

static EVP_PKEY *pubkey_evp(const struct tk_pubkey *k)
{
	unsigned char der[sizeof(spki_p256) + TK_PUB_MAX];
	const unsigned char *p = der;
	bool ed = strcmp(k->alg, ALG_ED) == 0;
	size_t pl = ed ? sizeof(spki_ed) : sizeof(spki_p256);
	if (k->len == 0)
		return NULL;
	memcpy(der, ed ? spki_ed : spki_p256, pl);
	memcpy(der + pl, k->raw, k->len);
	return d2i_PUBKEY(NULL, &p, (long)(pl + k->len));
}

int tk_pubkey_pem(const struct tk_pubkey *k, char **pem, struct tk_err *err)
{
	EVP_PKEY *e = pubkey_evp(k);
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	*pem = NULL;
	if (!e || !b || PEM_write_bio_PUBKEY(b, e) != 1) {
		BIO_free(b);
		EVP_PKEY_free(e);
		return tk_seterr(err, TK_ERR_INTERNAL, "cannot encode the public key");
	}
	n = BIO_get_mem_data(b, &p);
	if ((*pem = malloc((size_t)n + 1))) {
		memcpy(*pem, p, (size_t)n);
		(*pem)[n] = '\0';
	}
	BIO_free(b);
	EVP_PKEY_free(e);
	return *pem ? TK_OK : tk_seterr(err, TK_ERR_NOMEM, "out of memory");
}

bool tk_pubkey_verify(const struct tk_pubkey *k, const void *msg, size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY *e = pubkey_evp(k);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const EVP_MD *md = strcmp(k->alg, ALG_ED) == 0 ? NULL : EVP_sha256();
	bool ok = e && c && EVP_DigestVerifyInit(c, NULL, md, NULL, e) == 1 &&
		  EVP_DigestVerify(c, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(e);
	return ok;
}

/* ---- an Ed25519 key file ---- */

static int load_file_key(struct tk_signer *s, const char *path, struct tk_err *err)
{
	FILE *f = NULL;
	unsigned char raw[32];
	size_t n = 32;
	int fd, rc;
	if ((rc = tk_open_regular(path, O_NOFOLLOW, &fd, NULL, err)))
		return rc;
	if (!(f = fdopen(fd, "r"))) {
		close(fd);
		return tk_seterr(err, TK_ERR_NOMEM, "%s: %s", path, strerror(errno));
	}
	s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!s->key || EVP_PKEY_id(s->key) != EVP_PKEY_ED25519)
		return tk_seterr(err, TK_ERR_VERIFY, "%s: not an Ed25519 private key", path);
	if (EVP_PKEY_get_raw_public_key(s->key, raw, &n) != 1 || n != 32)
		return tk_seterr(err, TK_ERR_VERIFY, "%s: cannot read the public key", path);
	snprintf(s->where, sizeof(s->where), "key file %s", path);
	return tk_pubkey_set(&s->pub, ALG_ED, raw, 32, err);
}

/* Create the key pair on first use: written to a 0600 temp file, then
 * link()ed into place so two first runs cannot both win. */
static int ensure_file_key(struct tk_signer *s, const char *dir, bool create, struct tk_err *err)
{
	char kdir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = NULL;
	FILE *f = NULL;
	int fd = -1, rc = TK_OK;

	if (snprintf(kdir, sizeof(kdir), "%s/key", dir) >= (int)sizeof(kdir) - 32 ||
	    snprintf(path, sizeof(path), "%s/ed25519.pem", kdir) >= (int)sizeof(path))
		return tk_seterr(err, TK_ERR_LIMIT, "%s: state directory path too long", dir);
	if (access(path, F_OK) == 0)
		return load_file_key(s, path, err);
	if (!create)
		return tk_seterr(err, TK_ERR_NOTFOUND, "%s: no agent key (no scan has been stored here yet)", path);
	if (mkdir(kdir, 0700) != 0 && errno != EEXIST)
		return tk_seterr(err, TK_ERR_IO, "%s: mkdir: %s", kdir, strerror(errno));
	if (snprintf(tmp, sizeof(tmp), "%s/.ed25519.pem.XXXXXX", kdir) >= (int)sizeof(tmp))
		return tk_seterr(err, TK_ERR_LIMIT, "%s: path too long", kdir);
	if ((fd = mkstemp(tmp)) < 0)
		return tk_seterr(err, TK_ERR_IO, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0 || !(c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL)) ||
	    EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &k) != 1) {
		rc = tk_seterr(err, TK_ERR_INTERNAL, "cannot generate the Ed25519 key");
		goto out;
	}
	if (!(f = fdopen(fd, "w"))) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: cannot write the key", tmp);
		goto out;
	}
	if (link(tmp, path) != 0 && errno != EEXIST) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(c);
	return rc ? rc : load_file_key(s, path, err);
}

/* ---- a PKCS#11 token key ---- */

static const char *ckr_name(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "wrong PIN (CKR_PIN_INCORRECT; the token may lock after more failures)";
	case CKR_PIN_LOCKED: return "the PIN is locked (CKR_PIN_LOCKED)";
	case CKR_PIN_EXPIRED: return "the PIN has expired (CKR_PIN_EXPIRED)";
	case CKR_PIN_LEN_RANGE: return "wrong PIN length (CKR_PIN_LEN_RANGE)";
	case CKR_TOKEN_NOT_PRESENT: return "token not present (CKR_TOKEN_NOT_PRESENT)";
	case CKR_DEVICE_REMOVED: return "device removed (CKR_DEVICE_REMOVED)";
	case CKR_DEVICE_ERROR: return "device error (CKR_DEVICE_ERROR)";
	case CKR_MECHANISM_INVALID: return "the token does not offer this mechanism (CKR_MECHANISM_INVALID)";
	case CKR_KEY_TYPE_INCONSISTENT: return "key type inconsistent with the mechanism (CKR_KEY_TYPE_INCONSISTENT)";
	case CKR_USER_NOT_LOGGED_IN: return "not logged in (CKR_USER_NOT_LOGGED_IN)";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "the key may not sign (CKR_KEY_FUNCTION_NOT_PERMITTED)";
	default: return NULL;
	}
}

static int p11err(struct tk_err *err, const char *where, const char *call, CK_RV rv)
{
	const char *n = ckr_name(rv);
	if (n)
		return tk_seterr(err, TK_ERR_VERIFY, "%s: %s: %s", where, call, n);
	return tk_seterr(err, TK_ERR_VERIFY, "%s: %s failed: CKR 0x%lx", where, call, (unsigned long)rv);
}

/* A PIN from a file of mode 0600 or stricter; the trailing newline dropped. */
static int read_pin(const char *path, char *pin, size_t cap, size_t *len, struct tk_err *err)
{
	int fd, rc;
	struct stat st;
	ssize_t n;
	if ((rc = tk_open_regular(path, O_NOFOLLOW, &fd, &st, err)))
		return rc;
	if (st.st_mode & 077) {
		close(fd);
		return tk_seterr(err, TK_ERR_CONFIG, "pin_file %s: mode %04o refused: it must be 0600", path,
				 (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, pin, cap - 1);
	close(fd);
	if (n < 0)
		return tk_seterr(err, TK_ERR_IO, "pin_file %s: %s", path, strerror(errno));
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	pin[n] = '\0';
	*len = (size_t)n;
	if (n == 0 || (size_t)n >= cap - 1)
		return tk_seterr(err, TK_ERR_CONFIG, "pin_file %s: empty or longer than %zu bytes", path, cap - 2);
	return TK_OK;
}

static void trim_label(const unsigned char *p, size_t n, char *out, size_t cap)
{
	while (n > 0 && p[n - 1] == ' ')
		n--;
	snprintf(out, cap, "%.*s", (int)n, (const char *)p);
}

/* CKA_EC_POINT: a DER OCTET STRING around the raw point (some modules give it raw). */
static bool ec_point_raw(const unsigned char *p, size_t n, size_t want, const unsigned char **raw)
{
	if (n == want + 2 && p[0] == 0x04 && p[1] == want) {
		*raw = p + 2;
		return true;
	}
	if (n == want) {
		*raw = p;
		return true;
	}
	return false;
}

/* CKA_EC_PARAMS of an Ed25519 key: the OID 1.3.101.112 or the PrintableString "edwards25519" */
static bool ed25519_params(const unsigned char *p, size_t n)
{
	return (n == sizeof(oid_ed25519) && !memcmp(p, oid_ed25519, n)) ||
	       (n == sizeof(name_ed25519) && !memcmp(p, name_ed25519, n));
}

static int find_one(struct tk_signer *s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *obj, CK_ULONG *found,
		    struct tk_err *err)
{
	CK_OBJECT_HANDLE h[2];
	CK_RV rv = s->mod->C_FindObjectsInit(s->sess, tmpl, n);
	*found = 0;
	if (rv != CKR_OK)
		return p11err(err, s->where, "C_FindObjectsInit", rv);
	rv = s->mod->C_FindObjects(s->sess, h, 2, found);
	s->mod->C_FindObjectsFinal(s->sess);
	if (rv != CKR_OK)
		return p11err(err, s->where, "C_FindObjects", rv);
	if (*found >= 1)
		*obj = h[0];
	return TK_OK;
}

static int open_token(struct tk_signer *s, const char *uri, const char *module, const char *pin_file,
		      struct tk_err *err)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_SLOT_ID *slots = NULL;
	CK_ULONG nslots = 0, i, nattr = 0, found = 0;
	CK_ATTRIBUTE *attrs, tmpl[8];
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, pubc = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = 0;
	CK_OBJECT_HANDLE pubobj = 0;
	unsigned char id[256], params[64], point[160];
	char pin[256] = "", label[40], seen[400] = "";
	size_t pinlen = 0;
	int rc = TK_OK, slot = -1;
	CK_RV rv;
	const unsigned char *raw = NULL;

	snprintf(s->where, sizeof(s->where), "PKCS#11 %s", uri);
	if (!u)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rv = (CK_RV)p11_kit_uri_parse(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, u)) != P11_KIT_URI_OK) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "signing_key \"%s\": not a PKCS#11 URI: %s", uri,
			       p11_kit_uri_message((int)rv));
		goto out;
	}
	if (!(s->mod = p11_kit_module_load(module, 0))) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "module %s: cannot load the PKCS#11 module: %s", module,
			       p11_kit_message() ? p11_kit_message() : "unknown error");
		goto out;
	}
	if ((rv = p11_kit_module_initialize(s->mod)) != CKR_OK) {
		rc = p11err(err, module, "C_Initialize", rv);
		goto out;
	}
	s->initialized = true;
	if ((rv = s->mod->C_GetSlotList(CK_TRUE, NULL, &nslots)) != CKR_OK) {
		rc = p11err(err, module, "C_GetSlotList", rv);
		goto out;
	}
	if (nslots && (!(slots = calloc(nslots, sizeof(*slots))) ||
		       (rv = s->mod->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)) {
		rc = slots ? p11err(err, module, "C_GetSlotList", rv) : tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nslots && slot < 0; i++) {
		CK_TOKEN_INFO ti;
		if (s->mod->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (p11_kit_uri_match_token_info(u, &ti) == 1)
			slot = (int)i;
		else {
			size_t l = strlen(seen);
			trim_label(ti.label, sizeof(ti.label), label, sizeof(label));
			snprintf(seen + l, sizeof(seen) - l, "%s\"%s\"", l ? ", " : "", label);
		}
	}
	if (slot < 0) {
		rc = tk_seterr(err, TK_ERR_NOTFOUND, "%s: no token matches (tokens present in %s: %s)", s->where, module,
			       seen[0] ? seen : "none");
		goto out;
	}
	if ((rv = s->mod->C_OpenSession(slots[slot], CKF_SERIAL_SESSION, NULL, NULL, &s->sess)) != CKR_OK) {
		rc = p11err(err, s->where, "C_OpenSession", rv);
		goto out;
	}
	s->have_sess = true;
	if ((rc = read_pin(pin_file, pin, sizeof(pin), &pinlen, err)))
		goto out;
	rv = s->mod->C_Login(s->sess, CKU_USER, (CK_UTF8CHAR *)pin, pinlen);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = p11err(err, s->where, "C_Login", rv);
		goto out;
	}
	s->logged_in = true;
	/* the private key: the URI's attributes (label, id, class) */
	attrs = p11_kit_uri_get_attributes(u, &nattr);
	for (i = 0; i < nattr && i < 6; i++) {
		if (attrs[i].type == CKA_CLASS && (attrs[i].ulValueLen != sizeof(CK_OBJECT_CLASS) ||
						   *(CK_OBJECT_CLASS *)attrs[i].pValue != CKO_PRIVATE_KEY)) {
			rc = tk_seterr(err, TK_ERR_CONFIG, "signing_key \"%s\": type must be private", uri);
			goto out;
		}
		tmpl[i] = attrs[i];
	}
	tmpl[i].type = CKA_CLASS;
	tmpl[i].pValue = &priv;
	tmpl[i].ulValueLen = sizeof(priv);
	if ((rc = find_one(s, tmpl, i + 1, &s->obj, &found, err)))
		goto out;
	if (found == 0) {
		rc = tk_seterr(err, TK_ERR_NOTFOUND, "%s: no private key object matches on the token", s->where);
		goto out;
	}
	if (found > 1) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: several private keys match: name one (object= or id=)", s->where);
		goto out;
	}
	tmpl[0].type = CKA_KEY_TYPE;
	tmpl[0].pValue = &kt;
	tmpl[0].ulValueLen = sizeof(kt);
	tmpl[1].type = CKA_ID;
	tmpl[1].pValue = id;
	tmpl[1].ulValueLen = sizeof(id);
	if ((rv = s->mod->C_GetAttributeValue(s->sess, s->obj, tmpl, 2)) != CKR_OK) {
		rc = p11err(err, s->where, "C_GetAttributeValue(CKA_KEY_TYPE, CKA_ID)", rv);
		goto out;
	}
	if (kt != CKK_EC && kt != CKK_EC_EDWARDS) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: key type 0x%lx: only EC P-256 and Ed25519 keys can sign history",
			       s->where, (unsigned long)kt);
		goto out;
	}
	/* its public key: the public key object with the same CKA_ID */
	tmpl[0].type = CKA_CLASS;
	tmpl[0].pValue = &pubc;
	tmpl[0].ulValueLen = sizeof(pubc);
	if ((rc = find_one(s, tmpl, 2, &pubobj, &found, err)))
		goto out;
	if (found != 1) {
		rc = tk_seterr(err, TK_ERR_NOTFOUND,
			       "%s: no public key object with the private key's CKA_ID (generate the key pair on the token, "
			       "e.g. pkcs11-tool --keypairgen)",
			       s->where);
		goto out;
	}
	tmpl[0].type = CKA_EC_PARAMS;
	tmpl[0].pValue = params;
	tmpl[0].ulValueLen = sizeof(params);
	tmpl[1].type = CKA_EC_POINT;
	tmpl[1].pValue = point;
	tmpl[1].ulValueLen = sizeof(point);
	if ((rv = s->mod->C_GetAttributeValue(s->sess, pubobj, tmpl, 2)) != CKR_OK) {
		rc = p11err(err, s->where, "C_GetAttributeValue(CKA_EC_PARAMS, CKA_EC_POINT)", rv);
		goto out;
	}
	if (kt == CKK_EC && tmpl[0].ulValueLen == sizeof(oid_p256) && !memcmp(params, oid_p256, sizeof(oid_p256)) &&
	    ec_point_raw(point, tmpl[1].ulValueLen, 65, &raw))
		rc = tk_pubkey_set(&s->pub, ALG_P256, raw, 65, err);
	else if (kt == CKK_EC_EDWARDS && ed25519_params(params, tmpl[0].ulValueLen) &&
		 ec_point_raw(point, tmpl[1].ulValueLen, 32, &raw))
		rc = tk_pubkey_set(&s->pub, ALG_ED, raw, 32, err);
	else
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: unsupported curve: only P-256 (ECDSA) and Ed25519 keys", s->where);
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	free(slots);
	p11_kit_uri_free(u);
	return rc;
}

/* ---- the signing config ---- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void resolve(const char *base, const char *p, char *out, size_t cap)
{
	if (p[0] == '/')
		snprintf(out, cap, "%s", p);
	else
		snprintf(out, cap, "%s/%s", base, p);
}

int tk_signer_open_config(const char *config_path, const char *base_dir, struct tk_signer **out, struct tk_err *err)
{
	struct tk_signer *s = calloc(1, sizeof(*s));
	char *text = NULL, path[PATH_MAX], pinp[PATH_MAX];
	size_t len;
	cJSON *j = NULL;
	const cJSON *f;
	const char *key, *module, *pin_file;
	int rc;
	*out = NULL;
	if (!s)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_read_file(config_path, 1 << 16, &text, &len, err)))
		goto fail;
	if (!(j = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(j)) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: not a JSON object", config_path);
		goto fail;
	}
	cJSON_ArrayForEach(f, j) if (strcmp(f->string, "signing_key") != 0 && strcmp(f->string, "module") != 0 &&
				     strcmp(f->string, "pin_file") != 0)
	{
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: unknown field \"%s\" (signing_key, module, pin_file)", config_path,
			       f->string);
		goto fail;
	}
	if (!(key = jstr(j, "signing_key")) || !*key) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: signing_key: a pkcs11: URI or a key file path is required",
			       config_path);
		goto fail;
	}
	module = jstr(j, "module");
	pin_file = jstr(j, "pin_file");
	if (strncmp(key, "pkcs11:", 7) == 0) {
		if (!module || !*module || !pin_file || !*pin_file) {
			rc = tk_seterr(err, TK_ERR_CONFIG, "%s: a pkcs11: signing_key needs \"module\" and \"pin_file\"",
				       config_path);
			goto fail;
		}
		resolve(base_dir, pin_file, pinp, sizeof(pinp));
		if ((rc = open_token(s, key, module, pinp, err))) {
			tk_err_prefix(err, "%s", config_path);
			goto fail;
		}
	} else {
		resolve(base_dir, strncmp(key, "file:", 5) == 0 ? key + 5 : key, path, sizeof(path));
		if ((rc = load_file_key(s, path, err)))
			goto fail;
	}
	cJSON_Delete(j);
	free(text);
	*out = s;
	return TK_OK;
fail:
	cJSON_Delete(j);
	free(text);
	tk_signer_close(s);
	return rc;
}

int tk_signer_open_state(const char *state_dir, bool create, struct tk_signer **out, struct tk_err *err)
{
	char cfg[PATH_MAX];
	struct tk_signer *s;
	int rc;
	*out = NULL;
	if (snprintf(cfg, sizeof(cfg), "%s/signing.json", state_dir) >= (int)sizeof(cfg))
		return tk_seterr(err, TK_ERR_LIMIT, "%s: path too long", state_dir);
	if (access(cfg, F_OK) == 0)
		return tk_signer_open_config(cfg, state_dir, out, err);
	if (!(s = calloc(1, sizeof(*s))))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = ensure_file_key(s, state_dir, create, err))) {
		tk_signer_close(s);
		return rc;
	}
	*out = s;
	return TK_OK;
}

void tk_signer_close(struct tk_signer *s)
{
	if (!s)
		return;
	if (s->mod) {
		if (s->logged_in)
			s->mod->C_Logout(s->sess);
		if (s->have_sess)
			s->mod->C_CloseSession(s->sess);
		if (s->initialized)
			p11_kit_module_finalize(s->mod);
		p11_kit_module_release(s->mod);
	}
	EVP_PKEY_free(s->key);
	free(s);
}

const struct tk_pubkey *tk_signer_pub(const struct tk_signer *s)
{
	return &s->pub;
}

const char *tk_signer_where(const struct tk_signer *s)
{
	return s->where;
}

static int token_sign(struct tk_signer *s, const void *msg, size_t len, unsigned char *sig, size_t *siglen,
		      struct tk_err *err)
{
	bool ed = strcmp(s->pub.alg, ALG_ED) == 0;
	CK_MECHANISM mech = {ed ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
	unsigned char dg[32], rs[132];
	CK_ULONG n = sizeof(rs);
	CK_RV rv;
	if (!ed)
		tk_sha256(msg, len, dg);
	if ((rv = s->mod->C_SignInit(s->sess, &mech, s->obj)) != CKR_OK)
		return p11err(err, s->where, "C_SignInit", rv);
	if ((rv = s->mod->C_Sign(s->sess, ed ? (CK_BYTE *)msg : dg, ed ? len : sizeof(dg), rs, &n)) != CKR_OK)
		return p11err(err, s->where, "C_Sign", rv);
	if (n != 64)
		return tk_seterr(err, TK_ERR_VERIFY, "%s: C_Sign gave %lu bytes, not 64", s->where, (unsigned long)n);
	if (ed) {
		memcpy(sig, rs, 64);
		*siglen = 64;
	} else {
		/* PKCS#11 gives r || s; the envelope (and openssl dgst -verify) wants DER */
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(rs, 32, NULL), *sv = BN_bin2bn(rs + 32, 32, NULL);
		unsigned char *p = sig;
		int dl;
		if (!es || !r || !sv || ECDSA_SIG_set0(es, r, sv) != 1) {
			BN_free(r);
			BN_free(sv);
			ECDSA_SIG_free(es);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		dl = i2d_ECDSA_SIG(es, NULL);
		if (dl <= 0 || dl > TK_SIG_MAX || i2d_ECDSA_SIG(es, &p) != dl) {
			ECDSA_SIG_free(es);
			return tk_seterr(err, TK_ERR_INTERNAL, "cannot encode the ECDSA signature");
		}
		ECDSA_SIG_free(es);
		*siglen = (size_t)dl;
	}
	return TK_OK;
}

int tk_signer_sign(struct tk_signer *s, const void *msg, size_t len, unsigned char sig[TK_SIG_MAX], size_t *siglen,
		   struct tk_err *err)
{
	int rc;
	*siglen = 0;
	if (s->key) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		size_t n = 64;
		bool ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, s->key) == 1 &&
			  EVP_DigestSign(c, sig, &n, msg, len) == 1 && n == 64;
		EVP_MD_CTX_free(c);
		if (!ok)
			return tk_seterr(err, TK_ERR_INTERNAL, "cannot sign with the %s", s->where);
		*siglen = 64;
		return TK_OK;
	}
	if ((rc = token_sign(s, msg, len, sig, siglen, err)))
		return rc;
	if (!tk_pubkey_verify(&s->pub, msg, len, sig, *siglen))
		return tk_seterr(err, TK_ERR_VERIFY, "%s: the token's signature does not verify with its public key",
				 s->where);
	return TK_OK;
}
