/*
 * aws_metadata.c: the job's identity from ECS task metadata v4 or IMDSv2 (see
 * aws_metadata.h).
 *
 * Every answer is checked before it is used: an address must parse as IPv4, ids must look
 * like AWS ids (prefix, then [0-9a-f]), so a captive portal or a proxy error page never
 * becomes "the job's subnet".
 */
#include "infra/aws_metadata.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "infra/aws_http.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static bool is_ipv4(const char *s)
{
    struct in_addr a;

    return s && inet_pton(AF_INET, s, &a) == 1;
}

/* "subnet-0abc..." and the like: the prefix, then 8 to 17 lowercase hex digits. */
static bool is_aws_id(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);

    if (n <= p || n - p < 8 || n - p > 17 || strncmp(s, prefix, p) != 0)
        return false;
    for (size_t i = p; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

/* "0a:1b:2c:3d:4e:5f" */
static bool is_mac(const char *s)
{
    if (!s || strlen(s) != 17)
        return false;
    for (size_t i = 0; i < 17; i++)
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* A MAC into out, lowercase (as EC2 writes macAddress). */
static void set_mac(char *out, size_t size, const char *mac)
{
    size_t i;

    for (i = 0; mac[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)mac[i]);
    out[i] = '\0';
}

static struct aws_http_options metadata_options(void)
{
    struct aws_http_options o;

    /* botocore's defaults (metadata_service_timeout 1 s, num_attempts 1): an IMDS whose
     * answers never come back (a container behind an IMDSv2 hop limit of 1) costs one
     * second, not the four it did, before the path analysis says the job is unknown */
    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = 1000;
    o.total_timeout_ms = 1000;
    o.max_attempts = 1;
    return o;
}

/* GET/PUT url; the body when the answer is 200 (caller frees), else NULL with err. */
static char *fetch(const char *method, const char *url, const char *const *hdrs, size_t nh,
                   const char *what, struct infra_error *err)
{
    struct aws_http_options o = metadata_options();
    struct aws_http_request req;
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = hdrs;
    req.n_headers = nh;
    req.policy = AWS_URL_METADATA;
    if (!aws_http_send(&req, &o, &resp, &e)) {
        infra_error_set(err, "%s: %s", what, e.msg);
        return NULL;
    }
    if (resp.status != 200 || !resp.body) {
        infra_error_set(err, "%s answered HTTP %ld", what, resp.status);
        aws_http_response_free(&resp);
        return NULL;
    }
    free(resp.headers); /* only the body is handed over */
    return resp.body;
}

/* ---- ECS task metadata v4 ---- */

/* The first container network in awsvpc mode with an IPv4 address; its MAC from any
 * network with that address (Fargate lists it on the pause container's network only). */
static bool first_awsvpc_ip(json_t *containers, struct aws_job_identity *out, bool *other_mode)
{
    size_t i, j;
    json_t *ct, *net;

    json_array_foreach(containers, i, ct)
    {
        json_array_foreach(json_object_get(ct, "Networks"), j, net)
        {
            const char *mode = json_string_value(json_object_get(net, "NetworkMode"));
            const char *ip =
                json_string_value(json_array_get(json_object_get(net, "IPv4Addresses"), 0));
            const char *mac = json_string_value(json_object_get(net, "MACAddress"));
            if (mode && strcmp(mode, "awsvpc") != 0) {
                *other_mode = true;
                continue;
            }
            if (!is_ipv4(ip) || (out->ip[0] && strcmp(out->ip, ip) != 0))
                continue;
            snprintf(out->ip, sizeof(out->ip), "%s", ip);
            if (is_mac(mac) && !out->mac[0])
                set_mac(out->mac, sizeof(out->mac), mac);
        }
    }
    return out->ip[0] != '\0';
}

bool aws_metadata_parse_ecs_task(const char *json, size_t len, struct aws_job_identity *out,
                                 struct infra_error *err)
{
    json_error_t je;
    json_t *doc = json_loadb(json, len, 0, &je);
    bool other_mode = false, ok;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc)) {
        infra_error_set(err, "ECS task metadata is not a JSON object");
        json_decref(doc);
        return false;
    }
    ok = first_awsvpc_ip(json_object_get(doc, "Containers"), out, &other_mode);
    json_decref(doc);
    if (!ok) {
        infra_error_set(err, other_mode ? "ECS task metadata: the task is not in awsvpc mode (it "
                                          "uses the instance's interface)"
                                        : "ECS task metadata lists no container IPv4 address");
        return false;
    }
    snprintf(out->source, sizeof(out->source), "ECS task metadata v4");
    return true;
}

static bool from_ecs(struct aws_job_identity *out, struct infra_error *err)
{
    const char *base = env("ECS_CONTAINER_METADATA_URI_V4");
    char url[AWS_URL_MAX];
    char *body;
    size_t n;
    bool ok;

    if (!base) {
        infra_error_set(err, "no ECS_CONTAINER_METADATA_URI_V4");
        return false;
    }
    n = strcspn(base, "?#");
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n > 1000) {
        infra_error_set(err, "ECS_CONTAINER_METADATA_URI_V4 is too long");
        return false;
    }
    snprintf(url, sizeof(url), "%.*s/task", (int)n, base);
    body = fetch("GET", url, NULL, 0, "ECS task metadata", err);
    if (!body)
        return false;
    ok = aws_metadata_parse_ecs_task(body, strlen(body), out, err);
    free(body);
    return ok;
}

/* ---- IMDSv2 ---- */

struct imds {
    char base[1024];
    char tokhdr[256];
    const char *hdrs[1];
};

/* GET /latest/meta-data/<path> into buf (first line, trimmed). */
static bool imds_get(struct imds *m, const char *path, char *buf, size_t size, bool whole,
                     struct infra_error *err)
{
    char url[AWS_URL_MAX];
    char *body;
    size_t n;

    snprintf(url, sizeof(url), "%s/latest/meta-data/%s", m->base, path);
    body = fetch("GET", url, m->hdrs, 1, "instance metadata", err);
    if (!body)
        return false;
    n = whole ? strlen(body) : strcspn(body, "\r\n");
    while (n > 0 && isspace((unsigned char)body[n - 1]))
        n--;
    if (n >= size) {
        infra_error_set(err, "instance metadata: %s is too long", path);
        free(body);
        return false;
    }
    memcpy(buf, body, n);
    buf[n] = '\0';
    free(body);
    return true;
}

static bool imds_token(struct imds *m, struct infra_error *err)
{
    static const char *const ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
    char url[AWS_URL_MAX];
    char *tok;
    size_t n;

    snprintf(url, sizeof(url), "%s/latest/api/token", m->base);
    tok = fetch("PUT", url, ttl, 1, "instance metadata (IMDSv2)", err);
    if (!tok)
        return false;
    n = strlen(tok);
    if (n == 0 || n > 200 || strpbrk(tok, "\r\n")) {
        infra_error_set(err, "instance metadata: no usable session token");
        OPENSSL_cleanse(tok, n);
        free(tok);
        return false;
    }
    snprintf(m->tokhdr, sizeof(m->tokhdr), "X-aws-ec2-metadata-token: %s", tok);
    OPENSSL_cleanse(tok, n);
    free(tok);
    m->hdrs[0] = m->tokhdr;
    return true;
}

/* security-group-ids: one id a line */
static void imds_groups(const char *text, struct aws_job_identity *out)
{
    while (*text && out->n_groups < AWS_METADATA_GROUPS_MAX) {
        size_t n = strcspn(text, "\r\n");
        if (is_aws_id(text, n, "sg-")) {
            memcpy(out->groups[out->n_groups], text, n);
            out->groups[out->n_groups++][n] = '\0';
        }
        text += n;
        text += strspn(text, "\r\n");
    }
}

static bool imds_identity(struct imds *m, struct aws_job_identity *out, struct infra_error *err)
{
    char mac[64], path[160], val[1024];

    if (!imds_get(m, "local-ipv4", out->ip, sizeof(out->ip), false, err))
        return false;
    if (!is_ipv4(out->ip)) {
        infra_error_set(err, "instance metadata: local-ipv4 is not an IPv4 address");
        out->ip[0] = '\0';
        return false;
    }
    snprintf(out->source, sizeof(out->source), "IMDSv2");
    /* the rest refines the identity; the address alone is enough to go on */
    if (!imds_get(m, "mac", mac, sizeof(mac), false, err) || !is_mac(mac))
        return true;
    set_mac(out->mac, sizeof(out->mac), mac);
    snprintf(path, sizeof(path), "network/interfaces/macs/%s/interface-id", mac);
    if (imds_get(m, path, val, sizeof(val), false, err) && is_aws_id(val, strlen(val), "eni-"))
        snprintf(out->eni, sizeof(out->eni), "%s", val);
    snprintf(path, sizeof(path), "network/interfaces/macs/%s/subnet-id", mac);
    if (imds_get(m, path, val, sizeof(val), false, err) && is_aws_id(val, strlen(val), "subnet-"))
        snprintf(out->subnet, sizeof(out->subnet), "%s", val);
    snprintf(path, sizeof(path), "network/interfaces/macs/%s/vpc-id", mac);
    if (imds_get(m, path, val, sizeof(val), false, err) && is_aws_id(val, strlen(val), "vpc-"))
        snprintf(out->vpc, sizeof(out->vpc), "%s", val);
    snprintf(path, sizeof(path), "network/interfaces/macs/%s/security-group-ids", mac);
    if (imds_get(m, path, val, sizeof(val), true, err))
        imds_groups(val, out);
    return true;
}

static bool from_imds(struct aws_job_identity *out, struct infra_error *err)
{
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    struct imds m;
    size_t n;
    bool ok;

    if (dis && strcasecmp(dis, "true") == 0) {
        infra_error_set(err, "IMDSv2 disabled (AWS_EC2_METADATA_DISABLED)");
        return false;
    }
    if (!base)
        base = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    memset(&m, 0, sizeof(m));
    if (n >= sizeof(m.base)) {
        infra_error_set(err, "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
        return false;
    }
    memcpy(m.base, base, n);
    ok = imds_token(&m, err) && imds_identity(&m, out, err);
    OPENSSL_cleanse(m.tokhdr, sizeof(m.tokhdr));
    return ok;
}

bool aws_metadata_job_identity(struct aws_job_identity *out, struct infra_error *err)
{
    struct infra_error ecs = {{0}}, imds = {{0}};

    memset(out, 0, sizeof(*out));
    if (from_ecs(out, &ecs))
        return true;
    memset(out, 0, sizeof(*out));
    if (from_imds(out, &imds))
        return true;
    memset(out, 0, sizeof(*out));
    infra_error_set(err, "%s; %s", ecs.msg, imds.msg);
    return false;
}
