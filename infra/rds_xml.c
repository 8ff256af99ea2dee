/*
 * rds_xml.c: RDS Query API response parsing (see rds_xml.h).
 *
 * As infra/ec2_xml.c: the body is parsed into a libxml2 tree (no network, no DTD, no
 * error printing) and walked by local name, so neither the namespace date nor the order
 * of elements matters. RDS lists name their items after the type (<DBClusters><DBCluster>,
 * <Subnets><Subnet>), plain string lists use <member>.
 */
#include "infra/rds_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "infra/awsxml.h"
#include "infra/ec2_xml.h"

#define RDS_XML_MAX_BYTES (8u << 20) /* larger bodies are refused */

static bool get_bool(const xmlNode *parent, const char *name, bool *val, struct infra_error *err)
{
    char buf[16];

    if (!awsxml_get_text(parent, name, buf, sizeof(buf), err))
        return false;
    *val = strcmp(buf, "true") == 0;
    if (buf[0] && !*val && strcmp(buf, "false") != 0) {
        infra_error_set(err, "<%s> is not a boolean", name);
        return false;
    }
    return true;
}

/* Room for one more item in *items (n used, *cap allocated). */
static bool grow(void **items, size_t *cap, size_t n, size_t elsz, struct infra_error *err)
{
    size_t ncap;
    void *p;

    if (n >= RDS_LIST_MAX) {
        infra_error_set(err, "more than %d items in one RDS list", RDS_LIST_MAX);
        return false;
    }
    if (n < *cap)
        return true;
    ncap = *cap ? *cap * 2 : 8;
    p = realloc(*items, ncap * elsz);
    if (!p) {
        infra_error_set(err, "out of memory");
        return false;
    }
    memset((char *)p + *cap * elsz, 0, (ncap - *cap) * elsz);
    *items = p;
    *cap = ncap;
    return true;
}

static bool set_marker(const xmlNode *result, char **marker, struct infra_error *err)
{
    char buf[1024];

    free(*marker);
    *marker = NULL;
    if (!awsxml_get_text(result, "Marker", buf, sizeof(buf), err))
        return false;
    if (!buf[0])
        return true;
    *marker = strdup(buf);
    if (!*marker) {
        infra_error_set(err, "out of memory");
        return false;
    }
    return true;
}

/* The document's <ACTIONResult> under <ACTIONResponse>; an error document becomes the
 * message. *doc is freed by the caller. */
static xmlNode *open_result(const char *buf, size_t len, const char *action, xmlDoc **doc,
                            struct infra_error *err)
{
    struct ec2_api_error apierr;
    char want[80];
    xmlNode *root;

    *doc = NULL;
    if (buf && len > 0 && len <= RDS_XML_MAX_BYTES && ec2_xml_parse_error(buf, len, &apierr)) {
        infra_error_set(err, "RDS error %s: %s", apierr.code, apierr.message);
        return NULL;
    }
    if (!(*doc = awsxml_read(buf, len, RDS_XML_MAX_BYTES, "RDS", err)))
        return NULL;
    root = xmlDocGetRootElement(*doc);
    snprintf(want, sizeof(want), "%sResponse", action);
    if (!awsxml_is_named(root, want)) {
        infra_error_set(err, "unexpected RDS response <%.64s>, expected <%s>",
                        root && root->name ? (const char *)root->name : "", want);
        return NULL;
    }
    snprintf(want, sizeof(want), "%sResult", action);
    if (!awsxml_child(root, want)) {
        infra_error_set(err, "RDS response without <%s>", want);
        return NULL;
    }
    return awsxml_child(root, want);
}

/* ---- lists ---- */

/* Where a list's items go: *items grown as grow() does, *n of them used; the page's marker. */
struct rds_list {
    void **items;
    size_t *n, *cap, elsz;
    char **marker;
};

/* The items of an <ACTIONResult><wrapper><item>... response, each parsed by parse into a
 * new slot of the list (a slot it fails on is left zeroed), then the page's Marker. */
static bool parse_list(const char *buf, size_t len, const char *action, const char *wrapper,
                       const char *item,
                       bool (*parse)(const xmlNode *, void *, struct infra_error *),
                       const struct rds_list *l, struct infra_error *err)
{
    xmlDoc *doc;
    xmlNode *res = open_result(buf, len, action, &doc, err);
    bool ok = res != NULL;

    for (xmlNode *n = ok ? awsxml_child(awsxml_child(res, wrapper), item) : NULL; ok && n;
         n = n->next) {
        char *slot;
        if (!awsxml_is_named(n, item))
            continue;
        ok = grow(l->items, l->cap, *l->n, l->elsz, err);
        slot = ok ? (char *)*l->items + *l->n * l->elsz : NULL;
        ok = ok && parse(n, slot, err);
        if (ok)
            (*l->n)++;
        else if (slot)
            memset(slot, 0, l->elsz);
    }
    ok = ok && set_marker(res, l->marker, err);
    xmlFreeDoc(doc);
    return ok;
}

/* ---- clusters ---- */

static bool parse_members(const xmlNode *set, struct rds_cluster *c, struct infra_error *err)
{
    for (xmlNode *m = set ? set->children : NULL; m; m = m->next) {
        if (!awsxml_is_named(m, "DBClusterMember"))
            continue;
        if (c->n_members == RDS_MEMBERS_MAX) {
            infra_error_set(err, "cluster %s: more than %d members", c->id, RDS_MEMBERS_MAX);
            return false;
        }
        if (!awsxml_get_text(m, "DBInstanceIdentifier", c->members[c->n_members].instance,
                             RDS_ID_MAX, err) ||
            !get_bool(m, "IsClusterWriter", &c->members[c->n_members].writer, err))
            return false;
        c->n_members++;
    }
    return true;
}

static bool parse_custom(const xmlNode *set, struct rds_cluster *c, struct infra_error *err)
{
    for (xmlNode *m = set ? set->children : NULL; m; m = m->next) {
        if (!awsxml_is_named(m, "member"))
            continue;
        if (c->n_custom == RDS_CUSTOM_MAX) {
            infra_error_set(err, "cluster %s: more than %d custom endpoints", c->id,
                            RDS_CUSTOM_MAX);
            return false;
        }
        if (!awsxml_node_text(m, "member", c->custom[c->n_custom], RDS_HOST_MAX, true, err))
            return false;
        c->n_custom++;
    }
    return true;
}

/* A list of <member> strings into ids (at most max), *n counted. */
static bool parse_strings(const xmlNode *set, char (*ids)[RDS_ID_MAX], size_t max, size_t *n,
                          const char *what, struct infra_error *err)
{
    for (xmlNode *m = set ? set->children : NULL; m; m = m->next) {
        if (!awsxml_is_named(m, "member"))
            continue;
        if (*n == max) {
            infra_error_set(err, "more than %zu %s", max, what);
            return false;
        }
        if (!awsxml_node_text(m, "member", ids[*n], RDS_ID_MAX, true, err))
            return false;
        (*n)++;
    }
    return true;
}

static bool parse_cluster(const xmlNode *n, void *item, struct infra_error *err)
{
    struct rds_cluster *c = item;

    if (!awsxml_get_text(n, "DBClusterIdentifier", c->id, sizeof(c->id), err) ||
        !awsxml_get_text(n, "Endpoint", c->endpoint, sizeof(c->endpoint), err) ||
        !awsxml_get_text(n, "ReaderEndpoint", c->reader_endpoint, sizeof(c->reader_endpoint),
                         err) ||
        !parse_custom(awsxml_child(n, "CustomEndpoints"), c, err) ||
        !parse_members(awsxml_child(n, "DBClusterMembers"), c, err))
        return false;
    if (!c->id[0]) {
        infra_error_set(err, "a <DBCluster> without <DBClusterIdentifier>");
        return false;
    }
    return true;
}

bool rds_xml_parse_clusters(const char *buf, size_t len, struct rds_cluster_list *out,
                            struct infra_error *err)
{
    struct rds_list list = {(void **)&out->items, &out->n, &out->cap, sizeof(*out->items),
                            &out->marker};

    return parse_list(buf, len, "DescribeDBClusters", "DBClusters", "DBCluster", parse_cluster,
                      &list, err);
}

/* ---- cluster endpoints ---- */

static bool parse_cluster_endpoint(const xmlNode *n, void *item, struct infra_error *err)
{
    struct rds_cluster_endpoint *e = item;

    if (!awsxml_get_text(n, "DBClusterEndpointIdentifier", e->id, sizeof(e->id), err) ||
        !awsxml_get_text(n, "DBClusterIdentifier", e->cluster, sizeof(e->cluster), err) ||
        !awsxml_get_text(n, "Endpoint", e->endpoint, sizeof(e->endpoint), err) ||
        !awsxml_get_text(n, "CustomEndpointType", e->custom_type, sizeof(e->custom_type), err) ||
        !parse_strings(awsxml_child(n, "StaticMembers"), e->static_members, RDS_MEMBERS_MAX,
                       &e->n_static, "static members", err) ||
        !parse_strings(awsxml_child(n, "ExcludedMembers"), e->excluded, RDS_MEMBERS_MAX,
                       &e->n_excluded, "excluded members", err))
        return false;
    if (!e->endpoint[0]) {
        infra_error_set(err, "a <DBClusterEndpointList> without <Endpoint>");
        return false;
    }
    return true;
}

bool rds_xml_parse_cluster_endpoints(const char *buf, size_t len,
                                     struct rds_cluster_endpoint_list *out, struct infra_error *err)
{
    struct rds_list list = {(void **)&out->items, &out->n, &out->cap, sizeof(*out->items),
                            &out->marker};

    return parse_list(buf, len, "DescribeDBClusterEndpoints", "DBClusterEndpoints",
                      "DBClusterEndpointList", parse_cluster_endpoint, &list, err);
}

bool rds_cluster_endpoint_has(const struct rds_cluster_endpoint *e, const char *instance)
{
    for (size_t i = 0; i < e->n_static; i++)
        if (strcmp(e->static_members[i], instance) == 0)
            return true;
    if (e->n_static)
        return false;
    for (size_t i = 0; i < e->n_excluded; i++)
        if (strcmp(e->excluded[i], instance) == 0)
            return false;
    return true;
}

/* ---- instances ---- */

static bool parse_subnets(const xmlNode *set, struct rds_instance *i, struct infra_error *err)
{
    for (xmlNode *s = set ? set->children : NULL; s; s = s->next) {
        if (!awsxml_is_named(s, "Subnet"))
            continue;
        if (i->n_subnets == RDS_SUBNETS_MAX) {
            infra_error_set(err, "instance %s: more than %d subnets", i->id, RDS_SUBNETS_MAX);
            return false;
        }
        if (!awsxml_get_text(s, "SubnetIdentifier", i->subnets[i->n_subnets].id, RDS_ID_MAX, err) ||
            !awsxml_get_text(awsxml_child(s, "SubnetAvailabilityZone"), "Name",
                             i->subnets[i->n_subnets].az, RDS_ID_MAX, err))
            return false;
        i->n_subnets++;
    }
    return true;
}

static bool parse_groups(const xmlNode *set, struct rds_instance *i, struct infra_error *err)
{
    for (xmlNode *g = set ? set->children : NULL; g; g = g->next) {
        if (!awsxml_is_named(g, "VpcSecurityGroupMembership"))
            continue;
        if (i->n_groups == RDS_GROUPS_MAX) {
            infra_error_set(err, "instance %s: more than %d security groups", i->id,
                            RDS_GROUPS_MAX);
            return false;
        }
        if (!awsxml_get_text(g, "VpcSecurityGroupId", i->groups[i->n_groups], RDS_ID_MAX, err))
            return false;
        if (i->groups[i->n_groups][0])
            i->n_groups++;
    }
    return true;
}

static bool parse_instance(const xmlNode *n, void *item, struct infra_error *err)
{
    struct rds_instance *i = item;
    const xmlNode *sg = awsxml_child(n, "DBSubnetGroup");

    if (!awsxml_get_text(n, "DBInstanceIdentifier", i->id, sizeof(i->id), err) ||
        !awsxml_get_text(n, "DBClusterIdentifier", i->cluster, sizeof(i->cluster), err) ||
        !awsxml_get_text(n, "DBInstanceStatus", i->status, sizeof(i->status), err) ||
        !awsxml_get_text(awsxml_child(n, "Endpoint"), "Address", i->address, sizeof(i->address),
                         err) ||
        !awsxml_get_text(n, "AvailabilityZone", i->az, sizeof(i->az), err) ||
        !awsxml_get_text(n, "SecondaryAvailabilityZone", i->secondary_az, sizeof(i->secondary_az),
                         err) ||
        !get_bool(n, "MultiAZ", &i->multi_az, err) ||
        !awsxml_get_text(sg, "VpcId", i->vpc, sizeof(i->vpc), err) ||
        !parse_subnets(awsxml_child(sg, "Subnets"), i, err) ||
        !parse_groups(awsxml_child(n, "VpcSecurityGroups"), i, err))
        return false;
    if (!i->id[0]) {
        infra_error_set(err, "a <DBInstance> without <DBInstanceIdentifier>");
        return false;
    }
    return true;
}

bool rds_xml_parse_instances(const char *buf, size_t len, struct rds_instance_list *out,
                             struct infra_error *err)
{
    struct rds_list list = {(void **)&out->items, &out->n, &out->cap, sizeof(*out->items),
                            &out->marker};

    return parse_list(buf, len, "DescribeDBInstances", "DBInstances", "DBInstance", parse_instance,
                      &list, err);
}

void rds_cluster_list_free(struct rds_cluster_list *l)
{
    free(l->items);
    free(l->marker);
    memset(l, 0, sizeof(*l));
}

void rds_cluster_endpoint_list_free(struct rds_cluster_endpoint_list *l)
{
    free(l->items);
    free(l->marker);
    memset(l, 0, sizeof(*l));
}

void rds_instance_list_free(struct rds_instance_list *l)
{
    free(l->items);
    free(l->marker);
    memset(l, 0, sizeof(*l));
}

const struct rds_subnet *rds_instance_subnet_in(const struct rds_instance *i, const char *az)
{
    for (size_t k = 0; az && az[0] && k < i->n_subnets; k++)
        if (strcmp(i->subnets[k].az, az) == 0)
            return &i->subnets[k];
    return NULL;
}
