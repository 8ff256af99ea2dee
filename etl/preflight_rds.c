/*
 * preflight_rds.c: an RDS endpoint's instances from the RDS API (see preflight_rds.h).
 */
#include "etl/preflight_rds.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "infra/rds.h"

struct pfrds_store {
    struct rds_cluster_list clusters;
    struct rds_instance_list instances;
    struct rds_cluster_endpoint_list custom;
    struct aws_path_member members[RDS_MEMBERS_MAX];
    char names[RDS_MEMBERS_MAX][RDS_ID_MAX + 16];
    char ips[RDS_MEMBERS_MAX][64];
    char ips6[RDS_MEMBERS_MAX][64]; /* a dual-stack member's IPv6 address */
    const char *groups[RDS_MEMBERS_MAX][RDS_GROUPS_MAX];
    char host[256];
    char problem[400], fix[400];
    char note[400], note_fix[300]; /* a custom endpoint's own members unknown */
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

enum pfrds_kind pfrds_host_kind(const char *host, char *id, size_t id_size, char *region,
                                size_t region_size)
{
    char h[256], *labels[8];
    size_t n = 0, len;
    enum pfrds_kind k;

    id[0] = region[0] = '\0';
    if (!host || snprintf(h, sizeof(h), "%s", host) >= (int)sizeof(h))
        return PFRDS_NONE;
    len = strlen(h);
    if (len && h[len - 1] == '.')
        h[--len] = '\0';
    if (!ends_with(h, ".rds.amazonaws.com") && !ends_with(h, ".rds.amazonaws.com.cn") &&
        !(ends_with(h, ".amazonaws.com.cn") && strcasestr(h, ".rds.")))
        return PFRDS_NONE;
    for (char *p = h, *save = NULL; n < 8 && (p = strtok_r(p, ".", &save)); p = NULL)
        labels[n++] = p;
    if (n < 5)
        return PFRDS_NONE;
    /* ID.HASH.REGION.rds.amazonaws.com[.cn] or ID.HASH.rds.REGION.amazonaws.com.cn */
    snprintf(region, region_size, "%s", strcasecmp(labels[3], "rds") == 0 ? labels[2] : labels[3]);
    if (strncasecmp(labels[1], "proxy-", 6) == 0)
        return PFRDS_NONE; /* an RDS Proxy: its own fleet, not one of the instances */
    if (strncasecmp(labels[1], "cluster-custom-", 15) == 0)
        k = PFRDS_CUSTOM;
    else if (strncasecmp(labels[1], "cluster-ro-", 11) == 0)
        k = PFRDS_READER;
    else if (strncasecmp(labels[1], "cluster-", 8) == 0)
        k = PFRDS_CLUSTER;
    else
        k = PFRDS_INSTANCE;
    snprintf(id, id_size, "%s", labels[0]);
    return k;
}

static const char *kind_name(enum pfrds_kind k)
{
    switch (k) {
    case PFRDS_CLUSTER:
        return "Aurora cluster (writer) endpoint";
    case PFRDS_READER:
        return "Aurora reader endpoint";
    case PFRDS_CUSTOM:
        return "Aurora custom endpoint";
    case PFRDS_INSTANCE:
        return "RDS Multi-AZ instance endpoint";
    case PFRDS_NONE:
        break;
    }
    return "RDS endpoint";
}

/* The first host of the DSN's list that is an RDS endpoint name, into out. */
static enum pfrds_kind first_rds_host(const char *list, char *out, size_t size, char *id,
                                      size_t id_size, char *region, size_t region_size)
{
    while (list && *list) {
        size_t n = strcspn(list, ",");
        enum pfrds_kind k;
        snprintf(out, size, "%.*s", (int)n, list);
        k = pfrds_host_kind(out, id, id_size, region, region_size);
        if (k != PFRDS_NONE)
            return k;
        list += n + (list[n] == ',');
    }
    return PFRDS_NONE;
}

static bool same_host(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);

    n -= n && a[n - 1] == '.';
    m -= m && b[m - 1] == '.';
    return n && n == m && strncasecmp(a, b, n) == 0;
}

/* The addresses the job would connect to for name: its first IPv4 one into v4, its first
 * IPv6 one into v6 ("" when it has none of a family); false when it does not resolve. */
static bool resolve_member(const char *name, char *v4, char *v6, size_t size)
{
    struct addrinfo hints, *res = NULL;

    v4[0] = v6[0] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (!name[0] || getaddrinfo(name, NULL, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char *out = ai->ai_family == AF_INET ? v4 : ai->ai_family == AF_INET6 ? v6 : NULL;
        if (out && !out[0] &&
            getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)size, NULL, 0,
                        NI_NUMERICHOST) != 0)
            out[0] = '\0';
    }
    freeaddrinfo(res);
    return v4[0] || v6[0];
}

/* Does the name point at this instance now (its address is one the name resolves to, or
 * the name is an alias of its endpoint)? */
static bool is_current(const struct aws_path_endpoint *ep, const char *ip, const char *ip6,
                       const char *address)
{
    for (size_t j = 0; j < ep->n_addrs; j++) {
        if ((ip && strcmp(ep->addrs[j], ip) == 0) || (ip6 && strcmp(ep->addrs[j], ip6) == 0))
            return true;
        if (address[0] && ep->addr_canonicals && ep->addr_canonicals[j] &&
            same_host(ep->addr_canonicals[j], address))
            return true;
    }
    return false;
}

/* One member from its instance (az: the zone it runs in, or the standby's). */
static void add_member(struct pfrds_store *s, struct aws_path_endpoint *ep,
                       const struct rds_instance *in, const char *name, const char *role,
                       const char *az, bool resolve)
{
    size_t k = ep->n_members;
    struct aws_path_member *m;
    const struct rds_subnet *sn = in ? rds_instance_subnet_in(in, az) : NULL;

    if (k == RDS_MEMBERS_MAX)
        return;
    m = &s->members[k];
    snprintf(s->names[k], sizeof(s->names[k]), "%s", name);
    m->instance = s->names[k];
    m->role = role;
    m->az = az && az[0] ? az : NULL;
    if (in && strcmp(role, "standby") != 0 && resolve &&
        resolve_member(in->address, s->ips[k], s->ips6[k], sizeof(s->ips[k]))) {
        /* the IPv4 one first (ip), an IPv6-only instance's address in ip alone */
        m->ip = s->ips[k][0] ? s->ips[k] : s->ips6[k];
        m->ip6 = s->ips[k][0] && s->ips6[k][0] ? s->ips6[k] : NULL;
    }
    m->vpc = in && in->vpc[0] ? in->vpc : NULL;
    m->subnet = sn ? sn->id : NULL;
    for (size_t g = 0; in && g < in->n_groups; g++)
        s->groups[k][g] = in->groups[g];
    m->groups = s->groups[k];
    m->n_groups = in ? in->n_groups : 0;
    m->current = in && strcmp(role, "standby") != 0 && is_current(ep, m->ip, m->ip6, in->address);
    ep->n_members++;
}

static const struct rds_instance *instance_named(const struct pfrds_store *s, const char *id)
{
    for (size_t i = 0; i < s->instances.n; i++)
        if (strcmp(s->instances.items[i].id, id) == 0)
            return &s->instances.items[i];
    return NULL;
}

static void problem(struct pfrds_store *s, const struct rds_error *e, const char *region)
{
    snprintf(s->problem, sizeof(s->problem), "%s", e->base.msg);
    if (e->kind == RDS_ERR_DENIED)
        snprintf(s->fix, sizeof(s->fix),
                 "allow rds:DescribeDBClusters and rds:DescribeDBInstances to the job's IAM "
                 "role (infra/terraform: the preflight policy), or check by hand that every "
                 "instance's subnet routes the job back and its ACL and groups let it in");
    else
        snprintf(s->fix, sizeof(s->fix),
                 "check aws.region (%s) and that the DSN names this account's RDS endpoint",
                 region);
}

/* The cluster whose endpoint host is (by identifier, or every cluster for a custom one). */
static const struct rds_cluster *find_cluster(struct rds *rds, struct pfrds_store *s,
                                              enum pfrds_kind k, const char *id, const char *region)
{
    struct rds_error e;

    if (!rds_describe_clusters(rds, k == PFRDS_CUSTOM ? NULL : id, &s->clusters, &e)) {
        problem(s, &e, region);
        return NULL;
    }
    for (size_t i = 0; i < s->clusters.n; i++) {
        const struct rds_cluster *c = &s->clusters.items[i];
        if (same_host(c->endpoint, s->host) || same_host(c->reader_endpoint, s->host))
            return c;
        for (size_t j = 0; j < c->n_custom; j++)
            if (same_host(c->custom[j], s->host))
                return c;
    }
    snprintf(s->problem, sizeof(s->problem),
             "no DB cluster in region %s has the endpoint %s (DescribeDBClusters)", region,
             s->host);
    snprintf(s->fix, sizeof(s->fix), "check aws.region and the DSN's host");
    return NULL;
}

/* A custom endpoint's own description (its static or excluded members), or NULL: every
 * member of the cluster is judged, with a note saying why. */
static const struct rds_cluster_endpoint *
custom_endpoint(struct rds *rds, struct pfrds_store *s, const struct rds_cluster *c, const char *id)
{
    struct rds_error e;

    if (rds_describe_cluster_endpoints(rds, c->id, id, &s->custom, &e)) {
        for (size_t i = 0; i < s->custom.n; i++)
            if (same_host(s->custom.items[i].endpoint, s->host))
                return &s->custom.items[i];
        snprintf(s->note, sizeof(s->note),
                 "DescribeDBClusterEndpoints does not list %s: every instance of cluster %s is "
                 "judged",
                 s->host, c->id);
    } else {
        snprintf(s->note, sizeof(s->note),
                 "its own members are not known (%s): every instance of cluster %s is judged, "
                 "some of which it may never point to",
                 e.base.msg, c->id);
    }
    snprintf(s->note_fix, sizeof(s->note_fix),
             "allow rds:DescribeDBClusterEndpoints to the job's IAM role, or ignore the lines of "
             "instances the custom endpoint excludes");
    return NULL;
}

static void cluster_members(struct rds *rds, struct pfrds_store *s, enum pfrds_kind k,
                            const char *id, const char *region, bool resolve,
                            struct aws_path_endpoint *ep)
{
    const struct rds_cluster *c = find_cluster(rds, s, k, id, region);
    const struct rds_cluster_endpoint *custom = NULL;
    struct rds_error e;

    if (!c)
        return;
    if (k == PFRDS_CUSTOM)
        custom = custom_endpoint(rds, s, c, id);
    if (!rds_describe_instances(rds, NULL, c->id, &s->instances, &e)) {
        problem(s, &e, region);
        return;
    }
    for (size_t i = 0; i < c->n_members; i++) {
        const struct rds_instance *in = instance_named(s, c->members[i].instance);
        if (custom && !rds_cluster_endpoint_has(custom, c->members[i].instance))
            continue; /* the custom endpoint never points there */
        add_member(s, ep, in, c->members[i].instance, c->members[i].writer ? "writer" : "reader",
                   in ? in->az : NULL, resolve);
    }
}

/* An instance endpoint's own instance, as a current member, when the name resolves to its
 * address now: the path judges it from its RDS subnet when its interface is not visible.
 * Without that (names not resolved) it is left out: it gets no failover line either way. */
static void instance_self(struct pfrds_store *s, struct aws_path_endpoint *ep,
                          const struct rds_instance *in, bool resolve)
{
    add_member(s, ep, in, in->id, in->cluster[0] ? "cluster member" : "instance", in->az, resolve);
    if (ep->n_members && !s->members[ep->n_members - 1].current)
        ep->n_members--;
}

/* A lone instance (its own instance as a current member, see instance_self): its Multi-AZ
 * standby, when it has one. False: not a Multi-AZ instance (no other instance: the path
 * judges the one instance, with no failover line). */
static bool instance_standby(struct rds *rds, struct pfrds_store *s, const char *id,
                             const char *region, bool resolve, struct aws_path_endpoint *ep)
{
    const struct rds_instance *in;
    struct rds_error e;
    char name[RDS_ID_MAX + 16];

    if (!rds_describe_instances(rds, id, NULL, &s->instances, &e)) {
        if (e.kind == RDS_ERR_NOT_FOUND)
            return false; /* not this account's (across the peering): judged as before */
        problem(s, &e, region);
        return true;
    }
    in = s->instances.n ? &s->instances.items[0] : NULL;
    if (in)
        instance_self(s, ep, in, resolve);
    if (!in || in->cluster[0] || !in->multi_az)
        return false;
    if (!in->secondary_az[0]) {
        snprintf(s->problem, sizeof(s->problem),
                 "DescribeDBInstances gives no SecondaryAvailabilityZone for %s: its standby's "
                 "subnet is unknown",
                 in->id);
        snprintf(s->fix, sizeof(s->fix),
                 "check by hand that the subnets of %s's DB subnet group route the job back "
                 "and let it in",
                 in->id);
        return true;
    }
    snprintf(name, sizeof(name), "%s (standby)", in->id);
    add_member(s, ep, in, name, "standby", in->secondary_az, false);
    return true;
}

struct pfrds_store *pfrds_lookup(struct rds *rds, const char *region, bool resolve,
                                 struct aws_path_endpoint *ep)
{
    char id[RDS_ID_MAX], host_region[64];
    struct pfrds_store *s = calloc(1, sizeof(*s));
    enum pfrds_kind k;

    if (!s)
        return NULL;
    k = first_rds_host(ep->host, s->host, sizeof(s->host), id, sizeof(id), host_region,
                       sizeof(host_region));
    if (k == PFRDS_NONE || ep->skip_why) {
        free(s);
        return NULL;
    }
    if (host_region[0] && region && strcasecmp(host_region, region) != 0) {
        /* a database across an inter-region peering: its subnets are not in the EC2 view
         * of aws.region (the job's), so its other instances cannot be judged here */
        if (k == PFRDS_INSTANCE) {
            pfrds_store_free(s);
            return NULL; /* judged as before */
        }
        snprintf(s->problem, sizeof(s->problem),
                 "the cluster is in region %s and the preflight describes region %s, the job's",
                 host_region, region);
        snprintf(s->fix, sizeof(s->fix),
                 "check by hand in region %s that the subnet of every instance of the cluster "
                 "routes the job back over the peering and that its network ACL and groups let "
                 "the job in",
                 host_region);
    } else if (k == PFRDS_INSTANCE) {
        if (!instance_standby(rds, s, id, region, resolve, ep)) {
            /* a single-AZ instance or a cluster's member: one instance, no failover line;
             * its own instance (if the name resolves to it) for the path.* lines */
            if (ep->n_members == 0) {
                pfrds_store_free(s);
                return NULL;
            }
            ep->members = s->members;
            return s;
        }
    } else {
        cluster_members(rds, s, k, id, region, resolve, ep);
    }
    ep->rds_kind = kind_name(k);
    ep->members = s->members;
    ep->members_problem = s->problem[0] ? s->problem : NULL;
    ep->members_fix = s->fix[0] ? s->fix : NULL;
    ep->members_note = s->note[0] ? s->note : NULL;
    ep->members_note_fix = s->note_fix[0] ? s->note_fix : NULL;
    return s;
}

void pfrds_store_free(struct pfrds_store *s)
{
    if (!s)
        return;
    rds_cluster_list_free(&s->clusters);
    rds_instance_list_free(&s->instances);
    rds_cluster_endpoint_list_free(&s->custom);
    free(s);
}
