/* fuzz_rule.h: parse the one-column rule a fuzz target applies ("col: <rule>\n"), once,
 * at start-up; a rule that does not parse is a bug in the target itself: abort. */
#ifndef FUZZ_RULE_H
#define FUZZ_RULE_H

#include <stdlib.h>
#include <string.h>

#include "anonymise/rule.h"
#include "anonymise/yopts.h"

static inline void fuzz_parse_rule(const char *text, struct rule *out)
{
    struct anon_error err;
    struct yopts *doc, *v;

    anon_error_clear(&err);
    if (!yopts_load("fuzz", text, strlen(text), &doc, &err))
        abort();
    v = yopts_item(doc, 0);
    if (!rule_parse(v, out, &err))
        abort();
    yopts_free(v);
    yopts_free(doc);
}

#endif
