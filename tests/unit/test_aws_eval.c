/*
 * test_aws_eval.c: infra/aws_eval (how AWS decides a packet's fate) on objects parsed from
 * tests/data/ec2/ fixtures and small inline responses: longest prefix match with prefix-list
 * routes and route priority, more specific routes inside a block, security groups
 * (additive, group references over a peering, prefix lists), CIDR unions, and network ACLs
 * judged over port ranges in rule-number order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_eval.h"
#include "infra/aws_ends.h"
#include "infra/aws_path.h"

#define FIXTURES "tests/data/ec2/"

static char *slurp(const char *name, size_t *len)
{
    return fixture_read(FIXTURES, name, len);
}

static struct cidr host(const char *ip)
{
    struct cidr c;

    assert_true(cidr_parse_addr(ip, &c));
    return c;
}

static struct cidr block(const char *text)
{
    struct infra_error err;
    struct cidr c;

    assert_true(cidr_parse(text, &c, &err));
    return c;
}

/* ---- routes ---- */

#define RTB(routes)                                                                                \
    "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1</routeTableId>"         \
    "<vpcId>vpc-job</vpcId><routeSet>"                                                             \
    "<item><destinationCidrBlock>10.20.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId>"  \
    "<state>active</state></item>" routes "</routeSet></item></routeTableSet>"                     \
    "</DescribeRouteTablesResponse>"
#define ROUTE(dest, target, state, origin)                                                         \
    "<item><destinationCidrBlock>" dest "</destinationCidrBlock>" target "<state>" state           \
    "</state><origin>" origin "</origin></item>"
#define PCX(id) "<vpcPeeringConnectionId>" id "</vpcPeeringConnectionId>"

static void parse_rtb(const char *xml, struct ec2_route_table_list *l)
{
    struct infra_error err;

    memset(l, 0, sizeof(*l));
    if (!ec2_xml_parse_route_tables(xml, strlen(xml), l, &err))
        fail_msg("%s", err.msg);
}

static void test_route_longest_match(void **state)
{
    static const char xml[] = RTB(
        ROUTE("10.10.0.0/16", PCX("pcx-main"), "active", "CreateRoute")
            ROUTE("10.10.5.0/24", PCX("pcx-other"), "blackhole", "CreateRoute")
                ROUTE("0.0.0.0/0", "<natGatewayId>nat-1</natGatewayId>", "active", "CreateRoute"));
    struct ec2_route_table_list l;
    struct aws_route_conflict conflict;
    struct aws_route_hit h;
    struct cidr d;

    (void)state;
    parse_rtb(xml, &l);
    d = host("10.10.5.20"); /* the database subnet: the /24, not the /16 */
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_non_null(h.route);
    assert_string_equal(h.route->pcx, "pcx-other");
    assert_false(aws_route_active(h.route));
    d = host("10.10.9.9");
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-main");
    d = host("10.20.3.30");
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_string_equal(h.route->target, "local");
    d = host("8.8.8.8");
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_string_equal(h.route->target, "nat-1");
    /* a block asks for the route that covers all of it */
    d = block("10.10.0.0/16");
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-main");
    /* ... and the /24 inside goes elsewhere */
    assert_true(aws_route_inner_conflict(NULL, &l.items[0], &d, h.route, &conflict));
    assert_string_equal(conflict.route->dest_cidr, "10.10.5.0/24");
    assert_false(conflict.via_prefix_list);
    d = block("10.10.6.0/24");
    aws_route_match(NULL, &l.items[0], &d, &h);
    assert_false(aws_route_inner_conflict(NULL, &l.items[0], &d, h.route, &conflict));
    ec2_route_table_list_free(&l);
}

static void test_route_priority_and_prefix_lists(void **state)
{
    /* same /16 three ways: propagated (vgw), prefix list, static; the static one wins */
    static const char xml[] =
        RTB(ROUTE("10.10.0.0/16", "<gatewayId>vgw-1</gatewayId>", "active",
                  "EnableVgwRoutePropagation") "<item><destinationPrefixListId>pl-dbs</"
                                               "destinationPrefixListId>" PCX(
                                                   "pcx-pl") "<state>active</"
                                                             "state><origin>"
                                                             "CreateRoute</"
                                                             "origin></"
                                                             "item>" ROUTE("10.10."
                                                                           "0.0/"
                                                                           "16",
                                                                           PCX("pc"
                                                                               "x-"
                                                                               "st"
                                                                               "at"
                                                                               "i"
                                                                               "c"),
                                                                           "activ"
                                                                           "e",
                                                                           "Create"
                                                                           "Rout"
                                                                           "e"));
    static const char only_pl[] = RTB(ROUTE(
        "10.10.0.0/16", "<gatewayId>vgw-1</gatewayId>", "active",
        "EnableVgwRoutePropagation") "<item><destinationPrefixListId>pl-dbs"
                                     "</destinationPrefixListId>" PCX(
                                         "pcx-pl") "<state>active</state><origin>CreateRoute</"
                                                   "origin></item>");
    struct aws_prefix_list pl = {.id = "pl-dbs"};
    char cidrs[2][EC2_CIDR_MAX] = {"10.10.0.0/16", "10.10.5.0/25"};
    struct aws_view v;
    struct ec2_route_table_list l;
    struct aws_route_conflict conflict;
    struct aws_route_hit h;
    struct cidr d = host("10.10.9.9");

    (void)state;
    memset(&v, 0, sizeof(v));
    pl.entries.cidrs = cidrs;
    pl.entries.n = 2;
    v.prefix_lists = &pl;
    v.n_prefix_lists = 1;
    parse_rtb(xml, &l);
    aws_route_match(&v, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-static");
    d = host("10.10.5.20"); /* a prefix list entry more specific than the static route wins */
    aws_route_match(&v, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-pl");
    assert_true(h.via_prefix_list);
    assert_int_equal(h.dest.prefix, 25);
    /* the /16 takes the static route, but an entry of the list takes part of it elsewhere */
    d = block("10.10.0.0/16");
    aws_route_match(&v, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-static");
    assert_true(aws_route_inner_conflict(&v, &l.items[0], &d, h.route, &conflict));
    assert_true(conflict.via_prefix_list);
    assert_string_equal(conflict.route->pcx, "pcx-pl");
    assert_int_equal(conflict.dest.prefix, 25);
    ec2_route_table_list_free(&l);

    parse_rtb(only_pl, &l); /* prefix list over a propagated route of the same length */
    d = host("10.10.9.9");
    aws_route_match(&v, &l.items[0], &d, &h);
    assert_string_equal(h.route->pcx, "pcx-pl");
    aws_route_match(NULL, &l.items[0], &d, &h); /* entries unknown: say so */
    assert_string_equal(h.route->target, "vgw-1");
    assert_string_equal(h.unknown_prefix_list, "pl-dbs");
    ec2_route_table_list_free(&l);
}

static void test_route_fixture_pl_tgw(void **state)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err;
    const struct ec2_route_table *t = NULL;
    struct aws_route_hit h;
    struct cidr d = host("10.40.1.1");
    size_t len;
    char *x = slurp("moto_describe_route_tables_pl_tgw.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].n_subnets)
            t = &l.items[i];
    assert_non_null(t);
    aws_route_match(NULL, t, &d, &h);
    assert_int_equal(strncmp(h.route->target, "tgw-", 4), 0);
    d = host("10.10.5.20"); /* the CIDR route; the prefix-list route cannot be expanded */
    aws_route_match(NULL, t, &d, &h);
    assert_int_equal(strncmp(h.route->pcx, "pcx-", 4), 0);
    assert_int_equal(strncmp(h.unknown_prefix_list, "pl-", 3), 0);
    ec2_route_table_list_free(&l);
    free(x);
}

/* ---- security groups ---- */

#define SGS(groups)                                                                                \
    "<DescribeSecurityGroupsResponse><securityGroupInfo>" groups                                   \
    "</securityGroupInfo></DescribeSecurityGroupsResponse>"
#define SG(id, ingress)                                                                            \
    "<item><groupId>" id "</groupId><vpcId>vpc-db</vpcId><ipPermissions>" ingress                  \
    "</ipPermissions><ipPermissionsEgress/></item>"
#define PERM(proto, from, to, body)                                                                \
    "<item><ipProtocol>" proto "</ipProtocol><fromPort>" from "</fromPort><toPort>" to             \
    "</toPort>" body "</item>"

static void test_tgw_route_match(void **state)
{
    struct ec2_tgw_route_list l = {0};
    const struct ec2_tgw_route *m;
    struct infra_error err;
    struct cidr d = host("10.10.7.7");
    bool unknown_pl;
    size_t len;
    char *x = slurp("synthetic_search_transit_gateway_routes.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_tgw_routes(x, len, &l, &err));
    m = aws_tgw_route_match(&l, &d, &unknown_pl); /* same /16: static before propagated */
    assert_string_equal(m->type, "static");
    assert_string_equal(m->resource_id, "vpc-0other000000000001");
    assert_true(unknown_pl); /* a prefix-list route was not judged */
    d = host("10.10.5.20");  /* the longer prefix wins */
    m = aws_tgw_route_match(&l, &d, NULL);
    assert_string_equal(m->resource_type, "vpn");
    d = host("10.10.9.9");
    assert_string_equal(aws_tgw_route_match(&l, &d, NULL)->state, "blackhole");
    d = host("10.99.0.1");
    assert_null(aws_tgw_route_match(&l, &d, NULL));
    ec2_tgw_route_list_free(&l);
    free(x);
}

/* Interfaces by address: secondary addresses count; an address two VPCs reuse names no
 * interface unless the metadata (MAC, VPC) or the route says which. */
static void test_path_interfaces(void **state)
{
    struct aws_view v;
    struct infra_error err;
    struct aws_path_job job = {.ip = "10.0.0.148"};
    const struct ec2_network_interface *e;
    size_t len, n;
    char *x = slurp("awsdocs_describe_network_interfaces.xml", &len);

    (void)state;
    memset(&v, 0, sizeof(v));
    assert_true(ec2_xml_parse_network_interfaces(x, len, &v.enis, &err));
    e = aws_ends_db_eni(&v, NULL, NULL, "10.0.0.150", &n); /* a secondary address */
    assert_non_null(e);
    assert_string_equal(e->id, "eni-0f62d866");
    assert_int_equal(n, 1);
    job.mac = "02:81:60:CB:27:37"; /* case does not matter */
    assert_non_null(aws_ends_job_eni(&v, &job, &n));
    job.mac = "02:00:00:00:00:01"; /* another interface's MAC: not the job's */
    assert_null(aws_ends_job_eni(&v, &job, &n));
    assert_int_equal(n, 0);
    /* the same interfaces again, as if another VPC reused the addresses */
    assert_true(ec2_xml_parse_network_interfaces(x, len, &v.enis, &err));
    snprintf(v.enis.items[2].id, sizeof(v.enis.items[2].id), "eni-staging");
    snprintf(v.enis.items[2].vpc_id, sizeof(v.enis.items[2].vpc_id), "vpc-staging");
    snprintf(v.enis.items[2].mac, sizeof(v.enis.items[2].mac), "02:00:00:00:00:02");
    job.mac = NULL;
    assert_null(aws_ends_job_eni(&v, &job, &n)); /* which one: unknown */
    assert_int_equal(n, 2);
    job.vpc = "vpc-staging";
    assert_string_equal(aws_ends_job_eni(&v, &job, &n)->id, "eni-staging");
    job.vpc = NULL;
    job.mac = "02:81:60:cb:27:37";
    assert_string_equal(aws_ends_job_eni(&v, &job, &n)->id, "eni-0f62d866");
    /* no route table in the view says where 10.0.0.150 is: two holders, none taken */
    assert_null(aws_ends_db_eni(&v, "vpc-cc3c87a5", "subnet-c53c87ac", "10.0.0.150", &n));
    assert_int_equal(n, 2);
    ec2_eni_list_free(&v.enis);
    free(x);
}

static void test_sg_union_and_refs(void **state)
{
    static const char xml[] = SGS(
        SG("sg-a", PERM("tcp", "5432", "5432",
                        "<ipRanges><item><cidrIp>10.20.1.0/24</cidrIp></item></ipRanges>"))
            SG("sg-b",
               PERM("tcp", "5432", "5432",
                    "<ipRanges><item><cidrIp>10.20.2.0/24</cidrIp></item></ipRanges>")
                   PERM("tcp", "5432", "5432",
                        "<groups><item><groupId>sg-job</groupId><vpcPeeringConnectionId>pcx-dead"
                        "</vpcPeeringConnectionId><peeringStatus>deleted</peeringStatus></item>"
                        "</groups>")
                       PERM("6", "5000", "6000",
                            "<prefixListIds><item><prefixListId>pl-jobs</prefixListId></item>"
                            "</prefixListIds>")));
    const char *job_groups[] = {"sg-job"};
    struct aws_party job = {host("10.20.2.15"), job_groups, 1, false, NULL, NULL};
    struct aws_party other = {host("10.20.3.15"), job_groups, 1, false, NULL, NULL};
    struct ec2_sg_list l = {0};
    const struct ec2_security_group *gs[2];
    struct aws_sg_verdict vd;
    struct infra_error err;
    struct aws_prefix_list pl = {.id = "pl-jobs"};
    char cidrs[1][EC2_CIDR_MAX] = {"10.20.3.0/24"};
    struct aws_view v;

    (void)state;
    memset(&v, 0, sizeof(v));
    assert_true(ec2_xml_parse_security_groups(xml, sizeof(xml) - 1, &l, &err));
    gs[0] = &l.items[0];
    gs[1] = &l.items[1];
    /* the groups together: sg-a does not, sg-b does */
    aws_sg_judge(NULL, gs, 2, false, 5432, &job, &vd);
    assert_true(vd.allowed);
    assert_string_equal(vd.group->id, "sg-b");
    assert_string_equal(vd.matched, "10.20.2.0/24");
    aws_sg_judge(NULL, gs, 1, false, 5432, &job, &vd);
    assert_false(vd.allowed);
    /* a reference to the job's group over a deleted peering is stale, not an allow */
    aws_sg_judge(NULL, gs + 1, 1, false, 5432, &other, &vd);
    assert_false(vd.allowed);
    assert_non_null(strstr(vd.stale_reference, "sg-job over pcx-dead (deleted)"));
    /* 5432 is inside the prefix-list rule's 5000-6000: its entries are unknown */
    assert_string_equal(vd.unknown_prefix_list, "pl-jobs");
    aws_sg_judge(NULL, gs + 1, 1, false, 4000, &other, &vd);
    assert_string_equal(vd.unknown_prefix_list, "");
    pl.entries.cidrs = cidrs;
    pl.entries.n = 1;
    v.prefix_lists = &pl;
    v.n_prefix_lists = 1;
    aws_sg_judge(&v, gs + 1, 1, false, 5500, &other, &vd);
    assert_true(vd.allowed);
    assert_string_equal(vd.matched, "pl-jobs (10.20.3.0/24)");
    /* wrong port, egress direction: nothing */
    aws_sg_judge(&v, gs, 2, false, 22, &job, &vd);
    assert_false(vd.allowed);
    aws_sg_judge(&v, gs, 2, true, 5432, &job, &vd);
    assert_false(vd.allowed);
    /* an end whose interface is not visible: its groups are unknown, but the only rule
     * naming a group goes over a deleted peering, which lets nobody in (see
     * test_sg_ref_inter_region for a live reference) */
    other = (struct aws_party){host("10.99.0.9"), NULL, 0, true, NULL, NULL};
    aws_sg_judge(&v, gs + 1, 1, false, 5432, &other, &vd);
    assert_false(vd.allowed);
    assert_string_equal(vd.unknown_group, "");
    assert_non_null(strstr(vd.stale_reference, "sg-job over pcx-dead (deleted)"));
    other.groups_unknown = false;
    aws_sg_judge(&v, gs + 1, 1, false, 5432, &other, &vd);
    assert_string_equal(vd.unknown_group, "");
    ec2_sg_list_free(&l);
}

/* A reference to a peer VPC's group only works over an active peering in one region:
 * over an inter-region one it lets nobody in, and it is no unknown either (a party whose
 * groups are unknown is not "maybe in it"). */
static void test_sg_ref_inter_region(void **state)
{
    static const char xml[] =
        SGS(SG("sg-db", PERM("tcp", "5432", "5432",
                             "<groups><item><groupId>sg-job</groupId><vpcPeeringConnectionId>pcx-x"
                             "</vpcPeeringConnectionId></item></groups>")));
    const char *job_groups[] = {"sg-job"};
    struct aws_party job = {host("10.20.2.15"), job_groups, 1, false, NULL, NULL};
    struct aws_party hidden = {host("10.20.2.15"), NULL, 0, true, NULL, NULL};
    struct ec2_peering pcx = {.id = "pcx-x", .status = "active"};
    struct ec2_sg_list l = {0};
    const struct ec2_security_group *g;
    struct aws_sg_verdict vd;
    struct infra_error err;
    struct aws_view v;

    (void)state;
    memset(&v, 0, sizeof(v));
    snprintf(pcx.requester.vpc_id, sizeof(pcx.requester.vpc_id), "vpc-job");
    snprintf(pcx.accepter.vpc_id, sizeof(pcx.accepter.vpc_id), "vpc-db");
    snprintf(pcx.requester.region, sizeof(pcx.requester.region), "eu-west-2");
    snprintf(pcx.accepter.region, sizeof(pcx.accepter.region), "eu-west-2");
    v.peerings.items = &pcx;
    v.peerings.n = 1;
    assert_true(ec2_xml_parse_security_groups(xml, sizeof(xml) - 1, &l, &err));
    g = &l.items[0];
    aws_sg_judge(&v, &g, 1, false, 5432, &job, &vd); /* one region, active: allowed */
    assert_true(vd.allowed);
    assert_string_equal(vd.matched, "sg-job (peer VPC, pcx-x)");
    aws_sg_judge(&v, &g, 1, false, 5432, &hidden, &vd); /* groups unknown: may be in it */
    assert_false(vd.allowed);
    assert_string_equal(vd.unknown_group, "sg-job");
    snprintf(pcx.accepter.region, sizeof(pcx.accepter.region), "us-east-1");
    aws_sg_judge(&v, &g, 1, false, 5432, &job, &vd);
    assert_false(vd.allowed);
    assert_non_null(strstr(vd.stale_reference, "sg-job over pcx-x (inter-region"));
    aws_sg_judge(&v, &g, 1, false, 5432, &hidden, &vd);
    assert_false(vd.allowed);
    assert_string_equal(vd.unknown_group, "");
    assert_non_null(strstr(vd.stale_reference, "inter-region"));
    /* a stale reference (the peering deleted) is no unknown for a hidden party either */
    snprintf(pcx.accepter.region, sizeof(pcx.accepter.region), "eu-west-2");
    snprintf(pcx.status, sizeof(pcx.status), "deleted");
    aws_sg_judge(&v, &g, 1, false, 5432, &hidden, &vd);
    assert_string_equal(vd.unknown_group, "");
    assert_non_null(strstr(vd.stale_reference, "sg-job over pcx-x (deleted)"));
    ec2_sg_list_free(&l);
}

/* A reference holds only for packets taking the way it names: over its peering (not
 * another peering, not a transit gateway); over a gateway an inbound reference naming no
 * peering may hold (the gateway's option decides: unknown here), an outbound one never. */
static void test_sg_ref_follows_path(void **state)
{
    static const char xml[] =
        SGS(SG("sg-db", PERM("tcp", "5432", "5432",
                             "<groups><item><groupId>sg-job</groupId><vpcPeeringConnectionId>pcx-x"
                             "</vpcPeeringConnectionId></item></groups>"))
                SG("sg-tgw", PERM("tcp", "5432", "5432",
                                  "<groups><item><groupId>sg-job</groupId></item></groups>"))
        /* the same reference in an outbound rule */
        "<item><groupId>sg-out</groupId><vpcId>vpc-job</vpcId><ipPermissions/>"
        "<ipPermissionsEgress>" PERM("tcp", "5432", "5432",
                                     "<groups><item><groupId>sg-job</groupId></item></groups>")
        "</ipPermissionsEgress></item>");
    const char *job_groups[] = {"sg-job"};
    struct aws_party job = {host("10.20.2.15"), job_groups, 1, false, NULL, NULL};
    struct ec2_sg_list l = {0};
    const struct ec2_security_group *pcx_ref, *tgw_ref;
    struct aws_sg_verdict vd;
    struct infra_error err;

    (void)state;
    assert_true(ec2_xml_parse_security_groups(xml, sizeof(xml) - 1, &l, &err));
    pcx_ref = &l.items[0];
    tgw_ref = &l.items[1];
    aws_sg_judge(NULL, &pcx_ref, 1, false, 5432, &job, &vd); /* the way unknown: as before */
    assert_true(vd.allowed);
    job.via_pcx = "pcx-x"; /* the packets take its peering */
    aws_sg_judge(NULL, &pcx_ref, 1, false, 5432, &job, &vd);
    assert_true(vd.allowed);
    assert_string_equal(vd.matched, "sg-job (peer VPC, pcx-x)");
    job.via_pcx = "pcx-y"; /* another peering */
    aws_sg_judge(NULL, &pcx_ref, 1, false, 5432, &job, &vd);
    assert_false(vd.allowed);
    assert_string_equal(vd.stale_reference, "sg-job over pcx-x, but the packets take pcx-y");
    job.via_pcx = NULL;
    job.via_tgw = "tgw-1"; /* a transit gateway */
    aws_sg_judge(NULL, &pcx_ref, 1, false, 5432, &job, &vd);
    assert_false(vd.allowed);
    assert_string_equal(vd.stale_reference, "sg-job over pcx-x, but the packets take tgw-1");
    assert_string_equal(vd.unknown_reference, "");
    aws_sg_judge(NULL, &tgw_ref, 1, false, 5432, &job, &vd); /* inbound: the option decides */
    assert_false(vd.allowed);
    assert_string_equal(vd.unknown_reference, "sg-job over tgw-1");
    assert_string_equal(vd.stale_reference, "");
    tgw_ref = &l.items[2];
    aws_sg_judge(NULL, &tgw_ref, 1, true, 5432, &job, &vd); /* outbound: never */
    assert_false(vd.allowed);
    assert_string_equal(vd.unknown_reference, "");
    assert_string_equal(vd.stale_reference, "sg-job in an outbound rule, but the packets take "
                                            "tgw-1 (references over a gateway are inbound only)");
    job.via_tgw = NULL; /* the same VPC (no way named): a reference without peering holds */
    aws_sg_judge(NULL, &tgw_ref, 1, true, 5432, &job, &vd);
    assert_true(vd.allowed);
    ec2_sg_list_free(&l);
}

static void test_sg_fixture_peer_ref(void **state)
{
    struct ec2_sg_list l = {0};
    struct infra_error err;
    const struct ec2_security_group *g;
    const char *groups[1];
    struct aws_party job;
    struct aws_sg_verdict vd;
    size_t len;
    char *x = slurp("moto_describe_security_groups_peer_ref_prefix_list.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, len, &l, &err));
    g = &l.items[0];
    groups[0] = g->ingress[0].groups[0].group_id;
    job = (struct aws_party){host("10.99.0.1"), groups, 1, false, NULL, NULL};
    aws_sg_judge(NULL, &g, 1, false, 5432, &job, &vd);
    assert_true(vd.allowed); /* the peering is not in the view and moto gives no status */
    assert_non_null(strstr(vd.matched, "(peer VPC, pcx-"));
    ec2_sg_list_free(&l);
    free(x);
}

static void test_cidrs_cover(void **state)
{
    struct cidr b[4] = {block("10.20.1.0/24"), block("10.20.2.0/24"), block("10.20.0.0/24"),
                        block("10.20.3.0/24")};
    struct cidr want = block("10.20.0.0/22");
    bool overlap;

    (void)state;
    assert_true(aws_cidrs_cover(&want, b, 4, &overlap));
    assert_false(aws_cidrs_cover(&want, b, 3, &overlap));
    assert_true(overlap);
    want = block("10.20.0.0/16");
    assert_false(aws_cidrs_cover(&want, b, 4, &overlap));
    assert_true(overlap);
    want = block("10.30.0.0/16");
    assert_false(aws_cidrs_cover(&want, b, 4, &overlap));
    assert_false(overlap);
    b[0] = block("0.0.0.0/0");
    want = block("255.255.255.255/32");
    assert_true(aws_cidrs_cover(&want, b, 1, &overlap));
    want = block("fd00::/64");
    b[1] = block("fd00::/48");
    assert_true(aws_cidrs_cover(&want, b + 1, 1, &overlap));
}

/* ---- network ACLs ---- */

#define ACL(entries)                                                                               \
    "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-1</networkAclId>"         \
    "<entrySet>" entries "</entrySet></item></networkAclSet></DescribeNetworkAclsResponse>"
#define ENTRY(num, proto, action, egress, cidr, ports)                                             \
    "<item><ruleNumber>" num "</ruleNumber><protocol>" proto "</protocol><ruleAction>" action      \
    "</ruleAction><egress>" egress "</egress><cidrBlock>" cidr "</cidrBlock>" ports "</item>"
#define PORTS(a, b) "<portRange><from>" a "</from><to>" b "</to></portRange>"

static void parse_acl(const char *xml, struct ec2_acl_list *l)
{
    struct infra_error err;

    memset(l, 0, sizeof(*l));
    if (!ec2_xml_parse_network_acls(xml, strlen(xml), l, &err))
        fail_msg("%s", err.msg);
}

static void test_acl_rule_order(void **state)
{
    /* listed out of order on purpose: 100 allow /16, 90 deny the job's /24 */
    static const char xml[] =
        ACL(ENTRY("100", "6", "allow", "false", "10.20.0.0/16", PORTS("5432", "5432"))
                ENTRY("90", "6", "deny", "false", "10.20.2.0/24", PORTS("5432", "5432"))
                    ENTRY("32767", "-1", "deny", "false", "0.0.0.0/0", ""));
    struct ec2_acl_list l;
    struct aws_acl_verdict vd;
    struct cidr job = host("10.20.2.15"), other = host("10.20.1.15"), far = host("10.30.0.1");
    char text[128];

    (void)state;
    parse_acl(xml, &l);
    aws_acl_judge(&l.items[0], false, &job, 5432, 5432, &vd);
    assert_true(vd.none_allowed);
    assert_int_equal(vd.pieces[0].rule->rule_number, 90);
    aws_acl_rule_text(vd.pieces[0].rule, text, sizeof(text));
    assert_string_equal(text, "rule 90 deny tcp 5432 from 10.20.2.0/24");
    aws_acl_judge(&l.items[0], false, &other, 5432, 5432, &vd);
    assert_true(vd.all_allowed);
    assert_int_equal(vd.pieces[0].rule->rule_number, 100);
    /* rule 32767 is how the API lists the final "*" rule: judged as it, whether listed (AWS)
     * or not (moto's custom ACLs) */
    aws_acl_judge(&l.items[0], false, &far, 5432, 5432, &vd);
    assert_true(vd.none_allowed);
    assert_null(vd.pieces[0].rule);
    aws_acl_judge(&l.items[0], true, &other, 5432, 5432, &vd); /* no outbound rule at all */
    assert_true(vd.none_allowed);
    assert_null(vd.pieces[0].rule);
    aws_acl_rule_text(NULL, text, sizeof(text));
    assert_string_equal(text, "rule * deny (no rule matched)");
    ec2_acl_list_free(&l);
}

static void test_acl_port_ranges(void **state)
{
    /* replies: 90 denies 1024-2047, 100 allows 1024-65535 -> allowed 2048-65535 only */
    static const char xml[] =
        ACL(ENTRY("100", "6", "allow", "true", "10.20.0.0/16", PORTS("1024", "65535"))
                ENTRY("90", "6", "deny", "true", "10.20.0.0/16", PORTS("1024", "2047"))
                    ENTRY("80", "17", "deny", "true", "0.0.0.0/0", PORTS("0", "65535")));
    static const char linux_only[] =
        ACL(ENTRY("100", "6", "allow", "false", "10.10.0.0/16", PORTS("32768", "65535")));
    static const char middle[] =
        ACL(ENTRY("50", "6", "deny", "false", "0.0.0.0/0", PORTS("40000", "40010"))
                ENTRY("60", "-1", "allow", "false", "0.0.0.0/0", ""));
    struct ec2_acl_list l;
    struct aws_acl_verdict vd;
    struct cidr job = host("10.20.2.15"), db = host("10.10.5.20");

    (void)state;
    parse_acl(xml, &l);
    aws_acl_judge(&l.items[0], true, &job, 1024, 65535, &vd);
    assert_false(vd.all_allowed);
    assert_false(vd.none_allowed);
    assert_int_equal(vd.n_pieces, 2);
    assert_int_equal(vd.pieces[0].from, 1024);
    assert_int_equal(vd.pieces[0].to, 2047);
    assert_false(vd.pieces[0].allow);
    assert_int_equal(vd.pieces[1].from, 2048);
    assert_int_equal(vd.pieces[1].to, 65535);
    assert_true(aws_acl_allows(&vd, 32768, 60999));
    assert_false(aws_acl_allows(&vd, 1024, 65535));
    ec2_acl_list_free(&l);

    parse_acl(linux_only, &l);
    aws_acl_judge(&l.items[0], false, &db, 1024, 65535, &vd);
    assert_false(vd.all_allowed);
    assert_true(aws_acl_allows(&vd, 32768, 60999));
    assert_false(aws_acl_allows(&vd, 1024, 32767));
    assert_null(vd.pieces[0].rule); /* 1024-32767: nothing matched */
    ec2_acl_list_free(&l);

    parse_acl(middle, &l); /* a hole in the middle of an all-traffic allow */
    aws_acl_judge(&l.items[0], false, &db, 1024, 65535, &vd);
    assert_int_equal(vd.n_pieces, 3);
    assert_int_equal(vd.pieces[1].from, 40000);
    assert_int_equal(vd.pieces[1].to, 40010);
    assert_false(vd.pieces[1].allow);
    assert_false(aws_acl_allows(&vd, 32768, 60999));
    assert_true(aws_acl_allows(&vd, 40011, 60999));
    ec2_acl_list_free(&l);
}

static void test_acl_fixtures(void **state)
{
    struct ec2_acl_list l = {0};
    struct infra_error err;
    struct aws_acl_verdict vd;
    struct cidr job = host("10.20.2.15");
    const struct ec2_network_acl *custom;
    size_t len;
    char *x = slurp("awsdocs_describe_network_acls.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_network_acls(x, len, &l, &err));
    aws_acl_judge(&l.items[0], false, &job, 1024, 65535, &vd); /* the default ACL: all */
    assert_true(vd.all_allowed);
    assert_int_equal(vd.pieces[0].rule->rule_number, 100);
    ec2_acl_list_free(&l);
    free(x);

    x = slurp("moto_describe_network_acls.xml", &len);
    assert_true(ec2_xml_parse_network_acls(x, len, &l, &err));
    custom = l.items[0].is_default ? &l.items[1] : &l.items[0];
    aws_acl_judge(custom, true, &job, 1024, 65535, &vd);
    assert_false(vd.all_allowed);
    assert_int_equal(vd.pieces[0].rule->rule_number, 90);
    assert_true(aws_acl_allows(&vd, 32768, 60999));
    ec2_acl_list_free(&l);
    free(x);
}

static void test_public_addresses(void **state)
{
    (void)state;
    assert_true(aws_addr_is_public("203.0.113.20"));
    assert_false(aws_addr_is_public("10.10.5.20"));
    assert_false(aws_addr_is_public("100.64.1.1"));
    assert_false(aws_addr_is_public("127.0.0.1"));
    assert_false(aws_addr_is_public("fd00::1"));
    assert_true(aws_addr_is_public("2001:db8::1"));
    assert_false(aws_addr_is_public("db.example"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_longest_match),
        cmocka_unit_test(test_route_priority_and_prefix_lists),
        cmocka_unit_test(test_route_fixture_pl_tgw),
        cmocka_unit_test(test_tgw_route_match),
        cmocka_unit_test(test_path_interfaces),
        cmocka_unit_test(test_sg_union_and_refs),
        cmocka_unit_test(test_sg_ref_inter_region),
        cmocka_unit_test(test_sg_ref_follows_path),
        cmocka_unit_test(test_sg_fixture_peer_ref),
        cmocka_unit_test(test_cidrs_cover),
        cmocka_unit_test(test_acl_rule_order),
        cmocka_unit_test(test_acl_port_ranges),
        cmocka_unit_test(test_acl_fixtures),
        cmocka_unit_test(test_public_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
