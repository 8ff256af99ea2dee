/*
 * fuzz_rdsxml.c: libFuzzer target for the RDS response parsers (infra/rds_xml.c).
 *
 * The input is one response body. Each parser gets it (a parser that rejects it must leave
 * nothing to leak); properties checked (abort on violation):
 * - every string of an accepted result is NUL-terminated inside its array;
 * - counts stay within their arrays and RDS_LIST_MAX;
 * - a list parser appends: parsing the same body twice into one list doubles n;
 * - at most one parser accepts a body, and none accepts an error document.
 * Seeds: tests/fuzz/corpus/fuzz_rdsxml/ (the fixtures of tests/data/rds/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/ec2_xml.h"
#include "infra/rds_xml.h"

#define TERMINATED(a) require(memchr((a), '\0', sizeof(a)) != NULL)

static void require(bool ok)
{
    if (!ok)
        abort();
}

static int clusters(const char *b, size_t n)
{
    struct rds_cluster_list l = {0};
    struct infra_error err;
    size_t first;
    int ok = rds_xml_parse_clusters(b, n, &l, &err);

    if (ok) {
        first = l.n;
        require(l.n <= l.cap && l.n <= RDS_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            const struct rds_cluster *c = &l.items[i];
            TERMINATED(c->id);
            TERMINATED(c->endpoint);
            TERMINATED(c->reader_endpoint);
            require(c->n_custom <= RDS_CUSTOM_MAX && c->n_members <= RDS_MEMBERS_MAX);
            for (size_t j = 0; j < c->n_custom; j++)
                TERMINATED(c->custom[j]);
            for (size_t j = 0; j < c->n_members; j++)
                TERMINATED(c->members[j].instance);
        }
        require(!l.marker || strlen(l.marker) < 1024);
        if (rds_xml_parse_clusters(b, n, &l, &err))
            require(l.n == 2 * first);
    }
    rds_cluster_list_free(&l);
    return ok;
}

static int cluster_endpoints(const char *b, size_t n)
{
    struct rds_cluster_endpoint_list l = {0};
    struct infra_error err;
    size_t first;
    int ok = rds_xml_parse_cluster_endpoints(b, n, &l, &err);

    if (ok) {
        first = l.n;
        require(l.n <= l.cap && l.n <= RDS_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            const struct rds_cluster_endpoint *e = &l.items[i];
            TERMINATED(e->id);
            TERMINATED(e->cluster);
            TERMINATED(e->endpoint);
            TERMINATED(e->custom_type);
            require(e->n_static <= RDS_MEMBERS_MAX && e->n_excluded <= RDS_MEMBERS_MAX);
            for (size_t j = 0; j < e->n_static; j++)
                TERMINATED(e->static_members[j]);
            for (size_t j = 0; j < e->n_excluded; j++)
                TERMINATED(e->excluded[j]);
            (void)rds_cluster_endpoint_has(e, "x");
        }
        if (rds_xml_parse_cluster_endpoints(b, n, &l, &err))
            require(l.n == 2 * first);
    }
    rds_cluster_endpoint_list_free(&l);
    return ok;
}

static int instances(const char *b, size_t n)
{
    struct rds_instance_list l = {0};
    struct infra_error err;
    size_t first;
    int ok = rds_xml_parse_instances(b, n, &l, &err);

    if (ok) {
        first = l.n;
        require(l.n <= l.cap && l.n <= RDS_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            const struct rds_instance *x = &l.items[i];
            TERMINATED(x->id);
            TERMINATED(x->cluster);
            TERMINATED(x->address);
            TERMINATED(x->az);
            TERMINATED(x->secondary_az);
            TERMINATED(x->vpc);
            require(x->n_subnets <= RDS_SUBNETS_MAX && x->n_groups <= RDS_GROUPS_MAX);
            for (size_t j = 0; j < x->n_subnets; j++) {
                TERMINATED(x->subnets[j].id);
                TERMINATED(x->subnets[j].az);
            }
            for (size_t j = 0; j < x->n_groups; j++)
                TERMINATED(x->groups[j]);
            (void)rds_instance_subnet_in(x, x->secondary_az);
        }
        if (rds_xml_parse_instances(b, n, &l, &err))
            require(l.n == 2 * first);
    }
    rds_instance_list_free(&l);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    struct ec2_api_error e;
    int accepted = clusters(b, size) + cluster_endpoints(b, size) + instances(b, size);

    require(accepted <= 1); /* one root element: at most one parser accepts */
    if (ec2_xml_parse_error(b, size, &e))
        require(accepted == 0);
    return 0;
}
