/*
 * aws_ends.c: the two ends of a database connection's path in an aws_view (see aws_ends.h).
 */
#include "infra/aws_ends.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "infra/aws_eval.h"

bool aws_ends_eni_has_ip(const struct ec2_network_interface *e, const char *ip)
{
    if (strcmp(e->private_ip, ip) == 0)
        return true;
    for (size_t j = 0; j < e->n_ips; j++)
        if (strcmp(e->ips[j], ip) == 0)
            return true;
    for (size_t j = 0; j < e->n_ipv6s; j++)
        if (strcmp(e->ipv6s[j], ip) == 0)
            return true;
    return false;
}

/* Does the interface agree with what the metadata said about the job's? */
static bool eni_fits_job(const struct ec2_network_interface *e, const struct aws_path_job *job)
{
    if (job->mac && job->mac[0] && e->mac[0] && strcasecmp(e->mac, job->mac) != 0)
        return false;
    if (job->subnet && job->subnet[0] && strcmp(e->subnet_id, job->subnet) != 0)
        return false;
    return !(job->vpc && job->vpc[0] && strcmp(e->vpc_id, job->vpc) != 0);
}

const struct ec2_network_interface *
aws_ends_job_eni(const struct aws_view *v, const struct aws_path_job *job, size_t *n_candidates)
{
    const struct ec2_network_interface *e = job->eni ? aws_view_eni_by_id(v, job->eni) : NULL;
    const struct ec2_network_interface *found = NULL;
    size_t n = 0;

    if (!e && job->ip)
        for (size_t i = 0; i < v->enis.n; i++)
            if (aws_ends_eni_has_ip(&v->enis.items[i], job->ip) &&
                eni_fits_job(&v->enis.items[i], job)) {
                found = &v->enis.items[i];
                n++;
            }
    if (e) {
        found = e;
        n = 1;
    }
    if (n_candidates)
        *n_candidates = n;
    return n == 1 ? found : NULL;
}

/* Does the VPC on side s of a peering hold addr (its secondary blocks too)? */
static bool side_holds(const struct aws_view *v, const struct ec2_vpc_side *s,
                       const struct cidr *addr)
{
    return aws_view_side_holds(v, s, addr, NULL, 0);
}

/* The VPC a transit gateway sends addr to from vpc's attachment (its route table's match),
 * or NULL with *tgw set when the table does not say (any VPC attached may hold it). */
static const char *tgw_route_vpc(const struct aws_view *v, const char *tgw, const char *vpc,
                                 const struct cidr *addr, const char **tgw_out)
{
    const struct ec2_tgw_attachment *a = aws_view_tgw_attachment(v, tgw, vpc);
    const struct aws_tgw_table *T = a ? aws_view_tgw_table(v, a->assoc_table) : NULL;
    const struct ec2_tgw_route *m =
        T && !T->fetch.failed ? aws_tgw_route_match(&T->routes, addr, NULL) : NULL;

    if (m && strcmp(m->resource_type, "vpc") == 0 && m->resource_id[0])
        return m->resource_id;
    *tgw_out = tgw;
    return NULL;
}

/* Where the route of vpc/subnet's table for addr leads: *to_vpc (the local route, or the
 * other side of a peering in the view whose CIDRs hold addr) or *tgw (a transit gateway).
 * False when the route names no VPC (no route, another target, a peering not in the view
 * or to a VPC that cannot hold the address: a wrong route, which path.route reports). */
bool aws_ends_route_leads_to(const struct aws_view *v, const char *vpc, const char *subnet,
                             const struct cidr *addr, const char **to_vpc, const char **tgw)
{
    bool explicit_assoc;
    const struct ec2_route_table *t = aws_view_subnet_table(v, vpc, subnet, &explicit_assoc);
    const struct ec2_vpc_side *side;
    struct aws_route_hit h;

    *to_vpc = *tgw = NULL;
    if (!t)
        return false;
    aws_route_match(v, t, addr, &h);
    if (!h.route)
        return false;
    if (strcmp(h.route->target, "local") == 0)
        *to_vpc = vpc;
    else if (h.route->pcx[0] && (side = aws_peer_side(aws_view_peering(v, h.route->pcx), vpc)) &&
             side_holds(v, side, addr)) /* a VPC that cannot hold the address names no one */
        *to_vpc = side->vpc_id[0] ? side->vpc_id : NULL;
    else if (strncmp(h.route->target, "tgw-", 4) == 0)
        *to_vpc = tgw_route_vpc(v, h.route->target, vpc, addr, tgw);
    return *to_vpc || *tgw;
}

void aws_ends_carrier(const struct aws_view *v, const char *vpc, const char *subnet,
                      const struct cidr *addr, const char **pcx, const char **tgw)
{
    bool explicit_assoc;
    const struct ec2_route_table *t = aws_view_subnet_table(v, vpc, subnet, &explicit_assoc);
    struct aws_route_hit h;

    *pcx = *tgw = NULL;
    if (!t)
        return;
    aws_route_match(v, t, addr, &h);
    if (h.route && h.route->pcx[0])
        *pcx = h.route->pcx;
    else if (h.route && strncmp(h.route->target, "tgw-", 4) == 0)
        *tgw = h.route->target;
}

const struct ec2_network_interface *aws_ends_db_eni(const struct aws_view *v, const char *job_vpc,
                                                    const char *job_subnet, const char *ip,
                                                    size_t *n_candidates)
{
    const struct ec2_network_interface *any = NULL, *on_path = NULL;
    const char *to_vpc = NULL, *tgw = NULL;
    size_t n = 0, m = 0;
    struct cidr addr;
    bool known;

    for (size_t i = 0; ip && i < v->enis.n; i++)
        if (aws_ends_eni_has_ip(&v->enis.items[i], ip)) {
            any = &v->enis.items[i];
            n++;
        }
    if (n_candidates)
        *n_candidates = n;
    if (n == 0)
        return NULL;
    known = job_vpc && cidr_parse_addr(ip, &addr) &&
            aws_ends_route_leads_to(v, job_vpc, job_subnet, &addr, &to_vpc, &tgw);
    if (!known)
        return n == 1 ? any : NULL;
    /* a transit gateway whose table does not say: a VPC attached to it, else the only one
     * (path.route tells the route is wrong); a VPC named by the route: that one or none */
    for (size_t i = 0; i < v->enis.n; i++) {
        const struct ec2_network_interface *e = &v->enis.items[i];
        if (!aws_ends_eni_has_ip(e, ip))
            continue;
        if (to_vpc ? strcmp(e->vpc_id, to_vpc) == 0
                   : aws_view_tgw_attachment(v, tgw, e->vpc_id) != NULL) {
            on_path = e;
            m++;
        }
    }
    if (!to_vpc && m == 0 && n == 1)
        return any;
    return m == 1 ? on_path : NULL;
}

/* "eni-a in vpc-x, eni-b in vpc-y" for the interfaces holding ip */
void aws_ends_holders_text(const struct aws_view *v, const char *ip, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < v->enis.n && len < size; i++)
        if (aws_ends_eni_has_ip(&v->enis.items[i], ip))
            len += (size_t)snprintf(buf + len, size - len, "%s%s in %s", len ? ", " : "",
                                    v->enis.items[i].id, v->enis.items[i].vpc_id);
}

void aws_ends_stale_pin(const struct aws_path_endpoint *ep, struct check_report *rep)
{
    char subject[96], now[200] = "";
    struct check_result *c;
    size_t len = 0;

    if (!ep->pinned_ip)
        return;
    for (size_t j = 0; j < ep->n_addrs; j++) {
        if (strcmp(ep->addrs[j], ep->pinned_ip) == 0)
            return;
        if (len < sizeof(now))
            len +=
                (size_t)snprintf(now + len, sizeof(now) - len, "%s%s", j ? ", " : "", ep->addrs[j]);
    }
    snprintf(subject, sizeof(subject), "%s %s", ep->name, ep->pinned_ip);
    c = check_report_add(rep, "path.database", subject, CHECK_WARN);
    snprintf(c->object, sizeof(c->object), "%s", ep->pinned_ip);
    check_result_detail(c,
                        "network.endpoints[].ip %s is not an address %s resolves to now (%s): "
                        "this analysis follows the name, but `preflight --only path`, which "
                        "resolves nothing, judges the pinned address (an RDS Multi-AZ "
                        "failover, or a new instance, moves it)",
                        ep->pinned_ip, ep->host && ep->host[0] ? ep->host : "the host", now);
    check_result_fix(c,
                     "set network.endpoints[].ip of %s to %s, or remove it (the dns check "
                     "resolves the name)",
                     ep->name, ep->n_addrs ? ep->addrs[0] : "the address it resolves to");
}
