/* check_report.c: see check_report.h. */
#include "infra/check_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_report_init(struct check_report *r)
{
    r->items = NULL;
    r->n = r->cap = 0;
    r->ec2_api_calls = -1;
}

void check_report_free(struct check_report *r)
{
    free(r->items);
    check_report_init(r);
}

struct check_result *check_report_add(struct check_report *r, const char *group,
                                      const char *subject, enum check_status status)
{
    static struct check_result overflow; /* only on allocation failure: keeps callers simple */
    struct check_result *c;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct check_result *p = realloc(r->items, cap * sizeof(*p));
        if (!p)
            return memset(&overflow, 0, sizeof(overflow));
        r->items = p;
        r->cap = cap;
    }
    c = &r->items[r->n++];
    memset(c, 0, sizeof(*c));
    snprintf(c->group, sizeof(c->group), "%s", group);
    snprintf(c->subject, sizeof(c->subject), "%s", subject);
    c->status = status;
    return c;
}

void check_result_detail(struct check_result *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
}

void check_result_fix(struct check_result *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->remediation, sizeof(c->remediation), fmt, ap);
    va_end(ap);
}

void check_result_rule(struct check_result *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->rule, sizeof(c->rule), fmt, ap);
    va_end(ap);
}

bool check_report_failed(const struct check_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].status == CHECK_FAIL)
            return true;
    return false;
}

const char *check_status_name(enum check_status s)
{
    switch (s) {
    case CHECK_PASS:
        return "PASS";
    case CHECK_WARN:
        return "WARN";
    case CHECK_FAIL:
        return "FAIL";
    case CHECK_SKIP:
        return "SKIP";
    case CHECK_INFO:
        return "INFO";
    }
    return "?";
}
