/*
 * preflight.h: the `anonetl preflight` command, and the checks `anonetl run` makes
 * before touching the target.
 *
 * Network checks (groups dns, tcp, tls, login, privileges) run for every endpoint of
 * cfg->network (or source and target when the config has no network: section); the AWS
 * checks (groups peering, dns-option, route, sg) run when cfg->aws is set. The report is
 * printed here (etl/): an aligned table, coloured only on a terminal with NO_COLOR unset,
 * or JSON with --json:
 *   {"checks":[{"group","subject","status","detail","remediation"}],
 *    "summary":{"pass","warn","fail","skip"}}
 */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

#include <stdbool.h>

#include "anonymise/anon_error.h"
#include "anonymise/config.h"
#include "infra/check_report.h"

struct preflight_options {
    bool json;        /* --json */
    const char *only; /* --only NAME[,NAME]; NULL = every group */
    bool repair;      /* --repair: print the AWS repair plan */
    bool yes;         /* --yes: apply it */
    bool color;       /* colour allowed (also needs stdout to be a terminal and NO_COLOR unset) */
};

/* Every group name --only accepts, comma separated (for usage messages). */
extern const char preflight_group_names[];

/* Is `only` a valid --only list? (NULL and "" are: every group) */
bool preflight_only_valid(const char *only, struct anon_error *err) ANON_MUST_CHECK;

/* Run the checks selected by `only` (NULL = all) into out (the caller has run
 * check_report_init and frees it). False only when the checks cannot run at all (an
 * unknown group); a FAIL in the report is check_report_failed(out). */
bool preflight_run_checks(const struct config *cfg, const char *only, struct check_report *out,
                          struct anon_error *err) ANON_MUST_CHECK;

/* Print a report: table (colour when `color`) or JSON, on stdout. */
void preflight_print(const struct check_report *r, bool json, bool color);

/* The command: 0 no FAIL (WARNs printed), 3 any FAIL, 2 usage error, 1 internal error. */
int preflight_main(const struct config *cfg, const struct preflight_options *opt);

#endif
