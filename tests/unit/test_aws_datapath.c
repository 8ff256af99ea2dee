/*
 * test_aws_datapath.c: infra/aws_datapath (the data team's way to the anonymised database)
 * on a hand-made view: the isolated VPC (the job's) holds the target database, dual-stack;
 * the data team's VPC (10.30.0.0/16 and 2600:1f18:aa00::/56) is peered with it. What moto
 * cannot make: IPv6 peering blocks, a replies ACL refusing part of the client ports, a
 * route more specific than their block sending part of it elsewhere, a peering that is not
 * active. The moto layouts are in tests/preflight/aws_moto.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_datapath.h"

/* clang-format off */
#define ROUTE(dest, target)                                                                        \
    "<item><destinationCidrBlock>" dest "</destinationCidrBlock>" target                           \
    "<state>active</state><origin>CreateRoute</origin></item>"
#define ROUTE6(dest, target)                                                                       \
    "<item><destinationIpv6CidrBlock>" dest "</destinationIpv6CidrBlock>" target                   \
    "<state>active</state><origin>CreateRoute</origin></item>"
#define PCX(id) "<vpcPeeringConnectionId>" id "</vpcPeeringConnectionId>"

static const char tables_xml[] =
    "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-t</routeTableId>"
    "<vpcId>vpc-iso</vpcId><routeSet>"
    ROUTE("10.20.0.0/16", "<gatewayId>local</gatewayId>")
    ROUTE("10.30.0.0/16", PCX("pcx-data"))
    ROUTE("10.30.9.0/24", "<natGatewayId>nat-1</natGatewayId>")
    ROUTE6("2600:1f18:aa00::/56", PCX("pcx-data"))
    "</routeSet><associationSet><item><subnetId>subnet-t</subnetId><main>false</main></item>"
    "</associationSet></item></routeTableSet></DescribeRouteTablesResponse>";

#define ENTRY(num, egress, cidr_tag, cidr, ports)                                                  \
    "<item><ruleNumber>" num "</ruleNumber><protocol>6</protocol><ruleAction>allow</ruleAction>" \
    "<egress>" egress "</egress><" cidr_tag ">" cidr "</" cidr_tag ">" ports "</item>"
#define PORTS(a, b) "<portRange><from>" a "</from><to>" b "</to></portRange>"

static const char acls_xml[] =
    "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-t</networkAclId>"
    "<vpcId>vpc-iso</vpcId><entrySet>"
    ENTRY("100", "false", "cidrBlock", "0.0.0.0/0", PORTS("5432", "5432"))
    ENTRY("101", "false", "ipv6CidrBlock", "::/0", PORTS("5432", "5432"))
    ENTRY("100", "true", "cidrBlock", "0.0.0.0/0", PORTS("1024", "65535"))
    ENTRY("101", "true", "ipv6CidrBlock", "::/0", PORTS("32768", "65535"))
    "</entrySet><associationSet><item><subnetId>subnet-t</subnetId></item></associationSet>"
    "</item></networkAclSet></DescribeNetworkAclsResponse>";

static const char groups_xml[] =
    "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-t</groupId>"
    "<vpcId>vpc-iso</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol>"
    "<fromPort>5432</fromPort><toPort>5432</toPort>"
    "<ipRanges><item><cidrIp>10.30.0.0/16</cidrIp></item></ipRanges>"
    "<ipv6Ranges><item><cidrIpv6>2600:1f18:aa00::/56</cidrIpv6></item></ipv6Ranges>"
    "</item></ipPermissions><ipPermissionsEgress/></item></securityGroupInfo>"
    "</DescribeSecurityGroupsResponse>";
/* clang-format on */

static char group_t[1][EC2_ID_MAX] = {"sg-t"};
static char tgt_v6[1][EC2_CIDR_MAX] = {"2600:1f18:cc00::30"};

struct world {
    struct aws_view v;
    struct ec2_network_interface enis[2];
    struct ec2_peering pcx;
};

static void build(struct world *w)
{
    struct infra_error err;
    struct ec2_vpc_side *r = &w->pcx.requester, *a = &w->pcx.accepter;

    memset(w, 0, sizeof(*w));
    snprintf(w->enis[0].id, sizeof(w->enis[0].id), "eni-job");
    snprintf(w->enis[0].vpc_id, sizeof(w->enis[0].vpc_id), "vpc-iso");
    snprintf(w->enis[0].subnet_id, sizeof(w->enis[0].subnet_id), "subnet-job");
    snprintf(w->enis[0].private_ip, sizeof(w->enis[0].private_ip), "10.20.2.15");
    snprintf(w->enis[1].id, sizeof(w->enis[1].id), "eni-t");
    snprintf(w->enis[1].vpc_id, sizeof(w->enis[1].vpc_id), "vpc-iso");
    snprintf(w->enis[1].subnet_id, sizeof(w->enis[1].subnet_id), "subnet-t");
    snprintf(w->enis[1].private_ip, sizeof(w->enis[1].private_ip), "10.20.3.30");
    w->enis[1].groups = group_t;
    w->enis[1].n_groups = 1;
    w->enis[1].ipv6s = tgt_v6;
    w->enis[1].n_ipv6s = 1;
    w->v.enis.items = w->enis;
    w->v.enis.n = 2;
    snprintf(w->pcx.id, sizeof(w->pcx.id), "pcx-data");
    snprintf(w->pcx.status, sizeof(w->pcx.status), "active");
    snprintf(r->vpc_id, sizeof(r->vpc_id), "vpc-iso");
    snprintf(r->cidrs[r->n_cidrs++], sizeof(r->cidrs[0]), "10.20.0.0/16");
    snprintf(a->vpc_id, sizeof(a->vpc_id), "vpc-data");
    snprintf(a->owner_id, sizeof(a->owner_id), "222222222222");
    snprintf(a->cidrs[a->n_cidrs++], sizeof(a->cidrs[0]), "10.30.0.0/16");
    snprintf(a->cidrs[a->n_cidrs++], sizeof(a->cidrs[0]), "2600:1f18:aa00::/56");
    w->v.peerings.items = &w->pcx;
    w->v.peerings.n = 1;
    if (!ec2_xml_parse_route_tables(tables_xml, sizeof(tables_xml) - 1, &w->v.tables, &err) ||
        !ec2_xml_parse_network_acls(acls_xml, sizeof(acls_xml) - 1, &w->v.acls, &err) ||
        !ec2_xml_parse_security_groups(groups_xml, sizeof(groups_xml) - 1, &w->v.groups, &err))
        fail_msg("%s", err.msg);
}

static void unbuild(struct world *w)
{
    ec2_route_table_list_free(&w->v.tables);
    ec2_acl_list_free(&w->v.acls);
    ec2_sg_list_free(&w->v.groups);
}

static void run(struct world *w, struct check_report *rep)
{
    static const char *const addrs[] = {"10.20.3.30", "2600:1f18:cc00::30"};
    static const char *const data[] = {"pcx-data"};
    struct aws_path_endpoint eps[2] = {
        {.name = "source", .addrs = addrs, .n_addrs = 1, .port = 5432},
        {.name = "target", .addrs = addrs, .n_addrs = 2, .port = 5432},
    };
    struct aws_path_input in = {.region = "eu-west-2", .endpoints = eps, .n_endpoints = 2};

    in.job.eni = "eni-job";
    check_report_init(rep);
    aws_datapath_run(&w->v, &in, data, 1, rep);
}

static const struct check_result *only(const struct check_report *r, const char *subject)
{
    const struct check_result *c = NULL;

    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].subject, subject) == 0) {
            assert_null(c);
            c = &r->items[i];
        }
    assert_non_null(c);
    assert_string_equal(c->group, "path.data-team");
    return c;
}

static void test_part_of_block_and_ipv6(void **state)
{
    struct check_report rep;
    const struct check_result *c;
    struct world w;

    (void)state;
    build(&w);
    run(&w, &rep); /* the "source" endpoint is not the data team's: no line for it */
    assert_int_equal(rep.n, 2);
    /* 10.30.9.0/24 of theirs is sent to a NAT gateway: they reach it only in part */
    c = only(&rep, "data-team target 10.20.3.30");
    assert_int_equal(c->status, CHECK_WARN);
    assert_string_equal(c->object, "rtb-t");
    assert_non_null(strstr(c->detail, "only in part: rtb-t sends replies to 10.30.9.0/24 by "
                                      "route 10.30.9.0/24 via nat-1"));
    /* IPv6: the replies ACL lets 32768-65535 only out: their other client ports refused */
    c = only(&rep, "data-team target 2600:1f18:cc00::30");
    assert_int_equal(c->status, CHECK_WARN);
    assert_string_equal(c->object, "acl-t");
    assert_non_null(strstr(c->detail, "acl-t outbound tcp 1024-65535 to them is refused"));
    assert_non_null(strstr(c->remediation, "--egress --rule-number N --protocol tcp "
                                           "--port-range From=1024,To=65535 --ipv6-cidr-block "
                                           "2600:1f18:aa00::/56"));
    check_report_free(&rep);
    unbuild(&w);
}

static void test_pass_and_peering_state(void **state)
{
    struct check_report rep;
    const struct check_result *c;
    struct world w;

    (void)state;
    build(&w);
    w.v.tables.items[0].n_routes = 2; /* without the NAT route and the IPv6 one */
    run(&w, &rep);
    c = only(&rep, "data-team target 10.20.3.30");
    assert_int_equal(c->status, CHECK_PASS);
    assert_string_equal(c->object, "pcx-data");
    assert_non_null(strstr(c->detail, "reaches 10.20.3.30:5432: acl-t rule 100 allow tcp 5432 "
                                      "from 0.0.0.0/0; sg-t ingress tcp 5432-5432 from "
                                      "10.30.0.0/16; acl-t rule 100 allow tcp 1024-65535 to "
                                      "0.0.0.0/0; rtb-t route 10.30.0.0/16 via pcx-data"));
    assert_string_equal(c->rule + strlen(c->rule) - strlen("via pcx-data"), "via pcx-data");
    check_report_free(&rep);
    snprintf(w.pcx.status, sizeof(w.pcx.status), "pending-acceptance");
    run(&w, &rep);
    c = only(&rep, "data-team target 10.20.3.30");
    assert_int_equal(c->status, CHECK_WARN);
    assert_non_null(strstr(c->detail, "pcx-data is pending-acceptance"));
    check_report_free(&rep);
    unbuild(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_of_block_and_ipv6),
        cmocka_unit_test(test_pass_and_peering_state),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
