/*
 * cond.c - the rule condition language.
 *
 *   {"all": [C, ...]}  {"any": [C, ...]}  {"not": C}
 *   {"path": "a.b", OP: V}   OP in eq ne lt le gt ge in contains prefix exists
 *   {"path": "list", "some": C}  {"path": "list", "every": C}   (C sees each element)
 *
 * V is a JSON literal or {"param": "name"} (a rule parameter). A comparison on
 * a missing field is false (ne too); test absence with {"exists": false}.
 * lt/le/gt/ge compare numbers numerically and strings bytewise.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

#define COND_MAX_DEPTH 32

static const char *const cmp_ops[] = {"eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "prefix",
				       "exists", "some", "every", NULL};

const char *tk_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

int tk_json_set(cJSON *obj, const char *key, cJSON *val)
{
	if (!val)
		return TK_ERR_NOMEM;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val) ? TK_OK : TK_ERR_NOMEM;
	return cJSON_AddItemToObject(obj, key, val) ? TK_OK : TK_ERR_NOMEM;
}

const cJSON *tk_json_path(const cJSON *obj, const char *path)
{
	char seg[256];
	const char *p = path;
	const cJSON *cur = obj;
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (cJSON_IsArray(cur)) {
			long long idx;
			if (tk_parse_ll(seg, 0, 1 << 30, &idx))
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
		} else if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
		} else {
			return NULL;
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

static int validate(const cJSON *c, const cJSON *params, const char *where, const char *at, int depth,
		    struct tk_err *err);

static int validate_operand(const cJSON *v, const char *op, const cJSON *params, const char *where,
			    const char *at, struct tk_err *err)
{
	if (cJSON_IsObject(v)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "param");
		if (!cJSON_IsString(p) || cJSON_GetArraySize(v) != 1)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.%s: an object operand must be {\"param\": NAME}",
					 where, at, op);
		if (!cJSON_GetObjectItemCaseSensitive(params, p->valuestring))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.%s: unknown parameter \"%s\"", where, at, op,
					 p->valuestring);
		return TK_OK;
	}
	if (strcmp(op, "in") == 0 && !cJSON_IsArray(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.in: expected an array", where, at);
	if (strcmp(op, "exists") == 0 && !cJSON_IsBool(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.exists: expected true or false", where, at);
	if ((strcmp(op, "lt") == 0 || strcmp(op, "le") == 0 || strcmp(op, "gt") == 0 ||
	     strcmp(op, "ge") == 0) && !cJSON_IsNumber(v) && !cJSON_IsString(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.%s: expected a number or string", where, at, op);
	if (strcmp(op, "prefix") == 0 && !cJSON_IsString(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.prefix: expected a string", where, at);
	return TK_OK;
}

static int validate(const cJSON *c, const cJSON *params, const char *where, const char *at, int depth,
		    struct tk_err *err)
{
	const cJSON *v;
	char sub[512];
	int rc, i = 0;
	if (depth > COND_MAX_DEPTH)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: nested too deeply", where, at);
	if (!cJSON_IsObject(c))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: a condition must be an object", where, at);
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "all")) || (v = cJSON_GetObjectItemCaseSensitive(c, "any"))) {
		const cJSON *e;
		if (cJSON_GetArraySize(c) != 1)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: \"%s\" must be the only key", where, at,
					 v->string);
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.%s: expected a non-empty array", where, at,
					 v->string);
		cJSON_ArrayForEach(e, v)
		{
			snprintf(sub, sizeof(sub), "%s.%s[%d]", at, v->string, i++);
			if ((rc = validate(e, params, where, sub, depth + 1, err)))
				return rc;
		}
		return TK_OK;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "not"))) {
		if (cJSON_GetArraySize(c) != 1)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: \"not\" must be the only key", where, at);
		snprintf(sub, sizeof(sub), "%s.not", at);
		return validate(v, params, where, sub, depth + 1, err);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "path"))) {
		const cJSON *op = NULL, *e;
		size_t k;
		if (!cJSON_IsString(v) || !*v->valuestring)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.path: expected a non-empty string", where, at);
		cJSON_ArrayForEach(e, c)
		{
			bool known = false;
			if (strcmp(e->string, "path") == 0)
				continue;
			for (k = 0; cmp_ops[k]; k++)
				if (strcmp(e->string, cmp_ops[k]) == 0)
					known = true;
			if (!known)
				return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: unknown operator \"%s\"", where, at,
						 e->string);
			if (op)
				return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: more than one operator (%s, %s)", where,
						 at, op->string, e->string);
			op = e;
		}
		if (!op)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: \"path\" without an operator", where, at);
		if (strcmp(op->string, "some") == 0 || strcmp(op->string, "every") == 0) {
			snprintf(sub, sizeof(sub), "%s.%s", at, op->string);
			return validate(op, params, where, sub, depth + 1, err);
		}
		return validate_operand(op, op->string, params, where, at, err);
	}
	return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: expected one of all, any, not, path", where, at);
}

int tk_cond_validate(const cJSON *cond, const cJSON *params, const char *where, struct tk_err *err)
{
	return validate(cond, params, where, "condition", 0, err);
}

static const cJSON *resolve(const cJSON *v, const cJSON *params)
{
	if (cJSON_IsObject(v)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "param");
		return cJSON_IsString(p) ? cJSON_GetObjectItemCaseSensitive(params, p->valuestring) : NULL;
	}
	return v;
}

static bool json_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, true);
}

/* -2 when incomparable */
static int compare(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b)) {
		int r = strcmp(a->valuestring, b->valuestring);
		return r < 0 ? -1 : r > 0;
	}
	return -2;
}

static bool eval(const cJSON *c, const cJSON *obs, const cJSON *params, int depth)
{
	const cJSON *v, *e, *op = NULL, *val, *rhs;
	if (depth > COND_MAX_DEPTH || !cJSON_IsObject(c))
		return false;
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "all"))) {
		cJSON_ArrayForEach(e, v) if (!eval(e, obs, params, depth + 1)) return false;
		return true;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "any"))) {
		cJSON_ArrayForEach(e, v) if (eval(e, obs, params, depth + 1)) return true;
		return false;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "not")))
		return !eval(v, obs, params, depth + 1);
	v = cJSON_GetObjectItemCaseSensitive(c, "path");
	if (!cJSON_IsString(v))
		return false;
	cJSON_ArrayForEach(e, c) if (strcmp(e->string, "path") != 0) op = e;
	if (!op)
		return false;
	val = tk_json_path(obs, v->valuestring);
	if (strcmp(op->string, "exists") == 0)
		return (val != NULL && !cJSON_IsNull(val)) == cJSON_IsTrue(op);
	if (strcmp(op->string, "some") == 0 || strcmp(op->string, "every") == 0) {
		bool some = op->string[0] == 's';
		if (!cJSON_IsArray(val))
			return false;
		cJSON_ArrayForEach(e, val)
		{
			bool r = eval(op, e, params, depth + 1);
			if (some && r)
				return true;
			if (!some && !r)
				return false;
		}
		return !some;
	}
	if (!val)
		return false;
	rhs = resolve(op, params);
	if (!rhs)
		return false;
	if (strcmp(op->string, "eq") == 0)
		return json_equal(val, rhs);
	if (strcmp(op->string, "ne") == 0)
		return !json_equal(val, rhs);
	if (strcmp(op->string, "in") == 0) {
		cJSON_ArrayForEach(e, rhs) if (json_equal(val, e)) return true;
		return false;
	}
	if (strcmp(op->string, "contains") == 0) {
		if (cJSON_IsArray(val)) {
			cJSON_ArrayForEach(e, val) if (json_equal(e, rhs)) return true;
			return false;
		}
		if (cJSON_IsString(val) && cJSON_IsString(rhs))
			return strstr(val->valuestring, rhs->valuestring) != NULL;
		return false;
	}
	if (strcmp(op->string, "prefix") == 0)
		return cJSON_IsString(val) && cJSON_IsString(rhs) &&
		       strncmp(val->valuestring, rhs->valuestring, strlen(rhs->valuestring)) == 0;
	{
		int r = compare(val, rhs);
		if (r == -2)
			return false;
		if (strcmp(op->string, "lt") == 0)
			return r < 0;
		if (strcmp(op->string, "le") == 0)
			return r <= 0;
		if (strcmp(op->string, "gt") == 0)
			return r > 0;
		if (strcmp(op->string, "ge") == 0)
			return r >= 0;
	}
	return false;
}

bool tk_cond_eval(const cJSON *cond, const cJSON *obs, const cJSON *params)
{
	return eval(cond, obs, params, 0);
}

static void add_path(cJSON *paths, const char *p)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, paths) if (strcmp(e->valuestring, p) == 0) return;
	cJSON_AddItemToArray(paths, cJSON_CreateString(p));
}

static void collect_paths(const cJSON *c, cJSON *paths, int depth)
{
	const cJSON *v, *e;
	if (depth > COND_MAX_DEPTH || !cJSON_IsObject(c))
		return;
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "all")) || (v = cJSON_GetObjectItemCaseSensitive(c, "any"))) {
		cJSON_ArrayForEach(e, v) collect_paths(e, paths, depth + 1);
		return;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "not"))) {
		collect_paths(v, paths, depth + 1);
		return;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(c, "path")) && cJSON_IsString(v))
		add_path(paths, v->valuestring); /* some/every: the whole list is the evidence */
}

void tk_cond_paths(const cJSON *cond, cJSON *paths)
{
	collect_paths(cond, paths, 0);
}
