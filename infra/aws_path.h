/*
 * aws_path.h: the path a database connection of the job really takes, hop by hop in both
 * directions, judged on the EC2 objects the packets meet (as AWS Reachability Analyzer
 * does), from an aws_view.
 *
 * One result per hop, in packet order, group "path.<hop>", subject "<endpoint> <object>":
 *   path.job           where the job runs: its address, interface, subnet, VPC, groups
 *   path.database      the interface that owns the database address (WARN "not visible
 *                      from this account" when it cannot be described; when the RDS API
 *                      knows the instance the name points at now, its subnet in its zone
 *                      and groups instead: "judged from its RDS subnet", see
 *                      aws_failover_current)
 *   path.route         the job subnet's route table (explicit association, else the VPC's
 *                      main table), longest prefix match on the database address: an
 *                      active route via the peering that leads to the database's VPC, the
 *                      local route, or a transit gateway the config allows (attachment
 *                      available)
 *   path.sg-egress     the job's security groups let TCP out to the database address:port
 *   path.job-nacl-out  the job subnet's network ACL, outbound, the database port
 *   path.db-nacl-in    the database subnet's network ACL, inbound, the database port
 *   path.sg-ingress    the database interface's groups let the job in (its address, one of
 *                      its groups, a prefix list holding its address); a reference to a
 *                      group of the other VPC holds only for packets over the peering it
 *                      names (aws_eval.h, aws_party.via_pcx/via_tgw)
 *   path.db-nacl-out   the database subnet's ACL, outbound replies to ports 1024-65535
 *   path.route-back    the database subnet's route table routes the job's address back
 *   path.job-nacl-in   the job subnet's ACL, inbound replies to the job's client ports
 *   path.tgw-nacl-in, path.tgw-nacl-back  (a route through a transit gateway only) the ACL
 *                      of its attachment's subnet in the sender's zone, inbound, on the
 *                      sender's address (aws_tgwhop.h), after path.job-nacl-out and
 *                      path.route-back
 * Every address of an endpoint is judged (libpq tries each in turn), an IPv6 one from the
 * job interface's IPv6 address (INFO "not used" when it has none and the endpoint has an
 * IPv4 address too, else a FAIL: the job has no IPv6 route).
 * Each line says what decided (the route or the rule) and, when it is not a PASS, the
 * one-line fix. Replies go to the port the job's kernel picked as the connection's source,
 * from its ephemeral range (no NAT on a peering or transit gateway changes it), so that
 * range is what both ACLs must let through, nothing more: judged on it when it is known
 * (client_from), a FAIL when part of it is refused; when it is not known, the reply hops
 * judge 1024-65535 and a range that only passes for Linux's default 32768-60999 is a
 * WARN.
 */
#ifndef AWS_PATH_H
#define AWS_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_view.h"
#include "infra/check_report.h"

#define AWS_EPHEMERAL_FROM 1024
#define AWS_EPHEMERAL_TO 65535
#define AWS_LINUX_EPHEMERAL_FROM 32768
#define AWS_LINUX_EPHEMERAL_TO 60999

/* Where the job runs. ip or eni identifies it; subnet, vpc and groups are what the
 * metadata service said (used when the interface cannot be described). */
struct aws_path_job {
    const char *ip;
    const char *eni;
    const char *source; /* "aws.job", "ECS task metadata v4", "IMDSv2" */
    const char *mac;    /* the interface's MAC (metadata), or NULL */
    const char *subnet;
    const char *vpc;
    const char *const *groups;
    size_t n_groups;
    const char *unknown_why; /* when neither ip nor eni is known: why */
};

/* An instance an RDS endpoint name can point to (an Aurora cluster's writer, reader or
 * custom endpoint, a Multi-AZ instance's standby), from the RDS API (infra/aws_failover.h). */
struct aws_path_member {
    const char *instance; /* "orders-2", "orders (standby)" */
    const char *role;     /* "writer", "reader", "standby" */
    const char *ip;       /* the address its instance endpoint resolves to, or NULL */
    const char *ip6;      /* its IPv6 address too (a dual-stack instance), or NULL */
    const char *az;       /* its availability zone, or NULL */
    /* its DB subnet group's VPC and the group's subnet in its zone (NULL: unknown): where
     * its interface is when none holding ip is visible */
    const char *vpc, *subnet;
    const char *const *groups; /* its VPC security groups */
    size_t n_groups;
    bool current; /* the name points at it now: the path.* lines judge it */
};

/* One database endpoint. */
struct aws_path_endpoint {
    const char *name;         /* "source" / "target" */
    const char *host;         /* the DSN host (list) as written, for messages */
    bool host_is_name;        /* a DNS name (not an address literal or a socket) */
    const char *const *addrs; /* the addresses the job connects to (every host of the DSN) */
    size_t n_addrs;
    const char *addr_source;         /* "resolved", "network.endpoints[].ip", "literal address" */
    const char *const *addr_sources; /* per address, or NULL: addr_source for all */
    const char *const *addr_hosts;   /* per address: its DSN host, or NULL: host */
    /* per address (or NULL): the name its host is an alias of, where a CNAME chain ends (an
     * RDS cluster endpoint's current instance), when it differs from the host */
    const char *const *addr_canonicals;
    int port;
    const char *expect_cidr; /* may be NULL */
    const char *skip_why;    /* not analysed: why (unix socket, no address known) */
    /* network.endpoints[].ip when the host was resolved as well (the addresses above are
     * the resolved ones); a WARN when it is not one of them: `--only path` judges it */
    const char *pinned_ip;
    /* per address (or NULL; an entry may be NULL): the address the kernel of the host the
     * preflight runs on sends from to it, when the job's identity came from its metadata
     * (the preflight runs as the job) and it is not job.ip. Another interface of the job's
     * instance holding it (a second ENI, a connected route on it) is where the packets
     * leave; an address no interface of the instance holds is a NAT's inside (a container
     * bridge), and the metadata's interface stays the job's. */
    const char *const *job_ips;
    /* An RDS endpoint looked up in the RDS API (NULL: not one, or not looked up): what it
     * is ("Aurora cluster endpoint", ...), the instances it can point to, and when the API
     * could not say, why and what to do (a WARN). */
    const char *rds_kind;
    const struct aws_path_member *members;
    size_t n_members;
    const char *members_problem, *members_fix;
    /* the members are known but maybe too many (a custom endpoint whose own members could
     * not be read): why, and what to do (a WARN) */
    const char *members_note, *members_note_fix;
};

struct aws_path_input {
    const char *region;
    struct aws_path_job job;
    const struct aws_path_endpoint *endpoints;
    size_t n_endpoints;
    const char *const *transit_gateways; /* aws.transit_gateways: gateways a route may use */
    size_t n_transit_gateways;
    /* The job's client ports, where the replies go: its kernel picks the source port of
     * each connection from its ephemeral range (net.ipv4.ip_local_port_range). 0 when
     * unknown: Linux's default 32768-60999 is assumed, and replies that pass only there
     * are a WARN. client_source names where the range was read. */
    int client_from, client_to;
    const char *client_source;
};

/* What aws_view_request needs for the path (the job's and databases' addresses, the RDS
 * members' addresses, VPCs and groups). The arrays point into `in`, `store` (at least
 * AWS_VIEW_MAX_IPS entries) and `ids` (VPCs and groups, ids_n entries). */
void aws_path_request(const struct aws_path_input *in, const char **store, size_t store_n,
                      const char **ids, size_t ids_n, struct aws_view_request *req);

/* Append the path.* results for every endpoint to rep. */
void aws_path_run(const struct aws_view *v, const struct aws_path_input *in,
                  struct check_report *rep);

#endif
