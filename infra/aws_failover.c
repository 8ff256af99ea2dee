/*
 * aws_failover.c: one line per instance an RDS endpoint can point to (see aws_failover.h).
 */
#include "infra/aws_failover.h"

#include <stdio.h>
#include <string.h>

/* "orders-2 (reader, subnet-b in us-east-1b, 10.10.6.20)" */
static void member_text(const struct aws_path_member *m, char *buf, size_t size)
{
    snprintf(buf, size, "%s (%s, %s%s%s, %s%s%s)", m->instance, m->role ? m->role : "member",
             m->subnet ? m->subnet : "subnet unknown", m->az ? " in " : "", m->az ? m->az : "",
             m->ip ? m->ip : "no address of its own", m->ip6 ? " and " : "", m->ip6 ? m->ip6 : "");
}

static const char *host_of(const struct aws_path_endpoint *ep)
{
    return ep->host && ep->host[0] ? ep->host : ep->name;
}

void aws_failover_member(const struct aws_path_endpoint *ep, const struct aws_path_member *m,
                         const struct check_report *hops, struct check_report *rep)
{
    const struct check_result *first = NULL;
    char subject[96], who[300], others[200] = "", judged[200] = "";
    size_t n_bad = 0, len = 0, jlen = 0;
    struct check_result *c;

    snprintf(subject, sizeof(subject), "%s %s", ep->name, m->instance);
    member_text(m, who, sizeof(who));
    for (size_t i = 0; i < hops->n; i++) {
        const struct check_result *h = &hops->items[i];
        const char *hop = strncmp(h->group, "path.", 5) == 0 ? h->group + 5 : h->group;
        if (jlen < sizeof(judged))
            jlen += (size_t)snprintf(judged + jlen, sizeof(judged) - jlen, "%s%s", jlen ? "," : "",
                                     hop);
        if (h->status != CHECK_WARN && h->status != CHECK_FAIL)
            continue;
        if (!first)
            first = h;
        else if (len < sizeof(others))
            len +=
                (size_t)snprintf(others + len, sizeof(others) - len, "%s%s", len ? ", " : "", hop);
        n_bad++;
    }
    if (hops->n == 0) {
        c = check_report_add(rep, "path.failover", subject, CHECK_WARN);
        snprintf(c->object, sizeof(c->object), "%s", m->instance);
        check_result_detail(c,
                            "after a failover %s can point at %s: where it runs is unknown (no "
                            "address, no subnet in its zone in its DB subnet group): not judged",
                            host_of(ep), who);
        check_result_fix(c,
                         "check by hand that %s's subnet routes the job's address back over "
                         "the peering and that its network ACL and groups let the job in",
                         m->instance);
        return;
    }
    if (!first) {
        c = check_report_add(rep, "path.failover", subject, CHECK_PASS);
        snprintf(c->object, sizeof(c->object), "%s", m->instance);
        check_result_detail(c, "after a failover %s can point at %s: every hop judged passes (%s)",
                            host_of(ep), who, judged);
        check_result_rule(c, "%s", judged); /* what decided: each of these hops */
        return;
    }
    c = check_report_add(rep, "path.failover", subject, CHECK_WARN);
    snprintf(c->object, sizeof(c->object), "%s", m->instance);
    check_result_detail(
        c, "after a failover %s would point at %s, and the job could not reach it: %s %s: %s%s%s",
        host_of(ep), who, first->group + (strncmp(first->group, "path.", 5) == 0 ? 5 : 0),
        check_status_name(first->status), first->detail, n_bad > 1 ? "; also " : "",
        n_bad > 1 ? others : "");
    check_result_rule(c, "%s", first->rule);
    check_result_fix(c, "%s",
                     first->remediation[0] ? first->remediation
                                           : "see the detail: fix it before a failover");
}

const struct aws_path_member *aws_failover_current(const struct aws_path_endpoint *ep,
                                                   const char *ip)
{
    for (size_t k = 0; ip && k < ep->n_members; k++) {
        const struct aws_path_member *m = &ep->members[k];
        if (m->current && m->subnet && m->vpc &&
            ((m->ip && strcmp(m->ip, ip) == 0) || (m->ip6 && strcmp(m->ip6, ip) == 0)))
            return m;
    }
    return NULL;
}

void aws_failover_current_detail(struct check_result *c, const struct aws_path_member *m,
                                 const char *db_at, const char *src, const char *groups)
{
    check_result_detail(c,
                        "%s (%s) is %s (%s) of the RDS API: no interface holding it is "
                        "visible, so it is judged from its RDS subnet %s%s%s (its DB subnet "
                        "group's subnet in its zone) in %s, groups %s",
                        db_at, src, m->instance, m->role ? m->role : "member", m->subnet,
                        m->az ? " in " : "", m->az ? m->az : "", m->vpc, groups);
}

void aws_failover_summary(const struct aws_path_endpoint *ep, struct check_report *rep)
{
    char subject[96];
    struct check_result *c;
    size_t others = 0;

    snprintf(subject, sizeof(subject), "%s rds", ep->name);
    if (ep->members_problem) {
        c = check_report_add(rep, "path.failover", subject, CHECK_WARN);
        snprintf(c->object, sizeof(c->object), "%s", host_of(ep));
        check_result_detail(c,
                            "%s is an %s: which instances it can point to after a failover is "
                            "not known (%s), so only the one it resolves to now is judged",
                            host_of(ep), ep->rds_kind, ep->members_problem);
        check_result_fix(c, "%s", ep->members_fix ? ep->members_fix : "see the detail");
        return;
    }
    if (ep->members_note) {
        c = check_report_add(rep, "path.failover", subject, CHECK_WARN);
        snprintf(c->object, sizeof(c->object), "%s", host_of(ep));
        check_result_detail(c, "%s is an %s: %s", host_of(ep), ep->rds_kind, ep->members_note);
        check_result_fix(c, "%s", ep->members_note_fix ? ep->members_note_fix : "see the detail");
    }
    for (size_t k = 0; k < ep->n_members; k++)
        others += !ep->members[k].current;
    if (others == 0) {
        c = check_report_add(rep, "path.failover", subject, CHECK_INFO);
        snprintf(c->object, sizeof(c->object), "%s", host_of(ep));
        check_result_detail(c, "%s is an %s that can point to no other instance now", host_of(ep),
                            ep->rds_kind);
    }
}
