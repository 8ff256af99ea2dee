/*
 * aws_eval.c: route, security group and network ACL decisions (see aws_eval.h).
 *
 * Network ACLs are judged over a port range, not one port, because a reply goes to the
 * client's ephemeral port, which is unknown: the range is cut into parts, each decided
 * by the first rule (in rule-number order) that matches it. Parts are bounded by rule
 * edges, so n rules cut the range into at most 2n + 1 parts.
 */
#include "infra/aws_eval.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/netprobe.h"

/* ---- routes ---- */

const char *aws_route_dest_text(const struct ec2_route *r)
{
    if (r->dest_cidr[0])
        return r->dest_cidr;
    if (r->dest_ipv6_cidr[0])
        return r->dest_ipv6_cidr;
    return r->dest_prefix_list;
}

bool aws_route_active(const struct ec2_route *r)
{
    return !r->state[0] || strcmp(r->state, "active") == 0;
}

/* Same prefix length: a static route, then a prefix-list route, then a propagated one. */
static int route_rank(const struct ec2_route *r, bool via_prefix_list)
{
    if (via_prefix_list)
        return 1;
    if (strcmp(r->origin, "EnableVgwRoutePropagation") == 0 ||
        strcmp(r->origin, "Advertisement") == 0)
        return 2;
    return 0;
}

static void consider(struct aws_route_hit *hit, const struct ec2_route *r, const struct cidr *c,
                     bool via_pl)
{
    if (hit->route) {
        if (c->prefix < hit->dest.prefix)
            return;
        if (c->prefix == hit->dest.prefix &&
            route_rank(r, via_pl) >= route_rank(hit->route, hit->via_prefix_list))
            return;
    }
    hit->route = r;
    hit->dest = *c;
    hit->via_prefix_list = via_pl;
}

void aws_route_match(const struct aws_view *v, const struct ec2_route_table *t,
                     const struct cidr *dest, struct aws_route_hit *hit)
{
    struct infra_error ignored;

    memset(hit, 0, sizeof(*hit));
    for (size_t i = 0; i < t->n_routes; i++) {
        const struct ec2_route *r = &t->routes[i];
        const struct aws_prefix_list *pl;
        struct cidr c;
        if (r->dest_cidr[0] || r->dest_ipv6_cidr[0]) {
            if (cidr_parse(aws_route_dest_text(r), &c, &ignored) && cidr_covers(&c, dest))
                consider(hit, r, &c, false);
            continue;
        }
        if (!r->dest_prefix_list[0])
            continue;
        pl = v ? aws_view_prefix_list(v, r->dest_prefix_list) : NULL;
        if (!pl || pl->fetch.failed) {
            snprintf(hit->unknown_prefix_list, sizeof(hit->unknown_prefix_list), "%s",
                     r->dest_prefix_list);
            continue;
        }
        for (size_t j = 0; j < pl->entries.n; j++)
            if (cidr_parse(pl->entries.cidrs[j], &c, &ignored) && cidr_covers(&c, dest))
                consider(hit, r, &c, true);
    }
}

static bool conflicts(const struct ec2_route *r, const struct ec2_route *via)
{
    return !aws_route_active(r) || strcmp(r->target, via->target) != 0;
}

bool aws_route_inner_conflict(const struct aws_view *v, const struct ec2_route_table *t,
                              const struct cidr *outer, const struct ec2_route *via,
                              struct aws_route_conflict *out)
{
    struct infra_error ignored;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; via && i < t->n_routes; i++) {
        const struct ec2_route *r = &t->routes[i];
        const struct aws_prefix_list *pl;
        struct cidr c;
        if (r == via || !conflicts(r, via))
            continue;
        if (r->dest_cidr[0] || r->dest_ipv6_cidr[0]) {
            if (!cidr_parse(aws_route_dest_text(r), &c, &ignored) || c.prefix <= outer->prefix ||
                !cidr_covers(outer, &c))
                continue;
            *out = (struct aws_route_conflict){r, c, false};
            return true;
        }
        pl = v && r->dest_prefix_list[0] ? aws_view_prefix_list(v, r->dest_prefix_list) : NULL;
        for (size_t j = 0; pl && !pl->fetch.failed && j < pl->entries.n; j++)
            if (cidr_parse(pl->entries.cidrs[j], &c, &ignored) && c.prefix > outer->prefix &&
                cidr_covers(outer, &c)) {
                *out = (struct aws_route_conflict){r, c, true};
                return true;
            }
    }
    return false;
}

void aws_route_dest_args(const struct ec2_route *r, char *buf, size_t size)
{
    if (r->dest_cidr[0])
        snprintf(buf, size, "--destination-cidr-block %s", r->dest_cidr);
    else if (r->dest_ipv6_cidr[0])
        snprintf(buf, size, "--destination-ipv6-cidr-block %s", r->dest_ipv6_cidr);
    else
        snprintf(buf, size, "--destination-prefix-list-id %s", r->dest_prefix_list);
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum aws_target_kind aws_route_target_kind(const struct ec2_route *r)
{
    static const char *const exits[] = {"igw-", "eigw-", "nat-", "vgw-", "lgw-", "cagw-", NULL};
    static const char *const appliances[] = {"eni-", "i-", "vpce-", "arn:", NULL};

    if (strcmp(r->target, "local") == 0)
        return AWS_TARGET_LOCAL;
    if (r->pcx[0] || starts(r->target, "pcx-"))
        return AWS_TARGET_PEERING;
    if (starts(r->target, "tgw-"))
        return AWS_TARGET_TGW;
    for (size_t i = 0; exits[i]; i++)
        if (starts(r->target, exits[i]))
            return AWS_TARGET_EXIT;
    for (size_t i = 0; appliances[i]; i++)
        if (starts(r->target, appliances[i]))
            return AWS_TARGET_APPLIANCE;
    return r->target[0] ? AWS_TARGET_APPLIANCE : AWS_TARGET_NONE;
}

const char *aws_route_target_what(const struct ec2_route *r)
{
    static const struct {
        const char *prefix, *what;
    } names[] = {
        {"local", "the VPC itself"},
        {"pcx-", "a VPC peering"},
        {"tgw-", "a transit gateway"},
        {"igw-", "an internet gateway"},
        {"eigw-", "an egress-only internet gateway"},
        {"nat-", "a NAT gateway"},
        {"vgw-", "a VPN gateway"},
        {"lgw-", "a local gateway"},
        {"cagw-", "a carrier gateway"},
        {"eni-", "a network interface (an appliance: firewall, proxy)"},
        {"i-", "an instance (an appliance: firewall, proxy)"},
        {"vpce-", "a Gateway Load Balancer or Network Firewall endpoint"},
        {"arn:", "a Cloud WAN core network"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (starts(r->target, names[i].prefix))
            return names[i].what;
    return r->target[0] ? "another target" : "no target";
}

const struct ec2_tgw_route *aws_tgw_route_match(const struct ec2_tgw_route_list *l,
                                                const struct cidr *dest, bool *unknown_pl)
{
    const struct ec2_tgw_route *best = NULL;
    struct infra_error ignored;
    struct cidr c, bc = {0};

    if (unknown_pl)
        *unknown_pl = false;
    for (size_t i = 0; l && i < l->n; i++) {
        const struct ec2_tgw_route *r = &l->items[i];
        if (!r->dest_cidr[0]) {
            if (r->prefix_list[0] && unknown_pl)
                *unknown_pl = true;
            continue;
        }
        if (!cidr_parse(r->dest_cidr, &c, &ignored) || !cidr_covers(&c, dest))
            continue;
        if (best &&
            (c.prefix < bc.prefix || (c.prefix == bc.prefix && strcmp(best->type, "static") == 0)))
            continue;
        best = r;
        bc = c;
    }
    return best;
}

/* ---- security groups ---- */

bool aws_perm_covers_tcp_port(const struct ec2_ip_permission *p, int port)
{
    if (strcmp(p->protocol, "-1") == 0 || strcmp(p->protocol, "all") == 0)
        return true;
    if (strcmp(p->protocol, "tcp") != 0 && strcmp(p->protocol, "6") != 0)
        return false;
    if (!p->has_ports || p->from_port == -1)
        return true;
    return p->from_port <= port && port <= p->to_port;
}

void aws_perm_text(const struct ec2_ip_permission *p, char *buf, size_t size)
{
    if (strcmp(p->protocol, "-1") == 0 || strcmp(p->protocol, "all") == 0)
        snprintf(buf, size, "all protocols");
    else if (p->has_ports && p->from_port != -1)
        snprintf(buf, size, "%s %d-%d", p->protocol, p->from_port, p->to_port);
    else
        snprintf(buf, size, "%s (all ports)", p->protocol);
}

static bool party_has_group(const struct aws_party *party, const char *id)
{
    for (size_t i = 0; i < party->n_groups; i++)
        if (party->groups[i] && strcmp(party->groups[i], id) == 0)
            return true;
    return false;
}

/* The status of the peering a group reference goes over ("" when it goes over none or
 * the peering is not in the view). */
static const char *ref_peering_status(const struct aws_view *v, const struct ec2_sg_ref *ref)
{
    const struct ec2_peering *p;

    if (ref->peering_status[0])
        return ref->peering_status;
    if (!ref->pcx[0])
        return "";
    p = v ? aws_view_peering(v, ref->pcx) : NULL;
    return p ? p->status : "";
}

/* Does the reference go over a peering between two regions? AWS only lets a rule
 * reference a group of the peer VPC over a peering in one region. */
static bool ref_inter_region(const struct aws_view *v, const struct ec2_sg_ref *ref)
{
    const struct ec2_peering *p = v && ref->pcx[0] ? aws_view_peering(v, ref->pcx) : NULL;

    return p && p->requester.region[0] && p->accepter.region[0] &&
           strcmp(p->requester.region, p->accepter.region) != 0;
}

/* Does a reference to one of the party's groups hold for packets taking the party's way
 * between the two VPCs? False with a note in out when it does not, or may not. */
static bool ref_on_path(const struct ec2_sg_ref *ref, const struct aws_party *party, bool egress,
                        struct aws_sg_verdict *out)
{
    if (party->via_pcx && ref->pcx[0] && strcmp(ref->pcx, party->via_pcx) != 0) {
        snprintf(out->stale_reference, sizeof(out->stale_reference),
                 "%s over %s, but the packets take %s", ref->group_id, ref->pcx, party->via_pcx);
        return false;
    }
    if (!party->via_tgw)
        return true;
    if (ref->pcx[0] || egress)
        snprintf(out->stale_reference, sizeof(out->stale_reference),
                 "%s %s%s, but the packets take %s%s", ref->group_id,
                 ref->pcx[0] ? "over " : "in an outbound rule", ref->pcx, party->via_tgw,
                 ref->pcx[0] ? "" : " (references over a gateway are inbound only)");
    else
        snprintf(out->unknown_reference, sizeof(out->unknown_reference), "%s over %s",
                 ref->group_id, party->via_tgw);
    return false;
}

/* Does one permission allow the party? Fills out->matched (and the unknown/stale notes). */
static bool perm_allows(const struct aws_view *v, const struct ec2_ip_permission *p,
                        const struct aws_party *party, bool egress, struct aws_sg_verdict *out)
{
    struct infra_error ignored;
    struct cidr c;

    for (size_t i = 0; i < p->n_cidrs; i++)
        if (cidr_parse(p->cidrs[i], &c, &ignored) && cidr_covers(&c, &party->addr)) {
            snprintf(out->matched, sizeof(out->matched), "%s", p->cidrs[i]);
            return true;
        }
    for (size_t i = 0; i < p->n_groups; i++) {
        const struct ec2_sg_ref *ref = &p->groups[i];
        const char *st = ref_peering_status(v, ref);
        bool may_be_member = party->groups_unknown || party_has_group(party, ref->group_id);
        /* a reference over a peering that is not active, or between two regions, lets
         * nobody in: it is no unknown either */
        if (st[0] && strcmp(st, "active") != 0) {
            if (may_be_member)
                snprintf(out->stale_reference, sizeof(out->stale_reference), "%s over %s (%s)",
                         ref->group_id, ref->pcx, st);
            continue;
        }
        if (ref_inter_region(v, ref)) {
            if (may_be_member)
                snprintf(out->stale_reference, sizeof(out->stale_reference),
                         "%s over %s (inter-region: group references do not cross regions)",
                         ref->group_id, ref->pcx);
            continue;
        }
        if (party->groups_unknown && !out->unknown_group[0])
            snprintf(out->unknown_group, sizeof(out->unknown_group), "%s", ref->group_id);
        if (!party_has_group(party, ref->group_id) || !ref_on_path(ref, party, egress, out))
            continue;
        if (ref->pcx[0])
            snprintf(out->matched, sizeof(out->matched), "%s (peer VPC, %s)", ref->group_id,
                     ref->pcx);
        else
            snprintf(out->matched, sizeof(out->matched), "%s", ref->group_id);
        return true;
    }
    for (size_t i = 0; i < p->n_prefix_lists; i++) {
        const struct aws_prefix_list *pl = v ? aws_view_prefix_list(v, p->prefix_lists[i]) : NULL;
        if (!pl || pl->fetch.failed) {
            snprintf(out->unknown_prefix_list, sizeof(out->unknown_prefix_list), "%s",
                     p->prefix_lists[i]);
            continue;
        }
        for (size_t j = 0; j < pl->entries.n; j++)
            if (cidr_parse(pl->entries.cidrs[j], &c, &ignored) && cidr_covers(&c, &party->addr)) {
                snprintf(out->matched, sizeof(out->matched), "%s (%s)", pl->id,
                         pl->entries.cidrs[j]);
                return true;
            }
    }
    return false;
}

void aws_sg_judge(const struct aws_view *v, const struct ec2_security_group *const *groups,
                  size_t n_groups, bool egress, int port, const struct aws_party *party,
                  struct aws_sg_verdict *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t g = 0; g < n_groups; g++) {
        const struct ec2_security_group *sg = groups[g];
        const struct ec2_ip_permission *rules = egress ? sg->egress : sg->ingress;
        size_t n = egress ? sg->n_egress : sg->n_ingress;
        for (size_t i = 0; i < n; i++) {
            if (!aws_perm_covers_tcp_port(&rules[i], port) ||
                !perm_allows(v, &rules[i], party, egress, out))
                continue;
            out->allowed = true;
            out->group = sg;
            out->rule = &rules[i];
            return;
        }
    }
}

/* ---- CIDR union ---- */

struct span32 {
    uint64_t lo, hi;
};

static struct span32 span_of(const struct cidr *c)
{
    uint64_t lo = ((uint64_t)c->addr[0] << 24) | ((uint64_t)c->addr[1] << 16) |
                  ((uint64_t)c->addr[2] << 8) | c->addr[3];
    uint64_t size = (uint64_t)1 << (32 - c->prefix);

    return (struct span32){lo, lo + size - 1};
}

static int span_cmp(const void *a, const void *b)
{
    const struct span32 *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

bool aws_cidrs_cover(const struct cidr *target, const struct cidr *blocks, size_t n, bool *overlap)
{
    struct span32 want, *s;
    uint64_t next;
    size_t m = 0;
    bool covered;

    if (overlap)
        *overlap = false;
    if (target->family != AF_INET) {
        for (size_t i = 0; i < n; i++) {
            if (blocks[i].family != target->family)
                continue;
            if (overlap && (cidr_covers(&blocks[i], target) || cidr_covers(target, &blocks[i])))
                *overlap = true;
            if (cidr_covers(&blocks[i], target))
                return true;
        }
        return false;
    }
    want = span_of(target);
    s = calloc(n ? n : 1, sizeof(*s));
    if (!s)
        return false;
    for (size_t i = 0; i < n; i++) {
        struct span32 b;
        if (blocks[i].family != AF_INET)
            continue;
        b = span_of(&blocks[i]);
        if (b.hi < want.lo || b.lo > want.hi)
            continue;
        if (overlap)
            *overlap = true;
        s[m++] = b;
    }
    qsort(s, m, sizeof(*s), span_cmp);
    next = want.lo;
    for (size_t i = 0; i < m && next <= want.hi; i++)
        if (s[i].lo <= next && s[i].hi + 1 > next)
            next = s[i].hi + 1;
    covered = next > want.hi;
    free(s);
    return covered;
}

/* ---- network ACLs ---- */

static bool entry_is_tcp(const struct ec2_acl_entry *e, bool *all_ports)
{
    if (strcmp(e->protocol, "-1") == 0 || strcmp(e->protocol, "all") == 0) {
        *all_ports = true;
        return true;
    }
    if (strcmp(e->protocol, "6") != 0 && strcmp(e->protocol, "tcp") != 0)
        return false;
    *all_ports = !e->has_ports;
    return true;
}

static int entry_order(const void *a, const void *b)
{
    const struct ec2_acl_entry *x = *(const struct ec2_acl_entry *const *)a;
    const struct ec2_acl_entry *y = *(const struct ec2_acl_entry *const *)b;

    return (x->rule_number > y->rule_number) - (x->rule_number < y->rule_number);
}

static int piece_order(const void *a, const void *b)
{
    const struct aws_acl_piece *x = a, *y = b;

    return (x->from > y->from) - (x->from < y->from);
}

struct cut {
    struct aws_acl_piece *pieces; /* decided */
    size_t n_pieces;
    struct aws_acl_piece *open; /* undecided spans (allow/rule unused) */
    size_t n_open;
};

/* Decide the parts of the open spans that fall inside lo..hi with rule e. */
static void cut_with(struct cut *c, const struct ec2_acl_entry *e, int lo, int hi)
{
    size_t n = c->n_open;

    for (size_t i = 0; i < n; i++) {
        struct aws_acl_piece s = c->open[i];
        int a = s.from > lo ? s.from : lo, b = s.to < hi ? s.to : hi;
        if (a > b)
            continue;
        c->pieces[c->n_pieces++] = (struct aws_acl_piece){a, b, e->allow, e};
        c->open[i].to = -1; /* consumed; what is left of it is appended */
        if (s.from < a)
            c->open[c->n_open++] = (struct aws_acl_piece){s.from, a - 1, false, NULL};
        if (b < s.to)
            c->open[c->n_open++] = (struct aws_acl_piece){b + 1, s.to, false, NULL};
    }
    /* drop the consumed spans */
    size_t w = 0;
    for (size_t i = 0; i < c->n_open; i++)
        if (c->open[i].to >= c->open[i].from)
            c->open[w++] = c->open[i];
    c->n_open = w;
}

static void verdict_fill(struct aws_acl_verdict *out, struct aws_acl_piece *p, size_t n)
{
    qsort(p, n, sizeof(*p), piece_order);
    out->all_allowed = true;
    out->none_allowed = true;
    for (size_t i = 0; i < n; i++) {
        struct aws_acl_piece *last = out->n_pieces ? &out->pieces[out->n_pieces - 1] : NULL;
        out->all_allowed = out->all_allowed && p[i].allow;
        out->none_allowed = out->none_allowed && !p[i].allow;
        if (last && last->rule == p[i].rule && last->allow == p[i].allow &&
            last->to + 1 == p[i].from) {
            last->to = p[i].to;
            continue;
        }
        if (out->n_pieces == AWS_ACL_PIECES) {
            out->more = true;
            continue;
        }
        out->pieces[out->n_pieces++] = p[i];
    }
}

void aws_acl_judge(const struct ec2_network_acl *acl, bool egress, const struct cidr *remote,
                   int from, int to, struct aws_acl_verdict *out)
{
    size_t n = acl->n_entries, k = 0;
    const struct ec2_acl_entry **order = calloc(n ? n : 1, sizeof(*order));
    struct cut c = {calloc(2 * n + 2, sizeof(struct aws_acl_piece)), 0,
                    calloc(n + 2, sizeof(struct aws_acl_piece)), 0};
    struct infra_error ignored;

    memset(out, 0, sizeof(*out));
    if (!order || !c.pieces || !c.open) {
        out->none_allowed = true; /* out of memory: say nothing passes rather than guess */
        out->pieces[0] = (struct aws_acl_piece){from, to, false, NULL};
        out->n_pieces = 1;
        goto out;
    }
    /* rule 32767 is how DescribeNetworkAcls shows the final "*" rule (deny everything):
     * it is the default below, so it is left out (an ACL described without it, as moto
     * describes a custom one, is judged the same) */
    for (size_t i = 0; i < n; i++)
        if (acl->entries[i].egress == egress && acl->entries[i].rule_number < AWS_ACL_RULE_ANY)
            order[k++] = &acl->entries[i];
    qsort(order, k, sizeof(*order), entry_order);
    c.open[c.n_open++] = (struct aws_acl_piece){from, to, false, NULL};
    for (size_t i = 0; i < k && c.n_open; i++) {
        const struct ec2_acl_entry *e = order[i];
        struct cidr rc;
        bool all_ports;
        if (!entry_is_tcp(e, &all_ports) || !cidr_parse(e->cidr, &rc, &ignored) ||
            !cidr_covers(&rc, remote))
            continue;
        cut_with(&c, e, all_ports ? 0 : e->from_port, all_ports ? 65535 : e->to_port);
    }
    for (size_t i = 0; i < c.n_open; i++) /* nothing matched: the final "*" rule denies */
        c.pieces[c.n_pieces++] = c.open[i];
    verdict_fill(out, c.pieces, c.n_pieces);
out:
    free(order);
    free(c.pieces);
    free(c.open);
}

bool aws_acl_allows(const struct aws_acl_verdict *v, int from, int to)
{
    int next = from;

    for (size_t i = 0; i < v->n_pieces && next <= to; i++) {
        const struct aws_acl_piece *p = &v->pieces[i];
        if (p->to < next || p->from > to)
            continue;
        if (p->from > next || !p->allow)
            return false;
        next = p->to + 1;
    }
    return next > to;
}

void aws_acl_rule_text(const struct ec2_acl_entry *e, char *buf, size_t size)
{
    bool all_ports = true;
    const char *proto;
    char ports[32] = "";

    if (!e) {
        snprintf(buf, size, "rule * deny (no rule matched)");
        return;
    }
    proto =
        entry_is_tcp(e, &all_ports)
            ? (strcmp(e->protocol, "-1") == 0 || strcmp(e->protocol, "all") == 0 ? "all" : "tcp")
            : e->protocol;
    if (!all_ports && e->from_port == e->to_port)
        snprintf(ports, sizeof(ports), " %d", e->from_port);
    else if (!all_ports)
        snprintf(ports, sizeof(ports), " %d-%d", e->from_port, e->to_port);
    snprintf(buf, size, "rule %d %s %s%s %s %s", e->rule_number, e->allow ? "allow" : "deny", proto,
             ports, e->egress ? "to" : "from", e->cidr[0] ? e->cidr : "?");
}

bool aws_addr_is_public(const char *ip)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;

    memset(&s4, 0, sizeof(s4));
    memset(&s6, 0, sizeof(s6));
    if (ip && inet_pton(AF_INET, ip, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        return netprobe_addr_classify((struct sockaddr *)&s4) == NETPROBE_ADDR_PUBLIC;
    }
    if (ip && inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        return netprobe_addr_classify((struct sockaddr *)&s6) == NETPROBE_ADDR_PUBLIC;
    }
    return false;
}
