/*
 * fuzz_ec2xml.c: libFuzzer target for every EC2 response parser (infra/ec2_xml.c).
 *
 * The input is one response body. Each parser gets it (a parser that rejects it must
 * leave nothing to leak); properties checked (abort on violation):
 * - every string of an accepted result is NUL-terminated inside its array;
 * - list counts stay within their capacity and EC2_LIST_MAX;
 * - a list parser appends: parsing the same body twice into one list doubles n;
 * - ec2_xml_parse_error and the success parsers never both accept one body.
 * Seeds: tests/fuzz/corpus/fuzz_ec2xml/ (the fixtures of tests/data/ec2/). Every parser:
 * peerings, route tables, security groups, network interfaces, network ACLs, prefix list
 * entries, transit gateway attachments and routes, and the small answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/ec2_xml.h"

#define TERMINATED(a) require(memchr((a), '\0', sizeof(a)) != NULL)

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void check_side(const struct ec2_vpc_side *s)
{
    TERMINATED(s->owner_id);
    TERMINATED(s->vpc_id);
    TERMINATED(s->region);
    require(s->n_cidrs <= EC2_VPC_CIDRS_MAX);
    for (size_t i = 0; i < s->n_cidrs; i++)
        TERMINATED(s->cidrs[i]);
}

static void check_peering(const struct ec2_peering *p)
{
    TERMINATED(p->id);
    TERMINATED(p->status);
    TERMINATED(p->status_message);
    TERMINATED(p->expiration);
    check_side(&p->requester);
    check_side(&p->accepter);
}

static int peerings(const char *b, size_t n)
{
    struct ec2_peering_list l = {0};
    struct infra_error err;
    size_t first;
    int ok = ec2_xml_parse_peerings(b, n, &l, &err);

    if (ok) {
        first = l.n;
        require(l.n <= l.cap && l.n <= EC2_LIST_MAX);
        for (size_t i = 0; i < l.n; i++)
            check_peering(&l.items[i]);
        if (ec2_xml_parse_peerings(b, n, &l, &err))
            require(l.n == 2 * first);
    }
    ec2_peering_list_free(&l);
    return ok;
}

static int route_tables(const char *b, size_t n)
{
    struct ec2_route_table_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_route_tables(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            const struct ec2_route_table *t = &l.items[i];
            TERMINATED(t->id);
            for (size_t j = 0; j < t->n_routes; j++) {
                TERMINATED(t->routes[j].dest_cidr);
                TERMINATED(t->routes[j].target);
                TERMINATED(t->routes[j].pcx);
                TERMINATED(t->routes[j].state);
            }
            for (size_t j = 0; j < t->n_subnets; j++)
                TERMINATED(t->subnets[j]);
        }
    }
    ec2_route_table_list_free(&l);
    return ok;
}

static void check_perms(const struct ec2_ip_permission *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        TERMINATED(p[i].protocol);
        require(p[i].from_port >= -1 && p[i].from_port <= 65535);
        for (size_t j = 0; j < p[i].n_cidrs; j++)
            TERMINATED(p[i].cidrs[j]);
        for (size_t j = 0; j < p[i].n_groups; j++)
            TERMINATED(p[i].groups[j].group_id);
    }
}

static int security_groups(const char *b, size_t n)
{
    struct ec2_sg_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_security_groups(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            TERMINATED(l.items[i].id);
            TERMINATED(l.items[i].name);
            check_perms(l.items[i].ingress, l.items[i].n_ingress);
            check_perms(l.items[i].egress, l.items[i].n_egress);
        }
    }
    ec2_sg_list_free(&l);
    return ok;
}

static int enis(const char *b, size_t n)
{
    struct ec2_eni_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_network_interfaces(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap && l.n <= EC2_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            const struct ec2_network_interface *e = &l.items[i];
            TERMINATED(e->id);
            TERMINATED(e->subnet_id);
            TERMINATED(e->vpc_id);
            TERMINATED(e->description);
            TERMINATED(e->private_ip);
            for (size_t j = 0; j < e->n_ips; j++)
                TERMINATED(e->ips[j]);
            for (size_t j = 0; j < e->n_groups; j++)
                TERMINATED(e->groups[j]);
        }
    }
    ec2_eni_list_free(&l);
    return ok;
}

static int acls(const char *b, size_t n)
{
    struct ec2_acl_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_network_acls(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            const struct ec2_network_acl *a = &l.items[i];
            TERMINATED(a->id);
            for (size_t j = 0; j < a->n_entries; j++) {
                const struct ec2_acl_entry *e = &a->entries[j];
                TERMINATED(e->protocol);
                TERMINATED(e->cidr);
                require(e->rule_number >= 0 && e->rule_number <= 32767);
                require(!e->has_ports || (e->from_port >= 0 && e->to_port <= 65535));
            }
            for (size_t j = 0; j < a->n_subnets; j++)
                TERMINATED(a->subnets[j]);
        }
    }
    ec2_acl_list_free(&l);
    return ok;
}

static int prefix_entries(const char *b, size_t n)
{
    struct ec2_prefix_entries l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_prefix_entries(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++)
            TERMINATED(l.cidrs[i]);
    }
    ec2_prefix_entries_free(&l);
    return ok;
}

static int tgw_attachments(const char *b, size_t n)
{
    struct ec2_tgw_attachment_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_tgw_attachments(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            TERMINATED(l.items[i].id);
            TERMINATED(l.items[i].tgw_id);
            TERMINATED(l.items[i].resource_id);
            TERMINATED(l.items[i].state);
            TERMINATED(l.items[i].assoc_table);
            TERMINATED(l.items[i].assoc_state);
        }
    }
    ec2_tgw_attachment_list_free(&l);
    return ok;
}

static int tgw_vpc_attachments(const char *b, size_t n)
{
    struct ec2_tgw_vpc_attachment_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_tgw_vpc_attachments(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            TERMINATED(l.items[i].id);
            TERMINATED(l.items[i].vpc_id);
            for (size_t j = 0; j < l.items[i].n_subnets; j++) {
                TERMINATED(l.items[i].subnets[j]);
                require(l.items[i].subnets[j][0] != '\0');
            }
        }
    }
    ec2_tgw_vpc_attachment_list_free(&l);
    return ok;
}

static int subnets(const char *b, size_t n)
{
    struct ec2_subnet_list l = {0};
    struct infra_error err;
    int ok = ec2_xml_parse_subnets(b, n, &l, &err);

    if (ok) {
        require(l.n <= l.cap);
        for (size_t i = 0; i < l.n; i++) {
            TERMINATED(l.items[i].id);
            TERMINATED(l.items[i].vpc_id);
            TERMINATED(l.items[i].az);
            TERMINATED(l.items[i].az_id);
        }
    }
    ec2_subnet_list_free(&l);
    return ok;
}

static int tgw_routes(const char *b, size_t n)
{
    struct ec2_tgw_route_list l = {0};
    struct infra_error err;
    size_t first;
    int ok = ec2_xml_parse_tgw_routes(b, n, &l, &err);

    if (ok) {
        first = l.n;
        require(l.n <= l.cap && l.n <= EC2_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            TERMINATED(l.items[i].dest_cidr);
            TERMINATED(l.items[i].prefix_list);
            TERMINATED(l.items[i].state);
            TERMINATED(l.items[i].attachment);
            TERMINATED(l.items[i].resource_id);
            TERMINATED(l.items[i].resource_type);
        }
        if (ec2_xml_parse_tgw_routes(b, n, &l, &err))
            require(l.n == 2 * first);
    }
    ec2_tgw_route_list_free(&l);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    struct ec2_peering p;
    struct ec2_peering_options_result o;
    struct ec2_api_error e;
    struct infra_error err;
    bool ret;
    int accepted = 0;

    accepted += peerings(b, size);
    accepted += route_tables(b, size);
    accepted += security_groups(b, size);
    accepted += enis(b, size);
    accepted += acls(b, size);
    accepted += prefix_entries(b, size);
    accepted += tgw_attachments(b, size);
    accepted += tgw_routes(b, size);
    accepted += tgw_vpc_attachments(b, size);
    accepted += subnets(b, size);
    if (ec2_xml_parse_accept_peering(b, size, &p, &err)) {
        check_peering(&p);
        accepted++;
    }
    accepted += ec2_xml_parse_peering_options(b, size, &o, &err);
    accepted += ec2_xml_parse_return(b, size, "CreateRoute", &ret, &err);
    require(accepted <= 1); /* one root element: at most one parser accepts */
    if (ec2_xml_parse_error(b, size, &e)) {
        TERMINATED(e.code);
        TERMINATED(e.message);
        require(accepted == 0);
    }
    return 0;
}
