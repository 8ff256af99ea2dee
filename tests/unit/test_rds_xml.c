/*
 * test_rds_xml.c: infra/rds_xml against every fixture in tests/data/rds/ (moto captures and
 * synthetic answers after the botocore RDS model), the robustness cases (error documents,
 * wrong roots, DTDs, over-long values, too many members, appending pages), and
 * etl/preflight_rds over infra/rds with a fake transport answering from those fixtures:
 * how an RDS host name is read, the members of a cluster, a custom endpoint, a Multi-AZ
 * instance's standby, a refusal naming the permission.
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

#include "etl/preflight_rds.h"
#include "infra/aws_failover.h"
#include "infra/aws_http.h"
#include "infra/rds.h"
#include "infra/rds_xml.h"

#define FIXTURES "tests/data/rds/"

static char *slurp(const char *name, size_t *len)
{
    return fixture_read(FIXTURES, name, len);
}

/* ---- the parsers ---- */

static void test_moto_cluster(void **state)
{
    struct rds_cluster_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("moto_describe_db_clusters.xml", &len);

    (void)state;
    assert_true(rds_xml_parse_clusters(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    assert_null(l.marker);
    assert_string_equal(l.items[0].id, "orders");
    assert_non_null(strstr(l.items[0].endpoint, "orders.cluster-"));
    assert_non_null(strstr(l.items[0].reader_endpoint, "orders.cluster-ro-"));
    assert_int_equal(l.items[0].n_custom, 0);
    assert_int_equal(l.items[0].n_members, 2);
    assert_string_equal(l.items[0].members[0].instance, "orders-1");
    assert_true(l.items[0].members[0].writer);
    assert_string_equal(l.items[0].members[1].instance, "orders-2");
    assert_false(l.items[0].members[1].writer);
    /* a page appends */
    assert_true(rds_xml_parse_clusters(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    rds_cluster_list_free(&l);
    free(x);
}

static void test_moto_instances(void **state)
{
    struct rds_instance_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("moto_describe_db_instances_cluster.xml", &len);
    const struct rds_instance *i;

    (void)state;
    assert_true(rds_xml_parse_instances(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    i = &l.items[1];
    assert_string_equal(i->id, "orders-2");
    assert_string_equal(i->cluster, "orders");
    assert_string_equal(i->address, "orders-2.aaaaaaaaaa.us-east-1.rds.amazonaws.com");
    assert_string_equal(i->az, "us-east-1b");
    assert_string_equal(i->secondary_az, "");
    assert_false(i->multi_az);
    assert_true(strncmp(i->vpc, "vpc-", 4) == 0);
    assert_int_equal(i->n_subnets, 2);
    assert_string_equal(i->subnets[1].az, "us-east-1b");
    assert_ptr_equal(rds_instance_subnet_in(i, "us-east-1b"), &i->subnets[1]);
    assert_null(rds_instance_subnet_in(i, "us-east-1c"));
    assert_null(rds_instance_subnet_in(i, ""));
    assert_int_equal(i->n_groups, 1);
    assert_true(strncmp(i->groups[0], "sg-", 3) == 0);
    rds_instance_list_free(&l);
    free(x);
}

static void test_custom_and_marker(void **state)
{
    struct rds_cluster_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("synthetic_describe_db_clusters_custom.xml", &len);

    (void)state;
    assert_true(rds_xml_parse_clusters(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.marker, "page-2-token");
    assert_int_equal(l.items[0].n_custom, 2);
    assert_string_equal(l.items[0].custom[1],
                        "batch.cluster-custom-c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com");
    assert_int_equal(l.items[0].n_members, 3);
    assert_true(l.items[0].members[1].writer);
    assert_string_equal(l.items[1].id, "empty");
    assert_int_equal(l.items[1].n_members, 0);
    assert_string_equal(l.items[1].reader_endpoint, "");
    rds_cluster_list_free(&l);
    free(x);
}

static void test_multi_az(void **state)
{
    struct rds_instance_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("synthetic_describe_db_instances_multi_az.xml", &len);

    (void)state;
    assert_true(rds_xml_parse_instances(x, len, &l, &err));
    assert_int_equal(l.n, 1);
    assert_true(l.items[0].multi_az);
    assert_string_equal(l.items[0].secondary_az, "eu-west-2c");
    assert_string_equal(l.items[0].cluster, "");
    assert_string_equal(rds_instance_subnet_in(&l.items[0], "eu-west-2c")->id,
                        "subnet-0c000000000000003");
    assert_int_equal(l.items[0].n_groups, 2);
    rds_instance_list_free(&l);
    free(x);
}

static void test_errors_refused(void **state)
{
    static const char *const files[] = {"moto_error_cluster_not_found.xml",
                                        "synthetic_error_access_denied.xml"};
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        struct rds_cluster_list c = {0};
        struct rds_instance_list i = {0};
        struct infra_error err = {0};
        size_t len;
        char *x = slurp(files[k], &len);
        assert_false(rds_xml_parse_clusters(x, len, &c, &err));
        assert_non_null(strstr(err.msg, "RDS error "));
        assert_false(rds_xml_parse_instances(x, len, &i, &err));
        assert_int_equal(c.n + i.n, 0);
        rds_cluster_list_free(&c);
        rds_instance_list_free(&i);
        free(x);
    }
}

static bool parse_text(const char *xml, struct infra_error *err)
{
    struct rds_cluster_list l = {0};
    bool ok = rds_xml_parse_clusters(xml, strlen(xml), &l, err);

    rds_cluster_list_free(&l);
    return ok;
}

static void test_malformed(void **state)
{
    struct infra_error err = {0};
    char big[2048], members[4096];
    size_t n = 0;

    (void)state;
    assert_false(parse_text("", &err));
    assert_false(parse_text("<DescribeDBClustersResponse>", &err));
    assert_false(parse_text("<DescribeDBInstancesResponse><DescribeDBInstancesResult/>"
                            "</DescribeDBInstancesResponse>",
                            &err));
    assert_non_null(strstr(err.msg, "expected <DescribeDBClustersResponse>"));
    assert_false(parse_text("<DescribeDBClustersResponse/>", &err));
    assert_false(parse_text("<!DOCTYPE x [<!ENTITY e \"x\">]><DescribeDBClustersResponse>"
                            "<DescribeDBClustersResult/></DescribeDBClustersResponse>",
                            &err));
    assert_non_null(strstr(err.msg, "DTD"));
    /* an empty result is a valid empty page */
    assert_true(parse_text("<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters/>"
                           "</DescribeDBClustersResult></DescribeDBClustersResponse>",
                           &err));
    /* a cluster without its identifier, a bad boolean */
    assert_false(parse_text("<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters>"
                            "<DBCluster/></DBClusters></DescribeDBClustersResult>"
                            "</DescribeDBClustersResponse>",
                            &err));
    assert_false(parse_text(
        "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters><DBCluster>"
        "<DBClusterIdentifier>a</DBClusterIdentifier><DBClusterMembers><DBClusterMember>"
        "<DBInstanceIdentifier>x</DBInstanceIdentifier><IsClusterWriter>yes</IsClusterWriter>"
        "</DBClusterMember></DBClusterMembers></DBCluster></DBClusters>"
        "</DescribeDBClustersResult></DescribeDBClustersResponse>",
        &err));
    /* an endpoint longer than its array: an error, never truncated */
    memset(big, 'a', 300);
    big[300] = '\0';
    snprintf(members, sizeof(members),
             "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters><DBCluster>"
             "<DBClusterIdentifier>a</DBClusterIdentifier><Endpoint>%s</Endpoint></DBCluster>"
             "</DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>",
             big);
    assert_false(parse_text(members, &err));
    assert_non_null(strstr(err.msg, "too long"));
    /* more members than a cluster can have */
    n = (size_t)snprintf(members, sizeof(members),
                         "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters>"
                         "<DBCluster><DBClusterIdentifier>a</DBClusterIdentifier>"
                         "<DBClusterMembers>");
    for (int k = 0; k <= RDS_MEMBERS_MAX; k++)
        n += (size_t)snprintf(members + n, sizeof(members) - n,
                              "<DBClusterMember><DBInstanceIdentifier>i%d</DBInstanceIdentifier>"
                              "</DBClusterMember>",
                              k);
    snprintf(members + n, sizeof(members) - n,
             "</DBClusterMembers></DBCluster></DBClusters></DescribeDBClustersResult>"
             "</DescribeDBClustersResponse>");
    assert_false(parse_text(members, &err));
    assert_non_null(strstr(err.msg, "more than 16 members"));
}

/* ---- etl/preflight_rds over a fake RDS ---- */

struct fake {
    const char *clusters, *instances; /* fixture answering each action, or NULL: denied */
    const char *clusters_next;        /* the page after a Marker */
    const char *endpoints;            /* DescribeDBClusterEndpoints, or NULL: denied */
    char sent[8][512];
    size_t n_sent;
};

static bool fake_send(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                      struct infra_error *err)
{
    struct fake *f = ctx;
    bool clusters = strstr(form->data, "Action=DescribeDBClusters") != NULL;
    bool endpoints = strstr(form->data, "Action=DescribeDBClusterEndpoints") != NULL;
    const char *file = clusters ? f->clusters : endpoints ? f->endpoints : f->instances;

    if (clusters && strstr(form->data, "Marker=") && f->clusters_next)
        file = f->clusters_next;
    size_t len;

    (void)err;
    if (f->n_sent < 8)
        snprintf(f->sent[f->n_sent++], sizeof(f->sent[0]), "%.*s", (int)form->len, form->data);
    resp->body = slurp(file ? file : "synthetic_error_access_denied.xml", &len);
    resp->body_len = len;
    resp->status = !file ? 403 : strstr(file, "error") ? 404 : 200;
    return true;
}

static struct pfrds_store *lookup(struct fake *f, const char *host, const char *const *addrs,
                                  size_t n_addrs, struct aws_path_endpoint *ep)
{
    struct infra_error err = {0};
    struct rds *r = rds_new_with_transport(fake_send, f, &err);
    struct pfrds_store *s;

    assert_non_null(r);
    memset(ep, 0, sizeof(*ep));
    ep->name = "source";
    ep->host = host;
    ep->addrs = addrs;
    ep->n_addrs = n_addrs;
    s = pfrds_lookup(r, "eu-west-2", false, ep);
    rds_free(r);
    return s;
}

static void test_host_kind(void **state)
{
    char id[64], region[64];

    (void)state;
    assert_int_equal(pfrds_host_kind("orders.cluster-abc.us-east-1.rds.amazonaws.com", id,
                                     sizeof(id), region, sizeof(region)),
                     PFRDS_CLUSTER);
    assert_string_equal(id, "orders");
    assert_string_equal(region, "us-east-1");
    assert_int_equal(pfrds_host_kind("Orders.CLUSTER-RO-abc.us-east-1.rds.amazonaws.com.", id,
                                     sizeof(id), region, sizeof(region)),
                     PFRDS_READER);
    assert_int_equal(pfrds_host_kind("rep.cluster-custom-abc.cn-north-1.rds.amazonaws.com.cn", id,
                                     sizeof(id), region, sizeof(region)),
                     PFRDS_CUSTOM);
    assert_string_equal(region, "cn-north-1");
    assert_int_equal(pfrds_host_kind("db1.abc.rds.cn-northwest-1.amazonaws.com.cn", id, sizeof(id),
                                     region, sizeof(region)),
                     PFRDS_INSTANCE);
    assert_string_equal(region, "cn-northwest-1");
    assert_string_equal(id, "db1");
    assert_int_equal(pfrds_host_kind("db.example.com", id, sizeof(id), region, sizeof(region)),
                     PFRDS_NONE);
    assert_int_equal(pfrds_host_kind("pool.proxy-abc.us-east-1.rds.amazonaws.com", id, sizeof(id),
                                     region, sizeof(region)),
                     PFRDS_NONE);
    assert_int_equal(pfrds_host_kind("rds.amazonaws.com", id, sizeof(id), region, sizeof(region)),
                     PFRDS_NONE);
    assert_int_equal(
        pfrds_host_kind("x.rds.amazonaws.com.evil.example", id, sizeof(id), region, sizeof(region)),
        PFRDS_NONE);
}

static void test_custom_endpoint_members(void **state)
{
    struct fake f = {.clusters = "synthetic_describe_db_clusters_custom.xml",
                     .clusters_next = "moto_describe_db_clusters.xml",
                     .instances = "synthetic_describe_db_instances_multi_az.xml"};
    struct aws_path_endpoint ep;
    struct pfrds_store *s =
        lookup(&f, "reports.cluster-custom-c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com", NULL, 0, &ep);

    (void)state;
    assert_non_null(s);
    /* a custom endpoint: every cluster is listed (no identifier), pages followed */
    assert_non_null(strstr(f.sent[0], "Action=DescribeDBClusters"));
    assert_null(strstr(f.sent[0], "DBClusterIdentifier"));
    assert_non_null(strstr(f.sent[1], "Marker=page-2-token"));
    assert_string_equal(ep.rds_kind, "Aurora custom endpoint");
    assert_null(ep.members_problem);
    /* its members from the cluster sales; the instances answer holds none of them: each
     * is there, placed nowhere (a WARN line: not judged) */
    assert_int_equal(ep.n_members, 3);
    assert_string_equal(ep.members[1].instance, "sales-a");
    assert_string_equal(ep.members[1].role, "writer");
    assert_null(ep.members[1].subnet);
    assert_false(ep.members[1].current);
    /* its own members could not be read (denied): every member, said */
    assert_non_null(strstr(f.sent[2], "Action=DescribeDBClusterEndpoints"));
    assert_non_null(strstr(f.sent[2], "DBClusterEndpointIdentifier=reports"));
    assert_non_null(ep.members_note);
    assert_non_null(strstr(ep.members_note, "rds:DescribeDBClusterEndpoints"));
    pfrds_store_free(s);
}

static void test_custom_endpoint_own_members(void **state)
{
    struct fake f = {.clusters = "synthetic_describe_db_clusters_custom.xml",
                     .clusters_next = "moto_describe_db_clusters.xml",
                     .endpoints = "synthetic_describe_db_cluster_endpoints.xml",
                     .instances = "synthetic_describe_db_instances_multi_az.xml"};
    struct aws_path_endpoint ep;
    struct pfrds_store *s =
        lookup(&f, "reports.cluster-custom-c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com", NULL, 0, &ep);

    (void)state;
    /* reports: its static member only */
    assert_non_null(s);
    assert_null(ep.members_note);
    assert_int_equal(ep.n_members, 1);
    assert_string_equal(ep.members[0].instance, "sales-b");
    pfrds_store_free(s);
    /* batch: every member but the one it excludes */
    s = lookup(&f, "batch.cluster-custom-c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com", NULL, 0, &ep);
    assert_non_null(s);
    assert_int_equal(ep.n_members, 2);
    assert_string_equal(ep.members[0].instance, "sales-b");
    assert_string_equal(ep.members[1].instance, "sales-c");
    pfrds_store_free(s);
}

static void test_cluster_endpoints_parse(void **state)
{
    struct rds_cluster_endpoint_list l = {0};
    struct infra_error err = {0};
    size_t len;
    char *x = slurp("synthetic_describe_db_cluster_endpoints.xml", &len);

    (void)state;
    assert_true(rds_xml_parse_cluster_endpoints(x, len, &l, &err));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].custom_type, "READER");
    assert_int_equal(l.items[0].n_static, 1);
    assert_true(rds_cluster_endpoint_has(&l.items[0], "sales-b"));
    assert_false(rds_cluster_endpoint_has(&l.items[0], "sales-a"));
    assert_int_equal(l.items[1].n_excluded, 1);
    assert_false(rds_cluster_endpoint_has(&l.items[1], "sales-a"));
    assert_true(rds_cluster_endpoint_has(&l.items[1], "sales-c"));
    /* not a clusters answer, nor the reverse */
    {
        struct rds_cluster_list c = {0};
        assert_false(rds_xml_parse_clusters(x, len, &c, &err));
        rds_cluster_list_free(&c);
    }
    rds_cluster_endpoint_list_free(&l);
    free(x);
}

static void test_cluster_members_current(void **state)
{
    struct fake f = {.clusters = "moto_describe_db_clusters.xml",
                     .instances = "moto_describe_db_instances_cluster.xml"};
    const char *addrs[] = {"10.10.5.20"};
    const char *canon[] = {"orders-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com"};
    struct aws_path_endpoint ep;
    struct pfrds_store *s;
    struct infra_error err = {0};
    struct rds *r = rds_new_with_transport(fake_send, &f, &err);

    (void)state;
    memset(&ep, 0, sizeof(ep));
    ep.name = "source";
    ep.host = "orders.cluster-bdwec6x1tv6j.us-east-1.rds.amazonaws.com";
    ep.addrs = addrs;
    ep.addr_canonicals = canon;
    ep.n_addrs = 1;
    s = pfrds_lookup(r, "us-east-1", false, &ep);
    rds_free(r);
    assert_non_null(s);
    assert_non_null(strstr(f.sent[0], "DBClusterIdentifier=orders"));
    assert_non_null(strstr(f.sent[1], "Filters.Filter.1.Name=db-cluster-id"));
    assert_string_equal(ep.rds_kind, "Aurora cluster (writer) endpoint");
    assert_int_equal(ep.n_members, 2);
    /* the name is an alias of orders-1's endpoint: the one it points at now */
    assert_true(ep.members[0].current);
    assert_false(ep.members[1].current);
    assert_string_equal(ep.members[1].az, "us-east-1b");
    /* the subnet group's subnet in its zone (b), not the writer's (a) */
    assert_non_null(ep.members[1].subnet);
    assert_non_null(ep.members[0].subnet);
    assert_true(strncmp(ep.members[1].subnet, "subnet-", 7) == 0);
    assert_string_not_equal(ep.members[1].subnet, ep.members[0].subnet);
    assert_int_equal(ep.members[1].n_groups, 1);
    assert_null(ep.members[1].ip); /* not resolved */
    pfrds_store_free(s);
}

static void test_multi_az_standby(void **state)
{
    struct fake f = {.instances = "synthetic_describe_db_instances_multi_az.xml"};
    struct aws_path_endpoint ep;
    struct pfrds_store *s =
        lookup(&f, "billing.c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com", NULL, 0, &ep);

    (void)state;
    assert_non_null(s);
    assert_non_null(strstr(f.sent[0], "DBInstanceIdentifier=billing"));
    assert_string_equal(ep.rds_kind, "RDS Multi-AZ instance endpoint");
    assert_int_equal(ep.n_members, 1);
    assert_string_equal(ep.members[0].instance, "billing (standby)");
    assert_string_equal(ep.members[0].role, "standby");
    assert_string_equal(ep.members[0].subnet, "subnet-0c000000000000003");
    assert_string_equal(ep.members[0].vpc, "vpc-0db00000000000001");
    assert_null(ep.members[0].ip);
    assert_false(ep.members[0].current);
    pfrds_store_free(s);
}

static void test_instance_single_az_unchanged(void **state)
{
    struct fake f = {.instances = "moto_describe_db_instances_cluster.xml"};
    struct aws_path_endpoint ep;

    (void)state;
    /* an Aurora instance endpoint pins that instance: nothing to add */
    assert_null(lookup(&f, "orders-1.aaaaaaaaaa.eu-west-2.rds.amazonaws.com", NULL, 0, &ep));
    assert_null(ep.rds_kind);
    assert_int_equal(ep.n_members, 0);
    /* an instance of another account (not found): nothing said, as before */
    f.instances = "moto_error_cluster_not_found.xml";
    f.n_sent = 0;
    assert_null(lookup(&f, "billing.abc.eu-west-2.rds.amazonaws.com", NULL, 0, &ep));
    assert_int_equal(f.n_sent, 1);
    assert_null(ep.rds_kind);
    /* not an RDS name: no call */
    f.n_sent = 0;
    assert_null(lookup(&f, "db.example.com", NULL, 0, &ep));
    assert_int_equal(f.n_sent, 0);
}

/* The instance the name points at now, for the path.* lines when its interface is not
 * visible: only a current member with its subnet known, by its IPv4 or IPv6 address. */
static void test_failover_current(void **state)
{
    const char *groups[] = {"sg-db", "sg-extra"};
    struct aws_path_member m[] = {
        {.instance = "orders-1",
         .role = "writer",
         .ip = "10.10.5.20",
         .vpc = "vpc-db",
         .subnet = "subnet-a",
         .az = "us-east-1a",
         .current = false},
        {.instance = "orders-2",
         .role = "reader",
         .ip = "10.10.6.20",
         .ip6 = "2600:1f18::20",
         .vpc = "vpc-db",
         .subnet = "subnet-b",
         .az = "us-east-1b",
         .groups = groups,
         .n_groups = 2,
         .current = true},
        {.instance = "orders-3",
         .role = "reader",
         .ip = "10.10.7.20",
         .vpc = "vpc-db",
         .current = true}, /* its zone has no subnet in the group: unknown */
    };
    struct aws_path_endpoint ep = {.name = "source", .members = m, .n_members = 3};
    struct check_report rep;
    struct check_result *c;

    (void)state;
    assert_ptr_equal(aws_failover_current(&ep, "10.10.6.20"), &m[1]);
    assert_ptr_equal(aws_failover_current(&ep, "2600:1f18::20"), &m[1]); /* its IPv6 leg */
    assert_null(aws_failover_current(&ep, "10.10.5.20")); /* not where the name points now */
    assert_null(aws_failover_current(&ep, "10.10.7.20")); /* no subnet: not judged so */
    assert_null(aws_failover_current(&ep, "10.10.9.9"));
    assert_null(aws_failover_current(&ep, NULL));
    ep.n_members = 0; /* not an RDS endpoint the API knows */
    assert_null(aws_failover_current(&ep, "10.10.6.20"));

    check_report_init(&rep);
    c = check_report_add(&rep, "path.database", "source orders-2", CHECK_PASS);
    aws_failover_current_detail(c, &m[1], "10.10.6.20:5432", "resolved", "sg-db, sg-extra");
    assert_string_equal(c->detail,
                        "10.10.6.20:5432 (resolved) is orders-2 (reader) of the RDS API: no "
                        "interface holding it is visible, so it is judged from its RDS subnet "
                        "subnet-b in us-east-1b (its DB subnet group's subnet in its zone) in "
                        "vpc-db, groups sg-db, sg-extra");
    check_report_free(&rep);
}

static void test_denied(void **state)
{
    struct fake f = {0};
    struct aws_path_endpoint ep;
    struct pfrds_store *s =
        lookup(&f, "orders.cluster-abc.eu-west-2.rds.amazonaws.com", NULL, 0, &ep);

    (void)state;
    assert_non_null(s);
    assert_int_equal(ep.n_members, 0);
    assert_non_null(ep.members_problem);
    assert_non_null(strstr(ep.members_problem, "does not allow rds:DescribeDBClusters"));
    assert_null(strstr(ep.members_problem, "arn:aws")); /* AWS's own message is not quoted */
    assert_non_null(strstr(ep.members_fix, "rds:DescribeDBInstances"));
    pfrds_store_free(s);
    /* another region than the one described: no call, said */
    f.n_sent = 0;
    s = lookup(&f, "orders.cluster-abc.us-east-1.rds.amazonaws.com", NULL, 0, &ep);
    assert_non_null(s);
    assert_int_equal(f.n_sent, 0);
    assert_non_null(strstr(ep.members_problem, "in region us-east-1"));
    assert_non_null(strstr(ep.members_fix, "in region us-east-1"));
    pfrds_store_free(s);
    /* an instance endpoint there (an inter-region peering): as before, nothing said */
    assert_null(lookup(&f, "billing.abc.us-east-1.rds.amazonaws.com", NULL, 0, &ep));
    assert_int_equal(f.n_sent, 0);
    assert_null(ep.rds_kind);
}

static bool dead_send(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                      struct infra_error *err)
{
    (void)form;
    (void)resp;
    ++*(int *)ctx;
    infra_error_set(err, "connect timeout");
    return false;
}

static void test_unreachable_once(void **state)
{
    struct infra_error err = {0};
    int sent = 0;
    struct rds *r = rds_new_with_transport(dead_send, &sent, &err);
    struct aws_path_endpoint a, b;
    struct pfrds_store *sa, *sb;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.name = "source";
    a.host = "orders.cluster-abc.eu-west-2.rds.amazonaws.com";
    b.name = "target";
    b.host = "sales.cluster-ro-abc.eu-west-2.rds.amazonaws.com";
    sa = pfrds_lookup(r, "eu-west-2", false, &a);
    sb = pfrds_lookup(r, "eu-west-2", false, &b);
    rds_free(r);
    assert_non_null(sa);
    assert_non_null(sb);
    /* the second endpoint does not wait out the deadline again */
    assert_int_equal(sent, 1);
    assert_non_null(strstr(a.members_problem, "connect timeout"));
    assert_non_null(strstr(b.members_problem, "not tried"));
    assert_non_null(strstr(b.members_problem, "connect timeout"));
    pfrds_store_free(sa);
    pfrds_store_free(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moto_cluster),
        cmocka_unit_test(test_moto_instances),
        cmocka_unit_test(test_custom_and_marker),
        cmocka_unit_test(test_multi_az),
        cmocka_unit_test(test_errors_refused),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_host_kind),
        cmocka_unit_test(test_custom_endpoint_members),
        cmocka_unit_test(test_custom_endpoint_own_members),
        cmocka_unit_test(test_cluster_endpoints_parse),
        cmocka_unit_test(test_cluster_members_current),
        cmocka_unit_test(test_multi_az_standby),
        cmocka_unit_test(test_instance_single_az_unchanged),
        cmocka_unit_test(test_failover_current),
        cmocka_unit_test(test_denied),
        cmocka_unit_test(test_unreachable_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
