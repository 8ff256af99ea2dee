/*
 * test_aws_isolation.c: infra/aws_isolation (the data team cannot reach production) on a
 * hand-made view: the isolated VPC (the job's, and the target's) peered with production
 * and with the data team's VPC (10.30.0.0/16 and an IPv6 /56, account 222222222222); one
 * production database per subnet, each subnet with its own table, routing the data team's
 * block one way: over a peering to a partner VPC of another account reusing their block,
 * to a second VPC of the data team's account, through a firewall appliance, over the
 * direct peering but as a blackhole, over a peering not in the view; a subnet whose table
 * is not visible; a dual-stack database whose IPv6 route goes over the direct peering.
 * Moto cannot make the partner, the second VPC of theirs, a blackhole or IPv6 peering
 * blocks: tests/preflight/aws_moto.sh has the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_isolation.h"

#define ROUTE(dest, target, state)                                                                 \
    "<item><destinationCidrBlock>" dest "</destinationCidrBlock>" target "<state>" state           \
    "</state><origin>CreateRoute</origin></item>"
#define ROUTE6(dest, target)                                                                       \
    "<item><destinationIpv6CidrBlock>" dest "</destinationIpv6CidrBlock>" target                   \
    "<state>active</state><origin>CreateRoute</origin></item>"
#define PCX(id) "<vpcPeeringConnectionId>" id "</vpcPeeringConnectionId>"
#define TABLE(id, subnet, routes)                                                                  \
    "<item><routeTableId>" id "</routeTableId><vpcId>vpc-prod</vpcId><routeSet>"                   \
    "<item><destinationCidrBlock>10.10.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId>"  \
    "<state>active</state></item>" routes "</routeSet><associationSet><item><subnetId>" subnet     \
    "</subnetId><main>false</main></item></associationSet></item>"

/* clang-format off */
static const char tables_xml[] =
    "<DescribeRouteTablesResponse><routeTableSet>"
    TABLE("rtb-partner", "subnet-1", ROUTE("10.30.0.0/16", PCX("pcx-partner"), "active"))
    TABLE("rtb-theirs2", "subnet-2", ROUTE("10.30.0.0/16", PCX("pcx-theirs2"), "active"))
    TABLE("rtb-fw", "subnet-3",
          ROUTE("10.30.0.0/16", "<networkInterfaceId>eni-fw</networkInterfaceId>", "active"))
    TABLE("rtb-bh", "subnet-4", ROUTE("10.30.0.0/16", PCX("pcx-direct"), "blackhole"))
    TABLE("rtb-v6", "subnet-5", ROUTE6("2600:1f18:aa00::/56", PCX("pcx-direct")))
    TABLE("rtb-gone", "subnet-7", ROUTE("10.30.0.0/16", PCX("pcx-gone"), "active"))
    "</routeTableSet></DescribeRouteTablesResponse>";
/* clang-format on */

static char group_db[1][EC2_ID_MAX] = {"sg-db"};
static char v6_addr[1][EC2_CIDR_MAX] = {"2600:1f18:bb00::20"};

static void eni(struct ec2_network_interface *e, const char *id, const char *vpc,
                const char *subnet, const char *ip)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    snprintf(e->vpc_id, sizeof(e->vpc_id), "%s", vpc);
    snprintf(e->subnet_id, sizeof(e->subnet_id), "%s", subnet);
    snprintf(e->private_ip, sizeof(e->private_ip), "%s", ip);
    e->groups = group_db;
    e->n_groups = 1;
}

static void side(struct ec2_vpc_side *s, const char *vpc, const char *owner, const char *cidr,
                 const char *cidr6)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->vpc_id, sizeof(s->vpc_id), "%s", vpc);
    snprintf(s->owner_id, sizeof(s->owner_id), "%s", owner);
    snprintf(s->cidrs[s->n_cidrs++], sizeof(s->cidrs[0]), "%s", cidr);
    if (cidr6)
        snprintf(s->cidrs[s->n_cidrs++], sizeof(s->cidrs[0]), "%s", cidr6);
}

static void peering(struct ec2_peering *p, const char *id, const char *status)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->status, sizeof(p->status), "%s", status);
}

struct world {
    struct aws_view v;
    struct ec2_network_interface enis[10];
    struct ec2_peering pcx[5];
};

static void build(struct world *w)
{
    struct infra_error err;
    struct ec2_peering *p = w->pcx;

    memset(w, 0, sizeof(*w));
    eni(&w->enis[0], "eni-job", "vpc-iso", "subnet-job", "10.20.2.15");
    eni(&w->enis[1], "eni-tgt", "vpc-iso", "subnet-tgt", "10.20.3.30");
    eni(&w->enis[2], "eni-1", "vpc-prod", "subnet-1", "10.10.1.20");
    eni(&w->enis[3], "eni-2", "vpc-prod", "subnet-2", "10.10.2.20");
    eni(&w->enis[4], "eni-3", "vpc-prod", "subnet-3", "10.10.3.20");
    eni(&w->enis[5], "eni-4", "vpc-prod", "subnet-4", "10.10.4.20");
    eni(&w->enis[6], "eni-5", "vpc-prod", "subnet-5", "10.10.5.20");
    w->enis[6].ipv6s = v6_addr;
    w->enis[6].n_ipv6s = 1;
    eni(&w->enis[7], "eni-6", "vpc-prod", "subnet-6", "10.10.6.20");
    eni(&w->enis[8], "eni-7", "vpc-prod", "subnet-7", "10.10.7.20");
    w->v.enis.items = w->enis;
    w->v.enis.n = 9;
    peering(&p[0], "pcx-data", "active");
    side(&p[0].requester, "vpc-iso", "111111111111", "10.20.0.0/16", NULL);
    side(&p[0].accepter, "vpc-data", "222222222222", "10.30.0.0/16", "2600:1f18:aa00::/56");
    peering(&p[1], "pcx-partner", "active");
    side(&p[1].requester, "vpc-prod", "111111111111", "10.10.0.0/16", NULL);
    side(&p[1].accepter, "vpc-partner", "333333333333", "10.30.0.0/16", NULL);
    peering(&p[2], "pcx-theirs2", "active");
    side(&p[2].requester, "vpc-prod", "111111111111", "10.10.0.0/16", NULL);
    side(&p[2].accepter, "vpc-data2", "222222222222", "10.30.0.0/16", NULL);
    peering(&p[3], "pcx-direct", "active");
    side(&p[3].requester, "vpc-prod", "111111111111", "10.10.0.0/16", "2600:1f18:bb00::/56");
    side(&p[3].accepter, "vpc-data", "222222222222", "10.30.0.0/16", "2600:1f18:aa00::/56");
    peering(&p[4], "pcx-main", "active");
    side(&p[4].requester, "vpc-iso", "111111111111", "10.20.0.0/16", NULL);
    side(&p[4].accepter, "vpc-prod", "111111111111", "10.10.0.0/16", NULL);
    w->v.peerings.items = p;
    w->v.peerings.n = 5;
    if (!ec2_xml_parse_route_tables(tables_xml, sizeof(tables_xml) - 1, &w->v.tables, &err))
        fail_msg("%s", err.msg);
}

static const struct check_result *line(const struct check_report *r, const char *subject)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].group, "path.isolation") == 0 &&
            strcmp(r->items[i].subject, subject) == 0)
            return &r->items[i];
    return NULL;
}

static void expect(const struct check_report *r, const char *subject, enum check_status st,
                   const char *object, const char *detail)
{
    const struct check_result *c = line(r, subject);

    if (!c)
        fail_msg("no path.isolation line %s", subject);
    if (c->status != st || strcmp(c->object, object) != 0 || !strstr(c->detail, detail))
        fail_msg("%s: status %d object %s detail %s", subject, (int)c->status, c->object,
                 c->detail);
}

static void run(struct world *w, const char *const *addrs, size_t n, const char *const *data,
                size_t n_data, struct check_report *rep)
{
    struct aws_path_endpoint ep = {.name = "source", .addrs = addrs, .n_addrs = n, .port = 5432};
    struct aws_path_input in = {.region = "eu-west-2", .endpoints = &ep, .n_endpoints = 1};

    in.job.eni = "eni-job";
    check_report_init(rep);
    aws_isolation_run(&w->v, &in, data, n_data, rep);
}

static void test_ways_back(void **state)
{
    static const char *const addrs[] = {"10.10.1.20", "10.10.2.20", "10.10.3.20", "10.10.4.20"};
    static const char *const data[] = {"pcx-data"};
    struct check_report rep;
    struct world w;

    (void)state;
    build(&w);
    run(&w, addrs, 4, data, 1, &rep);
    assert_int_equal(rep.n, 4); /* one IPv4 block per address: the IPv6 one meets none */
    expect(&rep, "data-team source 10.10.1.20", CHECK_PASS, "rtb-partner",
           "via pcx-partner to vpc-partner (333333333333), not the data team's");
    expect(&rep, "data-team source 10.10.2.20", CHECK_FAIL, "pcx-theirs2",
           "straight to vpc-data2 (222222222222), a VPC of theirs holding them");
    assert_non_null(strstr(line(&rep, "data-team source 10.10.2.20")->remediation,
                           "aws ec2 delete-route --route-table-id rtb-theirs2 "
                           "--destination-cidr-block 10.30.0.0/16 --region eu-west-2"));
    expect(&rep, "data-team source 10.10.3.20", CHECK_WARN, "rtb-fw",
           "via eni-fw, a network interface (an appliance");
    expect(&rep, "data-team source 10.10.4.20", CHECK_PASS, "rtb-bh",
           "via pcx-direct, which is blackhole");
    check_report_free(&rep);
    ec2_route_table_list_free(&w.v.tables);
}

/* Production's subnet 8 routes 10.0.0.0/8 to tgw-1: its attachment's table decides. */
static void tgw_world(struct world *w, struct aws_tgw_table *T, struct ec2_tgw_attachment *att)
{
    static const char xml[] = "<DescribeRouteTablesResponse><routeTableSet>" TABLE(
        "rtb-tgw", "subnet-8",
        ROUTE("10.0.0.0/8", "<transitGatewayId>tgw-1</transitGatewayId>",
              "active")) "</routeTableSet></DescribeRouteTablesResponse>";
    struct infra_error err;

    eni(&w->enis[9], "eni-8", "vpc-prod", "subnet-8", "10.10.8.20");
    w->v.enis.n = 10;
    memset(att, 0, sizeof(*att));
    snprintf(att->id, sizeof(att->id), "tgw-attach-p");
    snprintf(att->tgw_id, sizeof(att->tgw_id), "tgw-1");
    snprintf(att->resource_type, sizeof(att->resource_type), "vpc");
    snprintf(att->resource_id, sizeof(att->resource_id), "vpc-prod");
    snprintf(att->state, sizeof(att->state), "available");
    snprintf(att->assoc_table, sizeof(att->assoc_table), "tgw-rtb-1");
    w->v.tgw_attachments.items = att;
    w->v.tgw_attachments.n = 1;
    memset(T, 0, sizeof(*T));
    snprintf(T->id, sizeof(T->id), "tgw-rtb-1");
    w->v.tgw_tables = T;
    w->v.n_tgw_tables = 1;
    if (!ec2_xml_parse_route_tables(xml, sizeof(xml) - 1, &w->v.tables, &err))
        fail_msg("%s", err.msg);
}

static void test_transit_gateway(void **state)
{
    static const char *const addrs[] = {"10.10.8.20"};
    static const char *const data[] = {"pcx-data"};
    struct ec2_tgw_route r = {.dest_cidr = "10.30.0.0/16",
                              .type = "propagated",
                              .state = "active",
                              .attachment = "tgw-attach-d",
                              .resource_id = "vpc-data",
                              .resource_type = "vpc",
                              .n_attachments = 1};
    struct ec2_tgw_attachment att;
    struct aws_tgw_table T;
    struct check_report rep;
    struct world w;

    (void)state;
    build(&w);
    tgw_world(&w, &T, &att);
    run(&w, addrs, 1, data, 1, &rep); /* its table has no route for them */
    expect(&rep, "data-team source 10.10.8.20", CHECK_PASS, "rtb-tgw",
           "via tgw-1, whose table tgw-rtb-1 has no route for them");
    check_report_free(&rep);
    T.routes.items = &r; /* it propagates their VPC's block: production is joined to them */
    T.routes.n = 1;
    run(&w, addrs, 1, data, 1, &rep);
    expect(&rep, "data-team source 10.10.8.20", CHECK_FAIL, "tgw-1",
           "whose table tgw-rtb-1 sends them by route 10.30.0.0/16 to tgw-attach-d, their VPC");
    assert_non_null(strstr(line(&rep, "data-team source 10.10.8.20")->remediation,
                           "delete-transit-gateway-route --transit-gateway-route-table-id "
                           "tgw-rtb-1 --destination-cidr-block 10.30.0.0/16"));
    check_report_free(&rep);
    snprintf(r.resource_id, sizeof(r.resource_id), "vpc-inspection"); /* it may forward */
    run(&w, addrs, 1, data, 1, &rep);
    expect(&rep, "data-team source 10.10.8.20", CHECK_WARN, "rtb-tgw",
           "does not follow here (its route leads to vpc-inspection)");
    check_report_free(&rep);
    snprintf(r.state, sizeof(r.state), "blackhole");
    run(&w, addrs, 1, data, 1, &rep);
    expect(&rep, "data-team source 10.10.8.20", CHECK_PASS, "rtb-tgw", "has it as a blackhole");
    check_report_free(&rep);
    w.v.tgw_attachments.n = 0; /* production not attached to it */
    run(&w, addrs, 1, data, 1, &rep);
    expect(&rep, "data-team source 10.10.8.20", CHECK_PASS, "rtb-tgw",
           "a transit gateway vpc-prod is not attached to");
    check_report_free(&rep);
    ec2_route_table_list_free(&w.v.tables);
}

static void test_unseen_and_ipv6(void **state)
{
    static const char *const addrs[] = {"10.10.5.20", "2600:1f18:bb00::20", "10.10.6.20",
                                        "10.20.3.30"};
    static const char *const addrs7[] = {"10.10.7.20"};
    static const char *const data[] = {"pcx-data"};
    static const char *const nodata[] = {"pcx-absent"};
    struct check_report rep;
    struct world w;

    (void)state;
    build(&w);
    run(&w, addrs, 4, data, 1, &rep);
    /* 10.10.5.20: no IPv4 route; its IPv6 address: over the direct peering; 10.10.6.20: no
     * table; 10.20.3.30 (the target, in the isolated VPC): no line */
    assert_int_equal(rep.n, 3);
    expect(&rep, "data-team source 10.10.5.20", CHECK_PASS, "rtb-v6", "no route of rtb-v6");
    expect(&rep, "data-team source 2600:1f18:bb00::20", CHECK_FAIL, "pcx-direct",
           "by route 2600:1f18:aa00::/56 via pcx-direct, an active peering straight to vpc-data");
    assert_non_null(strstr(line(&rep, "data-team source 2600:1f18:bb00::20")->remediation,
                           "--destination-ipv6-cidr-block 2600:1f18:aa00::/56"));
    expect(&rep, "data-team source 10.10.6.20", CHECK_WARN, "subnet-6",
           "no route table of vpc-prod is visible for subnet-6");
    assert_null(line(&rep, "data-team source 10.20.3.30"));
    check_report_free(&rep);
    run(&w, addrs7, 1, data, 1, &rep); /* a peering the view does not hold */
    expect(&rep, "data-team source 10.10.7.20", CHECK_WARN, "rtb-gone",
           "via pcx-gone, a peering not visible here");
    check_report_free(&rep);
    run(&w, addrs, 4, nodata, 1, &rep); /* the data team's peering not visible: nothing */
    assert_int_equal(rep.n, 0);
    check_report_free(&rep);
    ec2_route_table_list_free(&w.v.tables);
}

/* An Aurora cluster's other instances: each judged from its RDS subnet (the current one
 * is the address itself; a standby has no address of its own). */
static void test_failover_members(void **state)
{
    static const char *const addrs[] = {"10.10.1.20"};
    static const char *const groups[] = {"sg-db"};
    const struct aws_path_member m[] = {
        {.instance = "orders-1",
         .role = "writer",
         .ip = "10.10.1.20",
         .vpc = "vpc-prod",
         .subnet = "subnet-1",
         .groups = groups,
         .n_groups = 1,
         .current = true},
        {.instance = "orders-2",
         .role = "reader",
         .ip = "10.10.2.99",
         .vpc = "vpc-prod",
         .subnet = "subnet-2",
         .groups = groups,
         .n_groups = 1},
        {.instance = "orders (standby)",
         .role = "standby",
         .vpc = "vpc-prod",
         .subnet = "subnet-4",
         .groups = groups,
         .n_groups = 1},
        {.instance = "orders-3",
         .role = "reader",
         .ip = "10.20.9.9",
         .vpc = "vpc-iso",
         .subnet = "subnet-tgt",
         .groups = groups,
         .n_groups = 1},
    };
    struct aws_path_endpoint ep = {
        .name = "source", .addrs = addrs, .n_addrs = 1, .port = 5432, .members = m, .n_members = 4};
    struct aws_path_input in = {.region = "eu-west-2", .endpoints = &ep, .n_endpoints = 1};
    static const char *const ids[] = {"pcx-data"};
    struct check_report rep;
    struct world w;

    (void)state;
    build(&w);
    in.job.eni = "eni-job";
    check_report_init(&rep);
    aws_isolation_run(&w.v, &in, ids, 1, &rep);
    assert_int_equal(rep.n, 3); /* the current address, the reader, the standby */
    expect(&rep, "data-team source 10.10.1.20", CHECK_PASS, "rtb-partner", "not the data team's");
    expect(&rep, "data-team source 10.10.2.99", CHECK_FAIL, "pcx-theirs2",
           "a VPC of theirs holding them");
    expect(&rep, "data-team source orders (standby)", CHECK_PASS, "rtb-bh", "which is blackhole");
    check_report_free(&rep);
    ec2_route_table_list_free(&w.v.tables);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ways_back),
        cmocka_unit_test(test_unseen_and_ipv6),
        cmocka_unit_test(test_transit_gateway),
        cmocka_unit_test(test_failover_members),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
