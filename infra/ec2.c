/*
 * ec2.c: EC2 Query API calls (see ec2.h).
 *
 * Every call builds its form (Action, Version, parameters flattened as Name.N), hands it
 * to the transport, and turns a non-2xx answer into a struct ec2_error. The transport
 * already retried throttling and 5xx with backoff, so what reaches us is final.
 * Describe calls loop on <nextToken>; a token that repeats, or more than EC2_MAX_PAGES
 * pages, stops the loop with an error rather than spinning.
 */
#include "infra/ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_http.h"
#include "infra/aws_pages.h"
#include "infra/aws_retry.h"

struct ec2 {
    char region[EC2_ID_MAX];
    ec2_send_fn send;
    void *ctx;
    struct aws_client *client; /* owned; NULL with a custom transport */
    unsigned long calls;       /* requests handed to the transport */
};

static bool client_send(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                        struct infra_error *err)
{
    return aws_client_post_form(ctx, form, resp, err);
}

struct ec2 *ec2_new_with_transport(const char *region, ec2_send_fn send, void *ctx,
                                   struct infra_error *err)
{
    struct ec2 *c = calloc(1, sizeof(*c));

    if (!c) {
        infra_error_set(err, "out of memory");
        return NULL;
    }
    snprintf(c->region, sizeof(c->region), "%s", region ? region : "");
    c->send = send;
    c->ctx = ctx;
    return c;
}

struct ec2 *ec2_new(const char *region, const char *endpoint, struct aws_creds_provider *creds,
                    const struct aws_http_options *opts, struct infra_error *err)
{
    struct aws_client *client = aws_client_new("ec2", region, endpoint, creds, opts, err);
    struct ec2 *c;

    if (!client)
        return NULL;
    c = ec2_new_with_transport(region, client_send, client, err);
    if (!c) {
        aws_client_free(client);
        return NULL;
    }
    c->client = client;
    return c;
}

void ec2_free(struct ec2 *c)
{
    if (!c)
        return;
    aws_client_free(c->client);
    free(c);
}

const char *ec2_region(const struct ec2 *c)
{
    return c->region;
}

unsigned long ec2_call_count(const struct ec2 *c)
{
    return c ? c->calls : 0;
}

const char *ec2_endpoint(const struct ec2 *c)
{
    return c->client ? aws_client_endpoint(c->client) : "";
}

const char *ec2_error_kind_name(enum ec2_error_kind k)
{
    switch (k) {
    case EC2_OK:
        return "ok";
    case EC2_ERR_TRANSPORT:
        return "transport";
    case EC2_ERR_AUTH:
        return "auth";
    case EC2_ERR_DENIED:
        return "denied";
    case EC2_ERR_THROTTLED:
        return "throttled";
    case EC2_ERR_NOT_FOUND:
        return "not-found";
    case EC2_ERR_API:
        return "api";
    case EC2_ERR_PARSE:
        return "parse";
    case EC2_ERR_CLOCK_SKEW:
        return "clock-skew";
    }
    return "?";
}

static void error_begin(struct ec2_error *e, const char *action)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->action, sizeof(e->action), "%s", action);
}

/* Classify an EC2 error answer and write the operator's message. */
static void error_from_response(const struct aws_http_response *resp, struct ec2_error *e)
{
    struct ec2_api_error api;
    const char *act = e->action;

    e->http_status = resp->status;
    e->attempts = resp->attempts;
    e->clock_skew_s = resp->clock_skew_s;
    if (!ec2_xml_parse_error(resp->body, resp->body_len, &api)) {
        e->kind = resp->status == 503 || resp->status == 429   ? EC2_ERR_THROTTLED
                  : resp->status == 401 || resp->status == 403 ? EC2_ERR_AUTH
                                                               : EC2_ERR_API;
        infra_error_set(&e->base, "%s: HTTP %ld from EC2 without an EC2 error document", act,
                        resp->status);
        return;
    }
    snprintf(e->code, sizeof(e->code), "%s", api.code);
    if (strcmp(api.code, "RequestExpired") == 0 ||
        (aws_retry_is_skew_code(api.code) &&
         (resp->clock_corrected || labs(resp->clock_skew_s) >= AWS_CLOCK_SKEW_MIN_S))) {
        e->kind = EC2_ERR_CLOCK_SKEW;
        infra_error_set(&e->base,
                        "clock skew: EC2 refused the request time of %s (%s); its clock is %+ld s "
                        "from ours%s; check the system clock (NTP)",
                        act, api.code, resp->clock_skew_s,
                        resp->clock_corrected ? ", still refused after re-signing with its time"
                                              : "");
        return;
    }
    switch (aws_error_classify(api.code)) {
    case AWS_ERR_AUTH:
        e->kind = EC2_ERR_AUTH;
        infra_error_set(&e->base, "authentication failure calling %s (%s): %s", act, api.code,
                        api.message);
        break;
    case AWS_ERR_DENIED:
        e->kind = EC2_ERR_DENIED;
        infra_error_set(&e->base,
                        "permission denied (%s): the IAM policy of these credentials does not "
                        "allow ec2:%s",
                        api.code, act);
        break;
    case AWS_ERR_THROTTLE:
        e->kind = EC2_ERR_THROTTLED;
        infra_error_set(&e->base, "%s throttled by EC2 (%s) after %d attempt(s)%s%s", act, api.code,
                        resp->attempts, resp->gave_up ? "; gave up: " : "",
                        resp->gave_up ? resp->gave_up : "");
        break;
    case AWS_ERR_NOT_FOUND:
        e->kind = EC2_ERR_NOT_FOUND;
        infra_error_set(&e->base, "%s: %s (%s)", act, api.message, api.code);
        break;
    case AWS_ERR_OTHER:
    default:
        e->kind = EC2_ERR_API;
        infra_error_set(&e->base, "%s failed: %s: %s", act, api.code, api.message);
        break;
    }
}

/* Send form; true on a 2xx answer (resp filled, caller frees); false with *e otherwise. */
static bool call(struct ec2 *c, const struct aws_form *form, struct aws_http_response *resp,
                 struct ec2_error *e)
{
    struct infra_error terr = {{0}};

    memset(resp, 0, sizeof(*resp));
    if (aws_form_failed(form)) {
        e->kind = EC2_ERR_TRANSPORT;
        infra_error_set(&e->base, "%s: request too large or out of memory", e->action);
        return false;
    }
    c->calls++;
    if (!c->send(c->ctx, form, resp, &terr)) {
        e->kind = EC2_ERR_TRANSPORT;
        e->transport = resp->failure;
        e->attempts = resp->attempts;
        infra_error_set(&e->base, "%s: EC2 API %s: %s", e->action,
                        aws_http_failure_name(resp->failure), terr.msg);
        aws_http_response_free(resp);
        return false;
    }
    e->http_status = resp->status;
    if (resp->status >= 200 && resp->status < 300 && resp->body)
        return true;
    error_from_response(resp, e);
    aws_http_response_free(resp);
    return false;
}

static void form_start(struct aws_form *f, const char *action)
{
    aws_form_init(f);
    aws_form_add(f, "Action", action);
    aws_form_add(f, "Version", EC2_API_VERSION);
}

/* ---- describe with pagination ---- */

typedef bool (*page_parse_fn)(const char *buf, size_t len, void *list, struct infra_error *err);
typedef char **(*page_token_fn)(void *list);

struct describe {
    const char *action;
    const char *id_param; /* "VpcPeeringConnectionId" */
    /* single-valued parameters (GetManagedPrefixListEntries' PrefixListId) or NULL */
    const char *single_name, *single_value;
    const char *single2_name, *single2_value;
    const char *const *ids;
    size_t n_ids;
    const struct ec2_filter *filters;
    size_t n_filters;
    page_parse_fn parse;
    page_token_fn token;
    void *list;
};

static void describe_form(struct aws_form *f, const struct describe *d, const char *next)
{
    form_start(f, d->action);
    if (d->single_name)
        aws_form_add(f, d->single_name, d->single_value);
    if (d->single2_name)
        aws_form_add(f, d->single2_name, d->single2_value);
    for (size_t i = 0; i < d->n_ids; i++)
        aws_form_addk(f, d->ids[i], "%s.%zu", d->id_param, i + 1);
    for (size_t i = 0; i < d->n_filters; i++) {
        aws_form_addk(f, d->filters[i].name, "Filter.%zu.Name", i + 1);
        for (size_t j = 0; j < d->filters[i].n_values; j++)
            aws_form_addk(f, d->filters[i].values[j], "Filter.%zu.Value.%zu", i + 1, j + 1);
    }
    if (next)
        aws_form_add(f, "NextToken", next);
}

struct describe_call {
    struct ec2 *c;
    const struct describe *d;
    struct ec2_error *e;
};

static bool describe_send(void *ctx, const char *next, struct aws_http_response *resp)
{
    struct describe_call *dc = ctx;
    struct aws_form f;
    bool sent;

    describe_form(&f, dc->d, next);
    sent = call(dc->c, &f, resp, dc->e);
    aws_form_free(&f);
    return sent;
}

static bool describe_all(struct ec2 *c, const struct describe *d, struct ec2_error *e)
{
    struct describe_call dc = {c, d, e};
    const struct aws_pages pages = {.action = d->action,
                                    .service = "EC2",
                                    .token = "NextToken",
                                    .max_pages = EC2_MAX_PAGES,
                                    .send = describe_send,
                                    .parse = d->parse,
                                    .ctx = &dc,
                                    .list = d->list,
                                    .next = d->token(d->list)};

    error_begin(e, d->action);
    switch (aws_pages_fetch(&pages, &e->base)) {
    case AWS_PAGES_DONE:
        return true;
    case AWS_PAGES_SEND_FAILED:
        break;
    case AWS_PAGES_BAD_PAGE:
        e->kind = EC2_ERR_PARSE;
        break;
    case AWS_PAGES_NO_MEMORY:
        e->kind = EC2_ERR_TRANSPORT;
        break;
    }
    return false;
}

static bool parse_peering_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_peerings(buf, len, list, err);
}

static char **peering_token(void *list)
{
    return &((struct ec2_peering_list *)list)->next_token;
}

static bool parse_rtb_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_route_tables(buf, len, list, err);
}

static char **rtb_token(void *list)
{
    return &((struct ec2_route_table_list *)list)->next_token;
}

static bool parse_sg_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_security_groups(buf, len, list, err);
}

static char **sg_token(void *list)
{
    return &((struct ec2_sg_list *)list)->next_token;
}

bool ec2_describe_peerings(struct ec2 *c, const char *const *ids, size_t n_ids,
                           const struct ec2_filter *filters, size_t n_filters,
                           struct ec2_peering_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeVpcPeeringConnections",
                               .id_param = "VpcPeeringConnectionId",
                               .ids = ids,
                               .n_ids = n_ids,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_peering_page,
                               .token = peering_token,
                               .list = out};
    return describe_all(c, &d, e);
}

bool ec2_describe_peering(struct ec2 *c, const char *id, struct ec2_peering *out, bool *found,
                          struct ec2_error *e)
{
    struct ec2_peering_list l = {0};
    const char *ids[1] = {id};

    *found = false;
    memset(out, 0, sizeof(*out));
    if (!ec2_describe_peerings(c, ids, 1, NULL, 0, &l, e)) {
        ec2_peering_list_free(&l);
        if (e->kind != EC2_ERR_NOT_FOUND)
            return false;
        return true;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.items[i].id, id) == 0) {
            *out = l.items[i];
            *found = true;
            break;
        }
    }
    ec2_peering_list_free(&l);
    if (!*found) {
        e->kind = EC2_ERR_NOT_FOUND;
        infra_error_set(&e->base, "DescribeVpcPeeringConnections: peering %s not found", id);
    }
    return true;
}

bool ec2_describe_route_tables(struct ec2 *c, const char *const *ids, size_t n_ids,
                               const struct ec2_filter *filters, size_t n_filters,
                               struct ec2_route_table_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeRouteTables",
                               .id_param = "RouteTableId",
                               .ids = ids,
                               .n_ids = n_ids,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_rtb_page,
                               .token = rtb_token,
                               .list = out};
    return describe_all(c, &d, e);
}

bool ec2_describe_security_groups(struct ec2 *c, const char *const *ids, size_t n_ids,
                                  const struct ec2_filter *filters, size_t n_filters,
                                  struct ec2_sg_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeSecurityGroups",
                               .id_param = "GroupId",
                               .ids = ids,
                               .n_ids = n_ids,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_sg_page,
                               .token = sg_token,
                               .list = out};
    return describe_all(c, &d, e);
}

static bool parse_eni_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_network_interfaces(buf, len, list, err);
}

static char **eni_token(void *list)
{
    return &((struct ec2_eni_list *)list)->next_token;
}

static bool parse_acl_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_network_acls(buf, len, list, err);
}

static char **acl_token(void *list)
{
    return &((struct ec2_acl_list *)list)->next_token;
}

static bool parse_pl_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_prefix_entries(buf, len, list, err);
}

static char **pl_token(void *list)
{
    return &((struct ec2_prefix_entries *)list)->next_token;
}

static bool parse_tgw_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_tgw_attachments(buf, len, list, err);
}

static char **tgw_token(void *list)
{
    return &((struct ec2_tgw_attachment_list *)list)->next_token;
}

bool ec2_describe_network_interfaces(struct ec2 *c, const char *const *ids, size_t n_ids,
                                     const struct ec2_filter *filters, size_t n_filters,
                                     struct ec2_eni_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeNetworkInterfaces",
                               .id_param = "NetworkInterfaceId",
                               .ids = ids,
                               .n_ids = n_ids,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_eni_page,
                               .token = eni_token,
                               .list = out};
    return describe_all(c, &d, e);
}

bool ec2_describe_network_acls(struct ec2 *c, const char *const *ids, size_t n_ids,
                               const struct ec2_filter *filters, size_t n_filters,
                               struct ec2_acl_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeNetworkAcls",
                               .id_param = "NetworkAclId",
                               .ids = ids,
                               .n_ids = n_ids,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_acl_page,
                               .token = acl_token,
                               .list = out};
    return describe_all(c, &d, e);
}

bool ec2_get_prefix_list_entries(struct ec2 *c, const char *prefix_list,
                                 struct ec2_prefix_entries *out, struct ec2_error *e)
{
    const struct describe d = {.action = "GetManagedPrefixListEntries",
                               .single_name = "PrefixListId",
                               .single_value = prefix_list,
                               .id_param = NULL,
                               .ids = NULL,
                               .n_ids = 0,
                               .filters = NULL,
                               .n_filters = 0,
                               .parse = parse_pl_page,
                               .token = pl_token,
                               .list = out};
    return describe_all(c, &d, e);
}

bool ec2_describe_tgw_attachments(struct ec2 *c, const struct ec2_filter *filters, size_t n_filters,
                                  struct ec2_tgw_attachment_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeTransitGatewayAttachments",
                               .id_param = "TransitGatewayAttachmentIds",
                               .ids = NULL,
                               .n_ids = 0,
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_tgw_page,
                               .token = tgw_token,
                               .list = out};
    return describe_all(c, &d, e);
}

static bool parse_tgw_vpc_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_tgw_vpc_attachments(buf, len, list, err);
}

static char **tgw_vpc_token(void *list)
{
    return &((struct ec2_tgw_vpc_attachment_list *)list)->next_token;
}

bool ec2_describe_tgw_vpc_attachments(struct ec2 *c, const struct ec2_filter *filters,
                                      size_t n_filters, struct ec2_tgw_vpc_attachment_list *out,
                                      struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeTransitGatewayVpcAttachments",
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_tgw_vpc_page,
                               .token = tgw_vpc_token,
                               .list = out};
    return describe_all(c, &d, e);
}

static bool parse_subnet_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_subnets(buf, len, list, err);
}

static char **subnet_token(void *list)
{
    return &((struct ec2_subnet_list *)list)->next_token;
}

bool ec2_describe_subnets(struct ec2 *c, const struct ec2_filter *filters, size_t n_filters,
                          struct ec2_subnet_list *out, struct ec2_error *e)
{
    const struct describe d = {.action = "DescribeSubnets",
                               .filters = filters,
                               .n_filters = n_filters,
                               .parse = parse_subnet_page,
                               .token = subnet_token,
                               .list = out};
    return describe_all(c, &d, e);
}

static bool parse_tgw_route_page(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return ec2_xml_parse_tgw_routes(buf, len, list, err);
}

static char **tgw_route_token(void *list)
{
    return &((struct ec2_tgw_route_list *)list)->next_token;
}

bool ec2_search_tgw_routes(struct ec2 *c, const char *route_table, struct ec2_tgw_route_list *out,
                           struct ec2_error *e)
{
    static const char *const states[] = {"active", "blackhole"};
    const struct ec2_filter state = {"state", states, 2};
    const struct describe d = {.action = "SearchTransitGatewayRoutes",
                               .single_name = "TransitGatewayRouteTableId",
                               .single_value = route_table,
                               .filters = &state,
                               .n_filters = 1,
                               .parse = parse_tgw_route_page,
                               .token = tgw_route_token,
                               .list = out};
    return describe_all(c, &d, e);
}

/* ---- mutating calls ---- */

/* Send f (freed here) and hand the 2xx body to the caller in resp. */
static bool send_form(struct ec2 *c, struct aws_form *f, struct aws_http_response *resp,
                      struct ec2_error *e)
{
    bool ok = call(c, f, resp, e);

    aws_form_free(f);
    return ok;
}

static bool parse_failed(struct ec2_error *e, const struct infra_error *perr)
{
    e->kind = EC2_ERR_PARSE;
    infra_error_set(&e->base, "%s: %s", e->action, perr->msg);
    return false;
}

bool ec2_accept_peering(struct ec2 *c, const char *id, struct ec2_peering *out, struct ec2_error *e)
{
    struct aws_form f;
    struct aws_http_response resp;
    struct infra_error perr = {{0}};
    struct ec2_peering tmp;
    bool ok;

    error_begin(e, "AcceptVpcPeeringConnection");
    form_start(&f, e->action);
    aws_form_add(&f, "VpcPeeringConnectionId", id);
    if (!send_form(c, &f, &resp, e))
        return false;
    ok = ec2_xml_parse_accept_peering(resp.body, resp.body_len, out ? out : &tmp, &perr);
    aws_http_response_free(&resp);
    return ok || parse_failed(e, &perr);
}

bool ec2_enable_peering_dns(struct ec2 *c, const char *id, bool requester, bool accepter,
                            struct ec2_peering_options_result *out, struct ec2_error *e)
{
    struct aws_form f;
    struct aws_http_response resp;
    struct infra_error perr = {{0}};
    struct ec2_peering_options_result tmp;
    bool ok;

    error_begin(e, "ModifyVpcPeeringConnectionOptions");
    if (!requester && !accepter) {
        e->kind = EC2_ERR_API;
        infra_error_set(&e->base, "%s: no side to enable", e->action);
        return false;
    }
    form_start(&f, e->action);
    aws_form_add(&f, "VpcPeeringConnectionId", id);
    if (requester)
        aws_form_add(&f, "RequesterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc",
                     "true");
    if (accepter)
        aws_form_add(&f, "AccepterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc",
                     "true");
    if (!send_form(c, &f, &resp, e))
        return false;
    ok = ec2_xml_parse_peering_options(resp.body, resp.body_len, out ? out : &tmp, &perr);
    aws_http_response_free(&resp);
    return ok || parse_failed(e, &perr);
}

bool ec2_create_route(struct ec2 *c, const char *route_table, const char *destination_cidr,
                      const char *pcx, struct ec2_error *e)
{
    struct aws_form f;
    struct aws_http_response resp;
    struct infra_error perr = {{0}};
    bool ok, ret = false;

    error_begin(e, "CreateRoute");
    form_start(&f, e->action);
    aws_form_add(&f, "RouteTableId", route_table);
    aws_form_add(
        &f, strchr(destination_cidr, ':') ? "DestinationIpv6CidrBlock" : "DestinationCidrBlock",
        destination_cidr);
    aws_form_add(&f, "VpcPeeringConnectionId", pcx);
    if (!send_form(c, &f, &resp, e))
        return false;
    ok = ec2_xml_parse_return(resp.body, resp.body_len, "CreateRoute", &ret, &perr);
    aws_http_response_free(&resp);
    if (!ok)
        return parse_failed(e, &perr);
    if (!ret) {
        e->kind = EC2_ERR_API;
        infra_error_set(&e->base, "CreateRoute returned false for %s %s", route_table,
                        destination_cidr);
        return false;
    }
    return true;
}
