/* data.c - the embedded data set, or a directory override. */
#include "data.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct tk_datafile *)a)->name, ((const struct tk_datafile *)b)->name);
}

static int load_dir(struct tk_dataset *ds, const char *root, struct tk_err *err)
{
	static const char *const subdirs[] = {"checklists", "rules", "profiles", "tables"};
	size_t cap = 0, k;
	int rc = TK_OK;
	for (k = 0; k < TK_ARRAY_LEN(subdirs); k++) {
		char dpath[1024];
		DIR *d;
		struct dirent *e;
		snprintf(dpath, sizeof(dpath), "%s/%s", root, subdirs[k]);
		if (!(d = opendir(dpath)))
			continue;
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			char rel[512], full[1600];
			char *buf = NULL;
			size_t len = 0;
			if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", subdirs[k], e->d_name);
			snprintf(full, sizeof(full), "%s/%s", root, rel);
			if ((rc = tk_read_file(full, 64u << 20, &buf, &len, err))) {
				closedir(d);
				return rc;
			}
			if (ds->n == cap) {
				struct tk_datafile *nf;
				cap = cap ? cap * 2 : 16;
				nf = realloc(ds->files, cap * sizeof(*nf));
				if (!nf) {
					free(buf);
					closedir(d);
					return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				}
				ds->files = nf;
			}
			ds->files[ds->n].name = strdup(rel);
			ds->files[ds->n].data = (unsigned char *)buf;
			ds->files[ds->n].len = len;
			ds->n++;
		}
		closedir(d);
	}
	return rc;
}

int tk_dataset_open(struct tk_dataset *ds, struct tk_err *err)
{
	const char *dir = getenv("TENKEN_DATA_DIR");
	int rc;
	memset(ds, 0, sizeof(*ds));
	if (dir && *dir) {
		ds->owned = true;
		snprintf(ds->origin, sizeof(ds->origin), "%s", dir);
		if ((rc = load_dir(ds, dir, err))) {
			tk_dataset_close(ds);
			return rc;
		}
		if (ds->n == 0) {
			tk_dataset_close(ds);
			return tk_seterr(err, TK_ERR_NOTFOUND, "TENKEN_DATA_DIR=%s: no data files found", dir);
		}
	} else {
		size_t n = 0;
		while (tk_embedded_data[n].name)
			n++;
		ds->files = calloc(n ? n : 1, sizeof(*ds->files));
		if (!ds->files)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		memcpy(ds->files, tk_embedded_data, n * sizeof(*ds->files));
		ds->n = n;
		snprintf(ds->origin, sizeof(ds->origin), "embedded");
	}
	qsort(ds->files, ds->n, sizeof(*ds->files), cmp_file);
	tk_dataset_hash(ds, "", ds->sha256);
	return TK_OK;
}

void tk_dataset_close(struct tk_dataset *ds)
{
	size_t i;
	if (!ds)
		return;
	if (ds->owned) {
		for (i = 0; i < ds->n; i++) {
			free((char *)ds->files[i].name);
			free((unsigned char *)ds->files[i].data);
		}
	}
	free(ds->files);
	memset(ds, 0, sizeof(*ds));
}

const struct tk_datafile *tk_dataset_get(const struct tk_dataset *ds, const char *name)
{
	size_t i;
	for (i = 0; i < ds->n; i++)
		if (strcmp(ds->files[i].name, name) == 0)
			return &ds->files[i];
	return NULL;
}

void tk_dataset_hash(const struct tk_dataset *ds, const char *prefix, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[32];
	unsigned int hl = 32;
	size_t i, pl = strlen(prefix);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (i = 0; i < ds->n; i++) {
		if (strncmp(ds->files[i].name, prefix, pl) != 0)
			continue;
		EVP_DigestUpdate(md, ds->files[i].name, strlen(ds->files[i].name) + 1);
		EVP_DigestUpdate(md, ds->files[i].data, ds->files[i].len);
	}
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	tk_hex(h, 32, out);
}

int tk_dataset_read(const char *name, char **text, size_t *len, struct tk_err *err)
{
	struct tk_dataset ds;
	const struct tk_datafile *f;
	int rc;
	*text = NULL;
	*len = 0;
	if ((rc = tk_dataset_open(&ds, err)))
		return rc;
	if (!(f = tk_dataset_get(&ds, name)))
		rc = tk_seterr(err, TK_ERR_NOTFOUND, "rules data (%s) has no %s", ds.origin, name);
	else if (!(*text = malloc(f->len + 1)))
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	else {
		memcpy(*text, f->data, f->len);
		(*text)[f->len] = '\0';
		*len = f->len;
	}
	tk_dataset_close(&ds);
	return rc;
}
