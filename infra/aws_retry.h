/*
 * aws_retry.h: the retry behaviour of the AWS SDKs, for infra/aws_http.c.
 *
 * Modes (AWS_RETRY_MODE, or retry_mode in the profile of the shared config file):
 *   - standard (the default): at most max_attempts attempts (AWS_MAX_ATTEMPTS, or
 *     max_attempts in the profile; default 3); the n-th retry sleeps a full-jitter delay
 *     rand[0,1) * min(base * 2^(n-1), 20 s) with base 1 s; a retry quota of 500 tokens per
 *     client: a retry costs 5 (10 after a timeout), a success gives back what its last
 *     retry cost, or 1 when it needed none; an empty quota stops retrying (a broken
 *     endpoint cannot make every call wait through every attempt);
 *   - legacy: default 5 attempts, the same backoff, no quota;
 *   - adaptive: accepted, and runs exactly as standard. The SDKs' adaptive mode adds a
 *     client-side rate limiter that delays sending after throttling; anonetl makes a few
 *     sequential calls per run, where the standard backoff already spaces them.
 * Retried: throttling (the SDKs' list of codes, e.g. Throttling, ThrottlingException,
 * RequestLimitExceeded, and HTTP 429), transient answers (HTTP 500, 502, 503, 504;
 * RequestTimeout, RequestTimeoutException, PriorRequestNotComplete) and transient network
 * errors (DNS, connection refused or reset, timeouts, an empty or cut answer).
 * Clock skew: an answer refusing the request time (RequestExpired, RequestTimeTooSkewed,
 * RequestInTheFuture, InvalidSignatureException, SignatureDoesNotMatch, AuthFailure) whose
 * Date header is AWS_CLOCK_SKEW_MIN_S or more away from the client's (corrected) clock
 * corrects the client's clock offset and is retried at once, re-signed, without quota
 * cost (still one attempt of max_attempts). A wrong secret is not a skew: its Date agrees
 * with ours, so it is not retried.
 *
 * Nothing here does I/O; the random source is injectable for tests.
 */
#ifndef AWS_RETRY_H
#define AWS_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "infra/infra_error.h"

#define AWS_RETRY_MAX_ATTEMPTS_LIMIT 20 /* a larger AWS_MAX_ATTEMPTS is refused */
#define AWS_RETRY_QUOTA_INITIAL 500
#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10
#define AWS_RETRY_NO_RETRY_INCREMENT 1
#define AWS_RETRY_BASE_MS 1000
#define AWS_RETRY_MAX_BACKOFF_MS 20000
#define AWS_CLOCK_SKEW_MIN_S 240 /* smaller differences are not taken as the cause */

enum aws_retry_mode { AWS_RETRY_STANDARD = 0, AWS_RETRY_LEGACY, AWS_RETRY_ADAPTIVE };

struct aws_retry_config {
    enum aws_retry_mode mode;
    int max_attempts;       /* >= 1 */
    long base_ms;           /* AWS_RETRY_BASE_MS */
    long max_backoff_ms;    /* AWS_RETRY_MAX_BACKOFF_MS */
    char attempts_from[64]; /* "AWS_MAX_ATTEMPTS", "max_attempts of profile x", "default" */
};

/*
 * Resolve the configuration: explicit_attempts (> 0, e.g. a caller's own bound) wins,
 * else AWS_MAX_ATTEMPTS, else max_attempts of the profile (NULL: AWS_PROFILE, else
 * "default"); the mode from AWS_RETRY_MODE, else retry_mode of the profile, else
 * standard. Bad values (not a number, < 1, > AWS_RETRY_MAX_ATTEMPTS_LIMIT, an unknown
 * mode) are errors naming the variable or the file.
 */
bool aws_retry_config_resolve(int explicit_attempts, const char *profile,
                              struct aws_retry_config *out,
                              struct infra_error *err) INFRA_MUST_CHECK;

const char *aws_retry_mode_name(enum aws_retry_mode m);

/* The retry quota of one client (not thread-safe: one client per thread). */
struct aws_retry_quota {
    int capacity;
    int available;
};
void aws_retry_quota_init(struct aws_retry_quota *q);
/* Take the cost of one retry; false (nothing taken) when the quota cannot pay it. */
bool aws_retry_quota_acquire(struct aws_retry_quota *q, int cost);
/* Give back amount (capped at the capacity). */
void aws_retry_quota_release(struct aws_retry_quota *q, int amount);

/* Why an answer or a failure may be retried. */
enum aws_retry_kind {
    AWS_RETRY_NO = 0,     /* success, or a final error */
    AWS_RETRY_THROTTLE,   /* a throttling code or HTTP 429 */
    AWS_RETRY_TRANSIENT,  /* 500/502/503/504, a transient code, a network error */
    AWS_RETRY_TIMEOUT,    /* a timeout (costs AWS_RETRY_TIMEOUT_COST) */
    AWS_RETRY_CLOCK_SKEW, /* a request-time refusal: correct the clock, re-sign */
};

/* An HTTP answer: its status and its error code ("" when none could be read). */
enum aws_retry_kind aws_retry_classify(long status, const char *code);
bool aws_retry_is_throttle_code(const char *code);
bool aws_retry_is_skew_code(const char *code);

/* A random number in [0, 1): OpenSSL RAND_bytes unless a test replaced it. */
typedef double (*aws_retry_random_fn)(void);
void aws_retry_set_random(aws_retry_random_fn fn); /* NULL restores the default */

/* The delay before retry number `retry` (1 for the first retry), in milliseconds. */
long aws_retry_backoff_ms(const struct aws_retry_config *c, int retry);

/*
 * Parse an HTTP Date header value (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; RFC 850
 * and asctime forms too, as RFC 9110 asks a recipient to accept). False if malformed.
 */
bool aws_http_date_parse(const char *s, time_t *out) INFRA_MUST_CHECK;

/*
 * Clock skew: given the server's time and the client's local time plus its current
 * offset, should the offset change? True (and *new_offset = server - local) when they
 * are AWS_CLOCK_SKEW_MIN_S or more apart.
 */
bool aws_clock_skew_correct(time_t server, time_t local, long offset, long *new_offset);

#endif
