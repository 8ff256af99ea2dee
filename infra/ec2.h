/*
 * ec2.h: the EC2 Query API calls the preflight needs, over the signed transport of
 * infra/aws_http.h, with the responses parsed by infra/ec2_xml.h.
 *
 * Describe calls follow <nextToken> until the last page. An EC2 error document becomes
 * a struct ec2_error with a kind and a message meant for an operator:
 *   - UnauthorizedOperation / AccessDenied -> EC2_ERR_DENIED, naming the IAM action
 *     that is missing ("ec2:DescribeRouteTables");
 *   - AuthFailure, SignatureDoesNotMatch, InvalidClientTokenId, RequestExpired ... ->
 *     EC2_ERR_AUTH ("authentication failure");
 *   - RequestLimitExceeded / Throttling -> EC2_ERR_THROTTLED (the transport has retried
 *     with backoff already; this is what is left after the last attempt);
 *   - RequestExpired, or another time-related refusal (RequestTimeTooSkewed,
 *     SignatureDoesNotMatch ...) where the answer's Date shows a clock skew ->
 *     EC2_ERR_CLOCK_SKEW (the transport corrected its clock and re-signed once already);
 *   - *.NotFound -> EC2_ERR_NOT_FOUND; anything else -> EC2_ERR_API.
 * Transport failures (DNS, TCP, TLS, timeouts, credentials) are EC2_ERR_TRANSPORT, with
 * ec2_error.transport saying which (unreachable, timeout, tls, credentials, request).
 *
 * The client is not thread-safe: one per thread.
 */
#ifndef EC2_H
#define EC2_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/ec2_xml.h"
#include "infra/infra_error.h"

struct aws_creds_provider; /* infra/aws_creds.h */
struct aws_http_options;   /* infra/aws_http.h */
struct aws_http_response;  /* infra/aws_http.h */
struct aws_form;           /* infra/aws_http.h */

#define EC2_API_VERSION "2016-11-15"
#define EC2_MAX_PAGES 1000

enum ec2_error_kind {
    EC2_OK = 0,
    EC2_ERR_TRANSPORT,  /* no HTTP answer (network, TLS, credentials), or a body too large */
    EC2_ERR_AUTH,       /* the request's authentication was refused */
    EC2_ERR_DENIED,     /* authenticated, but the IAM policy does not allow the action */
    EC2_ERR_THROTTLED,  /* still throttled after the transport's retries */
    EC2_ERR_NOT_FOUND,  /* the resource does not exist (in this account and region) */
    EC2_ERR_API,        /* any other EC2 error code */
    EC2_ERR_PARSE,      /* a response that is not the expected XML */
    EC2_ERR_CLOCK_SKEW, /* the request time was refused: the local clock is off */
};

struct ec2_error {
    enum ec2_error_kind kind;
    long http_status;        /* 0 when there was no HTTP answer */
    int attempts;            /* attempts the transport made */
    int transport;           /* EC2_ERR_TRANSPORT: an enum aws_http_failure (infra/aws_http.h) */
    long clock_skew_s;       /* the endpoint's clock minus ours, when its answer had a Date */
    char action[48];         /* "DescribeRouteTables" */
    char code[EC2_TEXT_MAX]; /* EC2 error code or "" */
    struct infra_error base; /* base.msg: the one-line message (no secrets) */
};

const char *ec2_error_kind_name(enum ec2_error_kind k); /* "auth", "denied", ... */

/*
 * The transport behind a client: send the form (Action=...&Version=... already in it),
 * fill resp (status, malloc'd body, body_len) on any HTTP answer and return true; false
 * (with err) when no answer arrived. aws_client_post_form has exactly this contract;
 * tests pass a fake that answers from fixture files.
 */
typedef bool (*ec2_send_fn)(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                            struct infra_error *err);

struct ec2;

/* A client over a new aws_client("ec2", region, endpoint, creds, opts); creds is borrowed
 * and must outlive the client. endpoint NULL/"" = the standard resolution. */
struct ec2 *ec2_new(const char *region, const char *endpoint, struct aws_creds_provider *creds,
                    const struct aws_http_options *opts, struct infra_error *err);
/* A client over any transport (tests). region is only used in messages. */
struct ec2 *ec2_new_with_transport(const char *region, ec2_send_fn send, void *ctx,
                                   struct infra_error *err);
void ec2_free(struct ec2 *c);
const char *ec2_region(const struct ec2 *c);
/* How many requests the client has sent (each page of a Describe call is one; the
 * transport's retries of one request are not counted again). */
unsigned long ec2_call_count(const struct ec2 *c);
/* The endpoint URL in use ("" for a custom transport). */
const char *ec2_endpoint(const struct ec2 *c);

/* A Describe filter: Filter.N.Name / Filter.N.Value.M. */
struct ec2_filter {
    const char *name;
    const char *const *values;
    size_t n_values;
};

/* DescribeVpcPeeringConnections (VpcPeeringConnectionId.N and/or filters; both may be
 * empty = every peering visible). Appends to *out. */
bool ec2_describe_peerings(struct ec2 *c, const char *const *ids, size_t n_ids,
                           const struct ec2_filter *filters, size_t n_filters,
                           struct ec2_peering_list *out, struct ec2_error *e) INFRA_MUST_CHECK;
/* One peering by id. A missing peering (NotFound, or an empty answer) returns true with
 * *found = false; other errors return false. */
bool ec2_describe_peering(struct ec2 *c, const char *id, struct ec2_peering *out, bool *found,
                          struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeRouteTables (RouteTableId.N and/or filters). Appends to *out. */
bool ec2_describe_route_tables(struct ec2 *c, const char *const *ids, size_t n_ids,
                               const struct ec2_filter *filters, size_t n_filters,
                               struct ec2_route_table_list *out,
                               struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeSecurityGroups (GroupId.N and/or filters). Appends to *out. */
bool ec2_describe_security_groups(struct ec2 *c, const char *const *ids, size_t n_ids,
                                  const struct ec2_filter *filters, size_t n_filters,
                                  struct ec2_sg_list *out, struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeNetworkInterfaces (NetworkInterfaceId.N and/or filters, e.g.
 * addresses.private-ip-address). Appends to *out. */
bool ec2_describe_network_interfaces(struct ec2 *c, const char *const *ids, size_t n_ids,
                                     const struct ec2_filter *filters, size_t n_filters,
                                     struct ec2_eni_list *out,
                                     struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeNetworkAcls (NetworkAclId.N and/or filters, e.g. vpc-id). Appends to *out. */
bool ec2_describe_network_acls(struct ec2 *c, const char *const *ids, size_t n_ids,
                               const struct ec2_filter *filters, size_t n_filters,
                               struct ec2_acl_list *out, struct ec2_error *e) INFRA_MUST_CHECK;
/* GetManagedPrefixListEntries of one prefix list (the action takes a single id). */
bool ec2_get_prefix_list_entries(struct ec2 *c, const char *prefix_list,
                                 struct ec2_prefix_entries *out,
                                 struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeTransitGatewayAttachments (filters, e.g. transit-gateway-id, resource-id). */
bool ec2_describe_tgw_attachments(struct ec2 *c, const struct ec2_filter *filters, size_t n_filters,
                                  struct ec2_tgw_attachment_list *out,
                                  struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeTransitGatewayVpcAttachments (filters, e.g. transit-gateway-attachment-id). */
bool ec2_describe_tgw_vpc_attachments(struct ec2 *c, const struct ec2_filter *filters,
                                      size_t n_filters, struct ec2_tgw_vpc_attachment_list *out,
                                      struct ec2_error *e) INFRA_MUST_CHECK;
/* DescribeSubnets (filters, e.g. vpc-id). */
bool ec2_describe_subnets(struct ec2 *c, const struct ec2_filter *filters, size_t n_filters,
                          struct ec2_subnet_list *out, struct ec2_error *e) INFRA_MUST_CHECK;
/* SearchTransitGatewayRoutes of one transit gateway route table: every route in state
 * active or blackhole (the API wants a filter; without MaxResults it answers up to 1000);
 * out->more says when the gateway held back some (additionalRoutesAvailable). */
bool ec2_search_tgw_routes(struct ec2 *c, const char *route_table, struct ec2_tgw_route_list *out,
                           struct ec2_error *e) INFRA_MUST_CHECK;
/* AcceptVpcPeeringConnection; *out (may be NULL) receives the peering as returned. */
bool ec2_accept_peering(struct ec2 *c, const char *id, struct ec2_peering *out,
                        struct ec2_error *e) INFRA_MUST_CHECK;
/* ModifyVpcPeeringConnectionOptions: set AllowDnsResolutionFromRemoteVpc=true on the
 * requester side and/or the accepter side (at least one). out may be NULL. */
bool ec2_enable_peering_dns(struct ec2 *c, const char *id, bool requester, bool accepter,
                            struct ec2_peering_options_result *out,
                            struct ec2_error *e) INFRA_MUST_CHECK;
/* CreateRoute destination_cidr (IPv4 or IPv6) -> VpcPeeringConnectionId pcx. */
bool ec2_create_route(struct ec2 *c, const char *route_table, const char *destination_cidr,
                      const char *pcx, struct ec2_error *e) INFRA_MUST_CHECK;

#endif
