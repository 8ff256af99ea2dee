/*
 * ec2_xml.c: EC2 Query API response parsing (see ec2_xml.h).
 *
 * The body is parsed into a libxml2 tree (no network, no DTD, no error printing) and then
 * walked by local name: libxml2 keeps the namespace apart from node->name, so the
 * namespace date of a response never matters, and every lookup searches the children
 * of an element, so element order never matters either. Documents with a DTD are refused
 * outright: EC2 never sends one, and refusing it closes entity tricks.
 */
#include "infra/ec2_xml.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "infra/awsxml.h"

/* ---- tree helpers (awsxml.h) ---- */

static size_t count_items(const xmlNode *wrapper)
{
    size_t n = 0;

    if (!wrapper)
        return 0;
    for (xmlNode *c = wrapper->children; c; c = c->next)
        if (awsxml_is_named(c, "item"))
            n++;
    return n;
}

/* Same for free text: truncated, never an error except out of memory. */
static bool get_free_text(const xmlNode *parent, const char *name, char *dst, size_t size,
                          struct infra_error *err)
{
    return awsxml_node_text(awsxml_child(parent, name), name, dst, size, false, err);
}

static bool get_bool(const xmlNode *parent, const char *name, bool *present, bool *val,
                     struct infra_error *err)
{
    char buf[16];
    xmlNode *n = awsxml_child(parent, name);

    *val = false;
    if (present)
        *present = n != NULL;
    if (!n)
        return true;
    if (!awsxml_node_text(n, name, buf, sizeof(buf), true, err))
        return false;
    if (strcmp(buf, "true") == 0)
        *val = true;
    else if (strcmp(buf, "false") != 0) {
        infra_error_set(err, "<%s> is \"%s\", expected true or false", name, buf);
        return false;
    }
    return true;
}

static bool get_int(const xmlNode *parent, const char *name, bool *present, int *val, long min,
                    long max, struct infra_error *err)
{
    char buf[24], *end;
    long v;
    xmlNode *n = awsxml_child(parent, name);

    *val = 0;
    *present = n != NULL;
    if (!n)
        return true;
    if (!awsxml_node_text(n, name, buf, sizeof(buf), true, err))
        return false;
    errno = 0;
    v = strtol(buf, &end, 10);
    if (buf[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        infra_error_set(err, "<%s> is \"%s\", expected an integer in %ld..%ld", name, buf, min,
                        max);
        return false;
    }
    *val = (int)v;
    return true;
}

/* Grow items (element size elsz) so that one more fits. */
static bool grow(void **items, size_t *cap, size_t n, size_t elsz, struct infra_error *err)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return true;
    if (n >= EC2_LIST_MAX) {
        infra_error_set(err, "response lists more than %u items", (unsigned)EC2_LIST_MAX);
        return false;
    }
    ncap = *cap ? *cap * 2 : 8;
    if (ncap > EC2_LIST_MAX)
        ncap = EC2_LIST_MAX;
    p = realloc(*items, ncap * elsz);
    if (!p) {
        infra_error_set(err, "out of memory");
        return false;
    }
    *items = p;
    *cap = ncap;
    return true;
}

/* Allocate an array for the <item> children of wrapper (NULL when there are none). */
static bool alloc_items(const xmlNode *wrapper, size_t elsz, void **out, size_t *n,
                        struct infra_error *err)
{
    size_t count = count_items(wrapper);

    *out = NULL;
    *n = 0;
    if (count == 0)
        return true;
    if (count > EC2_LIST_MAX) {
        infra_error_set(err, "response lists more than %u items", (unsigned)EC2_LIST_MAX);
        return false;
    }
    *out = calloc(count, elsz);
    if (!*out) {
        infra_error_set(err, "out of memory");
        return false;
    }
    return true;
}

static bool set_next_token(const xmlNode *root, char **token, struct infra_error *err)
{
    xmlNode *n = awsxml_child(root, "nextToken");
    char *copy;

    free(*token);
    *token = NULL;
    if (!n)
        return true;
    copy = malloc(4096);
    if (!copy) {
        infra_error_set(err, "out of memory");
        return false;
    }
    if (!awsxml_node_text(n, "nextToken", copy, 4096, true, err)) {
        free(copy);
        return false;
    }
    if (copy[0] == '\0') {
        free(copy);
        return true;
    }
    *token = copy;
    return true;
}

/* ---- document ---- */

static bool error_from_root(const xmlNode *root, struct ec2_api_error *out)
{
    struct infra_error ignored;
    xmlNode *errors, *e;

    memset(out, 0, sizeof(*out));
    /* EC2: <Response><Errors><Error>; STS/Query: <ErrorResponse><Error>; moto also
     * answers <ErrorResponse><Errors><Error>. */
    if (!awsxml_is_named(root, "Response") && !awsxml_is_named(root, "ErrorResponse"))
        return false;
    errors = awsxml_child(root, "Errors");
    e = awsxml_child(errors ? errors : root, "Error");
    if (!e)
        return false;
    (void)get_free_text(e, "Code", out->code, sizeof(out->code), &ignored);
    (void)get_free_text(e, "Message", out->message, sizeof(out->message), &ignored);
    if (!get_free_text(root, "RequestID", out->request_id, sizeof(out->request_id), &ignored) ||
        out->request_id[0] == '\0')
        (void)get_free_text(root, "RequestId", out->request_id, sizeof(out->request_id), &ignored);
    if (out->code[0] == '\0')
        snprintf(out->code, sizeof(out->code), "%s", "Unknown");
    return true;
}

/* Parse and check the root element is <expect>; an error envelope becomes the message. */
static xmlDoc *open_response(const char *buf, size_t len, const char *expect, xmlNode **root,
                             struct infra_error *err)
{
    struct ec2_api_error apierr;
    xmlDoc *doc = awsxml_read(buf, len, EC2_XML_MAX_BYTES, "EC2", err);

    if (!doc)
        return NULL;
    *root = xmlDocGetRootElement(doc);
    if (*root && error_from_root(*root, &apierr)) {
        infra_error_set(err, "EC2 error %s: %s", apierr.code, apierr.message);
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!*root || !awsxml_is_named(*root, expect)) {
        infra_error_set(err, "unexpected EC2 response <%.64s>, expected <%s>",
                        *root && (*root)->name ? (const char *)(*root)->name : "", expect);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Where a list response's items go: the list's array, capacity, count and next token. */
struct list_dest {
    void **items;
    size_t *cap, *n;
    size_t elsz;
    char **next_token;
};
/* clang-format off */
#define LIST_DEST(list) \
    {(void **)&(list)->items, &(list)->cap, &(list)->n, sizeof(*(list)->items), &(list)->next_token}
/* clang-format on */

typedef bool (*item_parser)(const xmlNode *item, void *dst, struct infra_error *err);

/* Each <item> of root's child `set` parsed into a new zeroed slot, counted before it is
 * parsed so that the list's _free releases one that failed half way. */
static bool parse_items(const xmlNode *root, const char *set, item_parser parse,
                        const struct list_dest *d, struct infra_error *err)
{
    const xmlNode *wrapper = awsxml_child(root, set);

    for (xmlNode *it = wrapper ? wrapper->children : NULL; it; it = it->next) {
        char *slot;
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!grow(d->items, d->cap, *d->n, d->elsz, err))
            return false;
        slot = (char *)*d->items + *d->n * d->elsz;
        memset(slot, 0, d->elsz);
        (*d->n)++;
        if (!parse(it, slot, err))
            return false;
    }
    return true;
}

/* A Describe* response of one list: its items (parse_items), then its nextToken. */
static bool parse_list(const char *buf, size_t len, const char *response, const char *set,
                       item_parser parse, const struct list_dest *d, struct infra_error *err)
{
    xmlNode *root;
    xmlDoc *doc = open_response(buf, len, response, &root, err);
    bool ok =
        doc && parse_items(root, set, parse, d, err) && set_next_token(root, d->next_token, err);

    xmlFreeDoc(doc);
    return ok;
}

/* ---- peerings ---- */

static bool add_cidr(struct ec2_vpc_side *s, const xmlNode *parent, const char *field,
                     struct infra_error *err)
{
    char cidr[EC2_CIDR_MAX];

    if (!awsxml_get_text(parent, field, cidr, sizeof(cidr), err))
        return false;
    if (cidr[0] == '\0')
        return true;
    for (size_t i = 0; i < s->n_cidrs; i++)
        if (strcmp(s->cidrs[i], cidr) == 0)
            return true;
    if (s->n_cidrs == EC2_VPC_CIDRS_MAX) {
        infra_error_set(err, "more than %d CIDR blocks for %s", EC2_VPC_CIDRS_MAX, s->vpc_id);
        return false;
    }
    memcpy(s->cidrs[s->n_cidrs++], cidr, sizeof(cidr));
    return true;
}

static bool parse_vpc_side(const xmlNode *n, struct ec2_vpc_side *s, struct infra_error *err)
{
    xmlNode *opts, *set;

    memset(s, 0, sizeof(*s));
    if (!n)
        return true;
    if (!awsxml_get_text(n, "ownerId", s->owner_id, sizeof(s->owner_id), err) ||
        !awsxml_get_text(n, "vpcId", s->vpc_id, sizeof(s->vpc_id), err) ||
        !awsxml_get_text(n, "region", s->region, sizeof(s->region), err) ||
        !add_cidr(s, n, "cidrBlock", err))
        return false;
    set = awsxml_child(n, "cidrBlockSet");
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next)
        if (awsxml_is_named(it, "item") && !add_cidr(s, it, "cidrBlock", err))
            return false;
    /* a dual-stack VPC: packets to its IPv6 addresses take the peering too */
    set = awsxml_child(n, "ipv6CidrBlockSet");
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next)
        if (awsxml_is_named(it, "item") && !add_cidr(s, it, "ipv6CidrBlock", err))
            return false;
    opts = awsxml_child(n, "peeringOptions");
    s->has_options = opts != NULL;
    return get_bool(opts, "allowDnsResolutionFromRemoteVpc", NULL, &s->allow_dns_from_remote, err);
}

static bool parse_peering(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_peering *p = item;
    xmlNode *status = awsxml_child(n, "status");

    memset(p, 0, sizeof(*p));
    return awsxml_get_text(n, "vpcPeeringConnectionId", p->id, sizeof(p->id), err) &&
           awsxml_get_text(status, "code", p->status, sizeof(p->status), err) &&
           get_free_text(status, "message", p->status_message, sizeof(p->status_message), err) &&
           awsxml_get_text(n, "expirationTime", p->expiration, sizeof(p->expiration), err) &&
           parse_vpc_side(awsxml_child(n, "requesterVpcInfo"), &p->requester, err) &&
           parse_vpc_side(awsxml_child(n, "accepterVpcInfo"), &p->accepter, err);
}

bool ec2_xml_parse_peerings(const char *buf, size_t len, struct ec2_peering_list *out,
                            struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeVpcPeeringConnectionsResponse", "vpcPeeringConnectionSet",
                      parse_peering, &d, err);
}

bool ec2_xml_parse_accept_peering(const char *buf, size_t len, struct ec2_peering *out,
                                  struct infra_error *err)
{
    xmlNode *root, *pcx;
    xmlDoc *doc = open_response(buf, len, "AcceptVpcPeeringConnectionResponse", &root, err);
    bool ok = false;

    memset(out, 0, sizeof(*out));
    if (!doc)
        return false;
    pcx = awsxml_child(root, "vpcPeeringConnection");
    if (!pcx)
        infra_error_set(err, "AcceptVpcPeeringConnection response has no <vpcPeeringConnection>");
    else
        ok = parse_peering(pcx, out, err);
    xmlFreeDoc(doc);
    return ok;
}

/* ---- route tables ---- */

static const char *const route_targets[] = {
    "vpcPeeringConnectionId",      "gatewayId",        "natGatewayId",   "transitGatewayId",
    "egressOnlyInternetGatewayId", "carrierGatewayId", "localGatewayId", "instanceId",
    "networkInterfaceId",          "coreNetworkArn",
};

static bool parse_route(const xmlNode *n, struct ec2_route *r, struct infra_error *err)
{
    if (!awsxml_get_text(n, "destinationCidrBlock", r->dest_cidr, sizeof(r->dest_cidr), err) ||
        !awsxml_get_text(n, "destinationIpv6CidrBlock", r->dest_ipv6_cidr,
                         sizeof(r->dest_ipv6_cidr), err) ||
        !awsxml_get_text(n, "destinationPrefixListId", r->dest_prefix_list,
                         sizeof(r->dest_prefix_list), err) ||
        !awsxml_get_text(n, "vpcPeeringConnectionId", r->pcx, sizeof(r->pcx), err) ||
        !awsxml_get_text(n, "state", r->state, sizeof(r->state), err) ||
        !awsxml_get_text(n, "origin", r->origin, sizeof(r->origin), err))
        return false;
    for (size_t i = 0; i < sizeof(route_targets) / sizeof(route_targets[0]); i++) {
        if (!awsxml_get_text(n, route_targets[i], r->target, sizeof(r->target), err))
            return false;
        if (r->target[0])
            break;
    }
    return true;
}

static bool parse_associations(const xmlNode *set, struct ec2_route_table *t,
                               struct infra_error *err)
{
    size_t cap = count_items(set);

    if (cap > EC2_LIST_MAX) {
        infra_error_set(err, "response lists more than %u items", (unsigned)EC2_LIST_MAX);
        return false;
    }
    if (cap) {
        t->subnets = calloc(cap, sizeof(*t->subnets));
        if (!t->subnets) {
            infra_error_set(err, "out of memory");
            return false;
        }
    }
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next) {
        bool present, is_main;
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!get_bool(it, "main", &present, &is_main, err))
            return false;
        if (is_main)
            t->main = true;
        if (!awsxml_get_text(it, "subnetId", t->subnets[t->n_subnets], EC2_ID_MAX, err))
            return false;
        if (t->subnets[t->n_subnets][0])
            t->n_subnets++;
    }
    return true;
}

static bool parse_route_table(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_route_table *t = item;
    xmlNode *routes = awsxml_child(n, "routeSet");
    void *p;

    if (!awsxml_get_text(n, "routeTableId", t->id, sizeof(t->id), err) ||
        !awsxml_get_text(n, "vpcId", t->vpc_id, sizeof(t->vpc_id), err) ||
        !awsxml_get_text(n, "ownerId", t->owner_id, sizeof(t->owner_id), err) ||
        !alloc_items(routes, sizeof(*t->routes), &p, &t->n_routes, err))
        return false;
    t->routes = p;
    for (xmlNode *it = routes ? routes->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!parse_route(it, &t->routes[t->n_routes], err))
            return false;
        t->n_routes++;
    }
    return parse_associations(awsxml_child(n, "associationSet"), t, err);
}

static void route_table_free(struct ec2_route_table *t)
{
    free(t->routes);
    free(t->subnets);
}

bool ec2_xml_parse_route_tables(const char *buf, size_t len, struct ec2_route_table_list *out,
                                struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeRouteTablesResponse", "routeTableSet", parse_route_table,
                      &d, err);
}

/* ---- security groups ---- */

static bool parse_ranges(const xmlNode *set, const char *field, struct ec2_ip_permission *p,
                         struct infra_error *err)
{
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!awsxml_get_text(it, field, p->cidrs[p->n_cidrs], EC2_CIDR_MAX, err))
            return false;
        if (p->cidrs[p->n_cidrs][0])
            p->n_cidrs++;
    }
    return true;
}

static bool parse_permission(const xmlNode *n, struct ec2_ip_permission *p, struct infra_error *err)
{
    xmlNode *v4 = awsxml_child(n, "ipRanges"), *v6 = awsxml_child(n, "ipv6Ranges");
    xmlNode *groups = awsxml_child(n, "groups"), *pls = awsxml_child(n, "prefixListIds");
    size_t ncidr = count_items(v4) + count_items(v6);
    bool has_from, has_to;
    void *g;

    if (!awsxml_get_text(n, "ipProtocol", p->protocol, sizeof(p->protocol), err) ||
        !get_int(n, "fromPort", &has_from, &p->from_port, -1, 65535, err) ||
        !get_int(n, "toPort", &has_to, &p->to_port, -1, 65535, err))
        return false;
    p->has_ports = has_from && has_to;
    if (ncidr > EC2_LIST_MAX) {
        infra_error_set(err, "response lists more than %u items", (unsigned)EC2_LIST_MAX);
        return false;
    }
    if (ncidr) {
        p->cidrs = calloc(ncidr, sizeof(*p->cidrs));
        if (!p->cidrs) {
            infra_error_set(err, "out of memory");
            return false;
        }
    }
    if (!parse_ranges(v4, "cidrIp", p, err) || !parse_ranges(v6, "cidrIpv6", p, err))
        return false;
    if (!alloc_items(groups, sizeof(*p->groups), &g, &p->n_groups, err))
        return false;
    p->groups = g;
    for (xmlNode *it = groups ? groups->children : NULL; it; it = it->next) {
        struct ec2_sg_ref *r;
        if (!awsxml_is_named(it, "item"))
            continue;
        r = &p->groups[p->n_groups++];
        if (!awsxml_get_text(it, "groupId", r->group_id, sizeof(r->group_id), err) ||
            !awsxml_get_text(it, "userId", r->user_id, sizeof(r->user_id), err) ||
            !awsxml_get_text(it, "vpcId", r->vpc_id, sizeof(r->vpc_id), err) ||
            !awsxml_get_text(it, "vpcPeeringConnectionId", r->pcx, sizeof(r->pcx), err) ||
            !awsxml_get_text(it, "peeringStatus", r->peering_status, sizeof(r->peering_status),
                             err))
            return false;
    }
    if (!alloc_items(pls, sizeof(*p->prefix_lists), &g, &p->n_prefix_lists, err))
        return false;
    p->prefix_lists = g;
    for (xmlNode *it = pls ? pls->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!awsxml_get_text(it, "prefixListId", p->prefix_lists[p->n_prefix_lists], EC2_ID_MAX,
                             err))
            return false;
        p->n_prefix_lists++;
    }
    return true;
}

static void permissions_free(struct ec2_ip_permission *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].cidrs);
        free(p[i].groups);
        free(p[i].prefix_lists);
    }
    free(p);
}

/* Parse the items of `set` into out and n; on failure *n counts what must be freed. */
static bool parse_permissions(const xmlNode *set, struct ec2_ip_permission **out, size_t *n,
                              struct infra_error *err)
{
    void *p;

    if (!alloc_items(set, sizeof(**out), &p, n, err))
        return false;
    *out = p;
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        (*n)++; /* zeroed by calloc: safe to free even if parsing stops here */
        if (!parse_permission(it, &(*out)[*n - 1], err))
            return false;
    }
    return true;
}

static bool parse_security_group(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_security_group *g = item;
    return awsxml_get_text(n, "groupId", g->id, sizeof(g->id), err) &&
           get_free_text(n, "groupName", g->name, sizeof(g->name), err) &&
           awsxml_get_text(n, "vpcId", g->vpc_id, sizeof(g->vpc_id), err) &&
           awsxml_get_text(n, "ownerId", g->owner_id, sizeof(g->owner_id), err) &&
           parse_permissions(awsxml_child(n, "ipPermissions"), &g->ingress, &g->n_ingress, err) &&
           parse_permissions(awsxml_child(n, "ipPermissionsEgress"), &g->egress, &g->n_egress, err);
}

bool ec2_xml_parse_security_groups(const char *buf, size_t len, struct ec2_sg_list *out,
                                   struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeSecurityGroupsResponse", "securityGroupInfo",
                      parse_security_group, &d, err);
}

/* ---- network interfaces ---- */

/* The <field> text of every <item> of set (field NULL: the item's own text, as in
 * <subnetIds><item>subnet-1</item>) into a new array of EC2_ID_MAX or EC2_CIDR_MAX strings
 * (elsz); empty values are skipped. */
static bool parse_string_items(const xmlNode *set, const char *field, size_t elsz, void **out,
                               size_t *n, struct infra_error *err)
{
    char *arr;

    if (!alloc_items(set, elsz, out, n, err))
        return false;
    arr = *out;
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!(field ? awsxml_get_text(it, field, arr + *n * elsz, elsz, err)
                    : awsxml_node_text(it, "item", arr + *n * elsz, elsz, true, err)))
            return false;
        if (arr[*n * elsz])
            (*n)++;
    }
    return true;
}

static bool parse_eni(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_network_interface *e = item;
    if (!awsxml_get_text(n, "networkInterfaceId", e->id, sizeof(e->id), err) ||
        !awsxml_get_text(n, "subnetId", e->subnet_id, sizeof(e->subnet_id), err) ||
        !awsxml_get_text(n, "vpcId", e->vpc_id, sizeof(e->vpc_id), err) ||
        !awsxml_get_text(n, "ownerId", e->owner_id, sizeof(e->owner_id), err) ||
        !awsxml_get_text(n, "status", e->status, sizeof(e->status), err) ||
        !awsxml_get_text(n, "interfaceType", e->interface_type, sizeof(e->interface_type), err) ||
        !awsxml_get_text(n, "requesterId", e->requester_id, sizeof(e->requester_id), err) ||
        !get_bool(n, "requesterManaged", NULL, &e->requester_managed, err) ||
        !get_free_text(n, "description", e->description, sizeof(e->description), err) ||
        !awsxml_get_text(awsxml_child(n, "attachment"), "instanceId", e->instance_id,
                         sizeof(e->instance_id), err) ||
        !awsxml_get_text(n, "macAddress", e->mac, sizeof(e->mac), err) ||
        !awsxml_get_text(n, "privateIpAddress", e->private_ip, sizeof(e->private_ip), err))
        return false;
    /* the arrays are stored at once, so that a failure half way leaves them to _free */
    return parse_string_items(awsxml_child(n, "privateIpAddressesSet"), "privateIpAddress",
                              sizeof(*e->ips), (void **)&e->ips, &e->n_ips, err) &&
           parse_string_items(awsxml_child(n, "ipv6AddressesSet"), "ipv6Address", sizeof(*e->ipv6s),
                              (void **)&e->ipv6s, &e->n_ipv6s, err) &&
           parse_string_items(awsxml_child(n, "groupSet"), "groupId", sizeof(*e->groups),
                              (void **)&e->groups, &e->n_groups, err);
}

bool ec2_xml_parse_network_interfaces(const char *buf, size_t len, struct ec2_eni_list *out,
                                      struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeNetworkInterfacesResponse", "networkInterfaceSet",
                      parse_eni, &d, err);
}

/* ---- network ACLs ---- */

static bool parse_acl_entry(const xmlNode *n, struct ec2_acl_entry *a, struct infra_error *err)
{
    char action[16];
    bool has_rule, has_from, has_to;
    xmlNode *range = awsxml_child(n, "portRange");

    if (!get_int(n, "ruleNumber", &has_rule, &a->rule_number, 0, 32767, err) ||
        !awsxml_get_text(n, "protocol", a->protocol, sizeof(a->protocol), err) ||
        !awsxml_get_text(n, "ruleAction", action, sizeof(action), err) ||
        !get_bool(n, "egress", NULL, &a->egress, err) ||
        !awsxml_get_text(n, "cidrBlock", a->cidr, sizeof(a->cidr), err) ||
        (!a->cidr[0] && !awsxml_get_text(n, "ipv6CidrBlock", a->cidr, sizeof(a->cidr), err)) ||
        !get_int(range, "from", &has_from, &a->from_port, 0, 65535, err) ||
        !get_int(range, "to", &has_to, &a->to_port, 0, 65535, err))
        return false;
    if (!has_rule) {
        infra_error_set(err, "network ACL entry without <ruleNumber>");
        return false;
    }
    if (strcmp(action, "allow") != 0 && strcmp(action, "deny") != 0) {
        infra_error_set(err, "<ruleAction> is \"%s\", expected allow or deny", action);
        return false;
    }
    a->allow = action[0] == 'a';
    a->has_ports = has_from && has_to;
    return true;
}

static bool parse_acl(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_network_acl *a = item;
    xmlNode *entries = awsxml_child(n, "entrySet");
    void *p;

    if (!awsxml_get_text(n, "networkAclId", a->id, sizeof(a->id), err) ||
        !awsxml_get_text(n, "vpcId", a->vpc_id, sizeof(a->vpc_id), err) ||
        !awsxml_get_text(n, "ownerId", a->owner_id, sizeof(a->owner_id), err) ||
        !get_bool(n, "default", NULL, &a->is_default, err) ||
        !alloc_items(entries, sizeof(*a->entries), &p, &a->n_entries, err))
        return false;
    a->entries = p;
    for (xmlNode *it = entries ? entries->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!parse_acl_entry(it, &a->entries[a->n_entries++], err))
            return false;
    }
    return parse_string_items(awsxml_child(n, "associationSet"), "subnetId", sizeof(*a->subnets),
                              (void **)&a->subnets, &a->n_subnets, err);
}

bool ec2_xml_parse_network_acls(const char *buf, size_t len, struct ec2_acl_list *out,
                                struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeNetworkAclsResponse", "networkAclSet", parse_acl, &d, err);
}

/* ---- managed prefix list entries ---- */

bool ec2_xml_parse_prefix_entries(const char *buf, size_t len, struct ec2_prefix_entries *out,
                                  struct infra_error *err)
{
    xmlNode *root, *set;
    xmlDoc *doc = open_response(buf, len, "GetManagedPrefixListEntriesResponse", &root, err);
    bool ok = false;

    if (!doc)
        return false;
    set = awsxml_child(root, "entrySet");
    for (xmlNode *it = set ? set->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (!grow((void **)&out->cidrs, &out->cap, out->n, sizeof(*out->cidrs), err) ||
            !awsxml_get_text(it, "cidr", out->cidrs[out->n], sizeof(*out->cidrs), err))
            goto out;
        if (out->cidrs[out->n][0])
            out->n++;
    }
    ok = set_next_token(root, &out->next_token, err);
out:
    xmlFreeDoc(doc);
    return ok;
}

/* ---- transit gateway attachments ---- */

static bool parse_tgw_attachment(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_tgw_attachment *a = item;
    return awsxml_get_text(n, "transitGatewayAttachmentId", a->id, sizeof(a->id), err) &&
           awsxml_get_text(n, "transitGatewayId", a->tgw_id, sizeof(a->tgw_id), err) &&
           awsxml_get_text(n, "resourceType", a->resource_type, sizeof(a->resource_type), err) &&
           awsxml_get_text(n, "resourceId", a->resource_id, sizeof(a->resource_id), err) &&
           awsxml_get_text(n, "resourceOwnerId", a->resource_owner, sizeof(a->resource_owner),
                           err) &&
           awsxml_get_text(n, "state", a->state, sizeof(a->state), err) &&
           awsxml_get_text(awsxml_child(n, "association"), "transitGatewayRouteTableId",
                           a->assoc_table, sizeof(a->assoc_table), err) &&
           awsxml_get_text(awsxml_child(n, "association"), "state", a->assoc_state,
                           sizeof(a->assoc_state), err);
}

bool ec2_xml_parse_tgw_attachments(const char *buf, size_t len, struct ec2_tgw_attachment_list *out,
                                   struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeTransitGatewayAttachmentsResponse",
                      "transitGatewayAttachments", parse_tgw_attachment, &d, err);
}

/* ---- transit gateway VPC attachments, subnets ---- */

static bool parse_tgw_vpc_attachment(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_tgw_vpc_attachment *a = item;
    return awsxml_get_text(n, "transitGatewayAttachmentId", a->id, sizeof(a->id), err) &&
           awsxml_get_text(n, "vpcId", a->vpc_id, sizeof(a->vpc_id), err) &&
           parse_string_items(awsxml_child(n, "subnetIds"), NULL, sizeof(*a->subnets),
                              (void **)&a->subnets, &a->n_subnets, err);
}

bool ec2_xml_parse_tgw_vpc_attachments(const char *buf, size_t len,
                                       struct ec2_tgw_vpc_attachment_list *out,
                                       struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeTransitGatewayVpcAttachmentsResponse",
                      "transitGatewayVpcAttachments", parse_tgw_vpc_attachment, &d, err);
}

static bool parse_subnet(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_subnet *s = item;
    return awsxml_get_text(n, "subnetId", s->id, sizeof(s->id), err) &&
           awsxml_get_text(n, "vpcId", s->vpc_id, sizeof(s->vpc_id), err) &&
           awsxml_get_text(n, "availabilityZone", s->az, sizeof(s->az), err) &&
           awsxml_get_text(n, "availabilityZoneId", s->az_id, sizeof(s->az_id), err);
}

bool ec2_xml_parse_subnets(const char *buf, size_t len, struct ec2_subnet_list *out,
                           struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);

    return parse_list(buf, len, "DescribeSubnetsResponse", "subnetSet", parse_subnet, &d, err);
}

/* ---- transit gateway routes ---- */

static bool parse_tgw_route(const xmlNode *n, void *item, struct infra_error *err)
{
    struct ec2_tgw_route *r = item;
    const xmlNode *atts = awsxml_child(n, "transitGatewayAttachments");

    if (!awsxml_get_text(n, "destinationCidrBlock", r->dest_cidr, sizeof(r->dest_cidr), err) ||
        !awsxml_get_text(n, "prefixListId", r->prefix_list, sizeof(r->prefix_list), err) ||
        !awsxml_get_text(n, "type", r->type, sizeof(r->type), err) ||
        !awsxml_get_text(n, "state", r->state, sizeof(r->state), err))
        return false;
    for (const xmlNode *it = atts ? atts->children : NULL; it; it = it->next) {
        if (!awsxml_is_named(it, "item"))
            continue;
        if (r->n_attachments++ > 0)
            continue;
        if (!awsxml_get_text(it, "transitGatewayAttachmentId", r->attachment, sizeof(r->attachment),
                             err) ||
            !awsxml_get_text(it, "resourceId", r->resource_id, sizeof(r->resource_id), err) ||
            !awsxml_get_text(it, "resourceType", r->resource_type, sizeof(r->resource_type), err))
            return false;
    }
    return true;
}

bool ec2_xml_parse_tgw_routes(const char *buf, size_t len, struct ec2_tgw_route_list *out,
                              struct infra_error *err)
{
    const struct list_dest d = LIST_DEST(out);
    xmlNode *root;
    xmlDoc *doc = open_response(buf, len, "SearchTransitGatewayRoutesResponse", &root, err);
    bool ok = false, more = false;

    if (doc && parse_items(root, "routeSet", parse_tgw_route, &d, err) &&
        get_bool(root, "additionalRoutesAvailable", NULL, &more, err)) {
        out->more = out->more || more;
        ok = set_next_token(root, &out->next_token, err);
    }
    xmlFreeDoc(doc);
    return ok;
}

/* ---- small responses ---- */

bool ec2_xml_parse_peering_options(const char *buf, size_t len,
                                   struct ec2_peering_options_result *out, struct infra_error *err)
{
    xmlNode *root, *req, *acc;
    xmlDoc *doc = open_response(buf, len, "ModifyVpcPeeringConnectionOptionsResponse", &root, err);
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!doc)
        return false;
    req = awsxml_child(root, "requesterPeeringConnectionOptions");
    acc = awsxml_child(root, "accepterPeeringConnectionOptions");
    out->has_requester = req != NULL;
    out->has_accepter = acc != NULL;
    ok = get_bool(req, "allowDnsResolutionFromRemoteVpc", NULL, &out->requester_dns, err) &&
         get_bool(acc, "allowDnsResolutionFromRemoteVpc", NULL, &out->accepter_dns, err);
    xmlFreeDoc(doc);
    return ok;
}

bool ec2_xml_parse_return(const char *buf, size_t len, const char *action, bool *ret,
                          struct infra_error *err)
{
    char root_name[128];
    xmlNode *root;
    xmlDoc *doc;
    bool present, ok;

    *ret = false;
    snprintf(root_name, sizeof(root_name), "%sResponse", action);
    doc = open_response(buf, len, root_name, &root, err);
    if (!doc)
        return false;
    ok = get_bool(root, "return", &present, ret, err);
    if (ok && !present) {
        infra_error_set(err, "%s response has no <return>", action);
        ok = false;
    }
    xmlFreeDoc(doc);
    return ok;
}

bool ec2_xml_parse_error(const char *buf, size_t len, struct ec2_api_error *out)
{
    struct infra_error ignored;
    xmlDoc *doc;
    xmlNode *root;
    bool found;

    memset(out, 0, sizeof(*out));
    doc = awsxml_read(buf, len, EC2_XML_MAX_BYTES, "EC2", &ignored);
    if (!doc)
        return false;
    root = xmlDocGetRootElement(doc);
    found = root && error_from_root(root, out);
    xmlFreeDoc(doc);
    return found;
}

/* ---- free ---- */

void ec2_peering_list_free(struct ec2_peering_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_route_table_list_free(struct ec2_route_table_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        route_table_free(&l->items[i]);
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_sg_list_free(struct ec2_sg_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        permissions_free(l->items[i].ingress, l->items[i].n_ingress);
        permissions_free(l->items[i].egress, l->items[i].n_egress);
    }
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_eni_list_free(struct ec2_eni_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].ips);
        free(l->items[i].ipv6s);
        free(l->items[i].groups);
    }
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_acl_list_free(struct ec2_acl_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].entries);
        free(l->items[i].subnets);
    }
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_prefix_entries_free(struct ec2_prefix_entries *l)
{
    if (!l)
        return;
    free(l->cidrs);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_tgw_route_list_free(struct ec2_tgw_route_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_tgw_attachment_list_free(struct ec2_tgw_attachment_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_tgw_vpc_attachment_list_free(struct ec2_tgw_vpc_attachment_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].subnets);
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

void ec2_subnet_list_free(struct ec2_subnet_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}
