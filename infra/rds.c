/*
 * rds.c: RDS Query API calls (see rds.h).
 *
 * Each call builds its form (Action, Version, parameters in the Query protocol's
 * flattened names), hands it to the transport (which already retried throttling and 5xx
 * with backoff) and turns a non-2xx answer into a struct rds_error. Describe calls loop on
 * <Marker>; a marker that repeats, or more than RDS_MAX_PAGES pages, stops the loop.
 */
#include "infra/rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_http.h"
#include "infra/aws_pages.h"
#include "infra/ec2_xml.h"

struct rds {
    rds_send_fn send;
    void *ctx;
    struct aws_client *client; /* owned; NULL with a custom transport */
    /* the transport failed (no endpoint, timeouts after the retries): every later call
     * fails at once with this message instead of waiting out the deadline again (a DSN
     * per database, each an RDS endpoint) */
    char unreachable[300];
};

static bool client_send(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                        struct infra_error *err)
{
    return aws_client_post_form(ctx, form, resp, err);
}

struct rds *rds_new_with_transport(rds_send_fn send, void *ctx, struct infra_error *err)
{
    struct rds *c = calloc(1, sizeof(*c));

    if (!c) {
        infra_error_set(err, "out of memory");
        return NULL;
    }
    c->send = send;
    c->ctx = ctx;
    return c;
}

struct rds *rds_new(const char *region, const char *endpoint, struct aws_creds_provider *creds,
                    const struct aws_http_options *opts, struct infra_error *err)
{
    struct aws_client *client = aws_client_new("rds", region, endpoint, creds, opts, err);
    struct rds *c;

    if (!client)
        return NULL;
    c = rds_new_with_transport(client_send, client, err);
    if (!c) {
        aws_client_free(client);
        return NULL;
    }
    c->client = client;
    return c;
}

void rds_free(struct rds *c)
{
    if (!c)
        return;
    aws_client_free(c->client);
    free(c);
}

/* Classify an error answer: a refusal names the IAM action, nothing else is trusted. */
static void error_from_response(const struct aws_http_response *resp, struct rds_error *e)
{
    struct ec2_api_error api;

    if (!ec2_xml_parse_error(resp->body, resp->body_len, &api)) {
        e->kind = RDS_ERR_OTHER;
        infra_error_set(&e->base, "%s: HTTP %ld from RDS without an error document", e->action,
                        resp->status);
        return;
    }
    switch (aws_error_classify(api.code)) {
    case AWS_ERR_DENIED:
        e->kind = RDS_ERR_DENIED;
        infra_error_set(&e->base,
                        "permission denied (%s): the IAM policy of these credentials does not "
                        "allow rds:%s",
                        api.code, e->action);
        return;
    case AWS_ERR_NOT_FOUND:
        e->kind = RDS_ERR_NOT_FOUND;
        break;
    default:
        /* RDS says DBClusterNotFoundFault / DBInstanceNotFound */
        e->kind = strstr(api.code, "NotFound") ? RDS_ERR_NOT_FOUND : RDS_ERR_OTHER;
        break;
    }
    infra_error_set(&e->base, "%s failed: %s: %s", e->action, api.code, api.message);
}

static bool call(struct rds *c, const struct aws_form *form, struct aws_http_response *resp,
                 struct rds_error *e)
{
    struct infra_error terr = {{0}};

    memset(resp, 0, sizeof(*resp));
    e->kind = RDS_ERR_OTHER;
    if (aws_form_failed(form)) {
        infra_error_set(&e->base, "%s: request too large or out of memory", e->action);
        return false;
    }
    if (c->unreachable[0]) {
        infra_error_set(&e->base, "%s: not tried: %s", e->action, c->unreachable);
        return false;
    }
    if (!c->send(c->ctx, form, resp, &terr)) {
        infra_error_set(&e->base, "%s: RDS API %s: %s", e->action,
                        aws_http_failure_name(resp->failure), terr.msg);
        snprintf(c->unreachable, sizeof(c->unreachable), "%s", e->base.msg);
        aws_http_response_free(resp);
        return false;
    }
    if (resp->status >= 200 && resp->status < 300 && resp->body) {
        e->kind = RDS_OK;
        return true;
    }
    error_from_response(resp, e);
    aws_http_response_free(resp);
    return false;
}

typedef bool (*page_parse_fn)(const char *buf, size_t len, void *list, struct infra_error *err);

struct describe {
    const char *action;
    const char *param, *value;   /* DBClusterIdentifier=id, or NULL */
    const char *param2, *value2; /* a second one, or NULL */
    const char *filter, *fvalue; /* Filters.Filter.1: db-cluster-id=..., or NULL */
    page_parse_fn parse;
    void *list;
    char **marker; /* the list's marker */
};

struct describe_call {
    struct rds *c;
    const struct describe *d;
    struct rds_error *e;
};

static bool describe_send(void *ctx, const char *next, struct aws_http_response *resp)
{
    struct describe_call *dc = ctx;
    const struct describe *d = dc->d;
    struct aws_form f;
    bool sent;

    aws_form_init(&f);
    aws_form_add(&f, "Action", d->action);
    aws_form_add(&f, "Version", RDS_API_VERSION);
    if (d->param)
        aws_form_add(&f, d->param, d->value);
    if (d->param2)
        aws_form_add(&f, d->param2, d->value2);
    if (d->filter) {
        aws_form_add(&f, "Filters.Filter.1.Name", d->filter);
        aws_form_add(&f, "Filters.Filter.1.Values.Value.1", d->fvalue);
    }
    if (next)
        aws_form_add(&f, "Marker", next);
    sent = call(dc->c, &f, resp, dc->e);
    aws_form_free(&f);
    return sent;
}

static bool describe_all(struct rds *c, const struct describe *d, struct rds_error *e)
{
    struct describe_call dc = {c, d, e};
    const struct aws_pages pages = {.action = d->action,
                                    .service = "RDS",
                                    .token = "Marker",
                                    .max_pages = RDS_MAX_PAGES,
                                    .send = describe_send,
                                    .parse = d->parse,
                                    .ctx = &dc,
                                    .list = d->list,
                                    .next = d->marker};
    enum aws_pages_stop stop;

    memset(e, 0, sizeof(*e));
    snprintf(e->action, sizeof(e->action), "%s", d->action);
    stop = aws_pages_fetch(&pages, &e->base);
    if (stop == AWS_PAGES_DONE)
        return true;
    if (stop != AWS_PAGES_SEND_FAILED)
        e->kind = RDS_ERR_OTHER;
    return false;
}

static bool parse_clusters(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return rds_xml_parse_clusters(buf, len, list, err);
}

static bool parse_cluster_endpoints(const char *buf, size_t len, void *list,
                                    struct infra_error *err)
{
    return rds_xml_parse_cluster_endpoints(buf, len, list, err);
}

static bool parse_instances(const char *buf, size_t len, void *list, struct infra_error *err)
{
    return rds_xml_parse_instances(buf, len, list, err);
}

bool rds_describe_clusters(struct rds *c, const char *id, struct rds_cluster_list *out,
                           struct rds_error *e)
{
    const struct describe d = {.action = "DescribeDBClusters",
                               .param = id ? "DBClusterIdentifier" : NULL,
                               .value = id,
                               .parse = parse_clusters,
                               .list = out,
                               .marker = &out->marker};

    return describe_all(c, &d, e);
}

bool rds_describe_cluster_endpoints(struct rds *c, const char *cluster, const char *id,
                                    struct rds_cluster_endpoint_list *out, struct rds_error *e)
{
    const struct describe d = {.action = "DescribeDBClusterEndpoints",
                               .param = "DBClusterIdentifier",
                               .value = cluster,
                               .param2 = "DBClusterEndpointIdentifier",
                               .value2 = id,
                               .parse = parse_cluster_endpoints,
                               .list = out,
                               .marker = &out->marker};

    return describe_all(c, &d, e);
}

bool rds_describe_instances(struct rds *c, const char *id, const char *cluster,
                            struct rds_instance_list *out, struct rds_error *e)
{
    const struct describe d = {.action = "DescribeDBInstances",
                               .param = id ? "DBInstanceIdentifier" : NULL,
                               .value = id,
                               .filter = cluster ? "db-cluster-id" : NULL,
                               .fvalue = cluster,
                               .parse = parse_instances,
                               .list = out,
                               .marker = &out->marker};

    return describe_all(c, &d, e);
}
