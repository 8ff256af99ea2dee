/*
 * aws_http.c: the libcurl transport for AWS calls, see aws_http.h.
 *
 * One easy handle per attempt keeps each attempt independent (fresh connection after a
 * reset, fresh signature). TLS verification is never turned off: CURLOPT_SSL_VERIFYPEER
 * and VERIFYHOST are set explicitly; only http and https are allowed, redirects are not
 * followed (an AWS endpoint does not redirect a Query API call; following one could send
 * a signed request elsewhere). The URL policy is checked before every request with
 * libcurl's URL parser, so the host that is checked is the host that is contacted.
 */
#include "infra/aws_http.h"
#include "infra/cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "infra/aws_creds.h"
#include "infra/aws_profile.h"
#include "infra/aws_retry.h"
#include "infra/sigv4.h"

#define FORM_MAX (256u * 1024u)
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* ---- global ---- */

bool aws_http_global_init(struct infra_error *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        infra_error_set(err, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
        return false;
    }
    xmlInitParser();
    return true;
}

void aws_http_global_cleanup(void)
{
    curl_global_cleanup();
}

void aws_http_response_free(struct aws_http_response *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

/* ---- URL policy ---- */

struct url_parts {
    char scheme[8];
    char host[256];     /* without IPv6 brackets */
    char host_hdr[300]; /* Host header: as in the URL, with ":port" when one was given */
    char path[1024];    /* "/" when empty */
};

static bool host_is_metadata(const char *host)
{
    static const char *const v4[] = {"169.254.169.254", "169.254.170.2", "169.254.170.23"};
    static const char *const v6[] = {"fd00:ec2::254", "fd00:ec2::23"};
    struct in_addr a4, b4;
    struct in6_addr a6, b6;

    if (inet_pton(AF_INET, host, &a4) == 1) {
        for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
            if (inet_pton(AF_INET, v4[i], &b4) == 1 && a4.s_addr == b4.s_addr)
                return true;
        return false;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
            if (inet_pton(AF_INET6, v6[i], &b6) == 1 && memcmp(&a6, &b6, sizeof(a6)) == 0)
                return true;
    }
    return false;
}

static bool copy_part(CURLU *u, CURLUPart part, char *out, size_t outsz, bool required)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    bool ok;

    if (rc != CURLUE_OK) {
        out[0] = '\0';
        return !required;
    }
    ok = strlen(v) < outsz;
    if (ok)
        memcpy(out, v, strlen(v) + 1);
    curl_free(v);
    return ok;
}

static bool has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;

    if (curl_url_get(u, part, &v, 0) != CURLUE_OK)
        return false;
    curl_free(v);
    return true;
}

static bool url_split(const char *url, struct url_parts *p, struct infra_error *err)
{
    CURLU *u;
    char port[16];
    bool ok = false;

    memset(p, 0, sizeof(*p));
    if (!url || !*url || strlen(url) >= AWS_URL_MAX) {
        infra_error_set(err, "empty or overlong URL");
        return false;
    }
    u = curl_url();
    if (!u) {
        infra_error_set(err, "out of memory");
        return false;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        infra_error_set(err, "not a valid URL: %.200s", url);
        goto out;
    }
    if (!copy_part(u, CURLUPART_SCHEME, p->scheme, sizeof(p->scheme), true) ||
        !copy_part(u, CURLUPART_HOST, p->host, sizeof(p->host), true) ||
        !copy_part(u, CURLUPART_PORT, port, sizeof(port), false) ||
        !copy_part(u, CURLUPART_PATH, p->path, sizeof(p->path), false)) {
        infra_error_set(err, "URL without scheme or host, or with an overlong part: %.200s", url);
        goto out;
    }
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD)) {
        infra_error_set(err, "URL must not carry user credentials");
        goto out;
    }
    snprintf(p->host_hdr, sizeof(p->host_hdr), "%s%s%s", p->host, port[0] ? ":" : "", port);
    if (p->host[0] == '[') { /* IPv6 literal: keep brackets in the Host header only */
        size_t n = strlen(p->host);
        memmove(p->host, p->host + 1, n);
        n--;
        if (n > 0 && p->host[n - 1] == ']')
            p->host[n - 1] = '\0';
    }
    if (!p->path[0])
        snprintf(p->path, sizeof(p->path), "/");
    ok = true;
out:
    curl_url_cleanup(u);
    return ok;
}

static bool parts_allowed(const struct url_parts *p, enum aws_url_policy policy,
                          struct infra_error *err)
{
    if (strcasecmp(p->scheme, "https") == 0)
        return true;
    if (strcasecmp(p->scheme, "http") != 0) {
        infra_error_set(err, "URL scheme %s is not allowed (https only)", p->scheme);
        return false;
    }
    if (cidr_is_loopback_host(p->host))
        return true;
    if (policy == AWS_URL_METADATA && host_is_metadata(p->host))
        return true;
    infra_error_set(err, "plain http to %s is not allowed: use https (http only for loopback%s)",
                    p->host, policy == AWS_URL_METADATA ? " and the metadata endpoints" : "");
    return false;
}

bool aws_http_url_allowed(const char *url, enum aws_url_policy policy, struct infra_error *err)
{
    struct url_parts p;

    return url_split(url, &p, err) && parts_allowed(&p, policy, err);
}

/* ---- endpoint ---- */

/* The SDKs' service id for the configured-endpoint settings ("secretsmanager" is
 * "Secrets Manager" there: AWS_ENDPOINT_URL_SECRETS_MANAGER, services key secrets_manager). */
static void service_id(const char *service, char *out, size_t outsz)
{
    size_t n = 0;

    if (strcmp(service, "secretsmanager") == 0)
        service = "secrets_manager";
    for (const char *s = service; *s && n + 1 < outsz; s++)
        out[n++] = isalnum((unsigned char)*s) ? (char)tolower((unsigned char)*s) : '_';
    out[n] = '\0';
}

static bool env_true(const char *name)
{
    const char *v = getenv(name);

    return v && strcasecmp(v, "true") == 0;
}

/* A configured endpoint (environment, then the profile), as the SDKs look it up:
 * AWS_ENDPOINT_URL_<ID>, the services section, AWS_ENDPOINT_URL, the profile's
 * endpoint_url; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. */
static bool configured_endpoint(const char *service, const char *profile, char *out, size_t outsz,
                                char *from, size_t fromsz, bool *found, struct infra_error *err)
{
    char id[64], var[96];
    const char *v;
    struct aws_profile_files files;
    bool ok;

    *found = false;
    if (env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        return true;
    service_id(service, id, sizeof(id));
    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", id);
    for (char *c = var; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    /* an empty variable counts as unset, as in the SDKs */
    if (((v = getenv(var)) && *v) || (strcmp(service, "secretsmanager") == 0 &&
                                      (v = getenv("AWS_ENDPOINT_URL_SECRETSMANAGER")) && *v)) {
        snprintf(from, fromsz, "%s",
                 strcmp(service, "secretsmanager") == 0 && !getenv(var)
                     ? "AWS_ENDPOINT_URL_SECRETSMANAGER"
                     : var);
        *found = true;
        return (size_t)snprintf(out, outsz, "%s", v) < outsz;
    }
    profile = aws_profile_name(profile);
    if (!aws_profile_files_load(&files, err))
        return false;
    ok = aws_profile_service_endpoint(&files, profile, id, out, outsz, found, err);
    if (ok && *found) {
        snprintf(from, fromsz, "the services section of profile %s", profile);
    } else if (ok && (v = getenv("AWS_ENDPOINT_URL")) && *v) {
        snprintf(from, fromsz, "AWS_ENDPOINT_URL");
        *found = (size_t)snprintf(out, outsz, "%s", v) < outsz;
    } else if (ok) {
        ok = aws_profile_get(&files, profile, "endpoint_url", out, outsz, found, NULL, err);
        if (ok && *found)
            snprintf(from, fromsz, "endpoint_url of profile %s", profile);
    }
    aws_profile_files_free(&files);
    return ok;
}

bool aws_endpoint_resolve(const char *override, const char *service, const char *region, char *out,
                          size_t outsz, struct infra_error *err)
{
    return aws_endpoint_resolve_profile(override, service, region, NULL, out, outsz, err);
}

bool aws_endpoint_resolve_profile(const char *override, const char *service, const char *region,
                                  const char *profile, char *out, size_t outsz,
                                  struct infra_error *err)
{
    char from[200] = "aws.endpoint";
    bool found = false;
    int w;

    if (!service || !*service || strlen(service) > 48) {
        infra_error_set(err, "endpoint: no service name");
        return false;
    }
    if (override && *override) {
        w = snprintf(out, outsz, "%s", override);
    } else if (!configured_endpoint(service, profile, out, outsz, from, sizeof(from), &found,
                                    err)) {
        return false;
    } else if (found) {
        w = (int)strlen(out);
    } else {
        if (!region || !*region) {
            infra_error_set(err, "endpoint for %s: no region", service);
            return false;
        }
        for (const char *r = region; *r; r++) {
            if (!isalnum((unsigned char)*r) && *r != '-') {
                infra_error_set(err, "endpoint for %s: invalid region name", service);
                return false;
            }
        }
        snprintf(from, sizeof(from), "default");
        w = snprintf(out, outsz, "https://%s.%s.amazonaws.com", service, region);
    }
    if (w < 0 || (size_t)w >= outsz) {
        infra_error_set(err, "endpoint for %s (%s): URL too long", service, from);
        return false;
    }
    while (w > 0 && out[w - 1] == '/')
        out[--w] = '\0';
    if (!aws_http_url_allowed(out, AWS_URL_API, err)) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        infra_error_set(err, "endpoint for %s (from %s): %s", service, from, why);
        return false;
    }
    return true;
}

/* ---- one attempt ---- */

#define HEADERS_MAX (32u * 1024u)

struct body_sink {
    char *p;
    size_t len, cap, max;
    bool over;
};

static bool sink_append(struct body_sink *b, const char *data, size_t n)
{
    if (n > b->max - b->len) {
        b->over = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return false;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;

    return sink_append(ud, data, n) ? n : 0;
}

/* Header lines of the last answer only: a status line starts the set again (a 100
 * Continue or a proxy's answer comes first). Overlong header sets are cut, not failed:
 * only a few headers are ever read. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct body_sink *h = ud;
    size_t n = size * nmemb;

    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        h->len = 0;
    if (!h->over)
        (void)sink_append(h, data, n);
    return n;
}

bool aws_http_response_header(const struct aws_http_response *r, const char *name, char *out,
                              size_t outsz)
{
    size_t nl = strlen(name);
    const char *p = r ? r->headers : NULL, *end = p ? p + r->headers_len : NULL;

    if (outsz)
        out[0] = '\0';
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *e = eol ? eol : end;
        if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - v) >= outsz)
                return false;
            memcpy(out, v, (size_t)(e - v));
            out[e - v] = '\0';
            return true;
        }
        p = e + 1;
    }
    return false;
}

const char *aws_http_failure_name(enum aws_http_failure f)
{
    switch (f) {
    case AWS_HTTP_OK:
        return "ok";
    case AWS_HTTP_UNREACHABLE:
        return "unreachable";
    case AWS_HTTP_TIMEOUT:
        return "timeout";
    case AWS_HTTP_TLS:
        return "tls";
    case AWS_HTTP_FAIL_CREDENTIALS:
        return "credentials";
    case AWS_HTTP_FAIL_REQUEST:
        return "request";
    }
    return "?";
}

struct opts {
    long connect_ms, total_ms;
    struct aws_retry_config retry;
    size_t max_body;
    const char *ca_file;
    long deadline_ms;
    bool no_proxy;
};

static bool opts_fill(struct opts *o, const struct aws_http_options *in, struct infra_error *err)
{
    memset(o, 0, sizeof(*o));
    o->connect_ms = in && in->connect_timeout_ms > 0 ? in->connect_timeout_ms : 5000;
    o->total_ms = in && in->total_timeout_ms > 0 ? in->total_timeout_ms : 30000;
    if (!aws_retry_config_resolve(in ? in->max_attempts : 0, NULL, &o->retry, err))
        return false;
    if (in && in->backoff_base_ms > 0)
        o->retry.base_ms = in->backoff_base_ms;
    if (in && in->backoff_max_ms > 0)
        o->retry.max_backoff_ms = in->backoff_max_ms;
    o->max_body = in && in->max_body > 0 ? in->max_body : AWS_HTTP_DEFAULT_MAX_BODY;
    o->ca_file = in ? in->ca_file : NULL;
    o->deadline_ms = in && in->deadline_ms > 0 ? in->deadline_ms : 0;
    return true;
}

/* What one attempt gave: an answer, or a failure of some kind. */
struct attempt {
    enum aws_http_failure failure;
    enum aws_retry_kind retry; /* for failures: whether another attempt may help */
};

/* Transport errors: what kind, and whether the server may answer next time. */
static void classify_curl(CURLcode rc, struct attempt *a)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        a->failure = AWS_HTTP_UNREACHABLE;
        a->retry = AWS_RETRY_TRANSIENT;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        a->failure = AWS_HTTP_TIMEOUT;
        a->retry = AWS_RETRY_TIMEOUT;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        a->failure = AWS_HTTP_TLS;
        a->retry = AWS_RETRY_NO;
        break;
    default:
        a->failure = AWS_HTTP_FAIL_REQUEST;
        a->retry = AWS_RETRY_NO;
        break;
    }
}

static void perform(const char *method, const char *url, const struct curl_slist *headers,
                    const void *body, size_t body_len, const struct opts *o, long connect_ms,
                    long total_ms, struct aws_http_response *resp, struct attempt *a,
                    struct infra_error *err)
{
    CURL *h = curl_easy_init();
    struct body_sink sink = {NULL, 0, 0, o->max_body, false};
    struct body_sink hdrs = {NULL, 0, 0, HEADERS_MAX, false};
    char curl_err[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    a->failure = AWS_HTTP_FAIL_REQUEST;
    a->retry = AWS_RETRY_NO;
    if (!h) {
        infra_error_set(err, "out of memory (curl handle)");
        return;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* the path signed is the path sent */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (o->no_proxy) /* loopback and metadata endpoints are never reached through a proxy */
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "anonetl");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body = sink.p ? sink.p : calloc(1, 1);
        resp->body_len = sink.len;
        resp->headers = hdrs.p ? hdrs.p : calloc(1, 1);
        resp->headers_len = hdrs.len;
        sink.p = hdrs.p = NULL;
        if (resp->body && resp->headers)
            a->failure = AWS_HTTP_OK;
        else
            infra_error_set(err, "out of memory");
    } else if (sink.over) {
        infra_error_set(err, "response body larger than %zu bytes", o->max_body);
    } else {
        infra_error_set(err, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
        classify_curl(rc, a);
    }
    free(sink.p);
    free(hdrs.p);
    curl_easy_cleanup(h);
}

/* ---- the retry loop ---- */

/* Builds the header list for one attempt (signing happens here, so each attempt has a
 * fresh signature at the client's corrected time). */
typedef bool (*headers_fn)(void *ctx, struct curl_slist **out, struct infra_error *err);

/* The retry state one call shares with its client: the quota and the clock offset. */
struct retry_ctx {
    struct aws_retry_quota *quota; /* NULL: a private one for this call */
    long *clock_offset;            /* NULL: unsigned, no clock to correct */
};

static void redact_url(const char *url, char *out, size_t outsz)
{
    size_t n = strcspn(url, "?#");

    snprintf(out, outsz, "%.*s", (int)(n < 300 ? n : 300), url);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The error code of a JSON-protocol answer: {"__type": "[namespace#]Code", ...}. */
static void json_protocol_error_code(const char *body, size_t len, char *code, size_t codesz)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *t = json_string_value(json_object_get(doc, "__type"));

    if (!t)
        t = json_string_value(json_object_get(doc, "code"));
    if (t) {
        const char *hash = strrchr(t, '#');
        snprintf(code, codesz, "%s", hash ? hash + 1 : t);
    }
    json_decref(doc);
}

/* The kind of retry an answer calls for (reads the error code of small error bodies,
 * XML of the Query protocols or JSON of the JSON protocols). */
static enum aws_retry_kind answer_kind(const struct aws_http_response *r)
{
    char code[128] = "", msg[8];

    if (r->status >= 200 && r->status < 300)
        return AWS_RETRY_NO;
    if (r->body_len > 0 && r->body_len < 65536) {
        if (r->body[0] == '{')
            json_protocol_error_code(r->body, r->body_len, code, sizeof(code));
        else
            aws_http_error_code(r->body, r->body_len, code, sizeof(code), msg, sizeof(msg));
    }
    return aws_retry_classify(r->status, code);
}

/* Measure the server's clock from the Date header; on a clock-skew refusal, correct the
 * client's offset. True when the request should be re-signed and sent again. */
static bool clock_check(struct aws_http_response *r, enum aws_retry_kind kind, long *offset)
{
    char date[64];
    time_t server, local = time(NULL);
    long corrected;

    if (!aws_http_response_header(r, "Date", date, sizeof(date)) ||
        !aws_http_date_parse(date, &server))
        return false;
    r->clock_skew_s = (long)(server - local);
    if (kind != AWS_RETRY_CLOCK_SKEW || !offset ||
        !aws_clock_skew_correct(server, local, *offset, &corrected))
        return false;
    *offset = corrected;
    return true;
}

/* Decide whether to retry after attempt `attempt`; sets *delay, or r->gave_up. */
static bool may_retry(const struct opts *o, struct aws_retry_quota *q, enum aws_retry_kind kind,
                      int attempt, long start, int *acquired, long *delay, const char **gave_up)
{
    int cost = kind == AWS_RETRY_TIMEOUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;

    *gave_up = NULL;
    if (kind == AWS_RETRY_NO || kind == AWS_RETRY_CLOCK_SKEW)
        return false;
    if (attempt >= o->retry.max_attempts) {
        *gave_up = "max attempts";
        return false;
    }
    *delay = aws_retry_backoff_ms(&o->retry, attempt);
    if (o->deadline_ms && now_ms() + *delay >= start + o->deadline_ms) {
        *gave_up = "deadline";
        return false;
    }
    if (o->retry.mode != AWS_RETRY_LEGACY) {
        if (!aws_retry_quota_acquire(q, cost)) {
            *gave_up = "retry quota";
            return false;
        }
        *acquired = cost;
    }
    return true;
}

/* Per-attempt timeouts within the deadline; false when no time is left. */
static bool attempt_timeouts(const struct opts *o, long start, long *connect_ms, long *total_ms)
{
    long left;

    *connect_ms = o->connect_ms;
    *total_ms = o->total_ms;
    if (!o->deadline_ms)
        return true;
    left = start + o->deadline_ms - now_ms();
    if (left <= 0)
        return false;
    if (*connect_ms > left)
        *connect_ms = left;
    if (*total_ms > left)
        *total_ms = left;
    return true;
}

static void failure_message(struct infra_error *err, const char *method, const char *shown,
                            const char *why, int attempt, const char *gave_up)
{
    infra_error_set(err, "%s %s: %s (after %d attempt%s%s%s)", method, shown, why, attempt,
                    attempt == 1 ? "" : "s", gave_up ? "; gave up: " : "", gave_up ? gave_up : "");
}

static bool send_loop(const char *method, const char *url, headers_fn make_headers, void *ctx,
                      const void *body, size_t body_len, const struct aws_http_options *in,
                      struct retry_ctx *rc, struct aws_http_response *resp, struct infra_error *err)
{
    struct opts o;
    struct aws_retry_quota own_quota;
    struct aws_retry_quota *q = rc && rc->quota ? rc->quota : &own_quota;
    char shown[320];
    struct infra_error e = {{0}};
    long start = now_ms(), delay = 0;
    int acquired = 0;
    bool corrected = false;

    memset(resp, 0, sizeof(*resp));
    aws_retry_quota_init(&own_quota);
    redact_url(url, shown, sizeof(shown));
    if (!opts_fill(&o, in, &e)) {
        resp->failure = AWS_HTTP_FAIL_REQUEST;
        infra_error_set(err, "%s %s: %s", method, shown, e.msg);
        return false;
    }
    {
        struct url_parts p;
        o.no_proxy =
            url_split(url, &p, &e) && (cidr_is_loopback_host(p.host) || host_is_metadata(p.host));
    }
    for (int attempt = 1;; attempt++) {
        struct curl_slist *hl = NULL;
        struct aws_http_response r = {0};
        struct attempt a;
        enum aws_retry_kind kind;
        const char *gave_up;
        long connect_ms, total_ms;

        if (attempt > 1)
            sleep_ms(delay);
        if (!attempt_timeouts(&o, start, &connect_ms, &total_ms)) {
            resp->failure = AWS_HTTP_TIMEOUT;
            resp->attempts = attempt - 1;
            resp->gave_up = "deadline";
            failure_message(err, method, shown, "no time left in the deadline", attempt - 1,
                            "deadline");
            return false;
        }
        if (!make_headers(ctx, &hl, &e)) {
            curl_slist_free_all(hl);
            resp->failure = AWS_HTTP_FAIL_CREDENTIALS;
            resp->attempts = attempt - 1;
            infra_error_set(err, "%s %s: %s", method, shown, e.msg);
            return false;
        }
        perform(method, url, hl, body, body_len, &o, connect_ms, total_ms, &r, &a, &e);
        curl_slist_free_all(hl);
        if (a.failure == AWS_HTTP_OK) {
            r.attempts = attempt;
            r.clock_corrected = corrected;
            kind = answer_kind(&r);
            if (clock_check(&r, kind, rc ? rc->clock_offset : NULL) &&
                attempt < o.retry.max_attempts) {
                corrected = true; /* re-signed with the server's time, at once, no quota */
                delay = 0;
                aws_http_response_free(&r);
                continue;
            }
            if (may_retry(&o, q, kind, attempt, start, &acquired, &delay, &gave_up)) {
                aws_http_response_free(&r);
                continue;
            }
            if (kind == AWS_RETRY_NO && r.status >= 200 && r.status < 300)
                aws_retry_quota_release(q, acquired ? acquired : AWS_RETRY_NO_RETRY_INCREMENT);
            r.gave_up = gave_up;
            *resp = r;
            return true;
        }
        if (!may_retry(&o, q, a.retry, attempt, start, &acquired, &delay, &gave_up)) {
            resp->failure = a.failure;
            resp->attempts = attempt;
            resp->gave_up = gave_up;
            failure_message(err, method, shown, e.msg, attempt, gave_up);
            return false;
        }
    }
}

/* ---- unsigned requests ---- */

struct plain_ctx {
    const struct aws_http_request *req;
};

static bool plain_headers(void *ctx, struct curl_slist **out, struct infra_error *err)
{
    const struct aws_http_request *req = ((struct plain_ctx *)ctx)->req;

    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(*out, req->headers[i]);
        if (!n) {
            infra_error_set(err, "out of memory");
            return false;
        }
        *out = n;
    }
    struct curl_slist *n = curl_slist_append(*out, "Expect:");
    if (!n) {
        infra_error_set(err, "out of memory");
        return false;
    }
    *out = n;
    return true;
}

bool aws_http_send(const struct aws_http_request *req, const struct aws_http_options *opts,
                   struct aws_http_response *resp, struct infra_error *err)
{
    struct plain_ctx ctx = {req};

    memset(resp, 0, sizeof(*resp));
    if (!req || !req->method || !req->url) {
        infra_error_set(err, "http: no method or URL");
        return false;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!req->headers[i] || strpbrk(req->headers[i], "\r\n")) {
            infra_error_set(err, "http: header %zu is empty or has a line break", i);
            return false;
        }
    }
    if (!aws_http_url_allowed(req->url, req->policy, err)) {
        resp->failure = AWS_HTTP_FAIL_REQUEST;
        return false;
    }
    return send_loop(req->method, req->url, plain_headers, &ctx, req->body, req->body_len, opts,
                     NULL, resp, err);
}

/* ---- form builder ---- */

void aws_form_init(struct aws_form *f)
{
    memset(f, 0, sizeof(*f));
}

void aws_form_free(struct aws_form *f)
{
    if (!f)
        return;
    free(f->data);
    memset(f, 0, sizeof(*f));
}

static void form_raw(struct aws_form *f, const char *s, size_t n)
{
    if (f->failed)
        return;
    if (n >= FORM_MAX - f->len) {
        f->failed = true;
        return;
    }
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 512;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *np = realloc(f->data, cap);
        if (!np) {
            f->failed = true;
            return;
        }
        f->data = np;
        f->cap = cap;
    }
    memcpy(f->data + f->len, s, n);
    f->len += n;
    f->data[f->len] = '\0';
}

static void form_encoded(struct aws_form *f, const char *s)
{
    char buf[200];
    size_t len = strlen(s);

    while (len > 0 && !f->failed) {
        size_t chunk = len < 64 ? len : 64;
        size_t n = sigv4_uri_encode(s, chunk, false, buf, sizeof(buf));
        form_raw(f, buf, n);
        s += chunk;
        len -= chunk;
    }
}

void aws_form_add(struct aws_form *f, const char *key, const char *value)
{
    if (!key || !*key || !value) {
        f->failed = true;
        return;
    }
    if (f->len > 0)
        form_raw(f, "&", 1);
    form_encoded(f, key);
    form_raw(f, "=", 1);
    form_encoded(f, value);
}

void aws_form_addk(struct aws_form *f, const char *value, const char *key_fmt, ...)
{
    char key[256];
    va_list ap;
    int n;

    va_start(ap, key_fmt);
    n = vsnprintf(key, sizeof(key), key_fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(key)) {
        f->failed = true;
        return;
    }
    aws_form_add(f, key, value);
}

/* ---- signed client ---- */

struct aws_client {
    char service[64];
    char region[64];
    char endpoint[AWS_URL_MAX];
    struct url_parts parts;
    struct aws_creds_provider *creds;
    struct aws_http_options opts;
    bool have_opts;
    bool s3;                      /* S3's signing rules (x-amz-content-sha256, path as sent) */
    struct aws_retry_quota quota; /* shared by every call of this client, as in the SDKs */
    long clock_offset;            /* seconds to add to the local clock when signing */
};

struct aws_client *aws_client_new(const char *service, const char *region,
                                  const char *endpoint_override, struct aws_creds_provider *creds,
                                  const struct aws_http_options *opts, struct infra_error *err)
{
    struct aws_client *c;

    if (!service || !*service || strlen(service) >= 64 || !region || !*region ||
        strlen(region) >= 64 || !creds) {
        infra_error_set(err, "aws client: service, region and credentials are required");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        infra_error_set(err, "out of memory");
        return NULL;
    }
    memcpy(c->service, service, strlen(service) + 1);
    memcpy(c->region, region, strlen(region) + 1);
    if (!aws_endpoint_resolve(endpoint_override, service, region, c->endpoint, sizeof(c->endpoint),
                              err) ||
        !url_split(c->endpoint, &c->parts, err)) {
        free(c);
        return NULL;
    }
    c->creds = creds;
    c->s3 = strcmp(service, "s3") == 0;
    if (opts) {
        c->opts = *opts;
        c->have_opts = true;
    }
    aws_retry_quota_init(&c->quota);
    { /* a bad AWS_MAX_ATTEMPTS / AWS_RETRY_MODE is reported here, before any call */
        struct aws_retry_config rc;
        if (!aws_retry_config_resolve(opts ? opts->max_attempts : 0, NULL, &rc, err)) {
            free(c);
            return NULL;
        }
    }
    return c;
}

void aws_client_free(struct aws_client *c)
{
    free(c);
}

const char *aws_client_endpoint(const struct aws_client *c)
{
    return c->endpoint;
}

long aws_client_clock_offset(const struct aws_client *c)
{
    return c->clock_offset;
}

struct signed_ctx {
    struct aws_client *c;
    const char *method;
    const char *path;  /* canonical path as sent */
    const char *query; /* may be NULL */
    const void *body;
    size_t body_len;
    bool form;
    const char *content_type; /* JSON protocol (aws_client_post_json): its content type */
    const char *target;       /* and its X-Amz-Target */
};

static bool slist_addf(struct curl_slist **l, const char *fmt, ...) INFRA_PRINTF(2, 3);
static bool slist_addf(struct curl_slist **l, const char *fmt, ...)
{
    char line[6144];
    va_list ap;
    int n;
    struct curl_slist *nl;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        OPENSSL_cleanse(line, sizeof(line));
        return false;
    }
    nl = curl_slist_append(*l, line);
    OPENSSL_cleanse(line, (size_t)n);
    if (!nl)
        return false;
    *l = nl;
    return true;
}

static bool signed_headers(void *ctx, struct curl_slist **out, struct infra_error *err)
{
    struct signed_ctx *s = ctx;
    struct aws_credentials cr;
    struct sigv4_header h[7];
    struct sigv4_signature sig;
    char date[17], payload[65];
    size_t nh = 0;
    bool ok = false;
    time_t now = time(NULL) + s->c->clock_offset;

    if (!aws_creds_get(s->c->creds, &cr, err))
        return false;
    sigv4_amz_date(now, date);
    h[nh++] = (struct sigv4_header){"host", s->c->parts.host_hdr};
    h[nh++] = (struct sigv4_header){"x-amz-date", date};
    if (s->form)
        h[nh++] = (struct sigv4_header){"content-type", FORM_CONTENT_TYPE};
    if (s->content_type)
        h[nh++] = (struct sigv4_header){"content-type", s->content_type};
    if (s->target)
        h[nh++] = (struct sigv4_header){"x-amz-target", s->target};
    if (cr.session_token[0])
        h[nh++] = (struct sigv4_header){"x-amz-security-token", cr.session_token};
    if (s->c->s3) { /* S3 wants the payload hash as a header, and signs it */
        sigv4_sha256_hex(s->body, s->body_len, payload);
        h[nh++] = (struct sigv4_header){"x-amz-content-sha256", payload};
    }
    struct sigv4_request req = {s->method, s->path, s->query, h, nh, s->body, s->body_len};
    struct sigv4_key key = {cr.access_key_id, cr.secret_access_key, NULL};
    struct sigv4_params params = {s->c->region, s->c->service, now, !s->c->s3, 0, s->c->s3};
    if (!sigv4_sign_headers(&req, &key, &params, &sig, err))
        goto out;
    if (!slist_addf(out, "Host: %s", s->c->parts.host_hdr) ||
        !slist_addf(out, "X-Amz-Date: %s", date) ||
        (s->form && !slist_addf(out, "Content-Type: %s", FORM_CONTENT_TYPE)) ||
        (s->content_type && !slist_addf(out, "Content-Type: %s", s->content_type)) ||
        (s->target && !slist_addf(out, "X-Amz-Target: %s", s->target)) ||
        (cr.session_token[0] && !slist_addf(out, "X-Amz-Security-Token: %s", cr.session_token)) ||
        (s->c->s3 && !slist_addf(out, "X-Amz-Content-SHA256: %s", payload)) ||
        !slist_addf(out, "Authorization: %s", sig.authorization) || !slist_addf(out, "Expect:")) {
        infra_error_set(err, "out of memory or overlong header");
        sigv4_signature_free(&sig);
        goto out;
    }
    sigv4_signature_free(&sig);
    ok = true;
out:
    aws_credentials_wipe(&cr);
    return ok;
}

bool aws_client_post_form(struct aws_client *c, const struct aws_form *form,
                          struct aws_http_response *resp, struct infra_error *err)
{
    struct signed_ctx s = {.c = c,
                           .method = "POST",
                           .path = c->parts.path,
                           .body = form ? form->data : NULL,
                           .body_len = form ? form->len : 0,
                           .form = true};

    memset(resp, 0, sizeof(*resp));
    if (!form || form->failed || form->len == 0) {
        infra_error_set(err, "%s: empty or failed form (over %u bytes?)", c->service, FORM_MAX);
        return false;
    }
    return send_loop("POST", c->endpoint, signed_headers, &s, form->data, form->len,
                     c->have_opts ? &c->opts : NULL,
                     &(struct retry_ctx){&c->quota, &c->clock_offset}, resp, err);
}

bool aws_client_post_json(struct aws_client *c, const char *target, const char *json,
                          size_t json_len, struct aws_http_response *resp, struct infra_error *err)
{
    struct signed_ctx s = {.c = c,
                           .method = "POST",
                           .path = c->parts.path,
                           .body = json,
                           .body_len = json_len,
                           .content_type = AWS_JSON_CONTENT_TYPE,
                           .target = target};

    memset(resp, 0, sizeof(*resp));
    if (!target || !*target || strpbrk(target, "\r\n") || !json || json_len == 0 ||
        json_len > FORM_MAX) {
        infra_error_set(err, "%s: JSON request without a target or body (or over %u bytes)",
                        c->service, FORM_MAX);
        return false;
    }
    return send_loop("POST", c->endpoint, signed_headers, &s, json, json_len,
                     c->have_opts ? &c->opts : NULL,
                     &(struct retry_ctx){&c->quota, &c->clock_offset}, resp, err);
}

bool aws_client_get(struct aws_client *c, const char *path_and_query,
                    struct aws_http_response *resp, struct infra_error *err)
{
    char url[AWS_URL_MAX * 2], path[1024];
    const char *q;
    size_t pn;
    struct signed_ctx s = {.c = c, .method = "GET", .path = path};
    size_t base = strlen(c->endpoint);

    memset(resp, 0, sizeof(*resp));
    if (!path_and_query || path_and_query[0] != '/') {
        infra_error_set(err, "%s: GET path must start with '/'", c->service);
        return false;
    }
    q = strchr(path_and_query, '?');
    pn = q ? (size_t)(q - path_and_query) : strlen(path_and_query);
    /* The endpoint's own path (rare) prefixes the request path. */
    if (strcmp(c->parts.path, "/") == 0) {
        if (pn >= sizeof(path))
            goto too_long;
        memcpy(path, path_and_query, pn);
        path[pn] = '\0';
    } else {
        size_t bp = strlen(c->parts.path);
        if (bp + pn >= sizeof(path))
            goto too_long;
        memcpy(path, c->parts.path, bp);
        memcpy(path + bp - (c->parts.path[bp - 1] == '/'), path_and_query, pn);
        path[bp - (c->parts.path[bp - 1] == '/') + pn] = '\0';
        base -= strlen(c->parts.path);
        while (base > 0 && c->endpoint[base - 1] == '/')
            base--;
    }
    s.query = q ? q + 1 : NULL;
    if ((size_t)snprintf(url, sizeof(url), "%.*s%s%s%s", (int)base, c->endpoint, path, q ? "?" : "",
                         q ? q + 1 : "") >= sizeof(url))
        goto too_long;
    return send_loop("GET", url, signed_headers, &s, NULL, 0, c->have_opts ? &c->opts : NULL,
                     &(struct retry_ctx){&c->quota, &c->clock_offset}, resp, err);
too_long:
    infra_error_set(err, "%s: GET path too long", c->service);
    return false;
}

/* ---- error documents ---- */

static xmlNode *find_element(xmlNode *n, const char *name, int depth)
{
    if (depth > 8)
        return NULL;
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrcmp(n->name, (const xmlChar *)name) == 0)
            return n;
        xmlNode *c = find_element(n->children, name, depth + 1);
        if (c)
            return c;
    }
    return NULL;
}

static void element_text(xmlNode *n, char *out, size_t outsz)
{
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

    snprintf(out, outsz, "%s", t ? (const char *)t : "");
    xmlFree(t);
    /* one line, printable */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

bool aws_http_error_code(const char *body, size_t len, char *code, size_t codesz, char *message,
                         size_t messagesz)
{
    xmlDoc *doc;
    xmlNode *err_el, *code_el;
    bool ok = false;

    if (codesz)
        code[0] = '\0';
    if (messagesz)
        message[0] = '\0';
    if (!body || len == 0 || len > 1024 * 1024)
        return false;
    doc = xmlReadMemory(body, (int)len, "error.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return false;
    err_el = find_element(xmlDocGetRootElement(doc), "Error", 0);
    code_el = err_el ? find_element(err_el->children, "Code", 0) : NULL;
    if (code_el) {
        element_text(code_el, code, codesz);
        element_text(find_element(err_el->children, "Message", 0), message, messagesz);
        ok = code[0] != '\0';
    }
    xmlFreeDoc(doc);
    return ok;
}

enum aws_error_kind aws_error_classify(const char *code)
{
    static const char *const auth[] = {"AuthFailure",
                                       "SignatureDoesNotMatch",
                                       "InvalidClientTokenId",
                                       "IncompleteSignature",
                                       "MissingAuthenticationToken",
                                       "MissingAuthenticationTokenException",
                                       "ExpiredToken",
                                       "ExpiredTokenException",
                                       "InvalidAccessKeyId",
                                       "UnrecognizedClientException",
                                       "InvalidSignatureException",
                                       "RequestExpired",
                                       "InvalidToken",
                                       "MissingParameter.Token"};
    static const char *const denied[] = {"UnauthorizedOperation", "AccessDenied",
                                         "AccessDeniedException", "Blocked"};
    static const char *const throttle[] = {"Throttling",
                                           "ThrottlingException",
                                           "ThrottledException",
                                           "RequestThrottledException",
                                           "TooManyRequestsException",
                                           "ProvisionedThroughputExceededException",
                                           "TransactionInProgressException",
                                           "RequestLimitExceeded",
                                           "BandwidthLimitExceeded",
                                           "LimitExceededException",
                                           "RequestThrottled",
                                           "SlowDown",
                                           "PriorRequestNotComplete",
                                           "EC2ThrottledException"};
    size_t n;

    if (!code || !*code)
        return AWS_ERR_OTHER;
    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++)
        if (strcmp(code, auth[i]) == 0)
            return AWS_ERR_AUTH;
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        if (strcmp(code, denied[i]) == 0)
            return AWS_ERR_DENIED;
    for (size_t i = 0; i < sizeof(throttle) / sizeof(throttle[0]); i++)
        if (strcmp(code, throttle[i]) == 0)
            return AWS_ERR_THROTTLE;
    n = strlen(code);
    if (n >= 8 && strcmp(code + n - 8, "NotFound") == 0)
        return AWS_ERR_NOT_FOUND;
    return AWS_ERR_OTHER;
}
