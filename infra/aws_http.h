/*
 * aws_http.h: the HTTP transport for AWS calls (libcurl).
 *
 *   - endpoint resolution: explicit override (config aws.endpoint), else the configured
 *     endpoints of the SDKs (AWS_ENDPOINT_URL_<SERVICE>, the profile's services section,
 *     AWS_ENDPOINT_URL, the profile's endpoint_url), else
 *     https://<service>.<region>.amazonaws.com;
 *   - URL policy: https with certificate verification always; plain http only to loopback
 *     (127.0.0.0/8, ::1, localhost), plus the link-local metadata hosts for credential
 *     fetches (AWS_URL_METADATA);
 *   - timeouts (connect and total per attempt, and an optional deadline for the whole
 *     call); the retry behaviour of the SDKs (infra/aws_retry.h: AWS_RETRY_MODE,
 *     AWS_MAX_ATTEMPTS, full-jitter backoff, a retry quota per client, clock-skew
 *     correction from the Date header for signed requests); response body bounded (16 MiB
 *     by default);
 *   - a signed client (aws_client): SigV4 with x-amz-date, host, content-type (form POST)
 *     and x-amz-security-token when the credentials carry a session token.
 *
 * Call aws_http_global_init() once at program start (before threads) and
 * aws_http_global_cleanup() at exit. Nothing here prints; errors go to struct infra_error
 * and never contain keys, tokens or signatures.
 */
#ifndef AWS_HTTP_H
#define AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

struct aws_creds_provider; /* infra/aws_creds.h */

#define AWS_HTTP_DEFAULT_MAX_BODY (16u * 1024 * 1024)
#define AWS_URL_MAX 2048

struct aws_http_options {
    long connect_timeout_ms; /* 0: 5000 */
    long total_timeout_ms;   /* per attempt; 0: 30000 */
    int max_attempts;        /* 0: AWS_MAX_ATTEMPTS, else the profile's max_attempts, else the
                                mode's default (3; legacy 5); 1 = no retry (aws_retry.h) */
    long backoff_base_ms;    /* 0: 1000; retry n sleeps rand[0,1) * min(base*2^(n-1), max) */
    long backoff_max_ms;     /* 0: 20000 */
    size_t max_body;         /* 0: AWS_HTTP_DEFAULT_MAX_BODY */
    const char *ca_file;     /* NULL: the system trust store */
    long deadline_ms;        /* 0: none; else the whole call (every attempt, every sleep)
                                ends within this budget: attempts get what is left as their
                                timeouts, and no retry starts that cannot finish in it */
};

/*
 * The bound anonetl puts on each AWS call it makes (EC2, STS, Secrets Manager, S3, the
 * credential chain): 3 s to connect, 10 s an attempt, 20 s for the whole call with its
 * retries and backoff sleeps. A blackholed or silent endpoint then costs 20 s, not
 * attempts x (connect + answer) timeouts plus backoff (over 90 s with the defaults above,
 * minutes with AWS_MAX_ATTEMPTS=10). AWS answers these calls in well under a second.
 */
#define AWS_CALL_CONNECT_TIMEOUT_MS 3000
#define AWS_CALL_ATTEMPT_TIMEOUT_MS 10000
#define AWS_CALL_DEADLINE_MS 20000
#define AWS_HTTP_OPTIONS_BOUNDED                                                                   \
    {                                                                                              \
        .connect_timeout_ms = AWS_CALL_CONNECT_TIMEOUT_MS,                                         \
        .total_timeout_ms = AWS_CALL_ATTEMPT_TIMEOUT_MS, .deadline_ms = AWS_CALL_DEADLINE_MS,      \
    }

/* Why no usable HTTP answer came back (aws_http_response.failure). */
enum aws_http_failure {
    AWS_HTTP_OK = 0,           /* an HTTP answer arrived (any status) */
    AWS_HTTP_UNREACHABLE,      /* name resolution, connection refused or reset, no route */
    AWS_HTTP_TIMEOUT,          /* connect or answer timeout, or the deadline passed */
    AWS_HTTP_TLS,              /* TLS handshake or certificate verification */
    AWS_HTTP_FAIL_CREDENTIALS, /* no credentials to sign with */
    AWS_HTTP_FAIL_REQUEST,     /* refused URL, bad header, body over the limit, no memory */
};
const char *aws_http_failure_name(enum aws_http_failure f); /* "unreachable", "timeout", ... */

struct aws_http_response {
    long status; /* HTTP status of the last attempt */
    char *body;  /* NUL-terminated (malloc), never NULL after success */
    size_t body_len;
    int attempts;                  /* how many attempts were made (also on failure) */
    enum aws_http_failure failure; /* AWS_HTTP_OK when an answer arrived */
    const char *gave_up;           /* why retrying stopped with a retryable answer or failure:
                                      "max attempts", "retry quota", "deadline"; else NULL */
    long clock_skew_s;             /* server Date minus the local clock at the last answer
                                      (0 without a Date header) */
    bool clock_corrected;          /* a clock-skew refusal was re-signed with the server's time */
    char *headers;                 /* the last answer's header lines (malloc, bounded) */
    size_t headers_len;
};

/* Value of response header name (case-insensitive), trimmed; false when absent or longer
 * than outsz - 1. */
bool aws_http_response_header(const struct aws_http_response *r, const char *name, char *out,
                              size_t outsz);

void aws_http_response_free(struct aws_http_response *r);

bool aws_http_global_init(struct infra_error *err) INFRA_MUST_CHECK;
void aws_http_global_cleanup(void);

enum aws_url_policy {
    AWS_URL_API,      /* https, or http to a loopback host only */
    AWS_URL_METADATA, /* also http to 169.254.169.254, 169.254.170.2, 169.254.170.23,
                         fd00:ec2::254, fd00:ec2::23 (IMDS and ECS credential endpoints) */
};

/* Does url satisfy the policy? (scheme, host; no credentials in the URL). */
bool aws_http_url_allowed(const char *url, enum aws_url_policy policy,
                          struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Resolve the endpoint URL (no trailing '/') for service ("ec2", "sts", ...) in region.
 * override may be NULL or "". The environment names use the service upper-cased with
 * non-alphanumerics as '_' (AWS_ENDPOINT_URL_EC2). The result passes AWS_URL_API.
 */
bool aws_endpoint_resolve(const char *override, const char *service, const char *region, char *out,
                          size_t outsz, struct infra_error *err) INFRA_MUST_CHECK;
/*
 * The same for a named profile of the shared config file (NULL: AWS_PROFILE, else
 * "default"). The full order, as the SDKs: override; AWS_ENDPOINT_URL_<ID> (ID the SDK
 * service id upper-cased, SECRETS_MANAGER for secretsmanager, which also accepts
 * AWS_ENDPOINT_URL_SECRETSMANAGER); the profile's services section ("services = NAME",
 * [services NAME] "<id> =" / "  endpoint_url = URL"); AWS_ENDPOINT_URL; the profile's
 * endpoint_url; https://<service>.<region>.amazonaws.com. With
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true only the override and the default count.
 */
bool aws_endpoint_resolve_profile(const char *override, const char *service, const char *region,
                                  const char *profile, char *out, size_t outsz,
                                  struct infra_error *err) INFRA_MUST_CHECK;

/* An unsigned request (credential providers, STS AssumeRoleWithWebIdentity). */
struct aws_http_request {
    const char *method; /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines (may hold tokens: never reported) */
    size_t n_headers;
    const void *body;
    size_t body_len;
    enum aws_url_policy policy;
};

/*
 * Send req with retries. Returns true when an HTTP response arrived (ANY status: the
 * caller checks resp->status; retryable statuses are retried first, the last response is
 * returned); false on a policy violation, a transport failure after the last attempt,
 * or a body over the limit. opts may be NULL (defaults). On false, resp has no body;
 * resp->failure, resp->attempts and resp->gave_up say what happened.
 */
bool aws_http_send(const struct aws_http_request *req, const struct aws_http_options *opts,
                   struct aws_http_response *resp, struct infra_error *err) INFRA_MUST_CHECK;

/* A form body builder (application/x-www-form-urlencoded; charset=utf-8), bounded to
 * 256 KiB, sticky failure: add freely, check aws_form_failed() (or the post) once. */
struct aws_form {
    char *data;
    size_t len, cap;
    bool failed;
};
void aws_form_init(struct aws_form *f);
void aws_form_free(struct aws_form *f);
/* Append "&key=value" (first pair without '&'), both percent-encoded. */
void aws_form_add(struct aws_form *f, const char *key, const char *value);
/* Same, the key formatted from key_fmt: aws_form_addk(f, "pcx-1", "Filter.%d.Value.%d", 1, 1). */
void aws_form_addk(struct aws_form *f, const char *value, const char *key_fmt, ...)
    INFRA_PRINTF(3, 4);
static inline bool aws_form_failed(const struct aws_form *f)
{
    return f->failed;
}

/* A SigV4-signing client for one service in one region. */
struct aws_client;

/*
 * endpoint_override: NULL/"" or a URL (see aws_endpoint_resolve). creds is borrowed and
 * must outlive the client. opts may be NULL. The client is not thread-safe (one per
 * thread), the provider is.
 */
struct aws_client *aws_client_new(const char *service, const char *region,
                                  const char *endpoint_override, struct aws_creds_provider *creds,
                                  const struct aws_http_options *opts, struct infra_error *err);
void aws_client_free(struct aws_client *c);
/* The resolved endpoint URL, e.g. "https://ec2.eu-west-2.amazonaws.com". */
const char *aws_client_endpoint(const struct aws_client *c);
/* Seconds added to the local clock when signing (learnt from a clock-skew refusal). */
long aws_client_clock_offset(const struct aws_client *c);

/*
 * POST the form to the endpoint root ("/"), signed. Same return contract as
 * aws_http_send: true with any HTTP status (parse resp->body: 200 = result XML, else
 * an error document, see aws_http_error_code), false on credential or transport errors.
 * Each retry is re-signed (fresh x-amz-date, refreshed credentials).
 */
bool aws_client_post_form(struct aws_client *c, const struct aws_form *form,
                          struct aws_http_response *resp, struct infra_error *err) INFRA_MUST_CHECK;

/*
 * POST a JSON-protocol request (Secrets Manager, ...): body json[0..json_len) to the
 * endpoint root, signed, with Content-Type AWS_JSON_CONTENT_TYPE and X-Amz-Target
 * target ("secretsmanager.GetSecretValue"); both headers are signed. Same contract as
 * aws_client_post_form; an error answer is a JSON document {"__type", "message"}.
 */
#define AWS_JSON_CONTENT_TYPE "application/x-amz-json-1.1"
bool aws_client_post_json(struct aws_client *c, const char *target, const char *json,
                          size_t json_len, struct aws_http_response *resp,
                          struct infra_error *err) INFRA_MUST_CHECK;

/* GET path_and_query ("/?Action=...&Version=..." or "/x"), signed. Same contract. */
bool aws_client_get(struct aws_client *c, const char *path_and_query,
                    struct aws_http_response *resp, struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Extract <Code> and <Message> from an AWS error document (Query API XML: EC2's
 * <Response><Errors><Error> and STS's <ErrorResponse><Error>), with libxml2.
 * Returns false (and empty strings) if the body is not such a document.
 */
bool aws_http_error_code(const char *body, size_t len, char *code, size_t codesz, char *message,
                         size_t messagesz);

enum aws_error_kind {
    AWS_ERR_OTHER = 0,
    AWS_ERR_AUTH,     /* AuthFailure, SignatureDoesNotMatch, InvalidClientTokenId,
                         IncompleteSignature, MissingAuthenticationToken, ExpiredToken, ... */
    AWS_ERR_DENIED,   /* UnauthorizedOperation, AccessDenied, AccessDeniedException */
    AWS_ERR_THROTTLE, /* Throttling, ThrottlingException, RequestLimitExceeded, ... */
    AWS_ERR_NOT_FOUND /* codes ending in ".NotFound" or "NotFound" */
};
enum aws_error_kind aws_error_classify(const char *code);

#endif
