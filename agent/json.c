/* json.c - config helpers: typed getters whose errors name file and JSON path. */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tk_cfg_err(struct tk_err *err, const struct tk_cfgctx *cc, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path && *path)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: %s", cc && cc->file ? cc->file : "config",
				 path, msg);
	return tk_seterr(err, TK_ERR_CONFIG, "%s: %s", cc && cc->file ? cc->file : "config", msg);
}

void tk_path_key(char *out, size_t size, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(out, size, "%s.%s", parent, key);
	else
		snprintf(out, size, "%s", key);
}

void tk_path_idx(char *out, size_t size, const char *parent, size_t idx)
{
	snprintf(out, size, "%s[%zu]", parent ? parent : "", idx);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "invalid";
}

int tk_cfg_check_keys(const cJSON *obj, const char *const *allowed, const struct tk_cfgctx *cc,
		      const char *path, struct tk_err *err)
{
	const cJSON *it;
	char p[512];
	if (!cJSON_IsObject(obj))
		return tk_cfg_err(err, cc, path, "expected an object, got %s", type_name(obj));
	cJSON_ArrayForEach(it, obj)
	{
		size_t i;
		int found = 0;
		const cJSON *dup;
		for (i = 0; allowed[i]; i++)
			if (it->string && strcmp(it->string, allowed[i]) == 0)
				found = 1;
		tk_path_key(p, sizeof(p), path, it->string ? it->string : "?");
		if (!found) {
			char list[384] = "";
			size_t len = 0;
			for (i = 0; allowed[i] && len < sizeof(list) - 40; i++) {
				int w = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
						 allowed[i]);
				if (w > 0)
					len += (size_t)w;
			}
			return tk_cfg_err(err, cc, p, "unknown key (expected one of: %s)", list);
		}
		for (dup = it->next; dup; dup = dup->next)
			if (dup->string && strcmp(dup->string, it->string) == 0)
				return tk_cfg_err(err, cc, p, "duplicate key");
	}
	return TK_OK;
}

int tk_cfg_string(const cJSON *obj, const char *key, bool required, const char **out,
		  const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];
	tk_path_key(p, sizeof(p), path, key);
	if (!v) {
		if (required)
			return tk_cfg_err(err, cc, p, "required string is missing");
		return TK_OK;
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return tk_cfg_err(err, cc, p, "expected a string, got %s", type_name(v));
	if (required && !*v->valuestring)
		return tk_cfg_err(err, cc, p, "must not be empty");
	*out = v->valuestring;
	return TK_OK;
}

int tk_cfg_int(const cJSON *obj, const char *key, bool required, long long min, long long max,
	       long long *out, const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];
	double d;
	tk_path_key(p, sizeof(p), path, key);
	if (!v) {
		if (required)
			return tk_cfg_err(err, cc, p, "required number is missing");
		return TK_OK;
	}
	if (!cJSON_IsNumber(v))
		return tk_cfg_err(err, cc, p, "expected an integer, got %s", type_name(v));
	d = v->valuedouble;
	if (d != (double)(long long)d)
		return tk_cfg_err(err, cc, p, "expected an integer, got %g", d);
	if (d < (double)min || d > (double)max)
		return tk_cfg_err(err, cc, p, "%lld out of range (%lld-%lld)", (long long)d, min, max);
	*out = (long long)d;
	return TK_OK;
}

int tk_cfg_bool(const cJSON *obj, const char *key, bool required, bool *out,
		const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];
	tk_path_key(p, sizeof(p), path, key);
	if (!v) {
		if (required)
			return tk_cfg_err(err, cc, p, "required boolean is missing");
		return TK_OK;
	}
	if (!cJSON_IsBool(v))
		return tk_cfg_err(err, cc, p, "expected true or false, got %s", type_name(v));
	*out = cJSON_IsTrue(v);
	return TK_OK;
}

int tk_cfg_array(const cJSON *obj, const char *key, bool required_nonempty, const cJSON **out,
		 const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];
	tk_path_key(p, sizeof(p), path, key);
	if (!v) {
		if (required_nonempty)
			return tk_cfg_err(err, cc, p, "required array is missing");
		return TK_OK;
	}
	if (!cJSON_IsArray(v))
		return tk_cfg_err(err, cc, p, "expected an array, got %s", type_name(v));
	if (required_nonempty && cJSON_GetArraySize(v) == 0)
		return tk_cfg_err(err, cc, p, "must not be empty");
	*out = v;
	return TK_OK;
}

void tk_strv_free(char **v)
{
	size_t i;
	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int tk_cfg_strings(const cJSON *obj, const char *key, bool required_nonempty, char ***out, size_t *n,
		   const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const cJSON *arr = NULL, *it;
	char p[512], ip[560];
	char **v = NULL;
	size_t i = 0;
	int rc;
	*out = NULL;
	if (n)
		*n = 0;
	if ((rc = tk_cfg_array(obj, key, required_nonempty, &arr, cc, path, err)))
		return rc;
	if (!arr)
		return TK_OK;
	tk_path_key(p, sizeof(p), path, key);
	v = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*v));
	if (!v)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		tk_path_idx(ip, sizeof(ip), p, i);
		if (!cJSON_IsString(it) || !it->valuestring || !*it->valuestring) {
			tk_strv_free(v);
			return tk_cfg_err(err, cc, ip, "expected a non-empty string, got %s",
					  cJSON_IsString(it) ? "an empty string" : type_name(it));
		}
		if (!(v[i] = strdup(it->valuestring))) {
			tk_strv_free(v);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		i++;
	}
	*out = v;
	if (n)
		*n = i;
	return TK_OK;
}

char *tk_cfg_resolve(const struct tk_cfgctx *cc, const char *rel)
{
	return tk_path_join(cc ? cc->base_dir : NULL, rel);
}

int tk_cfg_resolve_shown(const struct tk_cfgctx *cc, const char *rel, char **path, char **shown,
			 struct tk_err *err)
{
	*path = tk_cfg_resolve(cc, rel);
	*shown = strdup(rel);
	if (*path && *shown)
		return TK_OK;
	free(*path);
	free(*shown);
	*path = *shown = NULL;
	return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
}

int tk_targets_add(cJSON *list, const void *base, size_t n, size_t size, size_t member)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const char *s;
		cJSON *v;
		memcpy(&s, (const char *)base + i * size + member, sizeof(s));
		if (!(v = cJSON_CreateString(s ? s : "")) || !cJSON_AddItemToArray(list, v)) {
			cJSON_Delete(v);
			return TK_ERR_NOMEM;
		}
	}
	return TK_OK;
}

static tk_data_read_fn data_reader;

void tk_cfg_set_data_reader(tk_data_read_fn fn)
{
	data_reader = fn;
}

tk_data_read_fn tk_cfg_data_reader(void)
{
	return data_reader;
}

int tk_cfg_data(const struct tk_cfgctx *cc, const char *name, char **text, size_t *len, struct tk_err *err)
{
	*text = NULL;
	*len = 0;
	if (!cc || !cc->data)
		return tk_seterr(err, TK_ERR_NOTFOUND, "no rules data set to read %s from", name);
	return cc->data(name, text, len, err);
}
