/*
 * aws_dnsopt.c: the dns-option check (see aws_dnsopt.h).
 *
 * Each side whose option is off is judged on its own: the evidence about a side is what
 * the job's endpoints say about the databases in that side's VPC (the addresses the job
 * resolved or was given, else expect_cidr). A name of the job's own VPC resolving
 * privately says nothing about the peer's names, so evidence never crosses sides.
 */
#include "infra/aws_dnsopt.h"

#include <stdio.h>
#include <string.h>

#include "infra/aws_eval.h"
#include "infra/cidr.h"

enum evidence {
    EV_NONE = 0, /* nothing shows how its name resolves */
    EV_NEEDED,   /* its name resolves to a public address */
    EV_PRIVATE,  /* its name resolves to a private address in the side's VPC */
    EV_ADDRESS,  /* reached by an address (hostaddr, a literal) in the side's VPC */
};

/* What one endpoint says about one side. */
struct ep_eval {
    bool toward; /* a database of the job in the side's VPC (or maybe: nothing says) */
    enum evidence ev;
    const char *addr, *host; /* the address that decided, and the DSN host it came from */
};

/* One side of the peering whose option the config wants and finds off. */
struct side_eval {
    const struct ec2_vpc_side *s;
    const char *label; /* "requester", "accepter" */
    enum check_status st;
    char why[512];
};

static const char *addr_source(const struct aws_path_endpoint *ep, size_t j)
{
    return ep->addr_sources && ep->addr_sources[j] ? ep->addr_sources[j] : ep->addr_source;
}

static const char *addr_host(const struct aws_path_endpoint *ep, size_t j)
{
    return ep->addr_hosts && ep->addr_hosts[j] ? ep->addr_hosts[j] : ep->host;
}

static bool source_is(const char *src, const char *what)
{
    return src && strcmp(src, what) == 0;
}

/* Does the endpoint's expect_cidr meet the side's VPC (inside one of its blocks, or
 * holding one)? *has_expect: whether it has one. */
static bool expected_in(const struct aws_view *v, const struct ec2_vpc_side *s,
                        const struct aws_path_endpoint *ep, bool *has_expect)
{
    struct infra_error ignored;
    struct cidr want, c;

    *has_expect = ep->expect_cidr && cidr_parse(ep->expect_cidr, &want, &ignored);
    if (!*has_expect)
        return false;
    if (aws_view_side_holds(v, s, &want, NULL, 0))
        return true;
    for (size_t i = 0; i < s->n_cidrs; i++)
        if (cidr_parse(s->cidrs[i], &c, &ignored) && cidr_covers(&want, &c))
            return true;
    return false;
}

static void judge_endpoint(const struct aws_view *v, const struct ec2_vpc_side *s,
                           const struct aws_path_endpoint *ep, struct ep_eval *out)
{
    bool has_expect, expected = expected_in(v, s, ep, &has_expect);
    size_t n = ep->skip_why ? 0 : ep->n_addrs; /* a socket or loopback: no address counts */

    memset(out, 0, sizeof(*out));
    for (size_t j = 0; j < n; j++) {
        const char *src = addr_source(ep, j);
        bool resolved = source_is(src, "resolved");
        struct cidr a;
        if (!cidr_parse_addr(ep->addrs[j], &a))
            continue;
        if (resolved && aws_addr_is_public(ep->addrs[j]) && (expected || !has_expect)) {
            *out = (struct ep_eval){true, EV_NEEDED, ep->addrs[j], addr_host(ep, j)};
            return;
        }
        if (!aws_view_side_holds(v, s, &a, NULL, 0))
            continue;
        out->toward = true;
        if (out->ev == EV_NONE && (resolved || source_is(src, "literal address"))) {
            out->ev = resolved ? EV_PRIVATE : EV_ADDRESS;
            out->addr = ep->addrs[j];
            out->host = addr_host(ep, j);
        }
    }
    /* no address to go by: expect_cidr says where it is; without one, it may be there */
    if (!out->toward && n == 0)
        out->toward = expected || !has_expect;
}

/* Why an endpoint gives no evidence. */
static void none_reason(const struct aws_path_endpoint *ep, char *buf, size_t size)
{
    if (ep->skip_why && !ep->host_is_name)
        snprintf(
            buf, size,
            "%s is not reached by a name from here (%s): the names a proxy resolves are not seen",
            ep->name, ep->skip_why);
    else if (ep->skip_why)
        snprintf(buf, size, "%s: %s", ep->name, ep->skip_why);
    else
        snprintf(buf, size, "%s (%s) was not resolved (the dns check did not run)",
                 ep->host && ep->host[0] ? ep->host : "its host", ep->name);
}

static void judge_side(const struct aws_dnsopt_context *ctx, enum check_status sev,
                       struct side_eval *se)
{
    const struct aws_path_input *pi = ctx->path;
    const struct aws_path_endpoint *ok_ep = NULL, *none_ep = NULL;
    struct ep_eval e, ok = {0};
    char reason[300];

    if (ctx->job_vpc && strcmp(ctx->job_vpc, se->s->vpc_id) == 0) {
        se->st = CHECK_INFO;
        snprintf(se->why, sizeof(se->why),
                 ", but not needed: the job runs in this VPC (the option serves queries from "
                 "the peer)");
        return;
    }
    for (size_t i = 0; pi && i < pi->n_endpoints; i++) {
        const struct aws_path_endpoint *ep = &pi->endpoints[i];
        judge_endpoint(ctx->v, se->s, ep, &e);
        if (!e.toward)
            continue;
        if (e.ev == EV_NEEDED) {
            se->st = sev;
            snprintf(se->why, sizeof(se->why),
                     " and %s (%s) resolves to the public address %s: traffic would not take "
                     "the peering",
                     e.host ? e.host : "?", ep->name, e.addr);
            return;
        }
        if (e.ev == EV_NONE && !none_ep)
            none_ep = ep;
        else if (e.ev != EV_NONE && !ok_ep) {
            ok_ep = ep;
            ok = e;
        }
    }
    if (!pi || none_ep) {
        se->st = sev;
        if (none_ep)
            none_reason(none_ep, reason, sizeof(reason));
        snprintf(se->why, sizeof(se->why),
                 " and nothing shows that the job's names there resolve to private "
                 "addresses (%s)",
                 none_ep ? reason : "no database endpoint is known");
        return;
    }
    se->st = CHECK_INFO;
    if (ok_ep && ok.ev == EV_PRIVATE)
        snprintf(se->why, sizeof(se->why),
                 ", but not needed: %s (%s) already resolves to the private address %s in %s",
                 ok.host ? ok.host : "?", ok_ep->name, ok.addr, se->s->vpc_id);
    else if (ok_ep)
        snprintf(se->why, sizeof(se->why),
                 ", but not needed: the job reaches %s at %s by address (hostaddr or a "
                 "literal), it resolves no name there",
                 ok_ep->name, ok.addr);
    else
        snprintf(se->why, sizeof(se->why),
                 ", but not needed: no database of the job is in %s (%s%s)", se->s->vpc_id,
                 se->s->n_cidrs ? se->s->cidrs[0] : "no CIDR known",
                 se->s->n_cidrs > 1 ? ", ..." : "");
}

/* ---- who can change a side ---- */

static bool side_ours(const struct aws_dnsopt_context *ctx, const struct ec2_peering *p,
                      const struct ec2_vpc_side *s)
{
    if (ctx->our_account && ctx->our_account[0])
        return strcmp(s->owner_id, ctx->our_account) == 0;
    return s->owner_id[0] && strcmp(p->requester.owner_id, p->accepter.owner_id) == 0;
}

static const char *side_region(const struct aws_dnsopt_context *ctx, const struct ec2_vpc_side *s)
{
    return s->region[0] ? s->region : ctx->region ? ctx->region : "";
}

static bool side_here(const struct aws_dnsopt_context *ctx, const struct ec2_peering *p,
                      const struct ec2_vpc_side *s)
{
    return side_ours(ctx, p, s) &&
           (!s->region[0] || !ctx->region || strcmp(s->region, ctx->region) == 0);
}

/* "accepter side (vpc-1, account 2)", with the region when it is not ours */
static void side_text(const struct aws_dnsopt_context *ctx, const struct side_eval *se, char *buf,
                      size_t size)
{
    const char *reg = side_region(ctx, se->s);
    bool other = ctx->region && strcmp(reg, ctx->region) != 0;

    snprintf(buf, size, "%s side (%s, account %s%s%s)", se->label,
             se->s->vpc_id[0] ? se->s->vpc_id : "?", se->s->owner_id[0] ? se->s->owner_id : "?",
             other ? ", region " : "", other ? reg : "");
}

/* The fix of the failing sides: one command when every one is ours in this region (what
 * --repair does), else one per side, run by its owner in its region. */
static void dns_fix(const struct aws_dnsopt_context *ctx, const struct ec2_peering *p,
                    const struct side_eval *se, size_t n, struct check_result *c)
{
    char fix[1024] = "", opt[2][96] = {"", ""};
    size_t len = 0, n_fail = 0, n_here = 0;

    for (size_t i = 0; i < n; i++) {
        if (se[i].st == CHECK_INFO)
            continue;
        n_fail++;
        n_here += side_here(ctx, p, se[i].s);
        snprintf(opt[i], sizeof(opt[i]),
                 " --%s-peering-connection-options "
                 "AllowDnsResolutionFromRemoteVpc=true",
                 se[i].label);
    }
    if (n_fail == n_here) {
        check_result_fix(c,
                         "enable DNS resolution: anonetl preflight --repair --yes, or aws ec2 "
                         "modify-vpc-peering-connection-options --vpc-peering-connection-id "
                         "%s%s%s --region %s",
                         p->id, opt[0], opt[1], ctx->region ? ctx->region : "");
        return;
    }
    for (size_t i = 0; i < n && len < sizeof(fix); i++) {
        const struct ec2_vpc_side *s = se[i].s;
        char who[64];
        if (se[i].st == CHECK_INFO)
            continue;
        if (side_here(ctx, p, s))
            snprintf(who, sizeof(who), "anonetl preflight --repair --yes, or ");
        else if (side_ours(ctx, p, s))
            snprintf(who, sizeof(who), "in region %s: ", side_region(ctx, s));
        else
            snprintf(who, sizeof(who), "account %s runs: ", s->owner_id[0] ? s->owner_id : "?");
        len += (size_t)snprintf(fix + len, sizeof(fix) - len,
                                "%s%saws ec2 modify-vpc-peering-connection-options "
                                "--vpc-peering-connection-id %s%s --region %s%s",
                                len ? "; " : "", who, p->id, opt[i], side_region(ctx, s),
                                side_here(ctx, p, s)   ? ""
                                : side_ours(ctx, p, s) ? " (each side of an inter-region "
                                                         "peering is changed in its own region)"
                                                       : " (each account changes its own side)");
    }
    check_result_fix(c, "%s", fix);
}

/* ---- the check ---- */

static enum check_status worst(enum check_status a, enum check_status b)
{
    if (a == CHECK_FAIL || b == CHECK_FAIL)
        return CHECK_FAIL;
    if (a == CHECK_WARN || b == CHECK_WARN)
        return CHECK_WARN;
    return CHECK_INFO;
}

static void report(const struct aws_dnsopt_context *ctx, const struct aws_peering_spec *spec,
                   const struct ec2_peering *p, struct side_eval *se, size_t n,
                   struct check_report *rep)
{
    enum check_status st = n == 2 ? worst(se[0].st, se[1].st) : se[0].st;
    struct check_result *c = check_report_add(rep, "dns-option", spec->id, st);
    char a[160], b[160];

    side_text(ctx, &se[0], a, sizeof(a));
    if (n == 2 && se[0].st == se[1].st && strcmp(se[0].why, se[1].why) == 0) {
        check_result_detail(c,
                            "remote VPC DNS resolution is off on the requester and accepter "
                            "sides (%s; %s)%s",
                            se[0].s->vpc_id, se[1].s->vpc_id, se[0].why);
    } else if (n == 2) {
        side_text(ctx, &se[1], b, sizeof(b));
        check_result_detail(c, "remote VPC DNS resolution is off on the %s%s; on the %s%s", a,
                            se[0].why, b, se[1].why);
    } else {
        check_result_detail(c, "remote VPC DNS resolution is off on the %s%s", a, se[0].why);
    }
    if (st != CHECK_INFO)
        dns_fix(ctx, p, se, n, c);
}

void aws_dnsopt_check(const struct aws_dnsopt_context *ctx, const struct aws_peering_spec *spec,
                      struct check_report *rep)
{
    enum check_status sev = spec->required ? CHECK_FAIL : CHECK_WARN;
    const struct ec2_peering *p = aws_view_peering(ctx->v, spec->id);
    bool want_req =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_REQUESTER;
    bool want_acc =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_ACCEPTER;
    struct side_eval se[2];
    struct check_result *c;
    size_t n = 0;

    if (!want_req && !want_acc)
        return;
    if (!p || strcmp(p->status, "active") != 0) {
        c = check_report_add(rep, "dns-option", spec->id, CHECK_SKIP);
        check_result_detail(c, "not checked: the peering is %s", p ? p->status : "not available");
        return;
    }
    memset(se, 0, sizeof(se));
    if (want_req && !p->requester.allow_dns_from_remote)
        se[n++] = (struct side_eval){&p->requester, "requester", CHECK_INFO, ""};
    if (want_acc && !p->accepter.allow_dns_from_remote)
        se[n++] = (struct side_eval){&p->accepter, "accepter", CHECK_INFO, ""};
    if (n == 0) {
        c = check_report_add(rep, "dns-option", spec->id, CHECK_PASS);
        check_result_detail(c, "remote VPC DNS resolution enabled on the %s",
                            want_req && want_acc ? "requester and accepter sides"
                            : want_req           ? "requester side"
                                                 : "accepter side");
        return;
    }
    for (size_t i = 0; i < n; i++)
        judge_side(ctx, sev, &se[i]);
    report(ctx, spec, p, se, n, rep);
}
