/*
 * check_report.h: the result of the preflight checks (infra/).
 *
 * Each check adds one result: PASS, WARN or FAIL, a one-line detail and, when it is
 * not a PASS, a one-line remediation. etl/ renders the report (aligned table on a
 * terminal, JSON with --json); infra/ only fills it.
 */
#ifndef CHECK_REPORT_H
#define CHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>

/* INFO: a finding that needs no action (a disabled option the path does not need). */
enum check_status { CHECK_PASS = 0, CHECK_WARN, CHECK_FAIL, CHECK_SKIP, CHECK_INFO };

/* check_result.flags */
#define CHECK_FLAG_OVERRULED 1u /* a FAIL of the API view made a WARN: the live probes pass */

struct check_result {
    char group[24];   /* --only name: "peering", "dns-option", "route", "sg", "dns", "tcp", "tls",
                         "login", "privileges", or "path.<hop>" (--only path) */
    char subject[96]; /* what was checked: "pcx-0aaa...", "source db.example:5432" */
    enum check_status status;
    char detail[512];      /* one line: what was found */
    char remediation[512]; /* one line: what to do ("" on PASS) */
    unsigned flags;        /* CHECK_FLAG_* */
    /* path.* hops, for machines (--json): the object judged (rtb-, sg-, acl-, eni-, or the
     * address when no object is visible) and the route or rule that decided ("" when none
     * did: nothing matched, or the hop was not judged) */
    char object[96];
    char rule[256];
};

struct check_report {
    struct check_result *items;
    size_t n, cap;
    long ec2_api_calls; /* EC2 requests the AWS checks made; -1 = they did not run */
};

void check_report_init(struct check_report *r);
void check_report_free(struct check_report *r);
/* Append a result (detail/remediation are printf formats joined by the caller). */
struct check_result *check_report_add(struct check_report *r, const char *group,
                                      const char *subject, enum check_status status);
void check_result_detail(struct check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void check_result_fix(struct check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void check_result_rule(struct check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool check_report_failed(const struct check_report *r);
const char *check_status_name(enum check_status s); /* "PASS", "WARN", "FAIL", "SKIP", "INFO" */

#endif
