/*
 * aws_repair.c: the --repair plan and its application (see aws_repair.h).
 *
 * The plan fetches its own aws_view (the same batched Describe calls the checks make: one
 * per kind of object, whatever the number of peerings and routes configured) rather than
 * reusing the check results, so it can run on its own and always acts on the current
 * state. Route decisions go through aws_route_match and aws_route_inner_conflict, as the
 * route check's do (prefix-list routes expanded, allowed transit gateways accepted), so
 * "missing" means the same thing in both places.
 */
#include "infra/aws_repair.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infra/aws_eval.h"
#include "infra/aws_view.h"
#include "infra/cidr.h"
#include "infra/ec2.h"

/* ---- plan building blocks ---- */

static struct aws_repair_action *add_action(struct aws_repair_plan *p, enum aws_repair_kind kind,
                                            struct infra_error *err)
{
    struct aws_repair_action *a;

    if (p->n_actions == p->cap_actions) {
        size_t cap = p->cap_actions ? p->cap_actions * 2 : 8;
        void *np = realloc(p->actions, cap * sizeof(*p->actions));
        if (!np) {
            infra_error_set(err, "out of memory");
            return NULL;
        }
        p->actions = np;
        p->cap_actions = cap;
    }
    a = &p->actions[p->n_actions++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    return a;
}

static bool add_note(struct aws_repair_plan *p, struct infra_error *err, const char *fmt, ...)
    INFRA_PRINTF(3, 4);

static bool add_note(struct aws_repair_plan *p, struct infra_error *err, const char *fmt, ...)
{
    va_list ap;

    if (p->n_notes == p->cap_notes) {
        size_t cap = p->cap_notes ? p->cap_notes * 2 : 8;
        void *np = realloc(p->notes, cap * sizeof(*p->notes));
        if (!np) {
            infra_error_set(err, "out of memory");
            return false;
        }
        p->notes = np;
        p->cap_notes = cap;
    }
    va_start(ap, fmt);
    vsnprintf(p->notes[p->n_notes++], sizeof(p->notes[0]), fmt, ap);
    va_end(ap);
    return true;
}

struct planner {
    const struct aws_check_input *in;
    const struct aws_view *v;
    struct aws_repair_plan *plan;
    struct infra_error *err;
    char our_account[EC2_ID_MAX]; /* "" = unknown */
};

/* Our account: given, else the owner of a configured security group or route table. */
static void learn_account(struct planner *pl)
{
    const struct aws_check_input *in = pl->in;
    const char *owner = NULL;

    if (in->account_id && in->account_id[0])
        owner = in->account_id;
    for (size_t i = 0; !owner && i < in->n_security_groups; i++) {
        const struct ec2_security_group *g = aws_view_group(pl->v, in->security_groups[i].group);
        owner = g && g->owner_id[0] ? g->owner_id : NULL;
    }
    for (size_t i = 0; !owner && i < in->n_routes; i++) {
        const struct ec2_route_table *t = aws_view_table(pl->v, in->routes[i].route_table);
        owner = t && t->owner_id[0] ? t->owner_id : NULL;
    }
    snprintf(pl->our_account, sizeof(pl->our_account), "%s", owner ? owner : "");
}

static bool ours(const struct planner *pl, const struct ec2_peering *p,
                 const struct ec2_vpc_side *side)
{
    if (pl->our_account[0])
        return strcmp(side->owner_id, pl->our_account) == 0;
    return side->owner_id[0] && strcmp(p->requester.owner_id, p->accepter.owner_id) == 0;
}

static const char *region_of(const struct planner *pl, const struct ec2_vpc_side *s)
{
    return s->region[0] ? s->region : pl->in->region ? pl->in->region : "";
}

static bool in_our_region(const struct planner *pl, const struct ec2_vpc_side *s)
{
    return !s->region[0] || !pl->in->region || strcmp(s->region, pl->in->region) == 0;
}

/* Accept: returns *will_be_active. */
static bool plan_accept(struct planner *pl, const struct ec2_peering *p, bool *will_be_active)
{
    bool same = p->accepter.owner_id[0] && strcmp(p->accepter.owner_id, p->requester.owner_id) == 0;
    bool mine = pl->our_account[0] && strcmp(p->accepter.owner_id, pl->our_account) == 0;
    struct aws_repair_action *a;

    *will_be_active = false;
    if (!(same || mine) || !in_our_region(pl, &p->accepter))
        return add_note(pl->plan, pl->err,
                        "peering %s: account %s must accept it in region %s (not done: not "
                        "ours to accept from here)",
                        p->id, p->accepter.owner_id[0] ? p->accepter.owner_id : "?",
                        region_of(pl, &p->accepter));
    a = add_action(pl->plan, AWS_REPAIR_ACCEPT_PEERING, pl->err);
    if (!a)
        return false;
    snprintf(a->peering, sizeof(a->peering), "%s", p->id);
    snprintf(a->line, sizeof(a->line),
             "accept peering %s (requester %s in account %s, accepter %s in account %s)", p->id,
             p->requester.vpc_id, p->requester.owner_id, p->accepter.vpc_id, p->accepter.owner_id);
    *will_be_active = true;
    return true;
}

static bool plan_dns(struct planner *pl, const struct aws_peering_spec *spec,
                     const struct ec2_peering *p)
{
    bool want_req =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_REQUESTER;
    bool want_acc =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_ACCEPTER;
    bool off_req = want_req && !p->requester.allow_dns_from_remote;
    bool off_acc = want_acc && !p->accepter.allow_dns_from_remote;
    bool do_req = off_req && ours(pl, p, &p->requester) && in_our_region(pl, &p->requester);
    bool do_acc = off_acc && ours(pl, p, &p->accepter) && in_our_region(pl, &p->accepter);
    struct aws_repair_action *a;

    if (off_req && !do_req &&
        !add_note(pl->plan, pl->err,
                  "peering %s: account %s must enable DNS resolution on the requester side "
                  "(region %s)",
                  p->id, p->requester.owner_id, region_of(pl, &p->requester)))
        return false;
    if (off_acc && !do_acc &&
        !add_note(pl->plan, pl->err,
                  "peering %s: account %s must enable DNS resolution on the accepter side "
                  "(region %s)",
                  p->id, p->accepter.owner_id, region_of(pl, &p->accepter)))
        return false;
    if (!do_req && !do_acc)
        return true;
    a = add_action(pl->plan, AWS_REPAIR_ENABLE_DNS, pl->err);
    if (!a)
        return false;
    snprintf(a->peering, sizeof(a->peering), "%s", p->id);
    a->requester_side = do_req;
    a->accepter_side = do_acc;
    snprintf(a->line, sizeof(a->line), "enable remote VPC DNS resolution on the %s of peering %s",
             do_req && do_acc ? "requester and accepter sides"
             : do_req         ? "requester side"
                              : "accepter side",
             p->id);
    return true;
}

static bool plan_peering(struct planner *pl, const struct aws_peering_spec *spec)
{
    const struct ec2_peering *p = aws_view_peering(pl->v, spec->id);
    bool active;

    if (!p && pl->v->f_peerings.failed)
        return add_note(pl->plan, pl->err, "peering %s: %s", spec->id,
                        pl->v->f_peerings.err.base.msg);
    if (!p)
        return add_note(pl->plan, pl->err, "peering %s: not found (fix aws.peerings)", spec->id);
    active = strcmp(p->status, "active") == 0;
    if (strcmp(p->status, "pending-acceptance") == 0) {
        if (!plan_accept(pl, p, &active))
            return false;
    } else if (!active) {
        return add_note(pl->plan, pl->err,
                        "peering %s is %s: not repairable here (create a new "
                        "peering)",
                        spec->id, p->status);
    }
    if (!active)
        return true;
    return plan_dns(pl, spec, p);
}

static bool route_planned(const struct aws_repair_plan *plan, const struct aws_route_spec *spec)
{
    for (size_t i = 0; i < plan->n_actions; i++) {
        const struct aws_repair_action *a = &plan->actions[i];
        if (a->kind == AWS_REPAIR_CREATE_ROUTE && strcmp(a->route_table, spec->route_table) == 0 &&
            strcmp(a->destination, spec->destination) == 0)
            return true;
    }
    return false;
}

static bool tgw_allowed(const struct planner *pl, const char *tgw)
{
    const struct aws_path_input *pi = pl->in->path;

    for (size_t i = 0; pi && i < pi->n_transit_gateways; i++)
        if (pi->transit_gateways[i] && strcmp(pi->transit_gateways[i], tgw) == 0)
            return true;
    return false;
}

/*
 * The route check's verdict (aws_checks.c), repaired only where a new route is enough:
 * nothing covers the block, or what covers it is wider or a prefix list's entry (a route
 * for the block itself wins the longest match, and a static route wins over a prefix
 * list's entry of the same length). A route of exactly this block that goes elsewhere,
 * and a more specific route inside the block, would need a replace or a delete: a note.
 */
static bool plan_route(struct planner *pl, const struct aws_route_spec *spec)
{
    const struct ec2_route_table *t = aws_view_table(pl->v, spec->route_table);
    struct aws_route_conflict inner;
    struct aws_repair_action *a;
    struct infra_error ignored;
    struct aws_route_hit h;
    struct cidr want;
    char part[CIDR_TEXT_MAX];

    if (!t && pl->v->f_tables.failed)
        return add_note(pl->plan, pl->err, "route table %s: %s", spec->route_table,
                        pl->v->f_tables.err.base.msg);
    if (!t)
        return add_note(pl->plan, pl->err, "route table %s: not found", spec->route_table);
    if (!cidr_parse(spec->destination, &want, &ignored))
        return add_note(pl->plan, pl->err, "route %s: destination %s is not a CIDR",
                        spec->route_table, spec->destination);
    if (route_planned(pl->plan, spec))
        return true;
    aws_route_match(pl->v, t, &want, &h);
    if (h.route && aws_route_active(h.route) &&
        (strcmp(h.route->pcx, spec->peering) == 0 ||
         (strncmp(h.route->target, "tgw-", 4) == 0 && tgw_allowed(pl, h.route->target)))) {
        if (!aws_route_inner_conflict(pl->v, t, &want, h.route, &inner))
            return true;
        cidr_format(&inner.dest, part, sizeof(part));
        return add_note(pl->plan, pl->err,
                        "route %s %s: the more specific %s goes via %s: replace or delete it "
                        "by hand, --repair never replaces a route",
                        spec->route_table, spec->destination, part,
                        inner.route->target[0] ? inner.route->target : "?");
    }
    if (!h.route && h.unknown_prefix_list[0])
        return add_note(pl->plan, pl->err,
                        "route %s %s: the entries of %s cannot be read: nothing planned",
                        spec->route_table, spec->destination, h.unknown_prefix_list);
    if (h.route && !h.via_prefix_list && cidr_equal(&h.dest, &want))
        return add_note(pl->plan, pl->err,
                        "route %s %s goes via %s (%s): replace it by hand, --repair never "
                        "replaces a route",
                        spec->route_table, aws_route_dest_text(h.route),
                        h.route->target[0] ? h.route->target : "?",
                        h.route->state[0] ? h.route->state : "active");
    a = add_action(pl->plan, AWS_REPAIR_CREATE_ROUTE, pl->err);
    if (!a)
        return false;
    snprintf(a->route_table, sizeof(a->route_table), "%s", spec->route_table);
    snprintf(a->destination, sizeof(a->destination), "%s", spec->destination);
    snprintf(a->peering, sizeof(a->peering), "%s", spec->peering);
    snprintf(a->line, sizeof(a->line), "create route %s -> %s in %s", spec->destination,
             spec->peering, spec->route_table);
    return true;
}

/* One batched fetch of what the configured checks name (the same view they judge). */
static bool fetch_view(struct ec2 *ec2, const struct aws_check_input *in, struct aws_view *v,
                       struct infra_error *err)
{
    const char **pcx = calloc(in->n_peerings + 1, sizeof(*pcx));
    const char **rtb = calloc(in->n_routes + 1, sizeof(*rtb));
    const char **sg = calloc(in->n_security_groups + 1, sizeof(*sg));
    struct aws_view_request req;
    bool ok = false;

    memset(v, 0, sizeof(*v));
    memset(&req, 0, sizeof(req));
    if (!pcx || !rtb || !sg) {
        infra_error_set(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < in->n_peerings; i++)
        pcx[i] = in->peerings[i].id;
    for (size_t i = 0; i < in->n_routes; i++)
        rtb[i] = in->routes[i].route_table;
    for (size_t i = 0; i < in->n_security_groups; i++)
        sg[i] = in->security_groups[i].group;
    req.peerings = pcx;
    req.n_peerings = in->n_peerings;
    req.route_tables = rtb;
    req.n_route_tables = in->n_routes;
    req.security_groups = sg;
    req.n_security_groups = in->n_security_groups;
    ok = aws_view_fetch(ec2, &req, v, err);
out:
    free(pcx);
    free(rtb);
    free(sg);
    return ok;
}

bool aws_repair_plan_build(struct ec2 *ec2, const struct aws_check_input *in,
                           struct aws_repair_plan *plan, struct infra_error *err)
{
    struct aws_view v;
    struct planner pl = {in, &v, plan, err, ""};
    bool ok = fetch_view(ec2, in, &v, err);

    if (ok)
        learn_account(&pl);
    for (size_t i = 0; ok && i < in->n_peerings; i++)
        ok = plan_peering(&pl, &in->peerings[i]);
    for (size_t i = 0; ok && i < in->n_routes; i++)
        if (in->routes[i].route_table && in->routes[i].peering && in->routes[i].destination)
            ok = plan_route(&pl, &in->routes[i]);
    plan->ec2_calls = v.calls;
    aws_view_free(&v);
    return ok;
}

/* ---- apply ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static const struct aws_repair_action *accept_of(const struct aws_repair_plan *plan,
                                                 const char *pcx)
{
    for (size_t i = 0; i < plan->n_actions; i++)
        if (plan->actions[i].kind == AWS_REPAIR_ACCEPT_PEERING &&
            strcmp(plan->actions[i].peering, pcx) == 0)
            return &plan->actions[i];
    return NULL;
}

static bool wait_active(struct ec2 *ec2, const char *pcx, long wait_ms, char *why, size_t size)
{
    for (long waited = 0;; waited += 1000) {
        struct ec2_peering p;
        struct ec2_error e;
        bool found;
        if (!ec2_describe_peering(ec2, pcx, &p, &found, &e)) {
            snprintf(why, size, "%s", e.base.msg);
            return false;
        }
        if (found && strcmp(p.status, "active") == 0)
            return true;
        if (waited >= wait_ms) {
            snprintf(why, size, "peering %s is still %s", pcx, found ? p.status : "not found");
            return false;
        }
        sleep_ms(1000);
    }
}

static bool apply_one(struct ec2 *ec2, const struct aws_repair_plan *plan,
                      struct aws_repair_action *a, long wait_ms)
{
    const struct aws_repair_action *acc;
    struct ec2_error e;

    switch (a->kind) {
    case AWS_REPAIR_ACCEPT_PEERING:
        if (!ec2_accept_peering(ec2, a->peering, NULL, &e))
            goto failed;
        break;
    case AWS_REPAIR_ENABLE_DNS:
        acc = accept_of(plan, a->peering);
        if (acc && acc->state != AWS_REPAIR_DONE) {
            snprintf(a->result, sizeof(a->result), "skipped: accepting %s failed", a->peering);
            return false;
        }
        if (!wait_active(ec2, a->peering, acc ? wait_ms : 0, a->result, sizeof(a->result)))
            return false;
        if (!ec2_enable_peering_dns(ec2, a->peering, a->requester_side, a->accepter_side, NULL, &e))
            goto failed;
        break;
    case AWS_REPAIR_CREATE_ROUTE:
        if (!ec2_create_route(ec2, a->route_table, a->destination, a->peering, &e))
            goto failed;
        break;
    }
    snprintf(a->result, sizeof(a->result), "done");
    return true;
failed:
    snprintf(a->result, sizeof(a->result), "%s", e.base.msg);
    return false;
}

bool aws_repair_apply(struct ec2 *ec2, struct aws_repair_plan *plan, long wait_active_ms,
                      struct infra_error *err)
{
    bool all = true;

    for (size_t i = 0; i < plan->n_actions; i++) {
        struct aws_repair_action *a = &plan->actions[i];
        if (apply_one(ec2, plan, a, wait_active_ms)) {
            a->state = AWS_REPAIR_DONE;
            continue;
        }
        a->state = AWS_REPAIR_FAILED;
        if (all)
            infra_error_set(err, "%s: %s", a->line, a->result);
        all = false;
    }
    return all;
}

void aws_repair_plan_free(struct aws_repair_plan *plan)
{
    if (!plan)
        return;
    free(plan->actions);
    free(plan->notes);
    memset(plan, 0, sizeof(*plan));
}
