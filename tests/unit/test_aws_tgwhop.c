/*
 * test_aws_tgwhop.c: infra/aws_tgwhop (a transit gateway on the path's route hops): whether
 * a VPC attachment takes packets from a subnet's zone, on views built from small
 * DescribeTransitGatewayVpcAttachments / DescribeSubnets responses: zone ids decide over
 * names (names differ per account), a zone not covered is named with the attachment's
 * subnets, what cannot be known (calls refused, a subnet not listed) is never a FAIL, and a
 * PASS of the gateway's table becomes a WARN when the zone is unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "infra/aws_tgwhop.h"

#define SUBNET(id, az, azid)                                                                       \
    "<item><subnetId>" id "</subnetId><vpcId>vpc-1</vpcId><availabilityZone>" az                   \
    "</availabilityZone><availabilityZoneId>" azid "</availabilityZoneId></item>"

static const char subnets[] =
    "<DescribeSubnetsResponse><subnetSet>" SUBNET("subnet-att", "us-east-1a", "use1-az6")
        SUBNET("subnet-job-a", "us-east-1a", "use1-az6")
            SUBNET("subnet-job-b", "us-east-1b", "use1-az1")
    /* the same zone as subnet-att under another account's name for it */
    SUBNET("subnet-shared", "us-east-1c", "use1-az6")
    /* a subnet without a zone id (older answers): compared by name */
    SUBNET("subnet-noid", "us-east-1b", "") "</subnetSet></DescribeSubnetsResponse>";

static const char attachments[] =
    "<DescribeTransitGatewayVpcAttachmentsResponse><transitGatewayVpcAttachments><item>"
    "<transitGatewayAttachmentId>tgw-attach-1</transitGatewayAttachmentId><vpcId>vpc-1</vpcId>"
    "<subnetIds><item>subnet-att</item></subnetIds></item><item>"
    "<transitGatewayAttachmentId>tgw-attach-2</transitGatewayAttachmentId><vpcId>vpc-1</vpcId>"
    "<subnetIds><item>subnet-gone</item></subnetIds></item></transitGatewayVpcAttachments>"
    "</DescribeTransitGatewayVpcAttachmentsResponse>";

struct fixture {
    struct aws_view v;
    struct ec2_tgw_attachment a1, a2, a3;
};

static int setup(void **state)
{
    static struct fixture f;
    struct infra_error err = {0};

    memset(&f, 0, sizeof(f));
    assert_true(ec2_xml_parse_subnets(subnets, strlen(subnets), &f.v.subnets, &err));
    assert_true(ec2_xml_parse_tgw_vpc_attachments(attachments, strlen(attachments),
                                                  &f.v.tgw_vpc_attachments, &err));
    snprintf(f.a1.id, sizeof(f.a1.id), "tgw-attach-1");
    snprintf(f.a1.resource_id, sizeof(f.a1.resource_id), "vpc-1");
    snprintf(f.a2.id, sizeof(f.a2.id), "tgw-attach-2");
    snprintf(f.a3.id, sizeof(f.a3.id), "tgw-attach-3"); /* not listed */
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    ec2_subnet_list_free(&f->v.subnets);
    ec2_tgw_vpc_attachment_list_free(&f->v.tgw_vpc_attachments);
    return 0;
}

static void test_served_and_not(void **state)
{
    struct fixture *f = *state;
    struct aws_tgwhop_zone z;

    aws_tgwhop_zone(&f->v, &f->a1, "subnet-job-a", &z);
    assert_int_equal(z.verdict, AWS_TGWHOP_SERVED);
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-att", &z); /* the attachment's own subnet */
    assert_int_equal(z.verdict, AWS_TGWHOP_SERVED);
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-shared", &z); /* zone id decides, not the name */
    assert_int_equal(z.verdict, AWS_TGWHOP_SERVED);
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-job-b", &z);
    assert_int_equal(z.verdict, AWS_TGWHOP_NOT_SERVED);
    assert_string_equal(z.zone, "us-east-1b");
    assert_string_equal(z.served, "subnet-att in us-east-1a");
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-noid", &z); /* no id on one side: by name */
    assert_int_equal(z.verdict, AWS_TGWHOP_NOT_SERVED);
}

static void test_unknown_is_never_a_fail(void **state)
{
    struct fixture *f = *state;
    struct aws_tgwhop_zone z;

    aws_tgwhop_zone(&f->v, &f->a3, "subnet-job-a", &z); /* attachment not listed */
    assert_int_equal(z.verdict, AWS_TGWHOP_ZONE_UNKNOWN);
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-elsewhere", &z); /* subnet not listed */
    assert_int_equal(z.verdict, AWS_TGWHOP_ZONE_UNKNOWN);
    assert_non_null(strstr(z.why, "subnet-elsewhere"));
    aws_tgwhop_zone(&f->v, &f->a1, NULL, &z);
    assert_int_equal(z.verdict, AWS_TGWHOP_ZONE_UNKNOWN);
    aws_tgwhop_zone(&f->v, &f->a2, "subnet-job-b", &z); /* its only subnet not listed */
    assert_int_equal(z.verdict, AWS_TGWHOP_ZONE_UNKNOWN);
    assert_non_null(strstr(z.why, "subnet-gone"));
    f->v.f_tgw_zones.failed = true; /* the calls were refused */
    snprintf(f->v.f_tgw_zones.err.base.msg, sizeof(f->v.f_tgw_zones.err.base.msg),
             "not allowed: ec2:DescribeSubnets");
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-job-b", &z);
    f->v.f_tgw_zones.failed = false;
    assert_int_equal(z.verdict, AWS_TGWHOP_ZONE_UNKNOWN);
    assert_string_equal(z.why, "not allowed: ec2:DescribeSubnets");
}

static void test_messages(void **state)
{
    struct fixture *f = *state;
    struct aws_tgwhop_zone z;
    struct check_result c;

    aws_tgwhop_zone(&f->v, &f->a1, "subnet-job-b", &z);
    memset(&c, 0, sizeof(c));
    c.status = CHECK_FAIL;
    aws_tgwhop_zone_fail(&c, &z, &f->a1, "subnet-job-b", "rtb-1 (...): lead", "us-east-1");
    assert_string_equal(c.detail, "rtb-1 (...): lead, but attachment tgw-attach-1 has no subnet "
                                  "in us-east-1b, the zone of subnet-job-b (its subnets: "
                                  "subnet-att in us-east-1a): the transit gateway takes no "
                                  "packets from that zone");
    assert_string_equal(c.remediation,
                        "aws ec2 modify-transit-gateway-vpc-attachment "
                        "--transit-gateway-attachment-id tgw-attach-1 --add-subnet-ids <a subnet "
                        "of vpc-1 in us-east-1b, e.g. subnet-job-b> --region us-east-1");

    /* a known zone leaves the table's verdict alone */
    memset(&c, 0, sizeof(c));
    c.status = CHECK_PASS;
    snprintf(c.detail, sizeof(c.detail), "table ok");
    aws_tgwhop_zone(&f->v, &f->a1, "subnet-job-a", &z);
    aws_tgwhop_zone_unknown(&c, &z, &f->a1, "subnet-job-a", "us-east-1");
    assert_int_equal(c.status, CHECK_PASS);
    assert_string_equal(c.detail, "table ok");

    /* an unknown zone: a PASS becomes a WARN saying so; a FAIL of the table stays a FAIL */
    aws_tgwhop_zone(&f->v, &f->a3, "subnet-job-a", &z);
    aws_tgwhop_zone_unknown(&c, &z, &f->a3, "subnet-job-a", "us-east-1");
    assert_int_equal(c.status, CHECK_WARN);
    assert_non_null(strstr(c.detail, "table ok; unknown: whether tgw-attach-3 has a subnet in "
                                     "the zone of subnet-job-a"));
    assert_non_null(strstr(c.remediation, "describe-transit-gateway-vpc-attachments "
                                          "--transit-gateway-attachment-ids tgw-attach-3"));
    memset(&c, 0, sizeof(c));
    c.status = CHECK_WARN;
    snprintf(c.detail, sizeof(c.detail), "names no attachment");
    snprintf(c.remediation, sizeof(c.remediation), "search the routes");
    aws_tgwhop_zone_unknown(&c, &z, &f->a3, "subnet-job-a", "us-east-1");
    assert_int_equal(c.status, CHECK_WARN);
    assert_non_null(strstr(c.detail, "names no attachment; unknown: whether tgw-attach-3"));
    assert_string_equal(c.remediation, "search the routes");
    memset(&c, 0, sizeof(c));
    c.status = CHECK_FAIL;
    snprintf(c.detail, sizeof(c.detail), "blackhole");
    aws_tgwhop_zone_unknown(&c, &z, &f->a3, "subnet-job-a", "us-east-1");
    assert_int_equal(c.status, CHECK_FAIL);
    assert_string_equal(c.detail, "blackhole");
}

static void test_allowed_and_attachment_for(void **state)
{
    struct fixture *f = *state;
    const char *tgws[] = {"tgw-1", NULL};
    struct aws_path_input in = {.transit_gateways = tgws, .n_transit_gateways = 2};
    struct ec2_tgw_attachment_list l = {0};
    struct ec2_tgw_attachment a = {0};
    char buf[96];

    assert_true(aws_tgwhop_allowed(&in, "tgw-1"));
    assert_false(aws_tgwhop_allowed(&in, "tgw-2"));
    snprintf(a.id, sizeof(a.id), "tgw-attach-9");
    snprintf(a.tgw_id, sizeof(a.tgw_id), "tgw-1");
    snprintf(a.resource_id, sizeof(a.resource_id), "vpc-db");
    l.items = &a;
    l.n = 1;
    f->v.tgw_attachments = l;
    assert_string_equal(aws_tgwhop_attachment_for(&f->v, "tgw-1", "vpc-db", buf, sizeof(buf)),
                        "tgw-attach-9");
    assert_string_equal(aws_tgwhop_attachment_for(&f->v, "tgw-1", "vpc-x", buf, sizeof(buf)),
                        "<the attachment of vpc-x>");
    assert_string_equal(aws_tgwhop_attachment_for(&f->v, "tgw-1", NULL, buf, sizeof(buf)),
                        "<the attachment of the database's VPC>");
    memset(&f->v.tgw_attachments, 0, sizeof(f->v.tgw_attachments));
}

/* ---- the attachment subnet's ACL ---- */

static const char tables[] =
    "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1</routeTableId>"
    "<vpcId>vpc-1</vpcId><associationSet><item><main>true</main></item></associationSet>"
    "<routeSet><item><destinationCidrBlock>10.10.0.0/16</destinationCidrBlock>"
    "<transitGatewayId>tgw-1</transitGatewayId><state>active</state></item></routeSet></item>"
    "</routeTableSet></DescribeRouteTablesResponse>";

#define ACL_ENTRY(num, egress, cidr, from, to, action)                                             \
    "<item><ruleNumber>" num "</ruleNumber><protocol>6</protocol><ruleAction>" action              \
    "</ruleAction><egress>" egress "</egress><cidrBlock>" cidr                                     \
    "</cidrBlock><portRange><from>" from "</from><to>" to "</to></portRange></item>"

/* the attachment's subnet (subnet-att) lets 5432 in from 10.20.0.0/16 and 32768-60999 from
 * 10.10.0.0/16; the others' ACL is not described */
static const char acls[] =
    "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-att</networkAclId>"
    "<vpcId>vpc-1</vpcId><associationSet><item><subnetId>subnet-att</subnetId></item>"
    "</associationSet><entrySet>" ACL_ENTRY("100", "false", "10.20.0.0/16", "5432", "5432", "allow")
        ACL_ENTRY("110", "false", "10.10.0.0/16", "32768", "60999",
                  "allow") "</entrySet></item></networkAclSet></DescribeNetworkAclsResponse>";

static void test_attachment_subnet_acl(void **state)
{
    struct fixture *f = *state;
    struct ec2_tgw_attachment att = {.id = "tgw-attach-1",
                                     .tgw_id = "tgw-1",
                                     .resource_type = "vpc",
                                     .resource_id = "vpc-1",
                                     .state = "available"};
    struct cidr job, db, job_net;
    struct aws_tgwhop_leg g = {"tgw-nacl-in", "source", "vpc-1", "subnet-job-a", "10.20.2.15", &job,
                               &db,           5432,     5432,    false,          "us-east-1"};
    struct check_report rep;
    struct infra_error err = {0};

    assert_true(cidr_parse_addr("10.20.2.15", &job));
    assert_true(cidr_parse_addr("10.10.5.20", &db));
    assert_true(cidr_parse("10.20.0.0/16", &job_net, &err));
    assert_true(ec2_xml_parse_route_tables(tables, strlen(tables), &f->v.tables, &err));
    assert_true(ec2_xml_parse_network_acls(acls, strlen(acls), &f->v.acls, &err));
    f->v.tgw_attachments.items = &att;
    f->v.tgw_attachments.n = 1;
    check_report_init(&rep);

    aws_tgwhop_acl(&f->v, &g, &rep); /* subnet-job-a's zone: subnet-att, 5432 allowed */
    assert_int_equal(rep.n, 1);
    assert_string_equal(rep.items[0].group, "path.tgw-nacl-in");
    assert_int_equal(rep.items[0].status, CHECK_PASS);
    assert_non_null(strstr(rep.items[0].detail, "acl-att (subnet-att, the subnet of tgw-attach-1 "
                                                "in us-east-1a): packets from 10.20.2.15 enter "
                                                "tgw-1 through it"));
    g.lo = g.hi = 5433; /* another port: refused, the rule to add */
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.items[1].status, CHECK_FAIL);
    assert_non_null(strstr(rep.items[1].remediation, "--network-acl-id acl-att --ingress"));
    assert_non_null(strstr(rep.items[1].remediation, "From=5433,To=5433"));
    /* replies from 10.10.5.20 (the same route for the test) to unknown client ports: only
     * Linux's default range passes */
    g = (struct aws_tgwhop_leg){"tgw-nacl-back", "source", "vpc-1",    "subnet-job-a",
                                "10.10.5.20",    &db,      &db,        1024,
                                65535,           true,     "us-east-1"};
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.items[2].status, CHECK_WARN);
    g.linux_only = false; /* known client ports: a FAIL */
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.items[3].status, CHECK_FAIL);
    g.lo = 32768;
    g.hi = 60999;
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.items[4].status, CHECK_PASS);
    /* a zone the attachment does not serve, or no gateway on the way: nothing (path.route) */
    g.from_subnet = "subnet-job-b";
    aws_tgwhop_acl(&f->v, &g, &rep);
    g.from_subnet = "subnet-job-a";
    g.to = &job_net; /* 10.20.0.0/16: no route of rtb-1 */
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.n, 5);
    /* the attachment's subnet is the sender's own; its ACL not in the view: a WARN */
    g = (struct aws_tgwhop_leg){"tgw-nacl-in", "source", "vpc-1", "subnet-att", "10.20.1.5", &job,
                                &db,           5432,     5432,    false,        "us-east-1"};
    ec2_acl_list_free(&f->v.acls);
    aws_tgwhop_acl(&f->v, &g, &rep);
    assert_int_equal(rep.items[5].status, CHECK_WARN);
    assert_non_null(strstr(rep.items[5].detail, "in us-east-1a, the sender's own is not visible"));

    check_report_free(&rep);
    ec2_route_table_list_free(&f->v.tables);
    memset(&f->v.tgw_attachments, 0, sizeof(f->v.tgw_attachments));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_and_not),
        cmocka_unit_test(test_unknown_is_never_a_fail),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_allowed_and_attachment_for),
        cmocka_unit_test(test_attachment_subnet_acl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
