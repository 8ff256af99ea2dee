/*
 * aws_view.c: the batched fetch of the EC2 objects the preflight judges (see aws_view.h).
 *
 * Every step collects the ids it needs into a small set first (deduplicated), then makes
 * one Describe call with a filter over all of them. The ids come from what the previous
 * steps returned: the interfaces give the VPCs, subnets and groups; the route tables and
 * groups give the peerings, prefix lists and transit gateways they point at.
 */
#include "infra/aws_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- a set of ids ---- */

struct idset {
    char (*v)[EC2_ID_MAX];
    size_t n, cap;
    bool oom;
};

static bool idset_has(const struct idset *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], id) == 0)
            return true;
    return false;
}

static void idset_add(struct idset *s, const char *id)
{
    if (!id || !id[0] || strlen(id) >= EC2_ID_MAX || idset_has(s, id))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        void *p = realloc(s->v, cap * sizeof(*s->v));
        if (!p) {
            s->oom = true;
            return;
        }
        s->v = p;
        s->cap = cap;
    }
    memcpy(s->v[s->n++], id, strlen(id) + 1);
}

static void idset_free(struct idset *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* The values of a filter over the set (pointers into it, valid while it lives). */
static const char **idset_values(const struct idset *s)
{
    const char **vals = calloc(s->n ? s->n : 1, sizeof(*vals));

    for (size_t i = 0; vals && i < s->n; i++)
        vals[i] = s->v[i];
    return vals;
}

/* ---- fetch helpers ---- */

static bool is_fatal(const struct ec2_error *e)
{
    return e->kind == EC2_ERR_AUTH || e->kind == EC2_ERR_TRANSPORT ||
           e->kind == EC2_ERR_THROTTLED || e->kind == EC2_ERR_CLOCK_SKEW;
}

/* Record the outcome of one kind's call; true when the fetch may go on. */
static bool settle(struct aws_view *v, struct aws_fetch *f, bool ok, const struct ec2_error *e)
{
    f->tried = true;
    if (ok || e->kind == EC2_ERR_NOT_FOUND) /* filters never say NotFound; ids might */
        return true;
    f->failed = true;
    f->err = *e;
    if (is_fatal(e)) {
        v->fatal = true;
        v->fatal_err = *e;
        return false;
    }
    return true;
}

typedef bool (*describe_fn)(struct ec2 *c, const char *const *ids, size_t n_ids,
                            const struct ec2_filter *filters, size_t n_filters, void *out,
                            struct ec2_error *e);

/* One Describe call with filter `name` over the set (and an optional second filter). */
static bool describe_by(struct ec2 *ec2, describe_fn fn, const char *name, const struct idset *s,
                        const struct ec2_filter *extra, void *out, struct ec2_error *e, bool *oom)
{
    const char **vals = idset_values(s);
    struct ec2_filter f[2] = {{name, vals, s->n}, {NULL, NULL, 0}};
    bool ok;

    if (!vals) {
        *oom = true;
        return true;
    }
    if (extra)
        f[1] = *extra;
    ok = fn(ec2, NULL, 0, f, extra ? 2 : 1, out, e);
    free(vals);
    return ok;
}

static bool d_enis(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                   size_t nf, void *out, struct ec2_error *e)
{
    return ec2_describe_network_interfaces(c, ids, n, f, nf, out, e);
}

static bool d_tables(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                     size_t nf, void *out, struct ec2_error *e)
{
    return ec2_describe_route_tables(c, ids, n, f, nf, out, e);
}

static bool d_acls(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                   size_t nf, void *out, struct ec2_error *e)
{
    return ec2_describe_network_acls(c, ids, n, f, nf, out, e);
}

static bool d_groups(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                     size_t nf, void *out, struct ec2_error *e)
{
    return ec2_describe_security_groups(c, ids, n, f, nf, out, e);
}

static bool d_peerings(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                       size_t nf, void *out, struct ec2_error *e)
{
    return ec2_describe_peerings(c, ids, n, f, nf, out, e);
}

static bool d_tgw(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                  size_t nf, void *out, struct ec2_error *e)
{
    (void)ids;
    (void)n;
    return ec2_describe_tgw_attachments(c, f, nf, out, e);
}

static bool d_tgw_vpc(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                      size_t nf, void *out, struct ec2_error *e)
{
    (void)ids;
    (void)n;
    return ec2_describe_tgw_vpc_attachments(c, f, nf, out, e);
}

static bool d_subnets(struct ec2 *c, const char *const *ids, size_t n, const struct ec2_filter *f,
                      size_t nf, void *out, struct ec2_error *e)
{
    (void)ids;
    (void)n;
    return ec2_describe_subnets(c, f, nf, out, e);
}

struct fetch {
    struct ec2 *ec2;
    const struct aws_view_request *req;
    struct aws_view *v;
    struct idset vpcs, groups, pcx, pls, tgws;
    bool oom;
};

/* ---- steps ---- */

static bool is_ipv6(const char *ip)
{
    struct cidr c;

    return ip && cidr_parse_addr(ip, &c) && c.family == AF_INET6;
}

/* Move the interfaces of `from` not in `to` yet (by id) into `to`; from is emptied. */
static bool merge_enis(struct ec2_eni_list *to, struct ec2_eni_list *from)
{
    bool ok = true;

    for (size_t i = 0; i < from->n; i++) {
        struct ec2_network_interface *e = &from->items[i];
        bool have = false;
        for (size_t j = 0; j < to->n && !have; j++)
            have = strcmp(to->items[j].id, e->id) == 0;
        if (!have && to->n == to->cap) {
            size_t cap = to->cap ? to->cap * 2 : 8;
            void *p = realloc(to->items, cap * sizeof(*to->items));
            if (p) {
                to->items = p;
                to->cap = cap;
            }
        }
        if (!have && to->n < to->cap) {
            to->items[to->n++] = *e; /* its arrays move with it */
            memset(e, 0, sizeof(*e));
        } else if (!have) {
            ok = false;
        }
    }
    ec2_eni_list_free(from);
    return ok;
}

/* The interfaces holding the databases' IPv6 addresses: another filter than the private
 * IPv4 addresses' (which never matches an IPv6 address). Recorded in f_enis6 only. */
static void fetch_enis6(struct fetch *F, const struct idset *ips6)
{
    struct ec2_eni_list got = {0};
    struct ec2_error e;
    bool ok;

    if (!ips6->n)
        return;
    ok = describe_by(F->ec2, d_enis, "ipv6-addresses.ipv6-address", ips6, NULL, &got, &e, &F->oom);
    F->v->f_enis6.tried = true;
    if (!ok) {
        F->v->f_enis6.failed = true;
        F->v->f_enis6.err = e;
        ec2_eni_list_free(&got);
        return;
    }
    if (!merge_enis(&F->v->enis, &got))
        F->oom = true;
}

static bool fetch_enis(struct fetch *F)
{
    const struct aws_view_request *r = F->req;
    struct idset ips = {0}, ips6 = {0}, ids = {0};
    struct ec2_error e;
    bool go = true;

    idset_add(&ips, r->job_ip);
    for (size_t i = 0; i < r->n_db_ips && i < AWS_VIEW_MAX_IPS; i++)
        idset_add(is_ipv6(r->db_ips[i]) ? &ips6 : &ips, r->db_ips[i]);
    idset_add(&ids, r->job_eni);
    if (ips.n)
        go = settle(F->v, &F->v->f_enis,
                    describe_by(F->ec2, d_enis, "addresses.private-ip-address", &ips, NULL,
                                &F->v->enis, &e, &F->oom),
                    &e);
    if (go && ids.n)
        go = settle(F->v, &F->v->f_enis,
                    describe_by(F->ec2, d_enis, "network-interface-id", &ids, NULL, &F->v->enis, &e,
                                &F->oom),
                    &e);
    if (go)
        fetch_enis6(F, &ips6);
    F->oom = F->oom || ips.oom || ips6.oom || ids.oom;
    idset_free(&ips);
    idset_free(&ips6);
    idset_free(&ids);
    for (size_t i = 0; i < F->v->enis.n; i++) {
        idset_add(&F->vpcs, F->v->enis.items[i].vpc_id);
        for (size_t g = 0; g < F->v->enis.items[i].n_groups; g++)
            idset_add(&F->groups, F->v->enis.items[i].groups[g]);
    }
    for (size_t i = 0; i < r->n_job_vpcs; i++)
        idset_add(&F->vpcs, r->job_vpcs[i]);
    for (size_t i = 0; i < r->n_job_groups; i++)
        idset_add(&F->groups, r->job_groups[i]);
    for (size_t i = 0; i < r->n_db_vpcs; i++)
        idset_add(&F->vpcs, r->db_vpcs[i]);
    for (size_t i = 0; i < r->n_db_groups; i++)
        idset_add(&F->groups, r->db_groups[i]);
    return go;
}

static void note_route_targets(struct fetch *F, const struct ec2_route_table *t)
{
    for (size_t i = 0; i < t->n_routes; i++) {
        const struct ec2_route *rt = &t->routes[i];
        idset_add(&F->pcx, rt->pcx);
        idset_add(&F->pls, rt->dest_prefix_list);
        if (strncmp(rt->target, "tgw-", 4) == 0)
            idset_add(&F->tgws, rt->target);
    }
}

static bool fetch_tables(struct fetch *F)
{
    const struct aws_view_request *r = F->req;
    struct aws_view *v = F->v;
    struct idset missing = {0};
    struct ec2_error e;
    bool go = true;

    if (r->path && F->vpcs.n)
        go = settle(
            v, &v->f_tables,
            describe_by(F->ec2, d_tables, "vpc-id", &F->vpcs, NULL, &v->tables, &e, &F->oom), &e);
    for (size_t i = 0; i < r->n_route_tables; i++)
        if (!aws_view_table(v, r->route_tables[i]))
            idset_add(&missing, r->route_tables[i]);
    if (go && missing.n)
        go = settle(v, &v->f_tables,
                    describe_by(F->ec2, d_tables, "route-table-id", &missing, NULL, &v->tables, &e,
                                &F->oom),
                    &e);
    F->oom = F->oom || missing.oom;
    idset_free(&missing);
    for (size_t i = 0; i < v->tables.n; i++)
        note_route_targets(F, &v->tables.items[i]);
    return go;
}

static bool fetch_acls(struct fetch *F)
{
    struct ec2_error e;

    if (!F->req->path || !F->vpcs.n)
        return true;
    return settle(F->v, &F->v->f_acls,
                  describe_by(F->ec2, d_acls, "vpc-id", &F->vpcs, NULL, &F->v->acls, &e, &F->oom),
                  &e);
}

static void note_rule_refs(struct fetch *F, const struct ec2_ip_permission *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p[i].n_groups; j++)
            idset_add(&F->pcx, p[i].groups[j].pcx);
        for (size_t j = 0; j < p[i].n_prefix_lists; j++)
            idset_add(&F->pls, p[i].prefix_lists[j]);
    }
}

static bool fetch_groups(struct fetch *F)
{
    struct aws_view *v = F->v;
    struct ec2_error e;
    bool go = true;

    for (size_t i = 0; i < F->req->n_security_groups; i++)
        idset_add(&F->groups, F->req->security_groups[i]);
    if (F->groups.n)
        go = settle(
            v, &v->f_groups,
            describe_by(F->ec2, d_groups, "group-id", &F->groups, NULL, &v->groups, &e, &F->oom),
            &e);
    for (size_t i = 0; i < v->groups.n; i++) {
        note_rule_refs(F, v->groups.items[i].ingress, v->groups.items[i].n_ingress);
        note_rule_refs(F, v->groups.items[i].egress, v->groups.items[i].n_egress);
    }
    return go;
}

static bool fetch_peerings(struct fetch *F)
{
    struct ec2_error e;

    for (size_t i = 0; i < F->req->n_peerings; i++)
        idset_add(&F->pcx, F->req->peerings[i]);
    if (!F->pcx.n)
        return true;
    return settle(F->v, &F->v->f_peerings,
                  describe_by(F->ec2, d_peerings, "vpc-peering-connection-id", &F->pcx, NULL,
                              &F->v->peerings, &e, &F->oom),
                  &e);
}

static bool fetch_prefix_lists(struct fetch *F)
{
    struct aws_view *v = F->v;

    if (!F->pls.n)
        return true;
    v->prefix_lists = calloc(F->pls.n, sizeof(*v->prefix_lists));
    if (!v->prefix_lists) {
        F->oom = true;
        return true;
    }
    for (size_t i = 0; i < F->pls.n; i++) {
        struct aws_prefix_list *pl = &v->prefix_lists[v->n_prefix_lists++];
        struct ec2_error e;
        memcpy(pl->id, F->pls.v[i], sizeof(pl->id));
        if (!settle(v, &pl->fetch, ec2_get_prefix_list_entries(F->ec2, pl->id, &pl->entries, &e),
                    &e))
            return false;
    }
    return true;
}

static bool fetch_tgw(struct fetch *F)
{
    struct ec2_filter vpc;
    const char **vals;
    struct ec2_error e;
    bool ok;

    if (!F->tgws.n || !F->vpcs.n)
        return true;
    vals = idset_values(&F->vpcs);
    if (!vals) {
        F->oom = true;
        return true;
    }
    vpc = (struct ec2_filter){"resource-id", vals, F->vpcs.n};
    ok = settle(F->v, &F->v->f_tgw,
                describe_by(F->ec2, d_tgw, "transit-gateway-id", &F->tgws, &vpc,
                            &F->v->tgw_attachments, &e, &F->oom),
                &e);
    free(vals);
    return ok;
}

static bool fetch_tgw_tables(struct fetch *F)
{
    struct aws_view *v = F->v;
    struct idset tables = {0};
    bool go = true;

    for (size_t i = 0; i < v->tgw_attachments.n; i++)
        idset_add(&tables, v->tgw_attachments.items[i].assoc_table);
    F->oom = F->oom || tables.oom;
    if (tables.n && !(v->tgw_tables = calloc(tables.n, sizeof(*v->tgw_tables))))
        F->oom = true;
    for (size_t i = 0; go && v->tgw_tables && i < tables.n; i++) {
        struct aws_tgw_table *t = &v->tgw_tables[v->n_tgw_tables++];
        struct ec2_error e;
        memcpy(t->id, tables.v[i], sizeof(t->id));
        go = settle(v, &t->fetch, ec2_search_tgw_routes(F->ec2, t->id, &t->routes, &e), &e);
    }
    idset_free(&tables);
    return go;
}

/* The subnets of the VPC attachments fetched, and every subnet of their VPCs with its zone:
 * a transit gateway takes packets only from the zones its attachment has a subnet in (path
 * only; two calls, none without a VPC attachment). */
static bool fetch_tgw_zones(struct fetch *F)
{
    struct aws_view *v = F->v;
    struct idset atts = {0}, vpcs = {0};
    struct ec2_error e;
    bool go = true;

    for (size_t i = 0; F->req->path && i < v->tgw_attachments.n; i++)
        if (strcmp(v->tgw_attachments.items[i].resource_type, "vpc") == 0) {
            idset_add(&atts, v->tgw_attachments.items[i].id);
            idset_add(&vpcs, v->tgw_attachments.items[i].resource_id);
        }
    F->oom = F->oom || atts.oom || vpcs.oom;
    if (atts.n)
        go = settle(v, &v->f_tgw_zones,
                    describe_by(F->ec2, d_tgw_vpc, "transit-gateway-attachment-id", &atts, NULL,
                                &v->tgw_vpc_attachments, &e, &F->oom),
                    &e);
    if (go && atts.n && !v->f_tgw_zones.failed)
        go = settle(v, &v->f_tgw_zones,
                    describe_by(F->ec2, d_subnets, "vpc-id", &vpcs, NULL, &v->subnets, &e, &F->oom),
                    &e);
    idset_free(&atts);
    idset_free(&vpcs);
    return go;
}

bool aws_view_fetch(struct ec2 *ec2, const struct aws_view_request *req, struct aws_view *v,
                    struct infra_error *err)
{
    struct fetch F = {.ec2 = ec2, .req = req, .v = v};
    unsigned long before = ec2_call_count(ec2);
    bool go;

    memset(v, 0, sizeof(*v));
    go = (!req->path || fetch_enis(&F)) && fetch_tables(&F) && fetch_acls(&F) && fetch_groups(&F) &&
         fetch_peerings(&F) && fetch_prefix_lists(&F) && fetch_tgw(&F) && fetch_tgw_tables(&F) &&
         fetch_tgw_zones(&F);
    (void)go; /* v->fatal says whether it stopped early */
    if (req->path && F.vpcs.n && !F.vpcs.oom) {
        v->vpcs = F.vpcs.v; /* handed over */
        v->n_vpcs = F.vpcs.n;
        F.vpcs.v = NULL;
    }
    F.oom = F.oom || F.vpcs.oom || F.groups.oom || F.pcx.oom || F.pls.oom || F.tgws.oom;
    idset_free(&F.vpcs);
    idset_free(&F.groups);
    idset_free(&F.pcx);
    idset_free(&F.pls);
    idset_free(&F.tgws);
    v->calls = ec2_call_count(ec2) - before;
    if (F.oom) {
        infra_error_set(err, "out of memory");
        return false;
    }
    if (v->fatal) {
        infra_error_set(err, "%s", v->fatal_err.base.msg);
        return false;
    }
    return true;
}

void aws_view_free(struct aws_view *v)
{
    if (!v)
        return;
    ec2_eni_list_free(&v->enis);
    ec2_route_table_list_free(&v->tables);
    ec2_acl_list_free(&v->acls);
    ec2_sg_list_free(&v->groups);
    ec2_peering_list_free(&v->peerings);
    ec2_tgw_attachment_list_free(&v->tgw_attachments);
    ec2_tgw_vpc_attachment_list_free(&v->tgw_vpc_attachments);
    ec2_subnet_list_free(&v->subnets);
    for (size_t i = 0; i < v->n_prefix_lists; i++)
        ec2_prefix_entries_free(&v->prefix_lists[i].entries);
    free(v->prefix_lists);
    for (size_t i = 0; i < v->n_tgw_tables; i++)
        ec2_tgw_route_list_free(&v->tgw_tables[i].routes);
    free(v->tgw_tables);
    free(v->vpcs);
    memset(v, 0, sizeof(*v));
}

/* ---- lookups ---- */

const struct ec2_network_interface *aws_view_eni_by_ip(const struct aws_view *v, const char *ip)
{
    if (!ip)
        return NULL;
    for (size_t i = 0; i < v->enis.n; i++) {
        const struct ec2_network_interface *e = &v->enis.items[i];
        if (strcmp(e->private_ip, ip) == 0)
            return e;
        for (size_t j = 0; j < e->n_ips; j++)
            if (strcmp(e->ips[j], ip) == 0)
                return e;
        for (size_t j = 0; j < e->n_ipv6s; j++)
            if (strcmp(e->ipv6s[j], ip) == 0)
                return e;
    }
    return NULL;
}

const struct ec2_network_interface *aws_view_eni_by_id(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->enis.n; i++)
        if (strcmp(v->enis.items[i].id, id) == 0)
            return &v->enis.items[i];
    return NULL;
}

const struct ec2_route_table *aws_view_table(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->tables.n; i++)
        if (strcmp(v->tables.items[i].id, id) == 0)
            return &v->tables.items[i];
    return NULL;
}

const struct ec2_route_table *aws_view_subnet_table(const struct aws_view *v, const char *vpc,
                                                    const char *subnet, bool *explicit_assoc)
{
    const struct ec2_route_table *main_table = NULL;

    *explicit_assoc = false;
    for (size_t i = 0; i < v->tables.n; i++) {
        const struct ec2_route_table *t = &v->tables.items[i];
        if (vpc && strcmp(t->vpc_id, vpc) != 0)
            continue;
        for (size_t j = 0; subnet && j < t->n_subnets; j++)
            if (strcmp(t->subnets[j], subnet) == 0) {
                *explicit_assoc = true;
                return t;
            }
        if (t->main && !main_table)
            main_table = t;
    }
    return main_table;
}

const struct ec2_network_acl *aws_view_subnet_acl(const struct aws_view *v, const char *vpc,
                                                  const char *subnet)
{
    const struct ec2_network_acl *def = NULL;

    for (size_t i = 0; i < v->acls.n; i++) {
        const struct ec2_network_acl *a = &v->acls.items[i];
        if (vpc && strcmp(a->vpc_id, vpc) != 0)
            continue;
        for (size_t j = 0; subnet && j < a->n_subnets; j++)
            if (strcmp(a->subnets[j], subnet) == 0)
                return a;
        if (a->is_default && !def)
            def = a;
    }
    return def;
}

const struct ec2_security_group *aws_view_group(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->groups.n; i++)
        if (strcmp(v->groups.items[i].id, id) == 0)
            return &v->groups.items[i];
    return NULL;
}

const struct ec2_peering *aws_view_peering(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->peerings.n; i++)
        if (strcmp(v->peerings.items[i].id, id) == 0)
            return &v->peerings.items[i];
    return NULL;
}

const struct aws_prefix_list *aws_view_prefix_list(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->n_prefix_lists; i++)
        if (strcmp(v->prefix_lists[i].id, id) == 0)
            return &v->prefix_lists[i];
    return NULL;
}

const struct ec2_tgw_attachment *aws_view_tgw_attachment(const struct aws_view *v, const char *tgw,
                                                         const char *vpc)
{
    for (size_t i = 0; tgw && vpc && i < v->tgw_attachments.n; i++) {
        const struct ec2_tgw_attachment *a = &v->tgw_attachments.items[i];
        if (strcmp(a->tgw_id, tgw) == 0 && strcmp(a->resource_id, vpc) == 0)
            return a;
    }
    return NULL;
}

const struct ec2_tgw_vpc_attachment *aws_view_tgw_vpc_attachment(const struct aws_view *v,
                                                                 const char *id)
{
    for (size_t i = 0; id && i < v->tgw_vpc_attachments.n; i++)
        if (strcmp(v->tgw_vpc_attachments.items[i].id, id) == 0)
            return &v->tgw_vpc_attachments.items[i];
    return NULL;
}

const struct ec2_subnet *aws_view_subnet(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->subnets.n; i++)
        if (strcmp(v->subnets.items[i].id, id) == 0)
            return &v->subnets.items[i];
    return NULL;
}

const struct aws_tgw_table *aws_view_tgw_table(const struct aws_view *v, const char *id)
{
    for (size_t i = 0; id && i < v->n_tgw_tables; i++)
        if (strcmp(v->tgw_tables[i].id, id) == 0)
            return &v->tgw_tables[i];
    return NULL;
}

bool aws_view_has_vpc(const struct aws_view *v, const char *vpc)
{
    for (size_t i = 0; vpc && i < v->n_vpcs; i++)
        if (strcmp(v->vpcs[i], vpc) == 0)
            return true;
    return false;
}

const struct ec2_vpc_side *aws_peer_side(const struct ec2_peering *p, const char *vpc)
{
    if (!p || !vpc)
        return NULL;
    if (strcmp(p->requester.vpc_id, vpc) == 0)
        return &p->accepter;
    if (strcmp(p->accepter.vpc_id, vpc) == 0)
        return &p->requester;
    return NULL;
}

/* A route a VPC gets for each of its blocks (its target may have been replaced by a
 * middlebox's interface: the block is still the VPC's). */
static bool is_vpc_block_route(const struct ec2_route *r)
{
    return (r->dest_cidr[0] || r->dest_ipv6_cidr[0]) &&
           (strcmp(r->target, "local") == 0 || strcmp(r->origin, "CreateRouteTable") == 0);
}

static bool held_by(const char *text, const struct cidr *addr, char *block, size_t size)
{
    struct infra_error ignored;
    struct cidr c;

    if (!cidr_parse(text, &c, &ignored) || !cidr_covers(&c, addr))
        return false;
    if (block)
        snprintf(block, size, "%s", text);
    return true;
}

bool aws_view_side_holds(const struct aws_view *v, const struct ec2_vpc_side *s,
                         const struct cidr *addr, char *block, size_t size)
{
    for (size_t i = 0; i < s->n_cidrs; i++)
        if (held_by(s->cidrs[i], addr, block, size))
            return true;
    for (size_t i = 0; v && s->vpc_id[0] && i < v->tables.n; i++) {
        const struct ec2_route_table *t = &v->tables.items[i];
        if (strcmp(t->vpc_id, s->vpc_id) != 0)
            continue;
        for (size_t j = 0; j < t->n_routes; j++)
            if (is_vpc_block_route(&t->routes[j]) &&
                held_by(t->routes[j].dest_cidr[0] ? t->routes[j].dest_cidr
                                                  : t->routes[j].dest_ipv6_cidr,
                        addr, block, size))
                return true;
    }
    return false;
}
