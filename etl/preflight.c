/*
 * preflight.c: `anonetl preflight` (see preflight.h).
 *
 * This file turns the config into the plain inputs infra/ takes (endpoints, tables,
 * schemas, roles), runs the probes in dependency order, and prints the report. The
 * probes themselves (infra/netprobe.c, the AWS checks) never print.
 *
 * Order per endpoint: dns, tcp, tls for each host of the DSN, then login, then
 * privileges. A probe whose prerequisite failed in this same run is reported as SKIP
 * ("not checked: ...") rather than failing a second time for the same cause.
 */
#include "etl/preflight.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/exitcode.h"
#include "etl/pgconn.h"
#include "etl/preflight_aws.h"
#include "infra/aws_checks.h"
#include "infra/aws_creds.h"
#include "infra/aws_http.h"
#include "infra/aws_repair.h"
#include "infra/ec2.h"
#include "infra/netprobe.h"

#define MAX_HOSTS 8
#define HOST_MAX 256

enum pf_group {
    G_DNS = 1 << 0,
    G_TCP = 1 << 1,
    G_TLS = 1 << 2,
    G_LOGIN = 1 << 3,
    G_PRIV = 1 << 4,
    G_PEERING = 1 << 5,
    G_DNS_OPTION = 1 << 6,
    G_ROUTE = 1 << 7,
    G_SG = 1 << 8,
    G_PATH = 1 << 9,
};

static const struct {
    const char *name;
    unsigned bit;
} groups[] = {
    {"dns", G_DNS},
    {"tcp", G_TCP},
    {"tls", G_TLS},
    {"login", G_LOGIN},
    {"privileges", G_PRIV},
    {"peering", G_PEERING},
    {"dns-option", G_DNS_OPTION},
    {"route", G_ROUTE},
    {"sg", G_SG},
    {"path", G_PATH},
};

const char preflight_group_names[] =
    "dns,tcp,tls,login,privileges,peering,dns-option,route,sg,path";

#define G_NETWORK (G_DNS | G_TCP | G_TLS | G_LOGIN | G_PRIV)
#define G_CONFIGURED (G_PEERING | G_DNS_OPTION | G_ROUTE | G_SG)
#define G_AWS (G_CONFIGURED | G_PATH)

/* The bit of a group name; "path.route" and the other hops belong to "path". */
static unsigned group_bit_n(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strlen(groups[i].name) == n && strncmp(groups[i].name, name, n) == 0)
            return groups[i].bit;
    if (n > 5 && strncmp(name, "path.", 5) == 0)
        return G_PATH;
    return 0;
}

static unsigned group_bit(const char *name)
{
    return group_bit_n(name, strlen(name));
}

/* --only list into a bit set; false on an unknown name. */
static bool parse_only(const char *only, unsigned *mask, struct anon_error *err)
{
    const char *p = only;

    *mask = 0;
    if (!only || !*only) {
        *mask = G_NETWORK | G_AWS;
        return true;
    }
    while (*p) {
        size_t n = strcspn(p, ","), i;
        const char *s = p;
        while (n > 0 && *s == ' ')
            s++, n--;
        while (n > 0 && s[n - 1] == ' ')
            n--;
        i = group_bit_n(s, n);
        if (!i) {
            anon_error_set(err, "--only: unknown check group \"%.*s\" (known: %s)",
                           (int)(n > 64 ? 64 : n), s, preflight_group_names);
            return false;
        }
        *mask |= (unsigned)i;
        p = s + n;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
    }
    if (*mask == 0) {
        anon_error_set(err, "--only: no check group named (known: %s)", preflight_group_names);
        return false;
    }
    return true;
}

bool preflight_only_valid(const char *only, struct anon_error *err)
{
    unsigned mask;

    return parse_only(only, &mask, err);
}

/* ---- building the inputs -------------------------------------------------------- */

/* The n-th item of a comma list (or the only item when the list has one). */
static bool list_item(const char *list, int index, char *out, size_t size)
{
    int i = 0;

    out[0] = '\0';
    if (!list)
        return false;
    if (!strchr(list, ',')) {
        snprintf(out, size, "%s", list);
        return true;
    }
    while (*list) {
        size_t n = strcspn(list, ",");
        if (i++ == index) {
            snprintf(out, size, "%.*s", (int)n, list);
            return true;
        }
        list += n + (list[n] == ',');
    }
    return false;
}

static int list_count(const char *list)
{
    int n = 1;

    if (!list || !*list)
        return 1;
    for (; *list; list++)
        n += *list == ',';
    return n > MAX_HOSTS ? MAX_HOSTS : n;
}

struct pf_side {
    const char *name;        /* "source" / "target" */
    const char *expect_cidr; /* may be NULL */
    const struct cfg_db *db;
};

static const struct cfg_db *side_db(const struct config *cfg, const char *name)
{
    if (strcmp(name, "source") == 0)
        return &cfg->source;
    if (strcmp(name, "target") == 0)
        return &cfg->target.db;
    return NULL;
}

static long timeout_ms(const struct config *cfg)
{
    return cfg->network && cfg->network->connect_timeout_ms > 0 ? cfg->network->connect_timeout_ms
                                                                : NETPROBE_DEFAULT_TIMEOUT_MS;
}

/* Fill the endpoint fields common to every host of a side. */
static void endpoint_base(const struct config *cfg, const struct pf_side *side,
                          const struct pgconn_params *p, struct netprobe_endpoint *ep)
{
    memset(ep, 0, sizeof(*ep));
    ep->name = side->name;
    ep->expect_cidr = side->expect_cidr;
    ep->sslmode = pgconn_params_get(p, "sslmode");
    ep->sslrootcert = pgconn_params_get(p, "sslrootcert");
    ep->timeout_ms = timeout_ms(cfg);
    ep->pq_keywords = p->keywords;
    ep->pq_values = p->values;
}

/* A FAIL for a side whose parameters cannot be built (secret missing, bad DSN). */
static void report_params_error(struct check_report *r, unsigned mask, const char *side,
                                const struct anon_error *e)
{
    const char *group = "login";
    struct check_result *c;

    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if ((mask & groups[i].bit) && (groups[i].bit & G_NETWORK) && !(mask & G_LOGIN)) {
            group = groups[i].name;
            break;
        }
    c = check_report_add(r, group, side, CHECK_FAIL);
    check_result_detail(c, "cannot build the connection parameters: %s", e->msg);
    check_result_fix(
        c, "fix the %s database settings (dsn, password secret, sslmode) in the config", side);
}

static void add_skip(struct check_report *r, const struct netprobe_endpoint *ep, const char *group,
                     const char *why)
{
    char subject[sizeof(((struct check_result *)0)->subject)];
    struct check_result *c;

    netprobe_subject(ep, subject, sizeof(subject));
    c = check_report_add(r, group, subject, CHECK_SKIP);
    check_result_detail(c, "not checked: %s", why);
}

/* dns, tcp, tls for each host; false when no host could be reached over TCP. */
static bool probe_hosts(const struct pgconn_params *p, const struct netprobe_endpoint *base,
                        unsigned mask, struct check_report *r)
{
    const char *hosts = pgconn_params_get(p, "host");
    const char *addrs = pgconn_params_get(p, "hostaddr");
    const char *ports = pgconn_params_get(p, "port");
    int n = list_count(addrs ? addrs : hosts);
    bool any_reached = false;

    for (int i = 0; i < n; i++) {
        char host[HOST_MAX], addr[HOST_MAX], port[16];
        struct netprobe_endpoint ep = *base;
        bool tcp_ok = true;

        ep.host = list_item(hosts, i, host, sizeof(host)) ? host : NULL;
        ep.hostaddr = list_item(addrs, i, addr, sizeof(addr)) && addr[0] ? addr : NULL;
        ep.port = list_item(ports, i, port, sizeof(port)) && port[0] ? port : NULL;
        if (mask & G_DNS)
            (void)netprobe_dns(&ep, r);
        if (mask & G_TCP)
            tcp_ok = netprobe_tcp(&ep, r);
        any_reached = any_reached || tcp_ok;
        if ((mask & G_TLS) && tcp_ok)
            (void)netprobe_tls(&ep, r);
        else if (mask & G_TLS)
            add_skip(r, &ep, "tls", "no TCP connection (see tcp)");
    }
    return any_reached;
}

static void probe_privileges(const struct config *cfg, const struct netprobe_endpoint *ep,
                             struct check_report *r)
{
    if (strcmp(ep->name, "source") == 0) {
        struct netprobe_table *t = calloc(cfg->n_tables ? cfg->n_tables : 1, sizeof(*t));
        if (!t) {
            add_skip(r, ep, "privileges", "out of memory");
            return;
        }
        for (size_t i = 0; i < cfg->n_tables; i++) {
            t[i].schema = cfg->tables[i].schema;
            t[i].name = cfg->tables[i].name;
        }
        (void)netprobe_source_privileges(ep, t, cfg->n_tables, r);
        free(t);
        return;
    }
    const char *create[3] = {cfg->target.schema ? cfg->target.schema : "anonymised", "anonetl",
                             "anonetl_data"};
    static const char *const private_schemas[2] = {"anonetl", "anonetl_data"};
    struct netprobe_target_roles roles = {
        .create_schemas = create,
        .n_create_schemas = 3,
        .private_schemas = private_schemas,
        .n_private_schemas = 2,
        .readers = (const char *const *)cfg->target.grant_select_to,
        .n_readers = cfg->target.n_grant_select_to,
    };
    (void)netprobe_target_privileges(ep, &roles, r);
}

static void probe_side(const struct config *cfg, const struct pf_side *side, unsigned mask,
                       struct check_report *r)
{
    struct pgconn_params p;
    struct netprobe_endpoint ep;
    struct anon_error e;
    bool reached, login_ok = true;

    anon_error_clear(&e);
    if (!side->db) {
        struct check_result *c = check_report_add(r, "dns", side->name, CHECK_FAIL);
        check_result_detail(c, "unknown endpoint name (expected source or target)");
        check_result_fix(c, "name network.endpoints entries source or target");
        return;
    }
    if (!pgconn_params_build(side->db, side->name, &p, &e)) {
        report_params_error(r, mask, side->name, &e);
        return;
    }
    endpoint_base(cfg, side, &p, &ep);
    reached = probe_hosts(&p, &ep, mask, r);
    ep.host = pgconn_params_get(&p, "host");
    ep.hostaddr = pgconn_params_get(&p, "hostaddr");
    ep.port = pgconn_params_get(&p, "port");
    if ((mask & G_LOGIN) && reached)
        login_ok = netprobe_login(&ep, r);
    else if (mask & G_LOGIN)
        add_skip(r, &ep, "login", "no TCP connection (see tcp)");
    if ((mask & G_PRIV) && reached && login_ok)
        probe_privileges(cfg, &ep, r);
    else if (mask & G_PRIV)
        add_skip(r, &ep, "privileges",
                 reached ? "login failed (see login)" : "no TCP connection (see tcp)");
    pgconn_params_free(&p);
}

static void run_network(const struct config *cfg, unsigned mask, struct check_report *r)
{
    if (!(mask & G_NETWORK))
        return;
    if (!cfg->network) {
        struct pf_side s = {"source", NULL, &cfg->source}, t = {"target", NULL, &cfg->target.db};
        probe_side(cfg, &s, mask, r);
        probe_side(cfg, &t, mask, r);
        return;
    }
    for (size_t i = 0; i < cfg->network->n_endpoints; i++) {
        const struct cfg_endpoint *e = &cfg->network->endpoints[i];
        struct pf_side s = {e->name, e->expect_cidr, side_db(cfg, e->name)};
        probe_side(cfg, &s, mask, r);
    }
}

/* ---- AWS ------------------------------------------------------------------------ */

/* Copy the results of the selected groups only (the AWS checks run every group). With
 * keep_last, the last result whatever its group: the EC2 API failure that stopped the run
 * (reported under "peering"), so that `--only sg` cannot pass when the API is unusable. */
static void merge_selected(const struct check_report *from, unsigned mask, bool keep_last,
                           struct check_report *to)
{
    for (size_t i = 0; i < from->n; i++) {
        const struct check_result *c = &from->items[i];
        unsigned bit = group_bit(c->group);
        if (bit && !(bit & mask) && !(keep_last && i + 1 == from->n))
            continue;
        struct check_result *d = check_report_add(to, c->group, c->subject, c->status);
        memcpy(d->detail, c->detail, sizeof(d->detail));
        memcpy(d->remediation, c->remediation, sizeof(d->remediation));
        memcpy(d->object, c->object, sizeof(d->object));
        memcpy(d->rule, c->rule, sizeof(d->rule));
        d->flags = c->flags;
    }
}

static void run_aws(const struct config *cfg, unsigned mask, struct check_report *r)
{
    const struct pfaws_options opt = {
        .resolve_names = (mask & G_DNS) != 0,
        /* the DNS option looks at the peering's far side from the job */
        .want_identity = (mask & (G_PATH | G_SG | G_ROUTE | G_DNS_OPTION)) != 0,
        .run_path = (mask & G_PATH) != 0,
        .skip_configured = !(mask & G_CONFIGURED),
    };
    struct check_report tmp;
    unsigned long calls;
    bool api_ok;

    check_report_init(&tmp);
    api_ok = pfaws_run(cfg, &opt, &tmp, &calls);
    merge_selected(&tmp, mask, !api_ok, r);
    r->ec2_api_calls = (long)calls;
    check_report_free(&tmp);
}

/* ---- the verdict: live probes decide ---------------------------------------------- */

static bool is_live(const struct check_result *c)
{
    return (group_bit(c->group) & G_NETWORK) != 0;
}

static bool is_api(const struct check_result *c)
{
    return (group_bit(c->group) & G_AWS) != 0;
}

/* The endpoint a result is about: the first word of its subject ("source", "target"). */
static bool about(const struct check_result *c, const char *endpoint)
{
    size_t n = strlen(endpoint);

    return strncmp(c->subject, endpoint, n) == 0 && (c->subject[n] == ' ' || !c->subject[n]);
}

/* The first path hop (packet order) that blocks the endpoint, or NULL. */
static const struct check_result *first_blocking_hop(const struct check_report *r,
                                                     const char *endpoint)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct check_result *c = &r->items[i];
        if (strncmp(c->group, "path.", 5) == 0 && c->status == CHECK_FAIL && about(c, endpoint))
            return c;
    }
    return NULL;
}

static bool path_ran_for(const struct check_report *r, const char *endpoint)
{
    for (size_t i = 0; i < r->n; i++)
        if (strncmp(r->items[i].group, "path.", 5) == 0 && about(&r->items[i], endpoint))
            return true;
    return false;
}

/* A TCP probe failed: name the hop of the path analysis that explains it. */
static void explain_tcp_failures(struct check_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct check_result *c = &r->items[i];
        const struct check_result *h;
        char endpoint[16], more[sizeof(c->detail)];
        size_t len = strlen(c->detail);
        if (strcmp(c->group, "tcp") != 0 || c->status != CHECK_FAIL)
            continue;
        snprintf(endpoint, sizeof(endpoint), "%.*s", (int)strcspn(c->subject, " "), c->subject);
        if (!path_ran_for(r, endpoint))
            continue;
        h = first_blocking_hop(r, endpoint);
        if (h)
            snprintf(more, sizeof(more), "; path analysis: first blocking hop %s %s: %s", h->group,
                     h->subject + strlen(endpoint) + 1, h->detail);
        else
            snprintf(more, sizeof(more),
                     "; path analysis: no hop blocks it in the EC2 view "
                     "(look at what the API does not show: the database's "
                     "listen address, a host firewall)");
        snprintf(c->detail + len, sizeof(c->detail) - len, "%s", more);
    }
}

/*
 * The verdict rule. When every live probe ran (dns, tcp, tls, login, privileges) and none
 * failed, the packets got through whatever the EC2 API says: its FAILs (and an API that
 * cannot be reached) become WARNs flagged CHECK_FLAG_OVERRULED (not path.isolation's: the
 * job's connections do not show what the data team can reach). When a live probe failed,
 * the API results stay as they are and the path analysis names the first blocking hop.
 */
static void apply_verdict(struct check_report *r, unsigned mask)
{
    bool live_failed = false;

    for (size_t i = 0; i < r->n; i++)
        live_failed = live_failed || (is_live(&r->items[i]) && r->items[i].status == CHECK_FAIL);
    if (live_failed) {
        explain_tcp_failures(r);
        return;
    }
    if ((mask & G_NETWORK) != G_NETWORK)
        return;
    for (size_t i = 0; i < r->n; i++) {
        struct check_result *c = &r->items[i];
        char was[sizeof(c->detail)];
        /* the job's probes say nothing about what the data team can reach */
        if (!is_api(c) || c->status != CHECK_FAIL || strcmp(c->group, "path.isolation") == 0)
            continue;
        memcpy(was, c->detail, sizeof(was));
        c->status = CHECK_WARN;
        c->flags |= CHECK_FLAG_OVERRULED;
        snprintf(c->detail, sizeof(c->detail), "the live probes pass; the EC2 API says: %s", was);
    }
}

bool preflight_run_checks(const struct config *cfg, const char *only, struct check_report *out,
                          struct anon_error *err)
{
    unsigned mask;

    if (!parse_only(only, &mask, err))
        return false;
    run_network(cfg, mask, out);
    if ((mask & G_AWS) && !cfg->aws && only && *only) {
        struct check_result *c = check_report_add(out, "peering", "aws", CHECK_SKIP);
        check_result_detail(c, "not checked: the config has no aws: section");
    }
    /* libcurl's global state is set up once by main(). */
    if ((mask & G_AWS) && cfg->aws)
        run_aws(cfg, mask, out);
    apply_verdict(out, mask);
    return true;
}

/* ---- printing ------------------------------------------------------------------- */

static const char *status_color(enum check_status s)
{
    switch (s) {
    case CHECK_PASS:
        return "\033[32m";
    case CHECK_WARN:
        return "\033[33m";
    case CHECK_FAIL:
        return "\033[1;31m";
    case CHECK_SKIP:
        return "\033[2m";
    case CHECK_INFO:
        return "\033[36m";
    }
    return "";
}

struct tally {
    size_t pass, warn, fail, skip, info;
};

static struct tally count(const struct check_report *r)
{
    struct tally t = {0, 0, 0, 0, 0};

    for (size_t i = 0; i < r->n; i++) {
        switch (r->items[i].status) {
        case CHECK_PASS:
            t.pass++;
            break;
        case CHECK_WARN:
            t.warn++;
            break;
        case CHECK_FAIL:
            t.fail++;
            break;
        case CHECK_SKIP:
            t.skip++;
            break;
        case CHECK_INFO:
            t.info++;
            break;
        }
    }
    return t;
}

static void print_table(const struct check_report *r, bool color)
{
    int gw = 5, sw = 7;
    struct tally t = count(r);

    for (size_t i = 0; i < r->n; i++) {
        int g = (int)strlen(r->items[i].group), s = (int)strlen(r->items[i].subject);
        gw = g > gw ? g : gw;
        sw = s > sw ? s : sw;
    }
    printf("%-6s %-*s %-*s %s\n", "STATUS", gw, "CHECK", sw, "SUBJECT", "DETAIL");
    for (size_t i = 0; i < r->n; i++) {
        const struct check_result *c = &r->items[i];
        if (color)
            printf("%s%-6s\033[0m", status_color(c->status), check_status_name(c->status));
        else
            printf("%-6s", check_status_name(c->status));
        printf(" %-*s %-*s %s\n", gw, c->group, sw, c->subject, c->detail);
        if (c->remediation[0])
            printf("%*s%s%s%s\n", 7, "", color ? "\033[2m" : "", c->remediation,
                   color ? "\033[0m" : "");
    }
    printf("\n%zu passed, %zu warnings, %zu failed, %zu skipped", t.pass, t.warn, t.fail, t.skip);
    if (t.info)
        printf(", %zu info", t.info);
    if (r->ec2_api_calls >= 0)
        printf("; %ld EC2 API call%s", r->ec2_api_calls, r->ec2_api_calls == 1 ? "" : "s");
    printf("\n");
}

static bool print_json(const struct check_report *r, json_t *repair)
{
    struct tally t = count(r);
    json_t *root = json_object(), *checks = json_array();
    bool ok = root && checks && json_object_set_new(root, "checks", checks) == 0;

    if (repair && root)
        ok = ok && json_object_set(root, "repair", repair) == 0;
    char *text;

    for (size_t i = 0; ok && i < r->n; i++) {
        const struct check_result *c = &r->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "group", c->group, "subject", c->subject,
                              "status", check_status_name(c->status), "detail", c->detail,
                              "remediation", c->remediation);
        if (o && (c->flags & CHECK_FLAG_OVERRULED))
            json_object_set_new(o, "overruled", json_true());
        if (o && strncmp(c->group, "path.", 5) == 0) {
            /* the hop for machines: which endpoint, the object, the rule that decided */
            json_object_set_new(o, "endpoint", json_stringn(c->subject, strcspn(c->subject, " ")));
            json_object_set_new(o, "object", json_string(c->object));
            json_object_set_new(o, "rule", json_string(c->rule));
        }
        ok = json_array_append_new(checks, o) == 0;
    }
    ok = ok && json_object_set_new(root, "summary",
                                   json_pack("{s:I, s:I, s:I, s:I, s:I}", "pass",
                                             (json_int_t)t.pass, "warn", (json_int_t)t.warn, "fail",
                                             (json_int_t)t.fail, "skip", (json_int_t)t.skip, "info",
                                             (json_int_t)t.info)) == 0;
    if (ok && r->ec2_api_calls >= 0)
        ok = json_object_set_new(root, "ec2_api_calls", json_integer(r->ec2_api_calls)) == 0;
    text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(root);
    return text != NULL;
}

static void print_report(const struct check_report *r, bool json, bool color, json_t *repair)
{
    if (json) {
        if (!print_json(r, repair))
            fprintf(stderr, "anonetl preflight: out of memory rendering JSON\n");
    } else {
        print_table(r, color);
    }
    fflush(stdout);
}

void preflight_print(const struct check_report *r, bool json, bool color)
{
    print_report(r, json, color, NULL);
}

/* ---- --repair -------------------------------------------------------------------- */

static const char *repair_state_name(enum aws_repair_state st, bool applied)
{
    if (!applied)
        return "planned";
    return st == AWS_REPAIR_DONE ? "done" : st == AWS_REPAIR_FAILED ? "failed" : "not run";
}

/* The plan (and results) as JSON, or printed as text when json is false. */
static json_t *repair_render(const struct aws_repair_plan *plan, bool applied, bool json, bool yes)
{
    json_t *doc = json ? json_object() : NULL, *actions = json ? json_array() : NULL,
           *notes = json ? json_array() : NULL;

    if (!json)
        printf("\nRepair plan (%zu action%s):\n", plan->n_actions, plan->n_actions == 1 ? "" : "s");
    for (size_t i = 0; i < plan->n_actions; i++) {
        const struct aws_repair_action *a = &plan->actions[i];
        const char *st = repair_state_name(a->state, applied);
        if (json)
            json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "action", a->line, "state",
                                                     st, "result", applied ? a->result : ""));
        else if (applied)
            printf("  %-7s %s%s%s\n", st, a->line, a->state == AWS_REPAIR_DONE ? "" : ": ",
                   a->state == AWS_REPAIR_DONE ? "" : a->result);
        else
            printf("  - %s\n", a->line);
    }
    for (size_t i = 0; i < plan->n_notes; i++) {
        if (json)
            json_array_append_new(notes, json_string(plan->notes[i]));
        else
            printf("  not repaired here: %s\n", plan->notes[i]);
    }
    if (!json) {
        if (plan->n_actions == 0)
            printf("  nothing to repair\n");
        else if (!yes)
            printf("Run again with --repair --yes to apply it.\n");
        fflush(stdout);
        return NULL;
    }
    json_object_set_new(doc, "actions", actions);
    json_object_set_new(doc, "notes", notes);
    json_object_set_new(doc, "applied", json_boolean(applied));
    json_object_set_new(doc, "ec2_api_calls", json_integer((json_int_t)plan->ec2_calls));
    return doc;
}

/* Plan, print, apply with --yes. *applied says whether something was changed. */
static bool repair(const struct config *cfg, const struct preflight_options *opt, json_t **json_out,
                   bool *applied)
{
    struct aws_creds_provider *creds = NULL;
    struct ec2 *ec2 = NULL;
    struct pfaws_input *s = NULL;
    struct aws_repair_plan plan;
    struct infra_error ierr = {{0}};
    char region[64];
    bool ok = false;

    *applied = false;
    memset(&plan, 0, sizeof(plan));
    if (!cfg->aws) {
        fprintf(stderr, "anonetl preflight: --repair: nothing to repair without an aws: section\n");
        return true;
    }
    if (!pfaws_open(cfg, region, sizeof(region), &creds, &ec2, &ierr) ||
        !(s = pfaws_input_new(cfg, region, NULL)) ||
        !aws_repair_plan_build(ec2, pfaws_input_get(s), &plan, &ierr))
        goto out;
    if (opt->yes && plan.n_actions > 0) {
        *applied = true;
        if (!aws_repair_apply(ec2, &plan, 120000, &ierr))
            fprintf(stderr, "anonetl preflight: --repair: %s\n", ierr.msg);
    }
    *json_out = repair_render(&plan, *applied, opt->json, opt->yes);
    ok = true;
out:
    aws_repair_plan_free(&plan);
    pfaws_input_free(s);
    pfaws_close(creds, ec2);
    if (!ok)
        fprintf(stderr, "anonetl preflight: --repair: %s\n",
                ierr.msg[0] ? ierr.msg : "out of memory");
    return ok;
}

/* Every secret reference first, as `run` does: a variable not set, a secret that does not
 * exist or a weak sslmode is the config's problem (exit 2, naming it), not a FAIL of the
 * network checks. A secret that could not be fetched (Secrets Manager unreachable,
 * credentials refused) is left to the checks: the report shows it as a FAIL (exit 3). */
static int check_config_secrets(const struct config *cfg)
{
    const struct cfg_db *dbs[] = {&cfg->source, &cfg->target.db};
    const char *names[] = {"source", "target"};
    enum secret_failure why;
    struct anon_error err;

    for (size_t i = 0; i < 2; i++) {
        anon_error_clear(&err);
        if (!pgconn_params_check(dbs[i], names[i], &why, &err) && why == SECRET_FAIL_CONFIG) {
            fprintf(stderr, "anonetl preflight: %s\n", err.msg);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

int preflight_main(const struct config *cfg, const struct preflight_options *opt)
{
    struct check_report report;
    struct anon_error err;
    bool color = opt->color && !opt->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    int rc;

    anon_error_clear(&err);
    if (!preflight_only_valid(opt->only, &err)) {
        fprintf(stderr, "anonetl preflight: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (opt->yes && !opt->repair) {
        fprintf(stderr, "anonetl preflight: --yes only goes with --repair\n");
        return EXIT_USAGE;
    }
    if ((rc = check_config_secrets(cfg)) != EXIT_OK)
        return rc;
    check_report_init(&report);
    if (!preflight_run_checks(cfg, opt->only, &report, &err)) {
        fprintf(stderr, "anonetl preflight: %s\n", err.msg);
        check_report_free(&report);
        return EXIT_INTERNAL;
    }
    if (!opt->json || !opt->repair)
        print_report(&report, opt->json, color, NULL);
    if (opt->repair) {
        json_t *plan = NULL;
        bool applied = false;
        if (!repair(cfg, opt, &plan, &applied)) {
            if (opt->json)
                print_report(&report, true, false, NULL);
            check_report_free(&report);
            return EXIT_PREFLIGHT;
        }
        if (applied) { /* the verdict is the state after the repair */
            check_report_free(&report);
            check_report_init(&report);
            if (!preflight_run_checks(cfg, opt->only, &report, &err)) {
                json_decref(plan);
                check_report_free(&report);
                return EXIT_INTERNAL;
            }
            if (!opt->json)
                printf("\nAfter the repair:\n");
        }
        if (opt->json || applied)
            print_report(&report, opt->json, color, plan);
        json_decref(plan);
    }
    rc = check_report_failed(&report) ? EXIT_PREFLIGHT : EXIT_OK;
    check_report_free(&report);
    return rc;
}
