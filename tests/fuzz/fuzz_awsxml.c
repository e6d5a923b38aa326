/* fuzz_awsxml.c - the bounded XML reader and the AWS error describer on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aws.h"
#include "awsxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_xml_node *doc = NULL;
	struct tk_err err = {0};
	char out[600], code[128];
	if (tk_xml_parse((const char *)data, size, &doc, &err) == TK_OK) {
		const struct tk_xml_node *e = tk_xml_find(doc, "GetAccountSummaryResult/SummaryMap/entry");
		for (; e; e = tk_xml_next_same(e))
			(void)tk_xml_text(e, "key");
		if (!doc->name || !doc->text || strlen(doc->text) != doc->text_len)
			__builtin_trap();
	}
	tk_xml_free(doc);
	tk_aws_error_describe(400, (const char *)data, size, out, sizeof(out), code, sizeof(code));
	if (strlen(out) >= sizeof(out) || strlen(code) >= sizeof(code))
		__builtin_trap();
	return 0;
}
