/*
 * test_aws_checks.c: infra/ec2 + infra/aws_checks + infra/aws_repair over a fake EC2
 * transport that answers from tests/data/ec2/ fixtures and inline responses,
 * and records every request body (to check what would go on the wire).
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

#include "infra/aws_checks.h"
#include "infra/aws_http.h"
#include "infra/aws_ends.h"
#include "infra/aws_path.h"
#include "infra/aws_repair.h"
#include "infra/aws_view.h"
#include "infra/ec2.h"

#define FIXTURES "tests/data/ec2/"

/* ---- fake transport ---- */

struct rule {
    const char *match;  /* substring of the form body */
    const char *match2; /* another one, or NULL */
    const char *after;  /* only once a request containing this was sent, or NULL */
    long status;
    const char *file; /* fixture name, or NULL */
    const char *body; /* inline body when file is NULL */
};

struct fake {
    const struct rule *rules;
    size_t n_rules;
    char sent[64][512];
    size_t n_sent;
};

static char *slurp(const char *name, size_t *len)
{
    return fixture_read(FIXTURES, name, len);
}

static bool was_sent(const struct fake *f, const char *part)
{
    for (size_t i = 0; i < f->n_sent; i++)
        if (strstr(f->sent[i], part))
            return true;
    return false;
}

static size_t sent_count(const struct fake *f, const char *part)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_sent; i++)
        n += strstr(f->sent[i], part) != NULL;
    return n;
}

static bool fake_send(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                      struct infra_error *err)
{
    struct fake *f = ctx;
    const char *data = form->data ? form->data : "";

    for (size_t i = 0; i < f->n_rules; i++) {
        const struct rule *r = &f->rules[i];
        if (!strstr(data, r->match) || (r->match2 && !strstr(data, r->match2)) ||
            (r->after && !was_sent(f, r->after)))
            continue;
        if (f->n_sent < 64)
            snprintf(f->sent[f->n_sent++], sizeof(f->sent[0]), "%s", data);
        memset(resp, 0, sizeof(*resp));
        resp->status = r->status;
        resp->attempts = 1;
        if (r->file) {
            resp->body = slurp(r->file, &resp->body_len);
        } else {
            resp->body = strdup(r->body);
            assert_non_null(resp->body);
            resp->body_len = strlen(r->body);
        }
        return true;
    }
    infra_error_set(err, "fake transport: no answer for %s", data);
    return false;
}

/* ---- inline responses ---- */

#define PCX_BEGIN                                                                                  \
    "<DescribeVpcPeeringConnectionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"   \
    "<vpcPeeringConnectionSet><item>"
#define PCX_END "</item></vpcPeeringConnectionSet></DescribeVpcPeeringConnectionsResponse>"
#define SIDE(tag, owner, vpc, cidr, dns)                                                           \
    "<" tag "><ownerId>" owner "</ownerId><vpcId>" vpc "</vpcId><cidrBlock>" cidr                  \
    "</cidrBlock><region>eu-west-2</region><peeringOptions><allowDnsResolutionFromRemoteVpc>" dns  \
    "</allowDnsResolutionFromRemoteVpc></peeringOptions></" tag ">"

/* main VPC 10.10/16 (requester) <-> isolated VPC 10.20/16 (accepter), same account */
static const char pcx_main_active[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>active</code><message>Active</message></status>" SIDE(
        "requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "true")
        SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "true") PCX_END;

static const char pcx_main_dns_off[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>active</code><message>Active</message></status>" SIDE(
        "requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "false")
        SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "true") PCX_END;

static const char pcx_main_pending[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>pending-acceptance</code><message>Pending Acceptance by 111111111111"
    "</message></status><requesterVpcInfo><ownerId>111111111111</ownerId><vpcId>vpc-main</vpcId>"
    "<cidrBlock>10.10.0.0/16</cidrBlock></requesterVpcInfo><accepterVpcInfo><ownerId>"
    "111111111111</ownerId><vpcId>vpc-iso</vpcId></accepterVpcInfo>" PCX_END;

static const char pcx_main_deleted[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>deleted</code><message>Deleted by 111111111111</message></status>" SIDE(
        "requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "false")
        SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "false") PCX_END;

#define RTB_BEGIN                                                                                  \
    "<DescribeRouteTablesResponse xmlns=\"http://ec2.amazonaws.com/doc/2014-06-15/\">"             \
    "<routeTableSet><item><routeTableId>rtb-iso</routeTableId><vpcId>vpc-iso</vpcId>"              \
    "<ownerId>111111111111</ownerId><routeSet>"                                                    \
    "<item><destinationCidrBlock>10.20.0.0/16</destinationCidrBlock><gatewayId>local"              \
    "</gatewayId><state>active</state></item>"
#define RTB_END "</routeSet></item></routeTableSet></DescribeRouteTablesResponse>"

static const char rtb_ok[] =
    RTB_BEGIN "<item><vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId><state>active"
              "</state><destinationCidrBlock>10.10.0.0/16</destinationCidrBlock></item>" RTB_END;
static const char rtb_missing[] =
    RTB_BEGIN "<item><destinationCidrBlock>192.168.0.0/16</destinationCidrBlock><natGatewayId>"
              "nat-1</natGatewayId><state>active</state></item>" RTB_END;
static const char rtb_nat_default[] =
    RTB_BEGIN "<item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><natGatewayId>"
              "nat-1</natGatewayId><state>active</state></item>" RTB_END;
static const char rtb_igw_exact[] =
    RTB_BEGIN "<item><destinationCidrBlock>10.10.0.0/16</destinationCidrBlock><gatewayId>"
              "igw-9</gatewayId><state>active</state></item>" RTB_END;
/* rtb-iso without a route to the main VPC and rtb-igw sending it to an internet gateway,
 * in one answer (the tables are asked for with one filter) */
static const char rtb_missing_and_igw[] = RTB_BEGIN
    "<item><destinationCidrBlock>192.168.0.0/16</destinationCidrBlock><natGatewayId>"
    "nat-1</natGatewayId><state>active</state></item></routeSet></item>"
    "<item><routeTableId>rtb-igw</routeTableId><vpcId>vpc-iso</vpcId><ownerId>"
    "111111111111</ownerId><routeSet><item><destinationCidrBlock>10.10.0.0/16"
    "</destinationCidrBlock><gatewayId>igw-9</gatewayId><state>active</state></item>" RTB_END;

#define SG_BEGIN                                                                                   \
    "<DescribeSecurityGroupsResponse><securityGroupInfo><item><ownerId>111111111111</ownerId>"     \
    "<groupId>sg-db</groupId><groupName>db</groupName><vpcId>vpc-iso</vpcId><ipPermissions>"
#define SG_END                                                                                     \
    "</ipPermissions><ipPermissionsEgress/></item></securityGroupInfo>"                            \
    "</DescribeSecurityGroupsResponse>"

static const char sg_ok[] = SG_BEGIN
    "<item><ipProtocol>tcp</ipProtocol><fromPort>5400</fromPort><toPort>5500</toPort>"
    "<groups/><ipRanges><item><cidrIp>10.10.0.0/16</cidrIp></item></ipRanges></item>" SG_END;
static const char sg_wrong_port[] =
    SG_BEGIN "<item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort>"
             "<groups/><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>"
             "<item><ipProtocol>udp</ipProtocol><fromPort>5432</fromPort><toPort>5432</toPort>"
             "<groups/><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>" SG_END;

static const struct aws_peering_spec main_peering[] = {{"pcx-main", AWS_DNS_BOTH, true}};
static const struct aws_route_spec main_route[] = {{"rtb-iso", "10.10.0.0/16", "pcx-main"}};
static const struct aws_sg_spec main_sg[] = {{"sg-db", 5432, "10.10.1.0/24"}};

static const struct aws_check_input main_input = {
    "eu-west-2", NULL, main_peering, 1, main_route, 1, main_sg, 1, NULL, NULL, false, false,
};

/* ---- helpers ---- */

struct outcome {
    struct check_report rep;
    struct infra_error err;
    bool ok;
};

static void run_checks(const struct rule *rules, size_t n, const struct aws_check_input *in,
                       struct outcome *o, struct fake *fk)
{
    struct infra_error err = {{0}};
    struct ec2 *c;

    memset(fk, 0, sizeof(*fk));
    fk->rules = rules;
    fk->n_rules = n;
    c = ec2_new_with_transport(in->region, fake_send, fk, &err);
    assert_non_null(c);
    check_report_init(&o->rep);
    memset(&o->err, 0, sizeof(o->err));
    o->ok = aws_checks_run(c, in, &o->rep, &o->err);
    ec2_free(c);
}

static const struct check_result *find(const struct outcome *o, const char *group)
{
    for (size_t i = 0; i < o->rep.n; i++)
        if (strcmp(o->rep.items[i].group, group) == 0)
            return &o->rep.items[i];
    fail_msg("no result in group %s", group);
    return NULL;
}

static void expect(const struct outcome *o, const char *group, enum check_status st,
                   const char *detail_part, const char *fix_part)
{
    const struct check_result *c = find(o, group);

    if (c->status != st)
        fail_msg("%s: status %s, want %s (%s)", group, check_status_name(c->status),
                 check_status_name(st), c->detail);
    if (detail_part && !strstr(c->detail, detail_part))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", group, c->detail, detail_part);
    if (fix_part && !strstr(c->remediation, fix_part))
        fail_msg("%s: remediation \"%s\" lacks \"%s\"", group, c->remediation, fix_part);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PCX(body)                                                                                  \
    {                                                                                              \
        "Action=DescribeVpcPeeringConnections", NULL, NULL, 200, NULL, body                        \
    }
#define RTB(body)                                                                                  \
    {                                                                                              \
        "Action=DescribeRouteTables", NULL, NULL, 200, NULL, body                                  \
    }
#define SG(body)                                                                                   \
    {                                                                                              \
        "Action=DescribeSecurityGroups", NULL, NULL, 200, NULL, body                               \
    }
/* the mixed fixture carries a nextToken: its next page is the empty fixture */
#define NEXT_EMPTY                                                                                 \
    {                                                                                              \
        "&NextToken=", NULL, NULL, 200, "synthetic_describe_vpc_peering_connections_empty.xml",    \
            NULL                                                                                   \
    }

/* ---- checks ---- */

static void test_healthy(void **state)
{
    const struct rule rules[] = {PCX(pcx_main_active), RTB(rtb_ok), SG(sg_ok)};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &main_input, &o, &fk);
    assert_true(o.ok);
    assert_int_equal(o.rep.n, 4);
    expect(&o, "peering", CHECK_PASS, "active: vpc-main", NULL);
    expect(&o, "dns-option", CHECK_PASS, "requester and accepter", NULL);
    expect(&o, "route", CHECK_PASS, "10.10.0.0/16 via pcx-main", NULL);
    expect(&o, "sg", CHECK_PASS, "tcp 5400-5500", NULL);
    assert_false(check_report_failed(&o.rep));
    /* one batched call per kind, by filter (a missing id is absent, not an error), with the
     * API version */
    assert_int_equal(fk.n_sent, 3);
    assert_true(was_sent(&fk, "Action=DescribeVpcPeeringConnections&Version=2016-11-15&"
                              "Filter.1.Name=vpc-peering-connection-id&Filter.1.Value.1=pcx-main"));
    assert_true(was_sent(&fk, "Filter.1.Name=route-table-id&Filter.1.Value.1=rtb-iso"));
    assert_true(was_sent(&fk, "Filter.1.Name=group-id&Filter.1.Value.1=sg-db"));
    check_report_free(&o.rep);
}

static void test_pending_same_account(void **state)
{
    const struct rule rules[] = {PCX(pcx_main_pending), RTB(rtb_ok), SG(sg_ok)};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &main_input, &o, &fk);
    assert_true(o.ok);
    expect(&o, "peering", CHECK_FAIL, "account 111111111111 must accept it in region eu-west-2",
           "anonetl preflight --repair");
    expect(&o, "dns-option", CHECK_SKIP, "pending-acceptance", NULL);
    expect(&o, "route", CHECK_FAIL, "peering is pending-acceptance", NULL);
    assert_true(check_report_failed(&o.rep));
    check_report_free(&o.rep);
}

static void test_pending_cross_account(void **state)
{
    const struct rule rules[] = {
        NEXT_EMPTY,
        {"Action=DescribeVpcPeeringConnections", NULL, NULL, 200,
         "synthetic_describe_vpc_peering_connections_mixed.xml", NULL},
    };
    struct aws_peering_spec p[] = {{"pcx-0fedcba9876543210", AWS_DNS_REQUESTER, true}};
    struct aws_check_input in = {"eu-west-2", NULL, p,    1,    NULL,  0,
                                 NULL,        0,    NULL, NULL, false, false};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &in, &o, &fk);
    expect(&o, "peering", CHECK_FAIL, "account 222222222222 must accept it in region us-east-1",
           "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id "
           "pcx-0fedcba9876543210 --region us-east-1");
    assert_null(strstr(find(&o, "peering")->remediation, "--repair"));
    check_report_free(&o.rep);

    p[0].required = false; /* the data team's: a WARN */
    run_checks(rules, N(rules), &in, &o, &fk);
    expect(&o, "peering", CHECK_WARN, "pending-acceptance", NULL);
    assert_false(check_report_failed(&o.rep));
    check_report_free(&o.rep);
}

static void test_dead_and_missing_peerings(void **state)
{
    const struct rule rules[] = {
        NEXT_EMPTY,
        {"pcx-00000000000000bad", NULL, NULL, 200,
         "synthetic_describe_vpc_peering_connections_mixed.xml", NULL},
        {"pcx-0000000000000dead", NULL, NULL, 400, "synthetic_error_invalid_pcx_not_found.xml",
         NULL},
        {"pcx-empty", NULL, NULL, 200, "synthetic_describe_vpc_peering_connections_empty.xml",
         NULL},
    };
    const struct aws_peering_spec p[] = {{"pcx-00000000000000bad", AWS_DNS_UNSET, true},
                                         {"pcx-0000000000000dead", AWS_DNS_UNSET, true},
                                         {"pcx-empty", AWS_DNS_UNSET, false}};
    struct aws_check_input in = {"eu-west-2", NULL, p,    3,    NULL,  0,
                                 NULL,        0,    NULL, NULL, false, false};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &in, &o, &fk);
    assert_true(o.ok);
    assert_int_equal(o.rep.n, 3);
    assert_int_equal(o.rep.items[0].status, CHECK_FAIL);
    assert_non_null(strstr(o.rep.items[0].detail, "failed: Failed due to"));
    assert_non_null(strstr(o.rep.items[0].remediation, "create a new one"));
    assert_int_equal(o.rep.items[1].status, CHECK_FAIL);
    assert_non_null(strstr(o.rep.items[1].detail, "not found"));
    assert_int_equal(o.rep.items[2].status, CHECK_WARN); /* not required */
    assert_non_null(strstr(o.rep.items[2].detail, "not found"));
    check_report_free(&o.rep);
}

static const char pcx_main_expired[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>expired</code><message>Expired</message></status>" SIDE(
        "requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "false")
        SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "false") PCX_END;

static const char pcx_main_provisioning[] = PCX_BEGIN
    "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId>"
    "<status><code>provisioning</code><message>Provisioning</message></status>" SIDE(
        "requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "false")
        SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "false") PCX_END;

/* States moto cannot produce: an expired request needs a new peering, a provisioning one
 * a minute; routes over either are dropped meanwhile, and the DNS option is not judged. */
static void test_expired_and_provisioning_peerings(void **state)
{
    const struct rule expired[] = {PCX(pcx_main_expired), RTB(rtb_ok), SG(sg_ok)};
    const struct rule provisioning[] = {PCX(pcx_main_provisioning), RTB(rtb_ok), SG(sg_ok)};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(expired, N(expired), &main_input, &o, &fk);
    expect(&o, "peering", CHECK_FAIL, "expired: Expired", "create a new one");
    expect(&o, "route", CHECK_FAIL, "peering is expired", "fix the peering first");
    expect(&o, "dns-option", CHECK_SKIP, "the peering is expired", NULL);
    check_report_free(&o.rep);
    run_checks(provisioning, N(provisioning), &main_input, &o, &fk);
    expect(&o, "peering", CHECK_FAIL, "provisioning: not active yet", "wait a minute");
    expect(&o, "route", CHECK_FAIL, "peering is provisioning", "fix the peering first");
    check_report_free(&o.rep);
}

static void test_deleted_peering_route_is_blackhole(void **state)
{
    const struct rule rules[] = {PCX(pcx_main_deleted), RTB(rtb_ok), SG(sg_ok)};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &main_input, &o, &fk);
    expect(&o, "peering", CHECK_FAIL, "deleted", "create a new one");
    expect(&o, "route", CHECK_FAIL, "blackhole", "fix the peering first");
    check_report_free(&o.rep);
}

static void test_dns_sides(void **state)
{
    const struct rule rules[] = {PCX(pcx_main_dns_off), RTB(rtb_ok), SG(sg_ok)};
    struct aws_peering_spec p[] = {{"pcx-main", AWS_DNS_BOTH, true}};
    struct aws_check_input in = main_input;
    struct outcome o;
    struct fake fk;

    (void)state;
    in.peerings = p;
    run_checks(rules, N(rules), &in, &o, &fk);
    expect(&o, "dns-option", CHECK_FAIL, "off on the requester side",
           "--requester-peering-connection-options AllowDnsResolutionFromRemoteVpc=true");
    assert_non_null(strstr(find(&o, "dns-option")->remediation, "anonetl preflight --repair"));
    assert_null(strstr(find(&o, "dns-option")->remediation, "--accepter-peering"));
    check_report_free(&o.rep);

    p[0].dns_resolution = AWS_DNS_ACCEPTER;
    run_checks(rules, N(rules), &in, &o, &fk);
    expect(&o, "dns-option", CHECK_PASS, "accepter side", NULL);
    check_report_free(&o.rep);

    p[0].dns_resolution = AWS_DNS_REQUESTER;
    p[0].required = false;
    run_checks(rules, N(rules), &in, &o, &fk);
    expect(&o, "dns-option", CHECK_WARN, "requester side", NULL);
    check_report_free(&o.rep);

    p[0].dns_resolution = AWS_DNS_OFF;
    run_checks(rules, N(rules), &in, &o, &fk);
    assert_int_equal(o.rep.n, 3); /* no dns-option result */
    check_report_free(&o.rep);
}

static void test_routes(void **state)
{
    const struct rule missing[] = {PCX(pcx_main_active), RTB(rtb_missing), SG(sg_ok)};
    const struct rule nat[] = {PCX(pcx_main_active), RTB(rtb_nat_default), SG(sg_ok)};
    const struct rule igw[] = {PCX(pcx_main_active), RTB(rtb_igw_exact), SG(sg_ok)};
    const struct rule notfound[] = {
        PCX(pcx_main_active),
        {"Action=DescribeRouteTables", NULL, NULL, 400, NULL,
         "<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code><Message>The "
         "routeTable ID 'rtb-iso' does not exist</Message></Error></Errors></Response>"},
        SG(sg_ok)};
    const struct aws_route_spec outside[] = {{"rtb-iso", "10.99.0.0/16", "pcx-main"}};
    const struct rule outside_rules[] = {
        PCX(pcx_main_active),
        RTB(RTB_BEGIN "<item><vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId><state>"
                      "active</state><destinationCidrBlock>10.99.0.0/16</destinationCidrBlock>"
                      "</item>" RTB_END),
        SG(sg_ok)};
    struct aws_check_input in = main_input;
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(missing, N(missing), &main_input, &o, &fk);
    expect(&o, "route", CHECK_FAIL, "no route in rtb-iso covers 10.10.0.0/16",
           "aws ec2 create-route --route-table-id rtb-iso --destination-cidr-block 10.10.0.0/16 "
           "--vpc-peering-connection-id pcx-main --region eu-west-2");
    assert_non_null(strstr(find(&o, "route")->remediation, "--repair"));
    assert_string_equal(find(&o, "route")->subject, "rtb-iso -> 10.10.0.0/16");
    check_report_free(&o.rep);

    run_checks(nat, N(nat), &main_input, &o, &fk);
    expect(&o, "route", CHECK_FAIL, "takes route 0.0.0.0/0 via nat-1, not pcx-main",
           "create-route");
    check_report_free(&o.rep);

    run_checks(igw, N(igw), &main_input, &o, &fk);
    expect(&o, "route", CHECK_FAIL, "via igw-9", "replace-route");
    check_report_free(&o.rep);

    run_checks(notfound, N(notfound), &main_input, &o, &fk);
    assert_true(o.ok);
    expect(&o, "route", CHECK_FAIL, "route table rtb-iso not found", NULL);
    check_report_free(&o.rep);

    in.routes = outside;
    run_checks(outside_rules, N(outside_rules), &in, &o, &fk);
    expect(&o, "route", CHECK_WARN, "outside the CIDRs of the peer VPC vpc-main", NULL);
    check_report_free(&o.rep);
}

static void test_security_groups(void **state)
{
    const struct rule wrong[] = {PCX(pcx_main_active), RTB(rtb_ok), SG(sg_wrong_port)};
    const struct rule docs[] = {{"Action=DescribeSecurityGroups", NULL, NULL, 200,
                                 "awsdocs_describe_security_groups_rule_description.xml", NULL}};
    const struct rule boto[] = {{"Action=DescribeSecurityGroups", NULL, NULL, 200,
                                 "botocore_describe_security_groups.xml", NULL}};
    struct aws_sg_spec sg[] = {{"sg-bcc24bcd", 3389, "203.0.113.128/25"}};
    struct aws_check_input in = {"eu-west-2", NULL, NULL, 0,    NULL,  0,
                                 sg,          1,    NULL, NULL, false, false};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(wrong, N(wrong), &main_input, &o, &fk);
    expect(&o, "sg", CHECK_FAIL, "no ingress rule of sg-db allows tcp/5432 from 10.10.1.0/24",
           "aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 5432 "
           "--cidr 10.10.1.0/24");
    check_report_free(&o.rep);

    run_checks(docs, N(docs), &in, &o, &fk); /* the /24 rule contains the /25 */
    expect(&o, "sg", CHECK_PASS, "tcp 3389-3389", NULL);
    check_report_free(&o.rep);
    sg[0].from = "203.0.112.0/23"; /* wider than the rule: half of it is allowed; with the
                                      job's address unknown, that is a WARN, not a FAIL */
    run_checks(docs, N(docs), &in, &o, &fk);
    expect(&o, "sg", CHECK_WARN, "cover only part of 203.0.112.0/23", "set aws.job");
    check_report_free(&o.rep);
    sg[0].from = "198.51.100.0/24"; /* no rule meets it: a FAIL */
    run_checks(docs, N(docs), &in, &o, &fk);
    expect(&o, "sg", CHECK_FAIL, NULL, "--cidr 198.51.100.0/24");
    check_report_free(&o.rep);
    sg[0].port = 5432; /* the self-reference, all protocols */
    sg[0].from = "sg-bcc24bcd";
    run_checks(docs, N(docs), &in, &o, &fk);
    expect(&o, "sg", CHECK_PASS, "all protocols", NULL);
    check_report_free(&o.rep);
    sg[0].from = "sg-00000000";
    run_checks(docs, N(docs), &in, &o, &fk);
    expect(&o, "sg", CHECK_FAIL, NULL, "--source-group sg-00000000");
    check_report_free(&o.rep);

    /* sg-eab831da: tcp 0-65535 from itself; sg-68d8a958 is not in the list twice */
    sg[0].group = "sg-eab831da";
    sg[0].from = "sg-eab831da";
    run_checks(boto, N(boto), &in, &o, &fk);
    expect(&o, "sg", CHECK_PASS, "tcp 0-65535", NULL);
    check_report_free(&o.rep);
    sg[0].group = "sg-missing";
    run_checks(boto, N(boto), &in, &o, &fk);
    expect(&o, "sg", CHECK_FAIL, "security group sg-missing not found", NULL);
    check_report_free(&o.rep);
}

/* ---- API errors ---- */

static void test_unauthorized_names_action(void **state)
{
    const struct rule rules[] = {PCX(pcx_main_active),
                                 {"Action=DescribeRouteTables", NULL, NULL, 403,
                                  "synthetic_error_unauthorized_operation.xml", NULL},
                                 SG(sg_ok)};
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(rules, N(rules), &main_input, &o, &fk);
    assert_true(o.ok); /* the other checks still ran */
    expect(&o, "route", CHECK_FAIL, "does not allow ec2:DescribeRouteTables",
           "allow ec2:DescribeRouteTables");
    expect(&o, "sg", CHECK_PASS, NULL, NULL);
    check_report_free(&o.rep);
}

static void fatal_case(const char *file, long status, const char *want)
{
    const struct rule rules[] = {
        {"Action=", NULL, NULL, status, file, NULL},
    };
    struct outcome o;
    struct fake fk;

    run_checks(rules, N(rules), &main_input, &o, &fk);
    assert_false(o.ok);
    assert_int_equal(o.rep.n, 1); /* one FAIL, the rest not run */
    assert_int_equal(o.rep.items[0].status, CHECK_FAIL);
    if (!strstr(o.err.msg, want) || !strstr(o.rep.items[0].detail, want))
        fail_msg("%s: want \"%s\" in \"%s\"", file, want, o.err.msg);
    assert_int_equal(fk.n_sent, 1);
    check_report_free(&o.rep);
}

static void test_fatal_errors(void **state)
{
    (void)state;
    fatal_case("synthetic_error_auth_failure.xml", 401, "authentication failure");
    fatal_case("synthetic_error_signature_does_not_match.xml", 403, "authentication failure");
    fatal_case("synthetic_error_request_expired.xml", 400, "system clock");
    fatal_case("synthetic_error_request_limit_exceeded.xml", 503, "throttled");
}

static void test_transport_failure(void **state)
{
    struct outcome o;
    struct fake fk;

    (void)state;
    run_checks(NULL, 0, &main_input, &o, &fk); /* the fake answers nothing */
    assert_false(o.ok);
    assert_int_equal(o.rep.n, 1);
    assert_non_null(strstr(o.rep.items[0].remediation, "network path to the EC2 endpoint"));
    check_report_free(&o.rep);
}

/* ---- pagination ---- */

static void test_pagination(void **state)
{
    const struct rule pages[] = {
        {"NextToken=eyJ2IjoiMiIsImMiOiJFWEFNUExFIn0%3D", NULL, NULL, 200,
         "awsdocs_describe_vpc_peering_connections_active.xml", NULL},
        {"Action=DescribeVpcPeeringConnections", NULL, NULL, 200,
         "synthetic_describe_vpc_peering_connections_mixed.xml", NULL},
    };
    const struct rule loop[] = {{"Action=DescribeVpcPeeringConnections", NULL, NULL, 200,
                                 "synthetic_describe_vpc_peering_connections_mixed.xml", NULL}};
    const char *vals[] = {"active", "pending-acceptance"};
    const struct ec2_filter f[] = {{"status-code", vals, 2}};
    struct infra_error err = {{0}};
    struct ec2_peering_list l = {0};
    struct ec2_error e;
    struct fake fk = {0};
    struct ec2 *c;

    (void)state;
    fk.rules = pages;
    fk.n_rules = N(pages);
    c = ec2_new_with_transport("us-east-1", fake_send, &fk, &err);
    assert_true(ec2_describe_peerings(c, NULL, 0, f, 1, &l, &e));
    assert_int_equal(l.n, 4);
    assert_string_equal(l.items[3].id, "pcx-111aaa22");
    assert_int_equal(fk.n_sent, 2);
    assert_non_null(strstr(fk.sent[0], "Filter.1.Name=status-code&Filter.1.Value.1=active&"
                                       "Filter.1.Value.2=pending-acceptance"));
    ec2_peering_list_free(&l);
    ec2_free(c);

    memset(&fk, 0, sizeof(fk));
    fk.rules = loop;
    fk.n_rules = N(loop);
    c = ec2_new_with_transport("us-east-1", fake_send, &fk, &err);
    assert_false(ec2_describe_peerings(c, NULL, 0, NULL, 0, &l, &e));
    assert_int_equal(e.kind, EC2_ERR_PARSE);
    assert_non_null(strstr(e.base.msg, "same NextToken"));
    ec2_peering_list_free(&l);
    ec2_free(c);
}

/* ---- repair ---- */

static void test_repair(void **state)
{
    /* pending same-account peering, a missing route, an exact igw route elsewhere */
    static const char pcx_after[] = PCX_BEGIN
        "<vpcPeeringConnectionId>pcx-main</vpcPeeringConnectionId><status><code>active</code>"
        "</status>" SIDE("requesterVpcInfo", "111111111111", "vpc-main", "10.10.0.0/16", "false")
            SIDE("accepterVpcInfo", "111111111111", "vpc-iso", "10.20.0.0/16", "false") PCX_END;
    const struct rule rules[] = {
        {"Action=DescribeVpcPeeringConnections", NULL, "Action=AcceptVpcPeeringConnection", 200,
         NULL, pcx_after},
        PCX(pcx_main_pending),
        {"Action=DescribeRouteTables", "rtb-igw", NULL, 200, NULL, rtb_missing_and_igw},
        SG(sg_ok),
        {"Action=AcceptVpcPeeringConnection", NULL, NULL, 200,
         "awsdocs_accept_vpc_peering_connection.xml", NULL},
        {"Action=ModifyVpcPeeringConnectionOptions", NULL, NULL, 200,
         "awsdocs_modify_vpc_peering_connection_options.xml", NULL},
        {"Action=CreateRoute", NULL, NULL, 200, "awsdocs_create_route.xml", NULL},
    };
    const struct aws_route_spec routes[] = {{"rtb-iso", "10.10.0.0/16", "pcx-main"},
                                            {"rtb-igw", "10.10.0.0/16", "pcx-main"}};
    struct aws_check_input in = main_input;
    struct aws_repair_plan plan = {0};
    struct infra_error err = {{0}};
    struct fake fk = {0};
    struct ec2 *c;

    (void)state;
    in.routes = routes;
    in.n_routes = 2;
    fk.rules = rules;
    fk.n_rules = N(rules);
    c = ec2_new_with_transport("eu-west-2", fake_send, &fk, &err);
    assert_true(aws_repair_plan_build(c, &in, &plan, &err));
    assert_int_equal(plan.n_actions, 3);
    assert_int_equal(plan.actions[0].kind, AWS_REPAIR_ACCEPT_PEERING);
    assert_non_null(strstr(plan.actions[0].line, "accept peering pcx-main"));
    assert_int_equal(plan.actions[1].kind, AWS_REPAIR_ENABLE_DNS);
    assert_true(plan.actions[1].requester_side && plan.actions[1].accepter_side);
    assert_int_equal(plan.actions[2].kind, AWS_REPAIR_CREATE_ROUTE);
    assert_string_equal(plan.actions[2].route_table, "rtb-iso");
    assert_int_equal(plan.n_notes, 1); /* the igw route is not replaced */
    assert_non_null(strstr(plan.notes[0], "never replaces"));
    assert_false(was_sent(&fk, "Action=AcceptVpcPeeringConnection")); /* planning is read-only */
    /* one batched call per kind, not one per route or peering */
    assert_int_equal(sent_count(&fk, "Action=DescribeRouteTables"), 1);
    assert_true(was_sent(&fk, "Filter.1.Name=route-table-id&Filter.1.Value.1=rtb-iso&"
                              "Filter.1.Value.2=rtb-igw"));
    assert_int_equal(sent_count(&fk, "Action=DescribeVpcPeeringConnections"), 1);
    assert_int_equal(plan.ec2_calls, 3);

    assert_true(aws_repair_apply(c, &plan, 2000, &err));
    for (size_t i = 0; i < plan.n_actions; i++) {
        assert_int_equal(plan.actions[i].state, AWS_REPAIR_DONE);
        assert_string_equal(plan.actions[i].result, "done");
    }
    assert_true(was_sent(&fk, "Action=AcceptVpcPeeringConnection&Version=2016-11-15&"
                              "VpcPeeringConnectionId=pcx-main"));
    assert_true(was_sent(&fk, "VpcPeeringConnectionId=pcx-main&RequesterPeeringConnectionOptions."
                              "AllowDnsResolutionFromRemoteVpc=true&AccepterPeeringConnection"
                              "Options.AllowDnsResolutionFromRemoteVpc=true"));
    assert_true(was_sent(&fk,
                         "Action=CreateRoute&Version=2016-11-15&RouteTableId=rtb-iso&"
                         "DestinationCidrBlock=10.10.0.0%2F16&VpcPeeringConnectionId=pcx-main"));
    aws_repair_plan_free(&plan);
    ec2_free(c);
}

static void test_repair_not_ours(void **state)
{
    const struct rule rules[] = {
        NEXT_EMPTY,
        {"Action=DescribeVpcPeeringConnections", NULL, NULL, 200,
         "synthetic_describe_vpc_peering_connections_mixed.xml", NULL},
        {"Action=CreateRoute", NULL, NULL, 400, "synthetic_error_route_already_exists.xml", NULL},
        {"Action=ModifyVpcPeeringConnectionOptions", NULL, NULL, 200, NULL,
         "<ModifyVpcPeeringConnectionOptionsResponse><requesterPeeringConnectionOptions>"
         "<allowDnsResolutionFromRemoteVpc>true</allowDnsResolutionFromRemoteVpc>"
         "</requesterPeeringConnectionOptions></ModifyVpcPeeringConnectionOptionsResponse>"},
        {"Action=DescribeRouteTables", NULL, NULL, 200, NULL, rtb_missing},
    };
    const struct aws_peering_spec p[] = {{"pcx-0fedcba9876543210", AWS_DNS_REQUESTER, false},
                                         {"pcx-0123456789abcdef0", AWS_DNS_BOTH, true}};
    const struct aws_route_spec routes[] = {{"rtb-iso", "10.10.0.0/16", "pcx-main"}};
    struct aws_check_input in = {"us-east-1", NULL,           p,    2,     routes, 1, NULL,
                                 0,           "111111111111", NULL, false, false};
    struct aws_repair_plan plan = {0};
    struct infra_error err = {{0}};
    struct fake fk = {0};
    struct ec2 *c;

    (void)state;
    fk.rules = rules;
    fk.n_rules = N(rules);
    c = ec2_new_with_transport("us-east-1", fake_send, &fk, &err);
    assert_true(aws_repair_plan_build(c, &in, &plan, &err));
    /* pending cross-account: a note; active cross-account, requester (ours, in us-east-1)
     * off: enable it; accepter (222..., eu-west-1) on already; the route: create */
    assert_int_equal(plan.n_actions, 2);
    assert_int_equal(plan.actions[0].kind, AWS_REPAIR_ENABLE_DNS);
    assert_true(plan.actions[0].requester_side);
    assert_false(plan.actions[0].accepter_side);
    assert_non_null(strstr(plan.notes[0], "account 222222222222 must accept it in region "
                                          "us-east-1"));
    /* apply: the route creation fails with RouteAlreadyExists, reported per action */
    assert_false(aws_repair_apply(c, &plan, 0, &err));
    assert_int_equal(plan.actions[0].state, AWS_REPAIR_DONE);
    assert_true(was_sent(&fk, "RequesterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc"
                              "=true"));
    assert_false(was_sent(&fk, "AccepterPeeringConnectionOptions"));
    assert_int_equal(plan.actions[1].state, AWS_REPAIR_FAILED);
    assert_non_null(strstr(plan.actions[1].result, "RouteAlreadyExists"));
    assert_non_null(strstr(err.msg, "create route 10.10.0.0/16"));
    aws_repair_plan_free(&plan);
    ec2_free(c);
}

static void test_route_lookup_fixtures(void **state)
{
    struct ec2_route_table_list l = {0}, b = {0};
    struct infra_error err = {{0}};
    const struct ec2_route *m;
    size_t len;
    bool exact;
    char *x = slurp("synthetic_describe_route_tables_pcx_active.xml", &len);
    char *y;

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    free(x);
    assert_int_equal(
        aws_route_lookup(&l.items[0], "10.20.0.0/16", "pcx-0123456789abcdef0", &m, &exact),
        AWS_ROUTE_OK);
    assert_true(exact);
    assert_int_equal(
        aws_route_lookup(&l.items[0], "10.20.7.0/24", "pcx-0123456789abcdef0", &m, &exact),
        AWS_ROUTE_OK); /* longest prefix: the /16 covers it */
    assert_false(exact);
    assert_int_equal(
        aws_route_lookup(&l.items[0], "10.30.0.0/16", "pcx-0fedcba9876543210", &m, &exact),
        AWS_ROUTE_BLACKHOLE);
    assert_string_equal(m->state, "blackhole");
    assert_int_equal(aws_route_lookup(&l.items[0], "10.20.0.0/16", "pcx-other", &m, &exact),
                     AWS_ROUTE_WRONG_TARGET);
    assert_string_equal(m->target, "pcx-0123456789abcdef0");
    assert_int_equal(aws_route_lookup(&l.items[0], "10.10.1.0/24", "pcx-x", &m, &exact),
                     AWS_ROUTE_WRONG_TARGET); /* local */
    assert_string_equal(m->target, "local");
    assert_int_equal(aws_route_lookup(&l.items[0], "192.168.0.0/16", "pcx-x", &m, &exact),
                     AWS_ROUTE_MISSING);
    assert_null(m);
    assert_int_equal(aws_route_lookup(&l.items[0], "bogus", "pcx-x", &m, &exact),
                     AWS_ROUTE_BAD_CIDR);

    y = slurp("boto_describe_route_tables_pcx_blackhole.xml", &len);
    assert_true(ec2_xml_parse_route_tables(y, len, &b, &err));
    free(y);
    /* 11.0.0.0/22 via a deleted pcx: blackhole */
    assert_int_equal(aws_route_lookup(&b.items[1], "11.0.1.0/24", "pcx-efc52b86", &m, &exact),
                     AWS_ROUTE_BLACKHOLE);
    /* 10.0.1.0/24: 10.0.0.0/22 local beats the blackhole /21 and 0.0.0.0/0 */
    assert_int_equal(aws_route_lookup(&b.items[1], "10.0.1.0/24", "pcx-efc52b86", &m, &exact),
                     AWS_ROUTE_WRONG_TARGET);
    assert_string_equal(m->target, "local");
    /* 10.0.6.0/24: only the blackhole /21 (eni) and the default route cover it */
    assert_int_equal(aws_route_lookup(&b.items[1], "10.0.6.0/24", "pcx-efc52b86", &m, &exact),
                     AWS_ROUTE_BLACKHOLE);
    assert_string_equal(m->target, "eni-884ec1d1");
    /* 172.16.0.0/12: the default route via the internet gateway */
    assert_int_equal(aws_route_lookup(&b.items[1], "172.16.0.0/12", "pcx-efc52b86", &m, &exact),
                     AWS_ROUTE_WRONG_TARGET);
    assert_string_equal(m->target, "igw-eaad4883");
    ec2_route_table_list_free(&l);
    ec2_route_table_list_free(&b);
}

/* ---- the path's view: interfaces of IPv6 addresses ---- */

#define ENIS_BEGIN                                                                                 \
    "<DescribeNetworkInterfacesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"       \
    "<networkInterfaceSet>"
#define ENIS_END "</networkInterfaceSet></DescribeNetworkInterfacesResponse>"
#define ENI6(id, subnet, vpc, ip, ip6)                                                             \
    "<item><networkInterfaceId>" id "</networkInterfaceId><subnetId>" subnet                       \
    "</subnetId><vpcId>" vpc "</vpcId><ownerId>111111111111</ownerId><status>in-use</status>"      \
    "<privateIpAddress>" ip "</privateIpAddress><groupSet><item><groupId>sg-1</groupId></item>"    \
    "</groupSet><privateIpAddressesSet><item><privateIpAddress>" ip "</privateIpAddress>"          \
    "<primary>true</primary></item></privateIpAddressesSet><ipv6AddressesSet><item>"               \
    "<ipv6Address>" ip6 "</ipv6Address><isPrimaryIpv6>false</isPrimaryIpv6></item>"                \
    "</ipv6AddressesSet></item>"
#define ENI_JOB6 ENI6("eni-job", "subnet-j", "vpc-j", "10.20.6.15", "2600:1f16:0:6::15")
#define ENI_DB6 ENI6("eni-db", "subnet-d", "vpc-d", "10.10.12.20", "2600:1f18:0:c::20")
#define EMPTY(action, set) "<" action "Response><" set "/></" action "Response>"

static const struct rule view6_rules[] = {
    {"Name=ipv6-addresses.ipv6-address", NULL, NULL, 200, NULL, ENIS_BEGIN ENI_DB6 ENIS_END},
    {"Name=addresses.private-ip-address", NULL, NULL, 200, NULL,
     ENIS_BEGIN ENI_JOB6 ENI_DB6 ENIS_END},
    {"Action=DescribeRouteTables", NULL, NULL, 200, NULL,
     EMPTY("DescribeRouteTables", "routeTableSet")},
    {"Action=DescribeNetworkAcls", NULL, NULL, 200, NULL,
     EMPTY("DescribeNetworkAcls", "networkAclSet")},
    {"Action=DescribeSecurityGroups", NULL, NULL, 200, NULL,
     EMPTY("DescribeSecurityGroups", "securityGroupInfo")},
    {"Action=DescribeVpcPeeringConnections", NULL, NULL, 200, NULL,
     EMPTY("DescribeVpcPeeringConnections", "vpcPeeringConnectionSet")},
};

/* The interface of a database's IPv6 address is looked up by the IPv6 filter (the private
 * IPv4 one never matches it), listed once when the IPv4 lookup found it too; a failure of
 * that lookup leaves the IPv4 view whole. */
static void test_view_ipv6_interfaces(void **state)
{
    static const char *const db_ips[] = {"2600:1f18:0:c::20", "10.10.12.20"};
    const struct aws_view_request req = {
        .job_ip = "10.20.6.15", .db_ips = db_ips, .n_db_ips = 2, .path = true};
    struct rule failing[sizeof(view6_rules) / sizeof(view6_rules[0])];
    struct infra_error err = {{0}};
    const struct ec2_network_interface *e;
    struct aws_view v;
    struct fake fk;
    struct ec2 *c;
    size_t n;

    (void)state;
    memset(&fk, 0, sizeof(fk));
    fk.rules = view6_rules;
    fk.n_rules = sizeof(view6_rules) / sizeof(view6_rules[0]);
    c = ec2_new_with_transport("us-east-1", fake_send, &fk, &err);
    assert_non_null(c);
    assert_true(aws_view_fetch(c, &req, &v, &err));
    assert_int_equal(sent_count(&fk, "Name=ipv6-addresses.ipv6-address"), 1);
    assert_true(was_sent(&fk, "Value.1=2600%3A1f18%3A0%3Ac%3A%3A20"));
    assert_int_equal(v.enis.n, 2); /* eni-db once, though both lookups found it */
    assert_true(v.f_enis6.tried);
    assert_false(v.f_enis6.failed);
    e = aws_view_eni_by_ip(&v, "2600:1f18:0:c::20");
    assert_non_null(e);
    assert_string_equal(e->id, "eni-db");
    assert_int_equal(e->n_ipv6s, 1);
    e = aws_ends_db_eni(&v, NULL, NULL, "2600:1f18:0:c::20", &n);
    assert_non_null(e);
    assert_int_equal(n, 1);
    aws_view_free(&v);
    ec2_free(c);

    /* the IPv6 lookup refused (an endpoint without the filter): recorded apart */
    memcpy(failing, view6_rules, sizeof(failing));
    failing[0].status = 400;
    failing[0].body = "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>"
                      "unknown filter</Message></Error></Errors></Response>";
    memset(&fk, 0, sizeof(fk));
    fk.rules = failing;
    fk.n_rules = sizeof(failing) / sizeof(failing[0]);
    c = ec2_new_with_transport("us-east-1", fake_send, &fk, &err);
    assert_non_null(c);
    assert_true(aws_view_fetch(c, &req, &v, &err));
    assert_false(v.fatal);
    assert_true(v.f_enis6.failed);
    assert_false(v.f_enis.failed);
    assert_int_equal(v.enis.n, 2);
    aws_view_free(&v);
    ec2_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy),
        cmocka_unit_test(test_pending_same_account),
        cmocka_unit_test(test_pending_cross_account),
        cmocka_unit_test(test_dead_and_missing_peerings),
        cmocka_unit_test(test_deleted_peering_route_is_blackhole),
        cmocka_unit_test(test_dns_sides),
        cmocka_unit_test(test_expired_and_provisioning_peerings),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_security_groups),
        cmocka_unit_test(test_unauthorized_names_action),
        cmocka_unit_test(test_fatal_errors),
        cmocka_unit_test(test_transport_failure),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_repair_not_ours),
        cmocka_unit_test(test_route_lookup_fixtures),
        cmocka_unit_test(test_view_ipv6_interfaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
