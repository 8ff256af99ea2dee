/*
 * preflight_aws.c: the AWS half of the preflight (see preflight_aws.h).
 */
#include "etl/preflight_aws.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "etl/pgconn.h"
#include "etl/preflight_rds.h"
#include "infra/aws_http.h"
#include "infra/aws_metadata.h"
#include "infra/cidr.h"
#include "infra/rds.h"

#define PF_ADDRS 8
#define PF_ENDPOINTS 8

struct endpoint_store {
    char host[256]; /* the DSN's host list, for messages */
    char hosts[PF_ADDRS][256];
    char canons[PF_ADDRS][256]; /* the name a resolved host is an alias of, or "" */
    char addrs[PF_ADDRS][64];
    const char *addr_ptrs[PF_ADDRS];
    const char *addr_sources[PF_ADDRS];
    const char *addr_hosts[PF_ADDRS];
    const char *addr_canons[PF_ADDRS];
    char srcs[PF_ADDRS][64]; /* the job's source address for each, when it is another */
    const char *src_ptrs[PF_ADDRS];
    size_t n;
    char skip[200];
};

struct pfaws_input {
    struct aws_check_input in;
    struct aws_peering_spec *peerings;
    struct aws_route_spec *routes;
    struct aws_sg_spec *sgs;
    struct aws_path_input path;
    struct aws_path_endpoint eps[PF_ENDPOINTS];
    struct endpoint_store store[PF_ENDPOINTS];
    struct pfrds_store *rds[PF_ENDPOINTS]; /* the RDS endpoints' instances */
    struct aws_job_identity ident;
    const char *ident_groups[AWS_METADATA_GROUPS_MAX];
    char job_why[300];
};

/* ---- endpoints ---- */

/* The index-th item of a libpq comma list into out ("" when there is none). */
static void list_item(const char *list, size_t index, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; list && *list; i++) {
        size_t n = strcspn(list, ",");
        if (i == index) {
            snprintf(out, size, "%.*s", (int)n, list);
            return;
        }
        list += n + (list[n] == ',');
    }
}

static size_t list_len(const char *list)
{
    size_t n = 1;

    for (; list && *list; list++)
        n += *list == ',';
    return n;
}

static bool is_socket_host(const char *h)
{
    return !h || !*h || h[0] == '/' || h[0] == '@';
}

/* Add an address (once) with where it came from (canon: the name host is an alias of, a
 * CNAME chain's end, or NULL). */
static void add_addr(struct endpoint_store *st, const char *addr, const char *source,
                     const char *host, const char *canon)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->addrs[i], addr) == 0)
            return;
    if (st->n == PF_ADDRS)
        return;
    snprintf(st->addrs[st->n], sizeof(st->addrs[0]), "%s", addr);
    snprintf(st->hosts[st->n], sizeof(st->hosts[0]), "%s", host);
    snprintf(st->canons[st->n], sizeof(st->canons[0]), "%s",
             canon && strcasecmp(canon, host) != 0 ? canon : "");
    st->addr_sources[st->n] = source;
    st->n++;
}

/* Resolve a host name as the job does (getaddrinfo), distinct addresses into st; false
 * when it does not resolve. */
static bool resolve_into(const char *host, struct endpoint_store *st)
{
    struct addrinfo hints, *res = NULL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME; /* an RDS endpoint is a CNAME chain: name its end */
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[64];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text), NULL, 0, NI_NUMERICHOST) ==
            0)
            add_addr(st, text, "resolved", host, res->ai_canonname);
    }
    freeaddrinfo(res);
    return true;
}

static int port_of(const char *text, int fallback)
{
    char *end;
    long v;

    if (!text || !*text)
        return fallback;
    errno = 0;
    v = strtol(text, &end, 10);
    return errno || *end || v < 1 || v > 65535 ? fallback : (int)v;
}

struct endpoint_src {
    const char *name;
    const struct cfg_db *db;
    const char *expect_cidr;
    const char *pinned_ip;
};

/* The addresses of the index-th host of the DSN, as libpq would use them: its hostaddr,
 * the host itself when it is an address, else the name resolved (when resolve), else the
 * pinned address (for the first host). False when the host has none. */
static bool host_addrs(const char *host, const char *hostaddr, size_t index, bool resolve,
                       const char *pinned, struct endpoint_store *st)
{
    struct cidr lit;

    if (hostaddr[0]) {
        add_addr(st, hostaddr, "literal address", host[0] ? host : hostaddr, NULL);
        return true;
    }
    if (is_socket_host(host))
        return false;
    if (cidr_parse_addr(host, &lit)) {
        add_addr(st, host, "literal address", host, NULL);
        return true;
    }
    if (resolve)
        return resolve_into(host, st);
    if (index == 0 && pinned) {
        add_addr(st, pinned, "network.endpoints[].ip", host, NULL);
        return true;
    }
    return false;
}

static void endpoint_build(const struct endpoint_src *src, bool resolve,
                           struct aws_path_endpoint *ep, struct endpoint_store *st)
{
    const char *hosts = NULL, *hostaddrs = NULL;
    struct pgconn_params p;
    struct anon_error e;
    char host[256], addr[256], port[16];
    bool have, any_name = false, socket_only = true;
    size_t n_hosts;

    memset(ep, 0, sizeof(*ep));
    memset(st, 0, sizeof(*st));
    ep->name = src->name;
    ep->expect_cidr = src->expect_cidr;
    ep->host = st->host;
    anon_error_clear(&e);
    have = src->db && pgconn_params_build(src->db, src->name, &p, &e);
    hosts = have ? pgconn_params_get(&p, "host") : src->db ? src->db->host : NULL;
    hostaddrs = have ? pgconn_params_get(&p, "hostaddr") : NULL;
    snprintf(st->host, sizeof(st->host), "%s", hosts ? hosts : "");
    list_item(have ? pgconn_params_get(&p, "port") : NULL, 0, port, sizeof(port));
    ep->port = port_of(port, src->db && src->db->port ? src->db->port : 5432);
    n_hosts = list_len(hostaddrs && *hostaddrs ? hostaddrs : hosts);
    for (size_t i = 0; i < n_hosts && st->n < PF_ADDRS; i++) {
        struct cidr lit;
        list_item(hosts, list_len(hosts) == 1 ? 0 : i, host, sizeof(host));
        list_item(hostaddrs, i, addr, sizeof(addr));
        socket_only = socket_only && !addr[0] && is_socket_host(host);
        if (!addr[0] && !is_socket_host(host) && !cidr_parse_addr(host, &lit))
            any_name = true;
        (void)host_addrs(host, addr, i, resolve, src->pinned_ip, st); /* none: dns says */
    }
    if (have)
        pgconn_params_free(&p);
    ep->host_is_name = any_name;
    if (resolve && src->pinned_ip && st->n && st->addr_sources[0] &&
        strcmp(st->addr_sources[0], "resolved") == 0)
        ep->pinned_ip = src->pinned_ip; /* compared with what the name resolves to now */
    if (st->n == 0) {
        if (!have && !st->host[0])
            snprintf(st->skip, sizeof(st->skip), "cannot read the connection settings: %s", e.msg);
        else if (socket_only)
            snprintf(st->skip, sizeof(st->skip), "a unix socket has no VPC path");
        else if (resolve)
            snprintf(st->skip, sizeof(st->skip), "%s does not resolve (see dns)", st->host);
        else
            snprintf(st->skip, sizeof(st->skip),
                     "no address: pin it with network.endpoints[].ip (or run the dns check)");
        ep->skip_why = st->skip;
        return;
    }
    for (size_t i = 0; i < st->n; i++) {
        st->addr_ptrs[i] = st->addrs[i];
        st->addr_hosts[i] = st->hosts[i];
        st->addr_canons[i] = st->canons[i][0] ? st->canons[i] : NULL;
        if (cidr_is_loopback_host(st->addrs[i])) {
            snprintf(st->skip, sizeof(st->skip), "%s is loopback: no VPC path", st->addrs[i]);
            ep->skip_why = st->skip;
        }
    }
    ep->addrs = st->addr_ptrs;
    ep->addr_sources = st->addr_sources;
    ep->addr_hosts = st->addr_hosts;
    ep->addr_canonicals = st->addr_canons;
    ep->addr_source = st->addr_sources[0];
    ep->n_addrs = st->n;
}

static const struct cfg_db *side_db(const struct config *cfg, const char *name)
{
    if (strcmp(name, "source") == 0)
        return &cfg->source;
    if (strcmp(name, "target") == 0)
        return &cfg->target.db;
    return NULL;
}

static void endpoints_build(const struct config *cfg, bool resolve, struct pfaws_input *s)
{
    size_t n = 0;

    if (!cfg->network) {
        const struct endpoint_src src[2] = {{"source", &cfg->source, NULL, NULL},
                                            {"target", &cfg->target.db, NULL, NULL}};
        for (; n < 2; n++)
            endpoint_build(&src[n], resolve, &s->eps[n], &s->store[n]);
    } else {
        for (size_t i = 0; i < cfg->network->n_endpoints && n < PF_ENDPOINTS; i++, n++) {
            const struct cfg_endpoint *e = &cfg->network->endpoints[i];
            const struct endpoint_src src = {e->name, side_db(cfg, e->name), e->expect_cidr, e->ip};
            endpoint_build(&src, resolve, &s->eps[n], &s->store[n]);
        }
    }
    s->path.endpoints = s->eps;
    s->path.n_endpoints = n;
}

/* ---- the job ---- */

/* The job's client ports: the kernel of the host the preflight runs on (the job's own
 * task or instance, as in `anonetl run`) picks each connection's source port from
 * net.ipv4.ip_local_port_range; the replies come back to it. Unknown (0) when it cannot
 * be read. */
static void client_ports(struct aws_path_input *path)
{
    static const char file[] = "/proc/sys/net/ipv4/ip_local_port_range";
    FILE *f = fopen(file, "r");
    char line[64], *end;
    long lo, hi;

    if (!f)
        return;
    if (fgets(line, sizeof(line), f)) {
        errno = 0;
        lo = strtol(line, &end, 10);
        hi = strtol(end, &end, 10);
        if (!errno && lo >= 1 && lo <= hi && hi <= 65535) {
            path->client_from = (int)lo;
            path->client_to = (int)hi;
            path->client_source = "net.ipv4.ip_local_port_range where the preflight runs";
        }
    }
    fclose(f);
}

static void job_build(const struct config *cfg, bool want, struct pfaws_input *s)
{
    struct aws_path_job *j = &s->path.job;
    const struct cfg_job *cj = cfg->aws->job;
    struct infra_error e = {{0}};
    struct aws_job_identity *id = &s->ident;

    memset(j, 0, sizeof(*j));
    if (cj) {
        j->ip = cj->ip;
        j->eni = cj->network_interface;
        j->source = "aws.job";
        return;
    }
    if (!want) {
        j->unknown_why = "not looked up";
        return;
    }
    if (!aws_metadata_job_identity(id, &e)) {
        snprintf(s->job_why, sizeof(s->job_why), "no aws.job; %s", e.msg);
        j->unknown_why = s->job_why;
        return;
    }
    j->ip = id->ip;
    j->eni = id->eni[0] ? id->eni : NULL;
    j->mac = id->mac[0] ? id->mac : NULL;
    j->subnet = id->subnet[0] ? id->subnet : NULL;
    j->vpc = id->vpc[0] ? id->vpc : NULL;
    for (size_t i = 0; i < id->n_groups; i++)
        s->ident_groups[i] = id->groups[i];
    j->groups = s->ident_groups;
    j->n_groups = id->n_groups;
    j->source = id->source;
}

/* The address this host's kernel sends from to ip:port, into out: the source of a UDP
 * socket connected there (connect only picks the route and the address: nothing is
 * sent). False when there is no route. */
static bool kernel_source(const char *ip, int port, char *out, size_t size)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char service[16];
    bool ok = false;
    int fd;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(ip, service, &hints, &res) != 0)
        return false;
    fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        ok = getnameinfo((struct sockaddr *)&ss, len, out, (socklen_t)size, NULL, 0,
                         NI_NUMERICHOST) == 0;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return ok;
}

/* Where the preflight runs as the job (its identity from the job's metadata), the address
 * its kernel sends from to each database address, when it is not the metadata's: the path
 * judges the interface that holds it (infra/aws_path.h job_ips). */
static void job_sources(struct pfaws_input *s)
{
    const struct aws_path_job *j = &s->path.job;

    if (!j->ip || !j->source || strcmp(j->source, "aws.job") == 0)
        return;
    for (size_t i = 0; i < s->path.n_endpoints; i++) {
        struct endpoint_store *st = &s->store[i];
        bool any = false;
        if (s->eps[i].skip_why)
            continue;
        for (size_t k = 0; k < st->n; k++) {
            st->src_ptrs[k] = NULL;
            if (kernel_source(st->addrs[k], s->eps[i].port, st->srcs[k], sizeof(st->srcs[k])) &&
                strcmp(st->srcs[k], j->ip) != 0) {
                st->src_ptrs[k] = st->srcs[k];
                any = true;
            }
        }
        s->eps[i].job_ips = any ? st->src_ptrs : NULL;
    }
}

/* ---- the input ---- */

struct pfaws_input *pfaws_input_new(const struct config *cfg, const char *region,
                                    const struct pfaws_options *opt)
{
    const struct cfg_aws *a = cfg->aws;
    struct pfaws_input *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->peerings = calloc(a->n_peerings + 1, sizeof(*s->peerings));
    s->routes = calloc(a->n_routes + 1, sizeof(*s->routes));
    s->sgs = calloc(a->n_security_groups + 1, sizeof(*s->sgs));
    if (!s->peerings || !s->routes || !s->sgs) {
        pfaws_input_free(s);
        return NULL;
    }
    for (size_t i = 0; i < a->n_peerings; i++) {
        s->peerings[i].id = a->peerings[i].id;
        s->peerings[i].dns_resolution = (enum aws_dns_want)a->peerings[i].dns_resolution;
        s->peerings[i].required = a->peerings[i].required;
    }
    for (size_t i = 0; i < a->n_routes; i++) {
        s->routes[i].route_table = a->routes[i].route_table;
        s->routes[i].destination = a->routes[i].destination;
        s->routes[i].peering = a->routes[i].peering;
    }
    for (size_t i = 0; i < a->n_security_groups; i++) {
        s->sgs[i].group = a->security_groups[i].group;
        s->sgs[i].port = a->security_groups[i].port;
        s->sgs[i].from = a->security_groups[i].from;
    }
    s->in.region = region;
    s->in.endpoint = a->endpoint;
    s->in.peerings = s->peerings;
    s->in.n_peerings = a->n_peerings;
    s->in.routes = s->routes;
    s->in.n_routes = a->n_routes;
    s->in.security_groups = s->sgs;
    s->in.n_security_groups = a->n_security_groups;
    /* the gateways routes may use, for the path and for --repair (which plans no path) */
    s->path.region = region;
    s->path.transit_gateways = (const char *const *)a->transit_gateways;
    s->path.n_transit_gateways = a->n_transit_gateways;
    s->in.path = &s->path;
    if (opt) {
        endpoints_build(cfg, opt->resolve_names, s);
        job_build(cfg, opt->want_identity, s);
        job_sources(s);
        client_ports(&s->path);
        s->in.run_path = opt->run_path;
        s->in.skip_configured = opt->skip_configured;
    }
    return s;
}

const struct aws_check_input *pfaws_input_get(const struct pfaws_input *s)
{
    return &s->in;
}

void pfaws_input_free(struct pfaws_input *s)
{
    if (!s)
        return;
    free(s->peerings);
    free(s->routes);
    free(s->sgs);
    for (size_t i = 0; i < PF_ENDPOINTS; i++)
        pfrds_store_free(s->rds[i]);
    free(s);
}

/* ---- client ---- */

bool pfaws_open(const struct config *cfg, char *region, size_t rsize,
                struct aws_creds_provider **creds, struct ec2 **ec2, struct infra_error *ierr)
{
    const struct aws_http_options bounded = AWS_HTTP_OPTIONS_BOUNDED; /* each EC2 call */

    *creds = NULL;
    *ec2 = NULL;
    if (!aws_region_resolve(cfg->aws->region, NULL, region, rsize, ierr))
        return false;
    *creds = aws_creds_chain_new(NULL, ierr);
    *ec2 = *creds ? ec2_new(region, cfg->aws->endpoint, *creds, &bounded, ierr) : NULL;
    return *ec2 != NULL;
}

void pfaws_close(struct aws_creds_provider *creds, struct ec2 *ec2)
{
    ec2_free(ec2);
    aws_creds_provider_free(creds);
}

/* The instances each RDS endpoint of the DSNs can point to (etl/preflight_rds.h). */
static void rds_members(const struct config *cfg, const char *region,
                        struct aws_creds_provider *creds, bool resolve, struct pfaws_input *s)
{
    const struct aws_http_options bounded = AWS_HTTP_OPTIONS_BOUNDED;
    struct infra_error ierr = {{0}};
    struct rds *rds = NULL;

    for (size_t i = 0; i < s->path.n_endpoints; i++) {
        if (s->eps[i].skip_why || !s->eps[i].host || !strcasestr(s->eps[i].host, ".rds.") ||
            (!rds && !(rds = rds_new(region, cfg->aws->endpoint, creds, &bounded, &ierr))))
            continue;
        s->rds[i] = pfrds_lookup(rds, region, resolve, &s->eps[i]);
    }
    rds_free(rds);
}

static void aws_fail(struct check_report *r, const char *why, const char *fix)
{
    struct check_result *c = check_report_add(r, "peering", "aws", CHECK_FAIL);

    check_result_detail(c, "%s", why);
    check_result_fix(c, "%s", fix);
}

bool pfaws_run(const struct config *cfg, const struct pfaws_options *opt, struct check_report *r,
               unsigned long *calls)
{
    struct aws_creds_provider *creds;
    struct ec2 *ec2;
    struct infra_error ierr = {{0}};
    struct pfaws_input *s = NULL;
    char region[64];
    bool ok = false;

    *calls = 0;
    if (!pfaws_open(cfg, region, sizeof(region), &creds, &ec2, &ierr)) {
        aws_fail(r, ierr.msg, "check aws.region, the AWS credentials and aws.endpoint");
        goto out;
    }
    s = pfaws_input_new(cfg, region, opt);
    if (!s) {
        aws_fail(r, "out of memory", "retry");
        goto out;
    }
    if (opt && opt->run_path)
        rds_members(cfg, region, creds, opt->resolve_names, s);
    ok = aws_checks_run(ec2, pfaws_input_get(s), r, &ierr);
    if (!ok && (r->n == 0 || r->items[r->n - 1].status != CHECK_FAIL))
        aws_fail(r, ierr.msg, "check the AWS credentials, region and endpoint");
    *calls = ec2_call_count(ec2);
out:
    pfaws_input_free(s);
    pfaws_close(creds, ec2);
    return ok;
}
