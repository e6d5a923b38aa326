/*
 * cmd_export.c - tenken export: an auditor bundle for one partner
 * (docs/desk.md "Auditor bundle"): a tar.gz an auditor verifies with the
 * openssl CLI alone, without trusting the scanning host or tenken.
 *
 * Layout (all under tenken-export-<partner>/):
 *   VERIFY.md              what is here and how to check it (the script inside)
 *   verify.sh              POSIX sh + openssl: runs every check, exit 0/1
 *   MANIFEST               "sha256  path" of every other file; MANIFEST.sig its
 *                          signature by the key in force (a removed or
 *                          added file breaks it)
 *   chain.tsv              seq, report sha256, previous sha256, run id, finished_at
 *   keys/agent.pub.pem     the key in force; keys/fingerprint; keys/key-N.pub.pem and
 *                          keys/rotations/ the key log (docs/desk.md "Key rotation")
 *   reports/<seq>.json     the stored reports byte for byte, + .json.sig, + .json.tsr
 *   tsa/tsa-ca.pem         the TSA's CA (when a TSA is configured)
 *   hashes.tsv             per report: checklist id, checklist sha256, rules sha256
 *   data/...               the checklist and rule files whose hashes those are
 *                          (when this tenken's data set still has them)
 *   head                   the newest exported scan (compare with your anchored heads)
 *
 * The tar is plain ustar, gzip'd with zlib; written to a temp file, renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "history.h"
#include "report.h"
#include "rules.h"

#define MAX_FILE ((size_t)256 << 20)

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- a minimal ustar writer over gzip ---- */

struct tarw {
	gzFile gz;
	char root[128];
	time_t mtime;
	struct tk_buf manifest; /* "sha256  path\n" of every file but MANIFEST* */
	int rc;
};

static void octal(char *dst, size_t n, unsigned long long v)
{
	snprintf(dst, n, "%0*llo", (int)n - 1, v);
}

static int tar_add(struct tarw *t, const char *name, const void *data, size_t len, int mode, struct tk_err *err)
{
	unsigned char h[512];
	char path[256];
	unsigned sum = 0;
	size_t i, pad;
	static const unsigned char zeros[512];
	if (t->rc)
		return t->rc;
	if (snprintf(path, sizeof(path), "%s/%s", t->root, name) >= 100)
		return t->rc = tk_seterr(err, TK_ERR_LIMIT, "bundle: path too long for ustar: %s", path);
	memset(h, 0, sizeof(h));
	memcpy(h, path, strlen(path));
	octal((char *)h + 100, 8, (unsigned)mode);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, len);
	octal((char *)h + 136, 12, (unsigned long long)t->mtime);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "tenken", 6);
	memcpy(h + 297, "tenken", 6);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	pad = (512 - len % 512) % 512;
	if (gzwrite(t->gz, h, 512) != 512 || (len && gzwrite(t->gz, data, (unsigned)len) != (int)len) ||
	    (pad && gzwrite(t->gz, zeros, (unsigned)pad) != (int)pad))
		return t->rc = tk_seterr(err, TK_ERR_IO, "bundle: write failed");
	if (strncmp(name, "MANIFEST", 8) != 0) {
		unsigned char d[32];
		char hex[65];
		tk_sha256(data, len, d);
		tk_hex(d, 32, hex);
		if (tk_buf_printf(&t->manifest, "%s  %s\n", hex, name))
			return t->rc = tk_seterr(err, TK_ERR_LIMIT, "bundle: manifest too large");
	}
	return TK_OK;
}

static int tar_add_str(struct tarw *t, const char *name, const char *s, int mode, struct tk_err *err)
{
	return tar_add(t, name, s, strlen(s), mode, err);
}

static int tar_add_file(struct tarw *t, const char *name, const char *path, bool optional, struct tk_err *err)
{
	char *text = NULL;
	size_t len;
	int rc;
	if (optional && access(path, F_OK) != 0)
		return TK_OK;
	if ((rc = tk_read_file(path, MAX_FILE, &text, &len, err)))
		return t->rc = rc;
	rc = tar_add(t, name, text, len, 0644, err);
	free(text);
	return rc;
}

/* ---- the verification script (POSIX sh + openssl) ---- */

static const char verify_sh[] =
    "#!/bin/sh\n"
    "# verify.sh - checks this tenken auditor bundle with the openssl CLI alone.\n"
    "# usage: sh verify.sh   (run inside the bundle directory)   exit 0: all checks passed\n"
    "set -u\n"
    "LC_ALL=C; export LC_ALL\n"
    "cd \"$(dirname \"$0\")\" || exit 2\n"
    "fails=0\n"
    "ok() { printf 'ok   %s\\n' \"$*\"; }\n"
    "bad() { printf 'FAIL %s\\n' \"$*\"; fails=$((fails + 1)); }\n"
    "tmp=$(mktemp -d) || exit 2\n"
    "trap 'rm -rf \"$tmp\"' EXIT\n"
    "sha() { openssl dgst -sha256 -r \"$1\" | cut -d' ' -f1; }\n"
    "field() { sed -n "
    "\"s/^[[:space:]]*\\\"$1\\\":[[:space:]]*\\\"\\{0,1\\}\\([^\\\",]*\\)\\\"\\{0,1\\},\\{0,1\\}[[:space:]]*\\$/\\1/"
    "p\" \"$2\" | head -n 1; }\n"
    "# raw public key = the SubjectPublicKeyInfo's last bytes: Ed25519 (44-byte DER) 32, P-256 (91-byte DER) 65\n"
    "rawlen() { n=$(openssl pkey -pubin -in \"$1\" -outform DER 2>/dev/null | wc -c); n=$((n));\n"
    "  case $n in 44) echo 32;; 91) echo 65;; *) echo 0;; esac; }\n"
    "raw_b64() { openssl pkey -pubin -in \"$1\" -outform DER 2>/dev/null | tail -c \"$(rawlen \"$1\")\" | openssl base64 -A; }\n"
    "fpr() { printf 'SHA256:%s' \"$(openssl pkey -pubin -in \"$1\" -outform DER 2>/dev/null | tail -c \"$(rawlen \"$1\")\" |\n"
    "  openssl dgst -sha256 -r | cut -d' ' -f1)\"; }\n"
    "edver() { # edver PUBKEY_PEM MESSAGE_FILE SIGNATURE_B64: Ed25519, or ECDSA P-256 over SHA-256 (DER signature)\n"
    "  printf '%s' \"$3\" | openssl base64 -d -A > \"$tmp/sig\" 2>/dev/null || return 1\n"
    "  case $(rawlen \"$1\") in\n"
    "  32) openssl pkeyutl -verify -pubin -inkey \"$1\" -rawin -in \"$2\" -sigfile \"$tmp/sig\" >/dev/null 2>&1 ;;\n"
    "  65) openssl dgst -sha256 -verify \"$1\" -signature \"$tmp/sig\" \"$2\" >/dev/null 2>&1 ;;\n"
    "  *) return 1 ;;\n"
    "  esac\n"
    "}\n"
    "partner=$(cat partner)\n"
    "TAB=$(printf '\\t')\n"
    "\n"
    "# 0. the key log: keys/key-0.pub.pem is the first key; each keys/rotations/N.txt is signed by the\n"
    "#    key before it (N.sig) and the key it installs (N.newsig) and names each partner's last scan\n"
    "#    under the old key (head SEQ<TAB>PARTNER): later scans must carry the new key\n"
    "nk=0; prevrec=-; : > \"$tmp/bounds\"\n"
    "rf() { sed -n \"s/^$1 //p\" \"$2\" | head -n 1; }\n"
    "for t in keys/rotations/*.txt; do\n"
    "  [ -f \"$t\" ] || continue\n"
    "  i=$((nk + 1)); b=${t%.txt}; old=keys/key-$nk.pub.pem; new=keys/key-$i.pub.pem\n"
    "  [ \"$(rf seq \"$t\")\" = \"$i\" ] || bad \"key rotation $t: says it is rotation $(rf seq \"$t\"), expected $i\"\n"
    "  [ \"$(rf previous \"$t\")\" = \"$prevrec\" ] || bad \"key rotation $i: link to the previous rotation broken\"\n"
    "  [ \"$(rf old_key \"$t\")\" = \"$(raw_b64 \"$old\")\" ] || bad \"key rotation $i: its old key is not $old\"\n"
    "  [ \"$(rf new_key \"$t\")\" = \"$(raw_b64 \"$new\")\" ] || bad \"key rotation $i: its new key is not $new\"\n"
    "  [ \"$(rf new_fingerprint \"$t\")\" = \"$(fpr \"$new\")\" ] || bad \"key rotation $i: new fingerprint mismatch\"\n"
    "  edver \"$old\" \"$t\" \"$(cat \"$b.sig\" 2>/dev/null)\" || bad \"key rotation $i: not signed by the old key $old\"\n"
    "  edver \"$new\" \"$t\" \"$(cat \"$b.newsig\" 2>/dev/null)\" || bad \"key rotation $i: not signed by the new key $new\"\n"
    "  h=$(grep '^head ' \"$t\" | cut -d' ' -f2- | while IFS=\"$TAB\" read -r hs hp; do\n"
    "    [ \"$hp\" = \"$partner\" ] && echo \"$hs\"; done | head -n 1)\n"
    "  [ -n \"$h\" ] || h=0\n"
    "  echo \"$i $h\" >> \"$tmp/bounds\"\n"
    "  ok \"key rotation $i at $(rf rotated_at \"$t\"): $(fpr \"$old\") -> $(fpr \"$new\"), after scan #$h of $partner\"\n"
    "  prevrec=$(sha \"$t\"); nk=$i\n"
    "done\n"
    "[ -f keys/key-0.pub.pem ] || bad \"keys/key-0.pub.pem missing\"\n"
    "[ \"$(raw_b64 keys/agent.pub.pem)\" = \"$(raw_b64 keys/key-$nk.pub.pem)\" ] ||\n"
    "  bad \"keys/agent.pub.pem is not the key the key log put in force (keys/key-$nk.pub.pem)\"\n"
    "\n"
    "# 1. the manifest: signed by the agent key, every file listed and intact, nothing extra\n"
    "key=keys/agent.pub.pem\n"
    "{ printf 'tenken.manifest/1\\n'; cat MANIFEST; } > \"$tmp/manifest\"\n"
    "if edver \"$key\" \"$tmp/manifest\" \"$(cat MANIFEST.sig 2>/dev/null)\"; then ok \"MANIFEST signature (agent key "
    "$(cat keys/fingerprint))\"\n"
    "else bad \"MANIFEST signature invalid or missing: the bundle was altered\"; fi\n"
    "while read -r h p; do\n"
    "  [ -f \"$p\" ] || { bad \"$p: listed in MANIFEST but missing (removed)\"; continue; }\n"
    "  [ \"$(sha \"$p\")\" = \"$h\" ] || bad \"$p: SHA-256 differs from MANIFEST (modified)\"\n"
    "done < MANIFEST\n"
    "find . -type f ! -name MANIFEST ! -name MANIFEST.sig | sed 's|^\\./||' | while read -r p; do\n"
    "  grep -q \"  $p\\$\" MANIFEST || printf 'FAIL %s: not in MANIFEST (added)\\n' \"$p\"\n"
    "done > \"$tmp/extra\"\n"
    "if [ -s \"$tmp/extra\" ]; then cat \"$tmp/extra\"; fails=$((fails + $(wc -l < \"$tmp/extra\"))); fi\n"
    "\n"
    "# 2. each report: hash, signature by the key in force for it over the chain link, link, token\n"
    "prev_seq=''; prev_sha=''; lastki=0\n"
    "tsa=''; [ -f tsa/tsa-ca.pem ] && tsa=tsa/tsa-ca.pem\n"
    "n=0\n"
    "while IFS='\t' read -r seq rsha psha run fin; do\n"
    "  [ \"$seq\" = seq ] && continue\n"
    "  n=$((n + 1)); r=reports/$(printf '%08d' \"$seq\").json; s=$r.sig\n"
    "  [ \"$psha\" = - ] && psha=''\n"
    "  if [ ! -f \"$r\" ]; then bad \"scan #$seq: $r missing (removed)\"; prev_seq=$seq; prev_sha=$rsha; continue; fi\n"
    "  got=$(sha \"$r\")\n"
    "  [ \"$got\" = \"$rsha\" ] || bad \"scan #$seq: report SHA-256 $got differs from the chain's $rsha (modified)\"\n"
    "  [ -f \"$s\" ] || { bad \"scan #$seq: signature $s missing\"; continue; }\n"
    "  [ \"$(field seq \"$s\")\" = \"$seq\" ] || bad \"scan #$seq: the signature is for scan #$(field seq \"$s\") "
    "(swapped)\"\n"
    "  [ \"$(field partner \"$s\")\" = \"$partner\" ] || bad \"scan #$seq: the signature is for another partner\"\n"
    "  [ \"$(field report_sha256 \"$s\")\" = \"$got\" ] || bad \"scan #$seq: the signature covers another report "
    "(swapped or modified)\"\n"
    "  ki=0; while read -r bi bs; do [ \"$seq\" -gt \"$bs\" ] && ki=$bi; done < \"$tmp/bounds\"\n"
    "  key=keys/key-$ki.pub.pem\n"
    "  [ \"$ki\" = \"$lastki\" ] || printf 'note key changed at scan #%s (%s): %s -> %s\\n' \"$seq\" \"$fin\" "
    "\"$(fpr keys/key-$lastki.pub.pem)\" \"$(fpr \"$key\")\"\n"
    "  lastki=$ki\n"
    "  [ \"$(field public_key \"$s\")\" = \"$(raw_b64 \"$key\")\" ] || bad \"scan #$seq: signed with a key that is not "
    "$key, the key in force for it\"\n"
    "  printf 'tenken.sig/1\\n%s\\n%s\\n%s\\n%s\\n' \"$partner\" \"$seq\" \"$(field report_sha256 \"$s\")\" \"$(field "
    "previous_sha256 \"$s\")\" > \"$tmp/msg\"\n"
    "  if edver \"$key\" \"$tmp/msg\" \"$(field signature \"$s\")\"; then :; else bad \"scan #$seq: signature "
    "invalid\"; fi\n"
    "  [ \"$(field previous_sha256 \"$s\")\" = \"$psha\" ] || bad \"scan #$seq: signed link to the previous report "
    "differs from the chain\"\n"
    "  if [ -n \"$prev_seq\" ]; then\n"
    "    [ \"$seq\" -eq $((prev_seq + 1)) ] || bad \"scan #$((prev_seq + 1))..#$((seq - 1)): missing from the chain "
    "(removed)\"\n"
    "    [ \"$psha\" = \"$prev_sha\" ] || bad \"scan #$seq: chain broken: links to $psha, the previous report is "
    "$prev_sha\"\n"
    "  fi\n"
    "  if [ -f \"$r.tsr\" ]; then\n"
    "    if [ -z \"$tsa\" ]; then bad \"scan #$seq: timestamp token present but no tsa/tsa-ca.pem to check it\"\n"
    "    elif openssl ts -verify -in \"$r.tsr\" -data \"$r\" -CAfile \"$tsa\" >/dev/null 2>&1; then\n"
    "      t=$(openssl ts -reply -in \"$r.tsr\" -text 2>/dev/null | sed -n 's/^Time stamp: //p')\n"
    "      ok \"scan #$seq: signature, chain link and RFC 3161 timestamp ($t)\"; prev_seq=$seq; prev_sha=$rsha; "
    "continue\n"
    "    else bad \"scan #$seq: timestamp token invalid\"; fi\n"
    "  elif [ -n \"$tsa\" ]; then bad \"scan #$seq: timestamp token missing\"\n"
    "  fi\n"
    "  ok \"scan #$seq: signature and chain link checked\"\n"
    "  prev_seq=$seq; prev_sha=$rsha\n"
    "done < chain.tsv\n"
    "[ \"$n\" -gt 0 ] || bad \"chain.tsv lists no reports\"\n"
    "[ -n \"$tsa\" ] || printf 'note no TSA in this bundle: the reports carry no trusted timestamp\\n'\n"
    "\n"
    "# 3. checklist and rule-set hashes named by the reports\n"
    "while IFS='\t' read -r seq cl clsha rsha; do\n"
    "  [ \"$seq\" = seq ] && continue\n"
    "  grep -q \"\\\"sha256\\\":[[:space:]]*\\\"$clsha\\\"\" \"reports/$(printf %08d \"$seq\").json\" 2>/dev/null || "
    "bad \"scan #$seq: hashes.tsv checklist hash not in the report\"\n"
    "  if [ -f \"data/checklists/$cl.json\" ]; then\n"
    "    [ \"$(sha \"data/checklists/$cl.json\")\" = \"$clsha\" ] && ok \"scan #$seq: checklist $cl = "
    "data/checklists/$cl.json\" ||\n"
    "      printf 'note scan #%s: checklist %s differs from the bundled data file (another data version)\\n' \"$seq\" "
    "\"$cl\"\n"
    "  fi\n"
    "  if [ -d data/rules ]; then\n"
    "    if [ -z \"${rules_sha:-}\" ]; then\n"
    "      rules_sha=$(cd data && for f in $(find rules -type f | sort); do printf '%s\\000' \"$f\"; cat \"$f\"; done "
    "| openssl dgst -sha256 -r | cut -d' ' -f1)\n"
    "    fi\n"
    "    [ \"$rules_sha\" = \"$rsha\" ] && ok \"scan #$seq: rule set = data/rules/\" ||\n"
    "      printf 'note scan #%s: rule set %s differs from the bundled data/rules (another data version)\\n' \"$seq\" "
    "\"$rsha\"\n"
    "  fi\n"
    "done < hashes.tsv\n"
    "\n"
    "printf 'head: %s (compare with the heads you anchored: tenken history --heads)\\n' \"$(cat head)\"\n"
    "if [ \"$fails\" -eq 0 ]; then echo \"VERIFIED: $partner, $n reports\"; exit 0; fi\n"
    "echo \"NOT VERIFIED: $fails problem(s)\"; exit 1\n";

static const char verify_md_fmt[] =
	"# tenken auditor bundle: partner %s\n\n"
	"Exported %s from the history of the scanning host: %d stored scan report(s)\n"
	"(#%lld..#%lld), each byte for byte as stored, with its signature\n"
	"envelope (`.sig`) and, when a TSA was configured, its RFC 3161 timestamp token\n"
	"(`.tsr`).\n\n"
	"## Check it (openssl CLI only, no tenken)\n\n"
	"    tar xzf bundle.tar.gz && sh tenken-export-*/verify.sh\n\n"
	"Before trusting the result, compare `keys/fingerprint` (%s)\n"
	"with the agent key fingerprint the bank recorded independently (`tenken key show`),\n"
	"and `head` with the heads the bank anchored (`tenken history --heads`): the bundle\n"
	"cannot prove that newer scans did not exist.\n\n"
	"When the signing key was rotated, `keys/key-0.pub.pem` is the first key and\n"
	"`keys/rotations/` the key log: compare every fingerprint it names with the ones the\n"
	"bank recorded when it rotated (`tenken key show` lists them).\n\n"
	"## What verify.sh checks\n\n"
	"0. The key log: each `keys/rotations/N.txt` signed by the key before it (`N.sig`) and by\n"
	"   the key it installs (`N.newsig`), linked to the previous record's SHA-256, naming each\n"
	"   partner's last scan under the old key (`head SEQ<TAB>PARTNER`); scans after it must carry\n"
	"   the new key. Ed25519 keys: `openssl pkeyutl -verify -rawin`; ECDSA P-256 keys (a PKCS#11\n"
	"   token): `openssl dgst -sha256 -verify` (DER signature).\n"
	"1. `MANIFEST.sig`: over `tenken.manifest/1\\n` + `MANIFEST` by `keys/agent.pub.pem` (the key in\n"
	"   force); every file's SHA-256 against `MANIFEST`\n"
	"   (`openssl dgst -sha256`); no file missing, none added.\n"
	"2. Each report in `chain.tsv`: its SHA-256; its `.sig` envelope names this partner,\n"
	"   this seq, this hash and the key in force for that scan; the signature over\n"
	"   `tenken.sig/1\\n<partner>\\n<seq>\\n<report_sha256>\\n<previous_sha256>\\n`;\n"
	"   the link to the previous report's hash; consecutive sequence numbers;\n"
	"   the timestamp token (`openssl ts -verify -in N.json.tsr -data N.json -CAfile tsa/tsa-ca.pem`).\n"
	"3. `hashes.tsv`: the checklist and rule-set hash each report names, against the\n"
	"   bundled data files (`data/`) when this tenken still had that version.\n"
	"   Rule-set hash = SHA-256 over, for each file under `data/rules/` in byte order of\n"
	"   its name: the name `rules/...`, a NUL byte, the content.\n\n"
	"Exit status 0: every check passed; 1: a problem was found (each named on a FAIL line).\n\n"
	"## The script\n\n"
	"```sh\n%s```\n";

struct row {
	long long seq;
	char sha[65], prev[65], run_id[64], finished[32], file[512];
};

static int export_partner(struct tk_history *h, const char *partner, const char *from, const char *to, const char *out,
			  struct tk_err *err)
{
	cJSON *rows = NULL, *sig = NULL;
	const cJSON *r;
	struct tarw t;
	struct tk_buf chain, hashes, md;
	char tmp[PATH_MAX], path[PATH_MAX], name[256], fp[80], now[32], *pem = NULL, *s = NULL;
	const char *dir = tk_history_dir(h);
	long long first = 0, last = 0;
	int n = 0, rc, fd;
	struct tk_dataset ds;
	bool have_ds = false, cl_done = false, rules_done = false;

	memset(&t, 0, sizeof(t));
	tk_buf_init(&t.manifest, 16 << 20);
	tk_buf_init(&chain, 16 << 20);
	tk_buf_init(&hashes, 16 << 20);
	tk_buf_init(&md, 1 << 20);
	t.mtime = time(NULL);
	tk_rfc3339(t.mtime, now);
	snprintf(t.root, sizeof(t.root), "tenken-export-%.64s", partner);
	for (char *p = t.root; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out);
	if ((fd = mkstemp(tmp)) < 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	fchmod(fd, 0644);
	if (!(t.gz = gzdopen(fd, "wb9"))) {
		close(fd);
		rc = tk_seterr(err, TK_ERR_IO, "%s: cannot start gzip", tmp);
		goto done;
	}
	if ((rc = tk_history_list(h, partner, 0, 0, &rows, err)))
		goto done;
	tk_buf_puts(&chain, "seq\treport_sha256\tprevious_sha256 (- for none)\trun_id\tfinished_at\n");
	tk_buf_puts(&hashes, "seq\tchecklist\tchecklist_sha256\trules_sha256\n");
	have_ds = tk_dataset_open(&ds, err) == TK_OK;
	cJSON_ArrayForEach(r, rows)
	{
		char *text = NULL;
		size_t len;
		cJSON *rep;
		const cJSON *seqj = cJSON_GetObjectItemCaseSensitive(r, "seq");
		long long seq = (long long)seqj->valuedouble;
		const char *st = jstr(r, "started_at");
		char prev[65] = "";
		/* --from / --to compare the scan's start time as text: RFC 3339 UTC sorts */
		if ((from && strncmp(st, from, strlen(from)) < 0) || (to && strncmp(st, to, strlen(to)) > 0))
			continue;
		if (strstr(jstr(r, "file"), "..") || jstr(r, "file")[0] == '/') {
			rc = tk_seterr(err, TK_ERR_VERIFY, "index: scan #%lld: unsafe file path", seq);
			goto done;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, jstr(r, "file"));
		snprintf(name, sizeof(name), "reports/%08lld.json", seq);
		/* the bundle carries the report as signed: uncompressed, whatever the store keeps */
		if ((rc = tk_history_read_report(path, &text, &len, err)))
			goto done;
		rc = tar_add(&t, name, text, len, 0644, err);
		rep = cJSON_ParseWithLength(text, len);
		free(text);
		if (rc) {
			cJSON_Delete(rep);
			goto done;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".sig");
		snprintf(name, sizeof(name), "reports/%08lld.json.sig", seq);
		if ((rc = tar_add_file(&t, name, path, false, err))) {
			cJSON_Delete(rep);
			goto done;
		}
		/* the previous hash as signed */
		{
			char *st2 = NULL;
			size_t l2;
			if (tk_read_file(path, 1 << 16, &st2, &l2, err) == TK_OK) {
				cJSON_Delete(sig);
				sig = cJSON_ParseWithLength(st2, l2);
				tk_strlcpy(prev, jstr(sig, "previous_sha256"), sizeof(prev));
			}
			free(st2);
		}
		path[strlen(path) - 4] = '\0';
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".tsr");
		snprintf(name, sizeof(name), "reports/%08lld.json.tsr", seq);
		if ((rc = tar_add_file(&t, name, path, true, err))) {
			cJSON_Delete(rep);
			goto done;
		}
		tk_buf_printf(&chain, "%lld\t%s\t%s\t%s\t%s\n", seq, jstr(r, "sha256"), *prev ? prev : "-",
			      jstr(r, "run_id"), jstr(r, "finished_at"));
		{
			const cJSON *cl = cJSON_GetObjectItemCaseSensitive(rep, "checklist");
			const cJSON *tool = cJSON_GetObjectItemCaseSensitive(rep, "tool");
			tk_buf_printf(&hashes, "%lld\t%s\t%s\t%s\n", seq, jstr(cl, "id"), jstr(cl, "sha256"),
				      jstr(tool, "rules_sha256"));
			/* the data files behind those hashes, when this data set still has them */
			if (have_ds && !cl_done) {
				char cn[200];
				const struct tk_datafile *f;
				unsigned char d[32];
				char hex[65];
				snprintf(cn, sizeof(cn), "checklists/%s.json", jstr(cl, "id"));
				if ((f = tk_dataset_get(&ds, cn))) {
					tk_sha256(f->data, f->len, d);
					tk_hex(d, 32, hex);
					if (strcmp(hex, jstr(cl, "sha256")) == 0) {
						snprintf(name, sizeof(name), "data/%s", cn);
						tar_add(&t, name, f->data, f->len, 0644, err);
						cl_done = true;
					}
				}
			}
			if (have_ds && !rules_done) {
				char hex[65];
				size_t i;
				tk_dataset_hash(&ds, "rules/", hex);
				if (strcmp(hex, jstr(tool, "rules_sha256")) == 0) {
					for (i = 0; i < ds.n; i++)
						if (strncmp(ds.files[i].name, "rules/", 6) == 0) {
							snprintf(name, sizeof(name), "data/%s", ds.files[i].name);
							tar_add(&t, name, ds.files[i].data, ds.files[i].len, 0644, err);
						}
					rules_done = true;
				}
			}
		}
		cJSON_Delete(rep);
		if (!first)
			first = seq;
		last = seq;
		n++;
		if (t.rc) {
			rc = t.rc;
			goto done;
		}
	}
	if (n == 0) {
		rc = tk_seterr(err, TK_ERR_NOTFOUND, "partner %s: no stored scans%s", partner,
			       from || to ? " in that time range" : "");
		goto done;
	}
	if ((rc = tk_history_pubkey(h, &pem, fp, err)))
		goto done;
	{
		char head[256], fpl[96];
		const cJSON *lr = NULL, *x;
		cJSON_ArrayForEach(x, rows) if ((long long)cJSON_GetObjectItemCaseSensitive(x, "seq")->valuedouble ==
						last) lr = x;
		snprintf(head, sizeof(head), "scan #%lld sha256 %s finished %s\n", last, jstr(lr, "sha256"),
			 jstr(lr, "finished_at"));
		snprintf(fpl, sizeof(fpl), "%s\n", fp);
		tar_add_str(&t, "chain.tsv", chain.data, 0644, err);
		tar_add_str(&t, "hashes.tsv", hashes.data, 0644, err);
		tar_add_str(&t, "keys/agent.pub.pem", pem, 0644, err);
		/* the key log: every key, each rotation record with its two signatures */
		{
			cJSON *keys = NULL, *k;
			if ((rc = tk_history_keys(h, &keys, err)))
				goto done;
			cJSON_ArrayForEach(k, keys)
			{
				int ki = (int)cJSON_GetObjectItemCaseSensitive(k, "index")->valuedouble;
				char kname[64], src[PATH_MAX + 16];
				static const char *const ext[] = {"txt", "sig", "newsig"};
				snprintf(kname, sizeof(kname), "keys/key-%d.pub.pem", ki);
				tar_add_str(&t, kname, jstr(k, "pem"), 0644, err);
				for (int e = 0; ki > 0 && e < 3; e++) {
					snprintf(kname, sizeof(kname), "keys/rotations/%06d.%s", ki, ext[e]);
					snprintf(src, sizeof(src), "%s.%s", jstr(k, "record"), ext[e]);
					tar_add_file(&t, kname, src, false, err);
				}
			}
			cJSON_Delete(keys);
		}
		tar_add_str(&t, "keys/fingerprint", fpl, 0644, err);
		tar_add_str(&t, "head", head, 0644, err);
		snprintf(fpl, sizeof(fpl), "%s\n", partner);
		tar_add_str(&t, "partner", fpl, 0644, err);
	}
	/* the TSA's CA, from tsa.json */
	{
		char tj[PATH_MAX], *text = NULL;
		size_t len;
		cJSON *j = NULL;
		snprintf(tj, sizeof(tj), "%s/tsa.json", dir);
		if (access(tj, F_OK) == 0 && tk_read_file(tj, 1 << 16, &text, &len, err) == TK_OK &&
		    (j = cJSON_ParseWithLength(text, len)) && *jstr(j, "ca_file")) {
			if (jstr(j, "ca_file")[0] == '/')
				snprintf(path, sizeof(path), "%s", jstr(j, "ca_file"));
			else
				snprintf(path, sizeof(path), "%s/%s", dir, jstr(j, "ca_file"));
			tar_add_file(&t, "tsa/tsa-ca.pem", path, false, err);
		}
		cJSON_Delete(j);
		free(text);
	}
	tk_buf_printf(&md, verify_md_fmt, partner, now, n, first, last, fp, verify_sh);
	tar_add_str(&t, "VERIFY.md", md.data, 0644, err);
	tar_add(&t, "verify.sh", verify_sh, sizeof(verify_sh) - 1, 0755, err);
	if (t.rc) {
		rc = t.rc;
		goto done;
	}
	/* MANIFEST and its signature by the agent key */
	{
		char *b64 = NULL;
		size_t slen = 0;
		struct tk_buf msg;
		tk_buf_init(&msg, 17 << 20);
		rc = tk_buf_puts(&msg, "tenken.manifest/1\n");
		rc = rc ? rc : tk_buf_append(&msg, t.manifest.data, t.manifest.len);
		rc = rc ? tk_seterr(err, rc, "bundle: manifest too large")
			: tk_history_sign(h, msg.data, msg.len, &b64, &slen, err);
		tk_buf_free(&msg);
		if (rc)
			goto done;
		tar_add(&t, "MANIFEST", t.manifest.data, t.manifest.len, 0644, err);
		tar_add(&t, "MANIFEST.sig", b64, slen, 0644, err);
		free(b64);
	}
	{
		static const unsigned char end[1024];
		if (!t.rc && gzwrite(t.gz, end, sizeof(end)) != (int)sizeof(end))
			t.rc = tk_seterr(err, TK_ERR_IO, "bundle: write failed");
	}
	if (t.rc) {
		rc = t.rc;
		goto done;
	}
	if (gzclose(t.gz) != Z_OK) {
		t.gz = NULL;
		rc = tk_seterr(err, TK_ERR_IO, "%s: gzip close failed", tmp);
		goto done;
	}
	t.gz = NULL;
	if (rename(tmp, out) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", out, strerror(errno));
		goto done;
	}
	tmp[0] = '\0';
	printf("tenken: exported %d report%s of %s (#%lld..#%lld) to %s\n", n, n == 1 ? "" : "s", partner, first, last, out);
done:
	if (t.gz)
		gzclose(t.gz);
	if (tmp[0])
		unlink(tmp);
	if (have_ds)
		tk_dataset_close(&ds);
	tk_buf_free(&t.manifest);
	tk_buf_free(&chain);
	tk_buf_free(&hashes);
	tk_buf_free(&md);
	cJSON_Delete(rows);
	cJSON_Delete(sig);
	free(pem);
	free(s);
	return rc;
}

int tk_cmd_export(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken export PARTNER --out BUNDLE.tar.gz [--from TIME] [--to TIME] [--state DIR]\n\n"
		"An auditor bundle: the partner's stored reports (started within --from..--to,\n"
		"RFC 3161 prefixes such as 2026-01 or 2026-01-31 work), their signatures and\n"
		"timestamp tokens, the chain, the public key, checklist and rule-set hashes\n"
		"with their data files, and VERIFY.md with verify.sh: a POSIX sh script that\n"
		"checks everything with the openssl CLI alone.\n";
	static const struct option lo[] = {
	    {"state", required_argument, NULL, 'S'}, {"out", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, 'F'},  {"to", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	const char *state = NULL, *out = NULL, *from = NULL, *to = NULL;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	char *dir = NULL;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "S:o:F:T:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'o': out = optarg; break;
		case 'F': from = optarg; break;
		case 'T': to = optarg; break;
		case 'h': fputs(usage, stdout); return TK_EXIT_OK;
		default: fputs(usage, stderr); return TK_EXIT_USAGE;
		}
	}
	if (!out || optind + 1 != argc) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if (tk_history_state_dir(state, &dir, &err) || tk_history_open(dir, false, &h, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		free(dir);
		return TK_EXIT_USAGE;
	}
	rc = export_partner(h, argv[optind], from, to, out, &err);
	if (rc)
		fprintf(stderr, "tenken: export: %s\n", err.msg);
	tk_history_close(h);
	free(dir);
	return rc == TK_OK ? TK_EXIT_OK : rc == TK_ERR_NOTFOUND ? TK_EXIT_USAGE : TK_EXIT_ERROR;
}
