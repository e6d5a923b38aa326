/*
 * awsxml.h - a small, bounded XML reader for AWS Query API responses (IAM,
 * STS) and error bodies. Elements only: names lose their namespace prefix,
 * attributes are skipped, text is entity-decoded (the five named entities and
 * &#N; / &#xN;), CDATA kept, comments / PIs / DOCTYPE skipped. Bounded depth
 * and node count; any malformation is an error naming the byte offset.
 */
#ifndef TK_AWSXML_H
#define TK_AWSXML_H

#include <stddef.h>

#include "tk.h"

#define TK_XML_MAX_DEPTH 64
#define TK_XML_MAX_NODES 200000

struct tk_xml_node {
	char *name;                 /* local name */
	char *text;                 /* concatenated direct text, "" when none */
	size_t text_len;
	size_t text_cap;            /* allocated bytes of text */
	struct tk_xml_node *child;  /* first child */
	struct tk_xml_node *next;   /* next sibling */
};

int tk_xml_parse(const char *p, size_t len, struct tk_xml_node **root, struct tk_err *err);
void tk_xml_free(struct tk_xml_node *n);
/* The first descendant along "A/B/C" (each step a direct child) or NULL. */
const struct tk_xml_node *tk_xml_find(const struct tk_xml_node *n, const char *path);
/* The text of tk_xml_find(n, path), or NULL. */
const char *tk_xml_text(const struct tk_xml_node *n, const char *path);
/* The next sibling named like `n`, or NULL (to iterate <member> lists). */
const struct tk_xml_node *tk_xml_next_same(const struct tk_xml_node *n);

#endif
