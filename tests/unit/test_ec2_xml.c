/*
 * test_ec2_xml.c: infra/ec2_xml against every fixture in tests/data/ec2/ (each
 * file is parsed by the parser its name implies, and the directory walk fails if a
 * fixture is not covered), plus the robustness cases: namespaces, element order,
 * empty-element forms, error envelopes, malformed input, DTDs, over-long values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/ec2_xml.h"

#define FIXTURES "tests/data/ec2/"

static char *slurp(const char *name, size_t *len)
{
    return fixture_read(FIXTURES, name, len);
}

/* ---- peerings ---- */

static void test_peerings_active(void **state)
{
    struct ec2_peering_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_describe_vpc_peering_connections_active.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_peerings(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, "pcx-111aaa22");
    assert_string_equal(l.items[0].status, "active");
    assert_string_equal(l.items[0].status_message, "Active");
    assert_string_equal(l.items[0].requester.owner_id, "777788889999");
    assert_string_equal(l.items[0].requester.vpc_id, "vpc-1a2b3c4d");
    assert_int_equal(l.items[0].requester.n_cidrs, 1);
    assert_string_equal(l.items[0].requester.cidrs[0], "172.31.0.0/16");
    assert_false(l.items[0].requester.has_options);
    assert_string_equal(l.items[0].accepter.owner_id, "123456789012");
    assert_string_equal(l.items[0].accepter.cidrs[0], "10.0.0.0/16");
    assert_true(l.items[0].accepter.has_options);
    assert_false(l.items[0].accepter.allow_dns_from_remote);
    assert_null(l.next_token);
    ec2_peering_list_free(&l);
    free(x);
}

static void test_peerings_pending(void **state)
{
    struct ec2_peering_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("boto_describe_vpc_peering_connections_pending.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_peerings(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].status, "pending-acceptance");
    assert_string_equal(l.items[0].accepter.owner_id, "111122223333");
    assert_int_equal(l.items[0].accepter.n_cidrs, 0);
    assert_string_equal(l.items[0].expiration, "2014-02-17T16:00:50.000Z");
    assert_string_equal(l.items[1].id, "pcx-444bbb88");
    assert_string_equal(l.items[1].accepter.owner_id, "98654313");
    assert_string_equal(l.items[1].status_message, "Pending Acceptance by 98654313");
    ec2_peering_list_free(&l);
    free(x);
}

static void test_peerings_mixed_and_pages(void **state)
{
    struct ec2_peering_list l = {0};
    struct infra_error err = {0};
    size_t len, len2;
    char *x = slurp("synthetic_describe_vpc_peering_connections_mixed.xml", &len);
    char *e = slurp("synthetic_describe_vpc_peering_connections_empty.xml", &len2);
    const struct ec2_peering *p;

    (void)state;
    assert_true(ec2_xml_parse_peerings(x, len, &l, &err));
    assert_int_equal(l.n, 3);
    p = &l.items[0];
    assert_string_equal(p->id, "pcx-0123456789abcdef0");
    assert_string_equal(p->status, "active");
    assert_string_equal(p->accepter.region, "eu-west-1");
    assert_string_equal(p->requester.region, "us-east-1");
    assert_int_equal(p->accepter.n_cidrs, 2); /* cidrBlock + the extra one from the set */
    assert_string_equal(p->accepter.cidrs[0], "10.20.0.0/16");
    assert_string_equal(p->accepter.cidrs[1], "10.21.0.0/16");
    assert_int_equal(p->requester.n_cidrs, 1);
    assert_true(p->accepter.allow_dns_from_remote);
    assert_true(p->requester.has_options);
    assert_false(p->requester.allow_dns_from_remote);
    assert_string_equal(l.items[1].status, "pending-acceptance");
    assert_string_equal(l.items[1].accepter.owner_id, "222222222222");
    assert_string_equal(l.items[2].status, "failed");
    assert_string_equal(l.items[2].id, "pcx-00000000000000bad");
    assert_non_null(l.next_token);
    assert_string_equal(l.next_token, "eyJ2IjoiMiIsImMiOiJFWEFNUExFIn0=");

    /* second page (the empty one) appends nothing and clears the token */
    assert_true(ec2_xml_parse_peerings(e, len2, &l, &err));
    assert_int_equal(l.n, 3);
    assert_null(l.next_token);
    /* a page appended after that keeps the first items */
    assert_true(ec2_xml_parse_peerings(x, len, &l, &err));
    assert_int_equal(l.n, 6);
    assert_string_equal(l.items[5].id, "pcx-00000000000000bad");
    ec2_peering_list_free(&l);
    free(x);
    free(e);
}

static void test_accept(void **state)
{
    struct ec2_peering p;
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_accept_vpc_peering_connection.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_accept_peering(x, len, &p, &err));
    assert_string_equal(p.id, "pcx-1a2b3c4d");
    assert_string_equal(p.status, "active");
    assert_string_equal(p.accepter.owner_id, "777788889999");
    assert_string_equal(p.accepter.cidrs[0], "10.0.1.0/28");
    assert_true(p.accepter.has_options);
    /* a Describe body is not an Accept body */
    free(x);
    x = slurp("awsdocs_describe_vpc_peering_connections_active.xml", &len);
    assert_false(ec2_xml_parse_accept_peering(x, len, &p, &err));
    assert_non_null(strstr(err.msg, "expected <AcceptVpcPeeringConnectionResponse>"));
    free(x);
}

static void test_modify_options(void **state)
{
    struct ec2_peering_options_result r;
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_modify_vpc_peering_connection_options.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_peering_options(x, len, &r, &err));
    assert_true(r.has_accepter);
    assert_true(r.accepter_dns);
    assert_false(r.has_requester);
    assert_false(r.requester_dns);
    free(x);
}

static void test_create_route(void **state)
{
    struct infra_error err = {0};
    size_t len;
    bool ret = false;
    char *x = slurp("awsdocs_create_route.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_return(x, len, "CreateRoute", &ret, &err));
    assert_true(ret);
    assert_false(ec2_xml_parse_return(x, len, "DeleteRoute", &ret, &err));
    free(x);
}

/* ---- route tables ---- */

static const struct ec2_route *find_route(const struct ec2_route_table *t, const char *cidr)
{
    for (size_t i = 0; i < t->n_routes; i++)
        if (strcmp(t->routes[i].dest_cidr, cidr) == 0)
            return &t->routes[i];
    return NULL;
}

static void test_route_tables_botocore(void **state)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("botocore_describe_route_tables.xml", &len);
    const struct ec2_route *r;

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].id, "rtb-2728114e");
    assert_string_equal(l.items[0].vpc_id, "vpc-8d2910e4");
    assert_false(l.items[0].main);
    assert_int_equal(l.items[0].n_subnets, 1);
    assert_string_equal(l.items[0].subnets[0], "subnet-812910e8");
    assert_int_equal(l.items[0].n_routes, 2);
    r = find_route(&l.items[0], "0.0.0.0/0");
    assert_non_null(r);
    assert_string_equal(r->target, "igw-6228110b");
    assert_string_equal(r->pcx, "");
    assert_string_equal(r->state, "active");
    r = find_route(&l.items[0], "10.0.0.0/16");
    assert_string_equal(r->target, "local");
    assert_string_equal(r->origin, "CreateRouteTable");
    assert_true(l.items[1].main);
    assert_int_equal(l.items[1].n_subnets, 0);
    ec2_route_table_list_free(&l);
    free(x);
}

static void test_route_tables_blackhole(void **state)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("boto_describe_route_tables_pcx_blackhole.xml", &len);
    const struct ec2_route *r;

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[1].n_routes, 4);
    r = find_route(&l.items[1], "11.0.0.0/22");
    assert_non_null(r);
    assert_string_equal(r->pcx, "pcx-efc52b86");
    assert_string_equal(r->target, "pcx-efc52b86");
    assert_string_equal(r->state, "blackhole");
    r = find_route(&l.items[1], "10.0.0.0/21");
    assert_string_equal(r->target, "eni-884ec1d1");
    assert_string_equal(r->state, "blackhole");
    ec2_route_table_list_free(&l);
    free(x);
}

static void test_route_tables_synthetic(void **state)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("synthetic_describe_route_tables_pcx_active.xml", &len);
    const struct ec2_route_table *t;

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    t = &l.items[0];
    assert_string_equal(t->owner_id, "111111111111");
    assert_false(t->main);
    assert_int_equal(t->n_routes, 4);
    assert_string_equal(find_route(t, "10.20.0.0/16")->pcx, "pcx-0123456789abcdef0");
    assert_string_equal(find_route(t, "10.20.0.0/16")->state, "active");
    assert_string_equal(find_route(t, "10.30.0.0/16")->state, "blackhole");
    assert_string_equal(t->routes[3].dest_prefix_list, "pl-63a5400a");
    assert_string_equal(t->routes[3].dest_cidr, "");
    assert_string_equal(t->routes[3].target, "vpce-0123456789abcdef0");
    assert_true(l.items[1].main);
    ec2_route_table_list_free(&l);
    free(x);
}

/* ---- security groups ---- */

static void test_sg_peered_ref(void **state)
{
    struct ec2_sg_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_describe_security_groups_peered_ref.xml", &len);
    const struct ec2_security_group *g;

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    g = &l.items[0];
    assert_string_equal(g->id, "sg-1a2b3c4d");
    assert_string_equal(g->vpc_id, "vpc-81326ae4");
    assert_int_equal(g->n_ingress, 2);
    assert_string_equal(g->ingress[0].protocol, "tcp");
    assert_true(g->ingress[0].has_ports);
    assert_int_equal(g->ingress[0].from_port, 22);
    assert_int_equal(g->ingress[0].n_cidrs, 1);
    assert_string_equal(g->ingress[0].cidrs[0], "0.0.0.0/0");
    assert_int_equal(g->ingress[0].n_groups, 0);
    assert_int_equal(g->ingress[1].from_port, -1);
    assert_int_equal(g->ingress[1].n_groups, 1);
    assert_string_equal(g->ingress[1].groups[0].group_id, "sg-11aa22bb");
    assert_string_equal(g->ingress[1].groups[0].user_id, "111222333444");
    assert_string_equal(g->ingress[1].groups[0].pcx, "pcx-11223344");
    assert_string_equal(g->ingress[1].groups[0].peering_status, "active");
    assert_int_equal(g->n_egress, 1);
    assert_string_equal(g->egress[0].protocol, "-1");
    assert_false(g->egress[0].has_ports);
    ec2_sg_list_free(&l);
    free(x);
}

static void test_sg_description(void **state)
{
    struct ec2_sg_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_describe_security_groups_rule_description.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].n_ingress, 2);
    assert_string_equal(l.items[0].ingress[0].protocol, "-1");
    assert_string_equal(l.items[0].ingress[0].groups[0].group_id, "sg-bcc24bcd");
    assert_int_equal(l.items[0].ingress[1].from_port, 3389);
    assert_string_equal(l.items[0].ingress[1].cidrs[0], "203.0.113.0/24");
    ec2_sg_list_free(&l);
    free(x);
}

static void test_sg_botocore(void **state)
{
    struct ec2_sg_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("botocore_describe_security_groups.xml", &len);
    const struct ec2_security_group *last;

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, len, &l, &err));
    assert_true(l.n >= 3);
    assert_string_equal(l.items[0].id, "sg-68d8a958");
    assert_string_equal(l.items[0].name, "quicklaunch-0");
    assert_int_equal(l.items[0].n_egress, 0); /* <ipPermissionsEgress/> */
    assert_string_equal(l.items[0].vpc_id, "");
    last = &l.items[l.n - 1];
    assert_string_equal(last->id, "sg-97b1aefb");
    assert_string_equal(last->vpc_id, "vpc-8d2910e4");
    assert_int_equal(last->n_egress, 1);
    ec2_sg_list_free(&l);
    free(x);
}

/* ---- errors ---- */

struct err_case {
    const char *file, *code, *message_part;
};

static const struct err_case err_cases[] = {
    {"awsdocs_error_invalid_instance_id_not_found.xml", "InvalidInstanceID.NotFound", "i-1a2b3c4d"},
    {"botocore_error_invalid_instance_id_malformed.xml", "InvalidInstanceID.Malformed", "foobar"},
    {"synthetic_error_auth_failure.xml", "AuthFailure", "validate"},
    {"synthetic_error_dry_run_operation.xml", "DryRunOperation", "DryRun"},
    {"synthetic_error_invalid_pcx_not_found.xml", "InvalidVpcPeeringConnectionID.NotFound",
     "pcx-0000000000000dead"},
    {"synthetic_error_operation_not_permitted_not_active.xml", "OperationNotPermitted",
     "not active"},
    {"synthetic_error_request_expired.xml", "RequestExpired", "expired"},
    {"synthetic_error_request_limit_exceeded.xml", "RequestLimitExceeded", "limit"},
    {"synthetic_error_route_already_exists.xml", "RouteAlreadyExists", "10.20.0.0/16"},
    {"synthetic_error_signature_does_not_match.xml", "SignatureDoesNotMatch", "signature"},
    {"synthetic_error_unauthorized_operation.xml", "UnauthorizedOperation", "not authorized"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct ec2_api_error e;
        struct ec2_peering_list l = {0};
        struct infra_error err = {0};
        size_t len;
        char *x = slurp(err_cases[i].file, &len);
        char want[300];

        assert_true(ec2_xml_parse_error(x, len, &e));
        assert_string_equal(e.code, err_cases[i].code);
        assert_non_null(strstr(e.message, err_cases[i].message_part));
        assert_true(strncmp(e.request_id, "", 1) != 0);
        /* a success parser given an error body reports the code */
        assert_false(ec2_xml_parse_peerings(x, len, &l, &err));
        snprintf(want, sizeof(want), "EC2 error %s: ", err_cases[i].code);
        assert_non_null(strstr(err.msg, want));
        ec2_peering_list_free(&l);
        free(x);
    }
}

static void test_error_variants(void **state)
{
    /* moto's envelope and the Query protocol's (STS) one */
    static const char moto[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>"
        "AuthFailure</Code><Message>AWS was not able to validate the provided access "
        "credentials</Message><Type>Sender</Type></Error></Errors></ErrorResponse>";
    static const char query[] =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
        "</Type><Code>InvalidClientTokenId</Code><Message>bad</Message></Error><RequestId>r1"
        "</RequestId></ErrorResponse>";
    struct ec2_api_error e;

    (void)state;
    assert_true(ec2_xml_parse_error(moto, sizeof(moto) - 1, &e));
    assert_string_equal(e.code, "AuthFailure");
    assert_true(ec2_xml_parse_error(query, sizeof(query) - 1, &e));
    assert_string_equal(e.code, "InvalidClientTokenId");
    assert_string_equal(e.request_id, "r1");
}

static void test_success_is_not_error(void **state)
{
    struct ec2_api_error e;
    size_t len;
    char *x = slurp("awsdocs_create_route.xml", &len);

    (void)state;
    assert_false(ec2_xml_parse_error(x, len, &e));
    assert_false(ec2_xml_parse_error("not xml", 7, &e));
    assert_false(ec2_xml_parse_error(NULL, 0, &e));
    free(x);
}

/* Every fixture must be parsed successfully by the parser its name implies. */
static void test_every_fixture(void **state)
{
    DIR *d = opendir(FIXTURES);
    struct dirent *de;
    int seen = 0;

    (void)state;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len, nl = strlen(n);
        struct infra_error err = {0};
        bool ok = false;
        char *x;

        if (nl < 5 || strcmp(n + nl - 4, ".xml") != 0)
            continue;
        x = slurp(n, &len);
        if (strstr(n, "_error_")) {
            struct ec2_api_error e;
            ok = ec2_xml_parse_error(x, len, &e) && e.code[0];
        } else if (strstr(n, "describe_vpc_peering_connections")) {
            struct ec2_peering_list l = {0};
            ok = ec2_xml_parse_peerings(x, len, &l, &err);
            ec2_peering_list_free(&l);
        } else if (strstr(n, "accept_vpc_peering_connection")) {
            struct ec2_peering p;
            ok = ec2_xml_parse_accept_peering(x, len, &p, &err) && p.id[0];
        } else if (strstr(n, "describe_route_tables")) {
            struct ec2_route_table_list l = {0};
            ok = ec2_xml_parse_route_tables(x, len, &l, &err) && l.n > 0;
            ec2_route_table_list_free(&l);
        } else if (strstr(n, "describe_security_groups")) {
            struct ec2_sg_list l = {0};
            ok = ec2_xml_parse_security_groups(x, len, &l, &err) && l.n > 0;
            ec2_sg_list_free(&l);
        } else if (strstr(n, "modify_vpc_peering_connection_options")) {
            struct ec2_peering_options_result r;
            ok = ec2_xml_parse_peering_options(x, len, &r, &err);
        } else if (strstr(n, "create_route")) {
            bool ret;
            ok = ec2_xml_parse_return(x, len, "CreateRoute", &ret, &err) && ret;
        } else if (strstr(n, "describe_network_interfaces")) {
            struct ec2_eni_list l = {0};
            ok = ec2_xml_parse_network_interfaces(x, len, &l, &err) && l.n > 0;
            ec2_eni_list_free(&l);
        } else if (strstr(n, "describe_network_acls")) {
            struct ec2_acl_list l = {0};
            ok = ec2_xml_parse_network_acls(x, len, &l, &err) && l.n > 0;
            ec2_acl_list_free(&l);
        } else if (strstr(n, "get_managed_prefix_list_entries")) {
            struct ec2_prefix_entries l = {0};
            ok = ec2_xml_parse_prefix_entries(x, len, &l, &err) && l.n > 0;
            ec2_prefix_entries_free(&l);
        } else if (strstr(n, "describe_transit_gateway_vpc_attachments")) {
            struct ec2_tgw_vpc_attachment_list l = {0};
            ok = ec2_xml_parse_tgw_vpc_attachments(x, len, &l, &err) && l.n > 0;
            ec2_tgw_vpc_attachment_list_free(&l);
        } else if (strstr(n, "describe_subnets")) {
            struct ec2_subnet_list l = {0};
            ok = ec2_xml_parse_subnets(x, len, &l, &err) && l.n > 0;
            ec2_subnet_list_free(&l);
        } else if (strstr(n, "describe_transit_gateway_attachments")) {
            struct ec2_tgw_attachment_list l = {0};
            ok = ec2_xml_parse_tgw_attachments(x, len, &l, &err) && l.n > 0;
            ec2_tgw_attachment_list_free(&l);
        } else if (strstr(n, "search_transit_gateway_routes")) {
            struct ec2_tgw_route_list l = {0};
            ok = ec2_xml_parse_tgw_routes(x, len, &l, &err) && l.n > 0;
            ec2_tgw_route_list_free(&l);
        } else {
            fail_msg("fixture %s is not covered by this test", n);
        }
        if (!ok)
            fail_msg("fixture %s: %s", n, err.msg);
        free(x);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 35); /* the 35 fixtures of the README at the time of writing */
}

/* ---- network interfaces, ACLs, prefix lists, transit gateway attachments ---- */

static void test_enis(void **state)
{
    struct ec2_eni_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_describe_network_interfaces.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_network_interfaces(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].id, "eni-0f62d866");
    assert_string_equal(l.items[0].subnet_id, "subnet-c53c87ac");
    assert_string_equal(l.items[0].vpc_id, "vpc-cc3c87a5");
    assert_string_equal(l.items[0].owner_id, "053230519467");
    assert_string_equal(l.items[0].status, "in-use");
    assert_string_equal(l.items[0].private_ip, "10.0.0.146");
    assert_int_equal(l.items[0].n_ips, 3);
    assert_string_equal(l.items[0].ips[2], "10.0.0.150");
    assert_int_equal(l.items[0].n_groups, 1);
    assert_string_equal(l.items[0].groups[0], "sg-3f4b5653");
    assert_string_equal(l.items[0].instance_id, "i-1234567890abcdef0");
    assert_string_equal(l.items[0].mac, "02:81:60:cb:27:37");
    assert_false(l.items[0].requester_managed);
    assert_string_equal(l.items[1].description, "Primary network interface");
    assert_int_equal(l.items[1].n_ips, 2); /* IPv6 addresses are not private IPv4 ones */
    ec2_eni_list_free(&l);
    free(x);

    x = slurp("moto_describe_network_interfaces.xml", &len);
    assert_true(ec2_xml_parse_network_interfaces(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[1].private_ip, "10.10.5.20");
    assert_string_equal(l.items[1].description, "RDSNetworkInterface");
    assert_string_equal(l.items[1].interface_type, "interface");
    assert_string_equal(l.items[1].mac, "02:00:00:58:e3:24");
    assert_int_equal(l.items[1].n_groups, 1);
    assert_null(l.next_token);
    ec2_eni_list_free(&l);
    free(x);
}

static void test_acls(void **state)
{
    struct ec2_acl_list l = {0};
    struct infra_error err = {0};
    const struct ec2_network_acl *a;
    size_t len;
    char *x = slurp("awsdocs_describe_network_acls.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_network_acls(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    a = &l.items[0];
    assert_string_equal(a->id, "acl-0ea1f54ca7EXAMPLE");
    assert_true(a->is_default);
    assert_int_equal(a->n_entries, 4);
    assert_int_equal(a->entries[1].rule_number, 32767);
    assert_false(a->entries[1].allow);
    assert_true(a->entries[1].egress);
    assert_string_equal(a->entries[0].protocol, "-1");
    assert_false(a->entries[0].has_ports);
    assert_int_equal(a->n_subnets, 1);
    assert_string_equal(a->subnets[0], "subnet-0931fc2fa5EXAMPLE");
    assert_int_equal(l.items[1].n_subnets, 0);
    ec2_acl_list_free(&l);
    free(x);

    /* moto: a custom ACL with port ranges, associated with a subnet, no "*" rule listed */
    x = slurp("moto_describe_network_acls.xml", &len);
    assert_true(ec2_xml_parse_network_acls(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    a = l.items[0].is_default ? &l.items[1] : &l.items[0];
    assert_false(a->is_default);
    assert_int_equal(a->n_entries, 3);
    assert_int_equal(a->n_subnets, 1);
    for (size_t i = 0; i < a->n_entries; i++) {
        assert_true(a->entries[i].has_ports);
        assert_string_equal(a->entries[i].protocol, "6");
        assert_string_equal(a->entries[i].cidr, "10.20.0.0/16");
    }
    ec2_acl_list_free(&l);
    free(x);
}

static void test_acl_bad_values(void **state)
{
    static const char bad_action[] =
        "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-1</networkAclId>"
        "<entrySet><item><ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>maybe"
        "</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item></entrySet>"
        "</item></networkAclSet></DescribeNetworkAclsResponse>";
    static const char no_rule[] =
        "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-1</networkAclId>"
        "<entrySet><item><protocol>6</protocol><ruleAction>allow</ruleAction></item>"
        "</entrySet></item></networkAclSet></DescribeNetworkAclsResponse>";
    static const char bad_port[] =
        "<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-1</networkAclId>"
        "<entrySet><item><ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>allow"
        "</ruleAction><portRange><from>1</from><to>70000</to></portRange></item></entrySet>"
        "</item></networkAclSet></DescribeNetworkAclsResponse>";
    struct ec2_acl_list l = {0};
    struct infra_error err = {0};

    (void)state;
    assert_false(ec2_xml_parse_network_acls(bad_action, sizeof(bad_action) - 1, &l, &err));
    assert_non_null(strstr(err.msg, "ruleAction"));
    ec2_acl_list_free(&l);
    assert_false(ec2_xml_parse_network_acls(no_rule, sizeof(no_rule) - 1, &l, &err));
    assert_non_null(strstr(err.msg, "ruleNumber"));
    ec2_acl_list_free(&l);
    assert_false(ec2_xml_parse_network_acls(bad_port, sizeof(bad_port) - 1, &l, &err));
    assert_non_null(strstr(err.msg, "<to>"));
    ec2_acl_list_free(&l);
}

static void test_prefix_entries_and_tgw(void **state)
{
    struct ec2_prefix_entries pe = {0};
    struct ec2_tgw_attachment_list tl = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("awsdocs_get_managed_prefix_list_entries.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_prefix_entries(x, len, &pe, &err));
    assert_int_equal(pe.n, 2);
    assert_string_equal(pe.cidrs[0], "10.0.0.0/16");
    assert_string_equal(pe.cidrs[1], "10.2.0.0/16");
    assert_true(ec2_xml_parse_prefix_entries(x, len, &pe, &err)); /* appends */
    assert_int_equal(pe.n, 4);
    ec2_prefix_entries_free(&pe);
    free(x);

    x = slurp("moto_describe_transit_gateway_attachments.xml", &len);
    assert_true(ec2_xml_parse_tgw_attachments(x, len, &tl, &err));
    assert_int_equal(tl.n, 1);
    assert_string_equal(tl.items[0].resource_type, "vpc");
    assert_string_equal(tl.items[0].state, "available");
    assert_int_equal(strncmp(tl.items[0].tgw_id, "tgw-", 4), 0);
    assert_int_equal(strncmp(tl.items[0].resource_id, "vpc-", 4), 0);
    assert_string_equal(tl.items[0].assoc_table, "tgw-rtb-40ca8f1f1bc5a4828");
    assert_string_equal(tl.items[0].assoc_state, "associated");
    ec2_tgw_attachment_list_free(&tl);
    free(x);
}

/* A VPC attachment's subnets (the ids are the items' own text) and the subnets' zones. */
static void test_tgw_vpc_attachments_and_subnets(void **state)
{
    struct ec2_tgw_vpc_attachment_list al = {0};
    struct ec2_subnet_list sl = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("moto_describe_transit_gateway_vpc_attachments.xml", &len);
    static const char two[] =
        "<DescribeTransitGatewayVpcAttachmentsResponse><transitGatewayVpcAttachments><item>"
        "<transitGatewayAttachmentId>tgw-attach-2</transitGatewayAttachmentId>"
        "<vpcId>vpc-2</vpcId><subnetIds><item>subnet-a</item><item> subnet-b </item>"
        "<item></item></subnetIds></item><item><transitGatewayAttachmentId>tgw-attach-3"
        "</transitGatewayAttachmentId><subnetIds/></item></transitGatewayVpcAttachments>"
        "<nextToken>t2</nextToken></DescribeTransitGatewayVpcAttachmentsResponse>";

    (void)state;
    assert_true(ec2_xml_parse_tgw_vpc_attachments(x, len, &al, &err));
    assert_int_equal(al.n, 1);
    assert_string_equal(al.items[0].id, "tgw-attach-8bb2f0303d6a0616d");
    assert_string_equal(al.items[0].vpc_id, "vpc-85370c1d7c079713a");
    assert_int_equal(al.items[0].n_subnets, 1);
    assert_string_equal(al.items[0].subnets[0], "subnet-91440180a80acf64f");
    assert_null(al.next_token);
    assert_true(ec2_xml_parse_tgw_vpc_attachments(two, strlen(two), &al, &err)); /* appends */
    assert_int_equal(al.n, 3);
    assert_int_equal(al.items[1].n_subnets, 2); /* trimmed, the empty item skipped */
    assert_string_equal(al.items[1].subnets[1], "subnet-b");
    assert_int_equal(al.items[2].n_subnets, 0);
    assert_string_equal(al.next_token, "t2");
    ec2_tgw_vpc_attachment_list_free(&al);
    free(x);

    x = slurp("moto_describe_subnets.xml", &len);
    assert_true(ec2_xml_parse_subnets(x, len, &sl, &err));
    assert_int_equal(sl.n, 2);
    assert_string_equal(sl.items[0].id, "subnet-91440180a80acf64f");
    assert_string_equal(sl.items[0].vpc_id, "vpc-85370c1d7c079713a");
    assert_string_equal(sl.items[0].az, "us-east-1a");
    assert_string_equal(sl.items[0].az_id, "use1-az6");
    assert_string_equal(sl.items[1].az, "us-east-1b");
    ec2_subnet_list_free(&sl);
    free(x);
}

static void test_tgw_routes(void **state)
{
    struct ec2_tgw_route_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("synthetic_search_transit_gateway_routes.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_tgw_routes(x, len, &l, &err));
    assert_int_equal(l.n, 5);
    assert_true(l.more); /* additionalRoutesAvailable */
    assert_string_equal(l.items[0].dest_cidr, "10.10.0.0/16");
    assert_string_equal(l.items[0].type, "propagated");
    assert_string_equal(l.items[0].attachment, "tgw-attach-0db0000000000001");
    assert_string_equal(l.items[0].resource_id, "vpc-0db00000000000001");
    assert_string_equal(l.items[0].resource_type, "vpc");
    assert_int_equal(l.items[1].n_attachments, 2); /* equal-cost: the first is kept */
    assert_string_equal(l.items[1].resource_type, "vpn");
    assert_string_equal(l.items[2].state, "blackhole");
    assert_int_equal(l.items[2].n_attachments, 0);
    assert_string_equal(l.items[3].prefix_list, "pl-0shared00000000001");
    assert_string_equal(l.items[3].dest_cidr, "");
    assert_null(l.next_token);
    ec2_tgw_route_list_free(&l);
    free(x);

    x = slurp("moto_search_transit_gateway_routes.xml", &len);
    assert_true(ec2_xml_parse_tgw_routes(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_false(l.more);
    assert_int_equal(l.items[0].n_attachments, 0); /* moto names none */
    assert_string_equal(l.items[1].state, "active");
    ec2_tgw_route_list_free(&l);
    free(x);
}

static void test_route_tables_pl_tgw(void **state)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err = {0};
    const struct ec2_route_table *t = NULL;
    bool pl = false, tgw = false;
    size_t len;
    char *x = slurp("moto_describe_route_tables_pl_tgw.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_route_tables(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].n_subnets == 1)
            t = &l.items[i];
    assert_non_null(t);
    assert_false(t->main);
    for (size_t i = 0; i < t->n_routes; i++) {
        if (t->routes[i].dest_prefix_list[0]) {
            pl = true;
            assert_string_equal(t->routes[i].dest_cidr, "");
            assert_int_equal(strncmp(t->routes[i].pcx, "pcx-", 4), 0);
        }
        if (strncmp(t->routes[i].target, "tgw-", 4) == 0)
            tgw = true;
    }
    assert_true(pl && tgw);
    ec2_route_table_list_free(&l);
    free(x);
}

static void test_sg_peer_ref_prefix_list(void **state)
{
    struct ec2_sg_list l = {0};
    struct infra_error err = {0};
    const struct ec2_ip_permission *p;
    size_t len;
    char *x = slurp("moto_describe_security_groups_peer_ref_prefix_list.xml", &len);

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].n_ingress, 1); /* moto merges the two authorizations */
    p = &l.items[0].ingress[0];
    assert_int_equal(p->n_groups, 1);
    assert_int_equal(strncmp(p->groups[0].pcx, "pcx-", 4), 0);
    assert_string_equal(p->groups[0].peering_status, ""); /* moto leaves it out */
    assert_int_equal(p->n_prefix_lists, 1);
    ec2_sg_list_free(&l);
    free(x);
}

/* ---- robustness ---- */

static const char reordered[] =
    "<?xml version=\"1.0\"?>\n"
    "<e:DescribeVpcPeeringConnectionsResponse xmlns:e=\"http://ec2.amazonaws.com/doc/1999-01-01/\">"
    "<e:nextToken>tok</e:nextToken>"
    "<e:vpcPeeringConnectionSet><e:item>"
    "<e:status><e:message>Active</e:message><e:code>active</e:code></e:status>"
    "<e:accepterVpcInfo><e:peeringOptions><e:allowDnsResolutionFromRemoteVpc>true"
    "</e:allowDnsResolutionFromRemoteVpc></e:peeringOptions><e:vpcId>vpc-b</e:vpcId>"
    "<e:cidrBlockSet></e:cidrBlockSet></e:accepterVpcInfo>"
    "<e:vpcPeeringConnectionId>pcx-1</e:vpcPeeringConnectionId>"
    "<e:tagSet></e:tagSet>"
    "</e:item></e:vpcPeeringConnectionSet>"
    "<e:requestId>r</e:requestId>"
    "</e:DescribeVpcPeeringConnectionsResponse>";

static void test_prefix_namespace_order(void **state)
{
    struct ec2_peering_list l = {0};
    struct infra_error err = {0};

    (void)state;
    assert_true(ec2_xml_parse_peerings(reordered, strlen(reordered), &l, &err));
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, "pcx-1");
    assert_string_equal(l.items[0].status, "active");
    assert_true(l.items[0].accepter.allow_dns_from_remote);
    assert_int_equal(l.items[0].accepter.n_cidrs, 0);
    assert_string_equal(l.next_token, "tok");
    ec2_peering_list_free(&l);
}

static void test_no_namespace_and_empty_forms(void **state)
{
    static const char x[] =
        "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-1</groupId>"
        "<ipPermissions><item><toPort>5432</toPort><fromPort>5432</fromPort>"
        "<ipProtocol>tcp</ipProtocol><groups></groups><ipRanges><item><cidrIp>\n 10.0.0.0/8 "
        "</cidrIp></item></ipRanges></item></ipPermissions><ipPermissionsEgress></"
        "ipPermissionsEgress>"
        "</item></securityGroupInfo></DescribeSecurityGroupsResponse>";
    struct ec2_sg_list l = {0};
    struct infra_error err = {0};

    (void)state;
    assert_true(ec2_xml_parse_security_groups(x, sizeof(x) - 1, &l, &err));
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].n_ingress, 1);
    assert_int_equal(l.items[0].ingress[0].from_port, 5432);
    assert_int_equal(l.items[0].ingress[0].n_groups, 0);
    assert_string_equal(l.items[0].ingress[0].cidrs[0], "10.0.0.0/8"); /* trimmed */
    assert_int_equal(l.items[0].n_egress, 0);
    ec2_sg_list_free(&l);
}

static void expect_fail(const char *x, const char *part)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err = {0};

    assert_false(ec2_xml_parse_route_tables(x, strlen(x), &l, &err));
    if (!strstr(err.msg, part))
        fail_msg("expected \"%s\" in \"%s\"", part, err.msg);
    ec2_route_table_list_free(&l);
}

static void test_bad_input(void **state)
{
    char longid[400];

    (void)state;
    expect_fail("<DescribeRouteTablesResponse><routeTableSet>", "not valid XML");
    expect_fail("", "empty");
    expect_fail("<Other/>", "unexpected EC2 response <Other>");
    expect_fail("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
                "<DescribeRouteTablesResponse/>",
                "DTD");
    expect_fail("<DescribeRouteTablesResponse><routeTableSet><item><routeSet><item>"
                "<state>active</state></item></routeSet><associationSet><item><main>yes</main>"
                "</item></associationSet></item></routeTableSet></DescribeRouteTablesResponse>",
                "<main> is \"yes\"");
    snprintf(longid, sizeof(longid),
             "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-%0200d"
             "</routeTableId></item></routeTableSet></DescribeRouteTablesResponse>",
             7);
    expect_fail(longid, "<routeTableId> value too long");
    {
        static const char badport[] =
            "<DescribeSecurityGroupsResponse><securityGroupInfo><item><ipPermissions><item>"
            "<fromPort>99999</fromPort><toPort>1</toPort><ipRanges><item><cidrIp>1.0.0.0/8"
            "</cidrIp></item></ipRanges></item></ipPermissions></item></securityGroupInfo>"
            "</DescribeSecurityGroupsResponse>";
        struct ec2_sg_list l = {0};
        struct infra_error err = {0};
        assert_false(ec2_xml_parse_security_groups(badport, sizeof(badport) - 1, &l, &err));
        assert_non_null(strstr(err.msg, "<fromPort>"));
        ec2_sg_list_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peerings_active),
        cmocka_unit_test(test_peerings_pending),
        cmocka_unit_test(test_peerings_mixed_and_pages),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_modify_options),
        cmocka_unit_test(test_create_route),
        cmocka_unit_test(test_route_tables_botocore),
        cmocka_unit_test(test_route_tables_blackhole),
        cmocka_unit_test(test_route_tables_synthetic),
        cmocka_unit_test(test_sg_peered_ref),
        cmocka_unit_test(test_tgw_vpc_attachments_and_subnets),
        cmocka_unit_test(test_sg_description),
        cmocka_unit_test(test_sg_botocore),
        cmocka_unit_test(test_enis),
        cmocka_unit_test(test_acls),
        cmocka_unit_test(test_acl_bad_values),
        cmocka_unit_test(test_prefix_entries_and_tgw),
        cmocka_unit_test(test_route_tables_pl_tgw),
        cmocka_unit_test(test_sg_peer_ref_prefix_list),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_variants),
        cmocka_unit_test(test_success_is_not_error),
        cmocka_unit_test(test_every_fixture),
        cmocka_unit_test(test_tgw_routes),
        cmocka_unit_test(test_prefix_namespace_order),
        cmocka_unit_test(test_no_namespace_and_empty_forms),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
