/*
 * aws_ec2.c - EC2 network exposure and EBS posture of one AWS account in one
 * region (FISC 26, 27, 30 / card 25, 26, 29): security groups and network
 * ACLs that let the whole Internet (0.0.0.0/0, ::/0) reach administration or
 * database ports, EBS snapshots of the account that anyone may restore, and
 * EBS encryption by default. One "cloud_network" observation per account;
 * every call that fails marks the fields it feeds unobserved (cloud_unobs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "cloudaws.h"

#define EC2_VERSION "2016-11-15"
#define EC2_MAX_PAGES 50          /* pages of 1000 per Describe call */
#define EC2_MAX_LIST 50           /* strings kept per list in the observation */
#define EC2_MAX_SNAP_ATTR 500     /* snapshots whose createVolumePermission is read */
#define EC2_MAX_NACL_ENTRIES 256  /* ingress entries per network ACL (AWS allows 40) */

enum { PORT_ADMIN, PORT_DB };

struct ec2_port {
	int port;
	int cls;
	bool udp; /* also judged over UDP */
};

/* Administration (remote operation, 003 通番26 注3②) and database ports. */
static const struct ec2_port ec2_ports[] = {
	{21, PORT_ADMIN, false},    {22, PORT_ADMIN, false},   {23, PORT_ADMIN, false},   {445, PORT_ADMIN, false},
	{512, PORT_ADMIN, false},   {513, PORT_ADMIN, false},  {514, PORT_ADMIN, false},  {2049, PORT_ADMIN, false},
	{3389, PORT_ADMIN, false},  {5900, PORT_ADMIN, false}, {5985, PORT_ADMIN, false}, {5986, PORT_ADMIN, false},
	{1433, PORT_DB, false},     {1521, PORT_DB, false},    {3306, PORT_DB, false},    {5432, PORT_DB, false},
	{5984, PORT_DB, false},     {6379, PORT_DB, false},    {9042, PORT_DB, false},    {9200, PORT_DB, false},
	{9300, PORT_DB, false},     {11211, PORT_DB, true},    {27017, PORT_DB, false},   {27018, PORT_DB, false},
};
#define EC2_NPORTS (sizeof(ec2_ports) / sizeof(ec2_ports[0]))

struct ec2 {
	struct tk_aws_account *aws;
	struct tk_runctx *ctx;
	const char *region;
};

/* A bounded list of strings and its full count. */
struct ec2_list {
	cJSON *arr;
	long count;
};

static void list_add(struct ec2_list *l, const char *s)
{
	l->count++;
	if (cJSON_GetArraySize(l->arr) < EC2_MAX_LIST)
		cJSON_AddItemToArray(l->arr, cJSON_CreateString(s));
}

/* Adds NAME (the list), NAME_count and NAME_truncated to o; l->arr is consumed. */
static void list_emit(cJSON *o, const char *name, struct ec2_list *l)
{
	char key[96];
	cJSON_AddItemToObject(o, name, l->arr);
	l->arr = NULL;
	snprintf(key, sizeof(key), "%s_count", name);
	cJSON_AddNumberToObject(o, key, (double)l->count);
	snprintf(key, sizeof(key), "%s_truncated", name);
	cJSON_AddBoolToObject(o, key, l->count > EC2_MAX_LIST);
}

/* An AWS id we put in a request or a list: [a-z0-9-], 1..64 bytes. */
static bool ec2_id_ok(const char *s)
{
	return s && *s && strlen(s) <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* A CIDR whose prefix length is 0: the whole IPv4 or IPv6 Internet. */
static bool cidr_world(const char *c)
{
	size_t n = c ? strlen(c) : 0;
	return n > 2 && strcmp(c + n - 2, "/0") == 0;
}

/* Protocol of a rule: 6 tcp, 17 udp, -1 all, 0 other (icmp...); -2 malformed. */
static int proto_of(const char *p)
{
	long long n;
	if (!p)
		return -2;
	if (strcmp(p, "-1") == 0 || strcmp(p, "all") == 0)
		return -1;
	if (strcmp(p, "tcp") == 0)
		return 6;
	if (strcmp(p, "udp") == 0)
		return 17;
	if (tk_parse_ll(p, 0, 255, &n) == TK_OK)
		return n == 6 || n == 17 ? (int)n : 0;
	return strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(p) && *p ? 0 : -2;
}

static bool proto_covers(int proto, bool udp)
{
	return proto == -1 || proto == (udp ? 17 : 6);
}

/* from..to of a tcp/udp rule into *lo, *hi; all ports when both are absent or -1. */
static int port_range(const char *from, const char *to, long long *lo, long long *hi)
{
	if (!from && !to) {
		*lo = 0;
		*hi = 65535;
		return TK_OK;
	}
	if (!from || !to || tk_parse_ll(from, -1, 65535, lo) || tk_parse_ll(to, -1, 65535, hi))
		return TK_ERR_PROTOCOL;
	if (*lo == -1 || *hi == -1) {
		*lo = 0;
		*hi = 65535;
	}
	return TK_OK;
}

/* The first item of the list element `set` under n (NULL: empty); *missing when `set` is absent. */
static const struct tk_xml_node *items_of(const struct tk_xml_node *n, const char *set, bool *missing)
{
	const struct tk_xml_node *s = tk_xml_find(n, set);
	*missing = s == NULL;
	return s ? tk_xml_find(s, "item") : NULL;
}

typedef int (*ec2_page_fn)(const struct tk_xml_node *doc, void *arg, struct tk_err *err);

/*
 * One Describe call over its NextToken pages (at most EC2_MAX_PAGES); fn sees
 * each page's document. *more is set when pages were left unread.
 */
static int ec2_pages(struct ec2 *e, const char *action, const char *params, ec2_page_fn fn, void *arg, bool *more,
		     struct tk_err *err)
{
	char *token = NULL;
	int rc = TK_OK, page;
	*more = false;
	for (page = 0; page < EC2_MAX_PAGES; page++) {
		struct tk_xml_node *doc = NULL;
		struct tk_buf p;
		const char *next;
		tk_buf_init(&p, 16384);
		if (tk_buf_printf(&p, "%s&MaxResults=1000%s%s", params, token ? "&NextToken=" : "",
				  token ? token : "")) {
			tk_buf_free(&p);
			rc = tk_seterr(err, TK_ERR_LIMIT, "ec2 %s: request too large", action);
			break;
		}
		rc = tk_aws_query_in(e->aws, e->region, "ec2", EC2_VERSION, action, p.data,
				     tk_run_remaining_ms(e->ctx, 60000), &doc, err);
		tk_buf_free(&p);
		free(token);
		token = NULL;
		if (rc) {
			tk_err_prefix(err, "region %s", e->region);
			break;
		}
		if ((rc = fn(doc, arg, err))) {
			tk_err_prefix(err, "ec2 %s (%s)", action, e->region);
			tk_xml_free(doc);
			break;
		}
		next = tk_xml_text(doc, "nextToken");
		if (next && *next) {
			if (strlen(next) > 4096 || !(token = tk_uri_encode(next, false))) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL, "ec2 %s (%s): nextToken too long", action,
					       e->region);
				tk_xml_free(doc);
				break;
			}
		}
		tk_xml_free(doc);
		if (!token || tk_run_cancelled(e->ctx))
			break;
	}
	if (!rc && token)
		*more = true;
	free(token);
	return rc;
}

/* ---- security groups ---- */

struct sg_scan {
	struct ec2_list admin, db;
	long groups;
};

static int sg_page(const struct tk_xml_node *doc, void *arg, struct tk_err *err)
{
	struct sg_scan *s = arg;
	bool missing;
	const struct tk_xml_node *g = items_of(doc, "securityGroupInfo", &missing);
	if (missing)
		return tk_seterr(err, TK_ERR_PROTOCOL, "the answer has no securityGroupInfo");
	for (; g; g = tk_xml_next_same(g)) {
		const char *id = tk_xml_text(g, "groupId");
		const struct tk_xml_node *perm;
		if (!ec2_id_ok(id))
			return tk_seterr(err, TK_ERR_PROTOCOL, "a security group without a well-formed groupId");
		s->groups++;
		for (perm = items_of(g, "ipPermissions", &missing); perm; perm = tk_xml_next_same(perm)) {
			int proto = proto_of(tk_xml_text(perm, "ipProtocol"));
			long long lo, hi;
			const struct tk_xml_node *r;
			if (proto == -2 ||
			    port_range(tk_xml_text(perm, "fromPort"), tk_xml_text(perm, "toPort"), &lo, &hi))
				return tk_seterr(err, TK_ERR_PROTOCOL, "%s: a rule with a malformed protocol or port",
						 id);
			if (proto == 0)
				continue;
			if (proto == -1) {
				lo = 0;
				hi = 65535;
			}
			for (int fam = 0; fam < 2; fam++) {
				r = items_of(perm, fam ? "ipv6Ranges" : "ipRanges", &missing);
				for (; r; r = tk_xml_next_same(r)) {
					const char *cidr = tk_xml_text(r, fam ? "cidrIpv6" : "cidrIp");
					if (!cidr_world(cidr))
						continue;
					for (size_t i = 0; i < EC2_NPORTS; i++) {
						const struct ec2_port *pt = &ec2_ports[i];
						for (int u = 0; u <= (pt->udp ? 1 : 0); u++) {
							char line[200];
							if (!proto_covers(proto, u) || pt->port < lo || pt->port > hi)
								continue;
							snprintf(line, sizeof(line), "%s %d/%s %s%s", id, pt->port,
								 u ? "udp" : "tcp", cidr,
								 proto == -1 ? " (all traffic)"
								 : lo != hi  ? " (port range)"
									     : "");
							list_add(pt->cls == PORT_ADMIN ? &s->admin : &s->db, line);
						}
					}
				}
			}
		}
	}
	return TK_OK;
}

static void ec2_security_groups(struct ec2 *e, cJSON *o)
{
	struct sg_scan s = {{cJSON_CreateArray(), 0}, {cJSON_CreateArray(), 0}, 0};
	struct tk_err err = {0};
	bool more = false;
	if (ec2_pages(e, "DescribeSecurityGroups", "", sg_page, &s, &more, &err)) {
		cJSON_AddStringToObject(o, "security_groups_error", err.msg);
		cloud_unobs(o, "sg_world_admin_count", err.msg);
		cloud_unobs(o, "sg_world_db_count", err.msg);
		cJSON_Delete(s.admin.arr);
		cJSON_Delete(s.db.arr);
		return;
	}
	cJSON_AddNumberToObject(o, "security_groups", (double)s.groups);
	if (more) {
		snprintf(err.msg, sizeof(err.msg), "ec2 DescribeSecurityGroups (%s): more than %d pages, the rest unread",
			 e->region, EC2_MAX_PAGES);
		cJSON_AddStringToObject(o, "security_groups_error", err.msg);
		if (!s.admin.count) /* a finding on the pages read stands; its absence does not */
			cloud_unobs(o, "sg_world_admin_count", err.msg);
		if (!s.db.count)
			cloud_unobs(o, "sg_world_db_count", err.msg);
	}
	list_emit(o, "sg_world_admin", &s.admin);
	list_emit(o, "sg_world_db", &s.db);
}

/* ---- network ACLs ---- */

struct nacl_entry {
	long long rule, lo, hi;
	int proto;
	bool allow;
	char cidr[64];
	bool v6;
};

static int nacl_cmp(const void *a, const void *b)
{
	const struct nacl_entry *x = a, *y = b;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

struct nacl_scan {
	struct ec2_list open; /* entries */
	long acls, ports;     /* ports: (port, protocol, family) openings */
	struct nacl_entry *ents; /* EC2_MAX_NACL_ENTRIES */
};

/*
 * The Internet reaches port/udp of family v6 through this ACL when the first
 * entry (lowest rule number) that matches a source anywhere in the Internet
 * (a /0 CIDR of that family) for the protocol and port allows it. Entries
 * with narrower CIDRs are ignored (heuristic: they cover part of the Internet).
 */
static int nacl_decisive(const struct nacl_entry *ents, size_t n, int port, bool udp, bool v6)
{
	for (size_t i = 0; i < n; i++) {
		const struct nacl_entry *x = &ents[i];
		if (x->v6 != v6 || !cidr_world(x->cidr) || !proto_covers(x->proto, udp) || port < x->lo || port > x->hi)
			continue;
		return (int)i;
	}
	return -1;
}

static int nacl_page(const struct tk_xml_node *doc, void *arg, struct tk_err *err)
{
	struct nacl_scan *s = arg;
	bool missing;
	const struct tk_xml_node *a = items_of(doc, "networkAclSet", &missing);
	if (missing)
		return tk_seterr(err, TK_ERR_PROTOCOL, "the answer has no networkAclSet");
	for (; a; a = tk_xml_next_same(a)) {
		const char *id = tk_xml_text(a, "networkAclId");
		const struct tk_xml_node *en;
		size_t n = 0;
		if (!ec2_id_ok(id))
			return tk_seterr(err, TK_ERR_PROTOCOL, "a network ACL without a well-formed networkAclId");
		s->acls++;
		for (en = items_of(a, "entrySet", &missing); en; en = tk_xml_next_same(en)) {
			const char *eg = tk_xml_text(en, "egress"), *act = tk_xml_text(en, "ruleAction"),
				   *c4 = tk_xml_text(en, "cidrBlock"), *c6 = tk_xml_text(en, "ipv6CidrBlock");
			struct nacl_entry *x;
			if (!eg || (strcmp(eg, "true") && strcmp(eg, "false")))
				return tk_seterr(err, TK_ERR_PROTOCOL, "%s: an entry without egress true/false", id);
			if (strcmp(eg, "true") == 0)
				continue;
			if (n == EC2_MAX_NACL_ENTRIES)
				return tk_seterr(err, TK_ERR_LIMIT, "%s: more than %d ingress entries", id,
						 EC2_MAX_NACL_ENTRIES);
			x = &s->ents[n];
			x->proto = proto_of(tk_xml_text(en, "protocol"));
			if (!act || (strcmp(act, "allow") && strcmp(act, "deny")) || (!c4 == !c6) || x->proto == -2 ||
			    tk_parse_ll(tk_xml_text(en, "ruleNumber") ? tk_xml_text(en, "ruleNumber") : "", 1, 32767,
					&x->rule))
				return tk_seterr(err, TK_ERR_PROTOCOL, "%s: a malformed ingress entry", id);
			x->allow = strcmp(act, "allow") == 0;
			x->v6 = c6 != NULL;
			snprintf(x->cidr, sizeof(x->cidr), "%s", c6 ? c6 : c4);
			x->lo = 0;
			x->hi = 65535;
			if ((x->proto == 6 || x->proto == 17) &&
			    port_range(tk_xml_text(en, "portRange/from"), tk_xml_text(en, "portRange/to"), &x->lo,
				       &x->hi))
				return tk_seterr(err, TK_ERR_PROTOCOL, "%s: rule %lld has a malformed port range", id,
						 x->rule);
			n++;
		}
		qsort(s->ents, n, sizeof(s->ents[0]), nacl_cmp);
		/* one line per deciding allow entry: "acl-x rule 100 0.0.0.0/0: 22/tcp 3389/tcp ..." */
		for (size_t d = 0; d < n; d++) {
			char line[600];
			size_t len;
			long ports = 0;
			if (!s->ents[d].allow || !cidr_world(s->ents[d].cidr))
				continue;
			len = (size_t)snprintf(line, sizeof(line), "%s rule %lld %s:", id, s->ents[d].rule,
					       s->ents[d].cidr);
			for (size_t i = 0; i < EC2_NPORTS; i++) {
				for (int u = 0; u <= (ec2_ports[i].udp ? 1 : 0); u++) {
					if (nacl_decisive(s->ents, n, ec2_ports[i].port, u, s->ents[d].v6) != (int)d)
						continue;
					ports++;
					if (len < sizeof(line))
						len += (size_t)snprintf(line + len, sizeof(line) - len, " %d/%s",
									ec2_ports[i].port, u ? "udp" : "tcp");
				}
			}
			if (ports) {
				list_add(&s->open, line);
				s->ports += ports;
			}
		}
	}
	return TK_OK;
}

static void ec2_network_acls(struct ec2 *e, cJSON *o)
{
	struct nacl_scan s = {{cJSON_CreateArray(), 0}, 0, 0, NULL};
	struct tk_err err = {0};
	bool more = false;
	s.ents = calloc(EC2_MAX_NACL_ENTRIES, sizeof(struct nacl_entry));
	if (!s.ents)
		tk_seterr(&err, TK_ERR_NOMEM, "out of memory");
	if (!s.ents || ec2_pages(e, "DescribeNetworkAcls", "", nacl_page, &s, &more, &err)) {
		cJSON_AddStringToObject(o, "network_acls_error", err.msg);
		cloud_unobs(o, "nacl_world_open_count", err.msg);
		cJSON_Delete(s.open.arr);
		free(s.ents);
		return;
	}
	free(s.ents);
	cJSON_AddNumberToObject(o, "network_acls", (double)s.acls);
	if (more) {
		snprintf(err.msg, sizeof(err.msg), "ec2 DescribeNetworkAcls (%s): more than %d pages, the rest unread",
			 e->region, EC2_MAX_PAGES);
		cJSON_AddStringToObject(o, "network_acls_error", err.msg);
		if (!s.open.count)
			cloud_unobs(o, "nacl_world_open_count", err.msg);
	}
	list_emit(o, "nacl_world_open", &s.open);
	cJSON_AddNumberToObject(o, "nacl_world_open_ports", (double)s.ports);
}

/* ---- EBS snapshots ---- */

struct snap_scan {
	const char *account; /* NULL: unknown, every snapshot listed counts */
	char **ids;          /* EC2_MAX_SNAP_ATTR */
	size_t n;
	long owned, other_owner;
};

static int snap_page(const struct tk_xml_node *doc, void *arg, struct tk_err *err)
{
	struct snap_scan *s = arg;
	bool missing;
	const struct tk_xml_node *it = items_of(doc, "snapshotSet", &missing);
	if (missing)
		return tk_seterr(err, TK_ERR_PROTOCOL, "the answer has no snapshotSet");
	for (; it; it = tk_xml_next_same(it)) {
		const char *id = tk_xml_text(it, "snapshotId"), *owner = tk_xml_text(it, "ownerId");
		if (!ec2_id_ok(id))
			return tk_seterr(err, TK_ERR_PROTOCOL, "a snapshot without a well-formed snapshotId");
		/* Owner.1=self already asks for these; an endpoint that ignores it (moto) lists others too */
		if (s->account && owner && strcmp(owner, s->account) != 0) {
			s->other_owner++;
			continue;
		}
		s->owned++;
		if (s->n < EC2_MAX_SNAP_ATTR && !(s->ids[s->n++] = strdup(id)))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	return TK_OK;
}

/*
 * The account id of the credentials in use (sts GetCallerIdentity, asked once per account and
 * shared with the S3 check: tk_aws_account_id), or NULL when it could not be read.
 */
static char *caller_account(struct ec2 *e)
{
	struct tk_err err = {0};
	char id[16];
	return tk_aws_account_id(e->aws, tk_run_remaining_ms(e->ctx, 60000), id, &err) == TK_OK ? strdup(id) : NULL;
}

static void ec2_snapshots(struct ec2 *e, cJSON *o)
{
	struct snap_scan s = {0};
	struct ec2_list pub = {cJSON_CreateArray(), 0};
	struct tk_err err = {0};
	bool more = false, failed = false;
	size_t i;
	char *account = caller_account(e);
	s.account = account;
	s.ids = calloc(EC2_MAX_SNAP_ATTR, sizeof(char *));
	if (!s.ids) {
		tk_seterr(&err, TK_ERR_NOMEM, "out of memory");
		failed = true;
	} else if (ec2_pages(e, "DescribeSnapshots", "&Owner.1=self", snap_page, &s, &more, &err)) {
		failed = true;
	}
	for (i = 0; !failed && i < s.n && !tk_run_cancelled(e->ctx); i++) {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *p;
		bool missing;
		char params[160];
		snprintf(params, sizeof(params), "&Attribute=createVolumePermission&SnapshotId=%s", s.ids[i]);
		if (tk_aws_query_in(e->aws, e->region, "ec2", EC2_VERSION, "DescribeSnapshotAttribute", params,
				    tk_run_remaining_ms(e->ctx, 60000), &doc, &err)) {
			tk_err_prefix(&err, "region %s, %s", e->region, s.ids[i]);
			failed = true;
			break;
		}
		p = items_of(doc, "createVolumePermission", &missing);
		if (missing) {
			tk_seterr(&err, TK_ERR_PROTOCOL, "ec2 DescribeSnapshotAttribute (%s) %s: no createVolumePermission",
				  e->region, s.ids[i]);
			failed = true;
		}
		for (; p; p = tk_xml_next_same(p)) {
			const char *g = tk_xml_text(p, "group");
			if (g && strcmp(g, "all") == 0) {
				list_add(&pub, s.ids[i]);
				break;
			}
		}
		tk_xml_free(doc);
	}
	if (!failed && i < s.n)
		failed = tk_seterr(&err, TK_ERR_CANCELLED, "not checked: the scan was stopped") != TK_OK;
	if (failed) {
		cJSON_AddStringToObject(o, "snapshots_error", err.msg);
		cloud_unobs(o, "public_snapshots_count", err.msg);
	} else {
		cJSON_AddNumberToObject(o, "snapshots_owned", (double)s.owned);
		cJSON_AddNumberToObject(o, "snapshots_checked", (double)s.n);
		if (s.other_owner)
			cJSON_AddNumberToObject(o, "snapshots_other_owner_skipped", (double)s.other_owner);
		if ((more || s.owned > (long)s.n) && !pub.count) {
			snprintf(err.msg, sizeof(err.msg),
				 "ec2 DescribeSnapshots (%s): %ld snapshots%s, the permissions of the first %zu read",
				 e->region, s.owned, more ? " and more pages" : "", s.n);
			cJSON_AddStringToObject(o, "snapshots_error", err.msg);
			cloud_unobs(o, "public_snapshots_count", err.msg);
		}
		list_emit(o, "public_snapshots", &pub);
	}
	cJSON_Delete(pub.arr);
	for (i = 0; s.ids && i < s.n; i++)
		free(s.ids[i]);
	free(s.ids);
	free(account);
}

/* ---- EBS encryption by default ---- */

static void ec2_ebs_default(struct ec2 *e, cJSON *o)
{
	struct tk_xml_node *doc = NULL;
	struct tk_err err = {0};
	const char *v;
	if (tk_aws_query_in(e->aws, e->region, "ec2", EC2_VERSION, "GetEbsEncryptionByDefault", "",
			    tk_run_remaining_ms(e->ctx, 60000), &doc, &err)) {
		tk_err_prefix(&err, "region %s", e->region);
	} else if (!(v = tk_xml_text(doc, "ebsEncryptionByDefault")) || (strcmp(v, "true") && strcmp(v, "false"))) {
		tk_seterr(&err, TK_ERR_PROTOCOL, "ec2 GetEbsEncryptionByDefault (%s): no ebsEncryptionByDefault true/false",
			  e->region);
	} else {
		cJSON_AddBoolToObject(o, "ebs_encryption_by_default", strcmp(v, "true") == 0);
	}
	if (err.msg[0]) {
		cJSON_AddStringToObject(o, "ebs_encryption_error", err.msg);
		cloud_unobs(o, "ebs_encryption_by_default", err.msg);
	}
	tk_xml_free(doc);
}

void cloud_aws_ec2(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region)
{
	struct ec2 e = {aws, ctx, region};
	cJSON *o = tk_obs_new(ctx, "cloud_network", target);
	cJSON_AddStringToObject(o, "provider", "aws");
	cJSON_AddStringToObject(o, "evidence_source", "api");
	cJSON_AddStringToObject(o, "region", region);
	ec2_security_groups(&e, o);
	ec2_network_acls(&e, o);
	ec2_snapshots(&e, o);
	ec2_ebs_default(&e, o);
	tk_emit(ctx, o);
}
