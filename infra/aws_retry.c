/*
 * aws_retry.c: retry configuration, quota, backoff, classification and the Date header,
 * see aws_retry.h. The lists of codes are those of botocore's retries/standard.py (the
 * SDKs share them); the quota constants those of the SDKs' standard mode.
 */
#include "infra/aws_retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "infra/aws_profile.h"

/* ---- configuration ---- */

const char *aws_retry_mode_name(enum aws_retry_mode m)
{
    switch (m) {
    case AWS_RETRY_LEGACY:
        return "legacy";
    case AWS_RETRY_ADAPTIVE:
        return "adaptive";
    case AWS_RETRY_STANDARD:
    default:
        return "standard";
    }
}

static bool parse_mode(const char *v, enum aws_retry_mode *m)
{
    if (strcmp(v, "standard") == 0)
        *m = AWS_RETRY_STANDARD;
    else if (strcmp(v, "legacy") == 0)
        *m = AWS_RETRY_LEGACY;
    else if (strcmp(v, "adaptive") == 0)
        *m = AWS_RETRY_ADAPTIVE;
    else
        return false;
    return true;
}

static bool parse_attempts(const char *v, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > AWS_RETRY_MAX_ATTEMPTS_LIMIT)
        return false;
    *out = (int)n;
    return true;
}

bool aws_retry_config_resolve(int explicit_attempts, const char *profile,
                              struct aws_retry_config *out, struct infra_error *err)
{
    const char *env_mode = getenv("AWS_RETRY_MODE"), *env_max = getenv("AWS_MAX_ATTEMPTS");
    char file_mode[32] = "", file_max[32] = "";
    bool have_mode = false, have_max = false;
    const char *where = NULL;
    struct aws_profile_files files;

    memset(out, 0, sizeof(*out));
    out->base_ms = AWS_RETRY_BASE_MS;
    out->max_backoff_ms = AWS_RETRY_MAX_BACKOFF_MS;
    env_mode = env_mode && *env_mode ? env_mode : NULL;
    env_max = env_max && *env_max ? env_max : NULL;
    profile = aws_profile_name(profile);
    if (!env_mode || (!env_max && explicit_attempts <= 0)) {
        bool ok;
        if (!aws_profile_files_load(&files, err))
            return false;
        ok = aws_profile_get(&files, profile, "retry_mode", file_mode, sizeof(file_mode),
                             &have_mode, &where, err) &&
             aws_profile_get(&files, profile, "max_attempts", file_max, sizeof(file_max), &have_max,
                             NULL, err);
        aws_profile_files_free(&files);
        if (!ok)
            return false;
    }
    if (env_mode && !parse_mode(env_mode, &out->mode)) {
        infra_error_set(err, "AWS_RETRY_MODE=%.32s: expected standard, legacy or adaptive",
                        env_mode);
        return false;
    }
    if (!env_mode && have_mode && !parse_mode(file_mode, &out->mode)) {
        infra_error_set(err, "retry_mode of profile %s: expected standard, legacy or adaptive",
                        profile);
        return false;
    }
    if (explicit_attempts > 0) {
        out->max_attempts = explicit_attempts;
        snprintf(out->attempts_from, sizeof(out->attempts_from), "the caller");
    } else if (env_max) {
        if (!parse_attempts(env_max, &out->max_attempts)) {
            infra_error_set(err, "AWS_MAX_ATTEMPTS=%.32s: expected a number from 1 to %d", env_max,
                            AWS_RETRY_MAX_ATTEMPTS_LIMIT);
            return false;
        }
        snprintf(out->attempts_from, sizeof(out->attempts_from), "AWS_MAX_ATTEMPTS");
    } else if (have_max) {
        if (!parse_attempts(file_max, &out->max_attempts)) {
            infra_error_set(err, "max_attempts of profile %s: expected a number from 1 to %d",
                            profile, AWS_RETRY_MAX_ATTEMPTS_LIMIT);
            return false;
        }
        snprintf(out->attempts_from, sizeof(out->attempts_from), "max_attempts of profile %.40s",
                 profile);
    } else {
        out->max_attempts = out->mode == AWS_RETRY_LEGACY ? 5 : 3;
        snprintf(out->attempts_from, sizeof(out->attempts_from), "default");
    }
    return true;
}

/* ---- quota ---- */

void aws_retry_quota_init(struct aws_retry_quota *q)
{
    q->capacity = q->available = AWS_RETRY_QUOTA_INITIAL;
}

bool aws_retry_quota_acquire(struct aws_retry_quota *q, int cost)
{
    if (cost > q->available)
        return false;
    q->available -= cost;
    return true;
}

void aws_retry_quota_release(struct aws_retry_quota *q, int amount)
{
    q->available += amount;
    if (q->available > q->capacity)
        q->available = q->capacity;
}

/* ---- classification ---- */

static bool in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; code && i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return true;
    return false;
}

bool aws_retry_is_throttle_code(const char *code)
{
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

    return in_list(code, throttle, sizeof(throttle) / sizeof(throttle[0]));
}

bool aws_retry_is_skew_code(const char *code)
{
    static const char *const skew[] = {"RequestExpired",        "RequestTimeTooSkewed",
                                       "RequestInTheFuture",    "InvalidSignatureException",
                                       "SignatureDoesNotMatch", "AuthFailure"};

    return in_list(code, skew, sizeof(skew) / sizeof(skew[0]));
}

enum aws_retry_kind aws_retry_classify(long status, const char *code)
{
    static const char *const transient[] = {"RequestTimeout", "RequestTimeoutException",
                                            "PriorRequestNotComplete"};

    if (status >= 200 && status < 300)
        return AWS_RETRY_NO;
    if (aws_retry_is_throttle_code(code) || status == 429)
        return AWS_RETRY_THROTTLE;
    if (in_list(code, transient, sizeof(transient) / sizeof(transient[0])))
        return AWS_RETRY_TRANSIENT;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return AWS_RETRY_TRANSIENT;
    if (aws_retry_is_skew_code(code))
        return AWS_RETRY_CLOCK_SKEW;
    return AWS_RETRY_NO;
}

/* ---- backoff ---- */

static double default_random(void)
{
    uint32_t r = 0;

    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)rand();
    return (double)r / 4294967296.0;
}

static aws_retry_random_fn random_fn = default_random;

void aws_retry_set_random(aws_retry_random_fn fn)
{
    random_fn = fn ? fn : default_random;
}

long aws_retry_backoff_ms(const struct aws_retry_config *c, int retry)
{
    long cap = c->base_ms;
    double r = random_fn();

    for (int i = 1; i < retry && cap < c->max_backoff_ms; i++)
        cap *= 2;
    if (cap > c->max_backoff_ms)
        cap = c->max_backoff_ms;
    if (r < 0 || r >= 1)
        r = 0;
    return (long)(r * (double)cap);
}

/* ---- Date header and clock skew ---- */

static int month_index(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    for (int i = 0; i < 12; i++)
        if (strncmp(m, names + 3 * i, 3) == 0)
            return i;
    return -1;
}

/* n digits at *s into *v; advances *s. */
static bool digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (!isdigit((unsigned char)**s))
            return false;
        *v = *v * 10 + (**s - '0');
    }
    return true;
}

static bool lit(const char **s, const char *want)
{
    size_t n = strlen(want);

    if (strncmp(*s, want, n) != 0)
        return false;
    *s += n;
    return true;
}

/* "HH:MM:SS" */
static bool hms(const char **s, struct tm *tm)
{
    return digits(s, 2, &tm->tm_hour) && lit(s, ":") && digits(s, 2, &tm->tm_min) && lit(s, ":") &&
           digits(s, 2, &tm->tm_sec);
}

static bool month(const char **s, struct tm *tm)
{
    tm->tm_mon = month_index(*s);
    if (tm->tm_mon < 0)
        return false;
    *s += 3;
    return true;
}

bool aws_http_date_parse(const char *s, time_t *out)
{
    struct tm tm;
    const char *comma;
    int year;

    memset(&tm, 0, sizeof(tm));
    if (!s)
        return false;
    while (*s == ' ')
        s++;
    comma = strchr(s, ',');
    if (comma && comma - s == 3) { /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        s = comma + 1;
        if (!lit(&s, " ") || !digits(&s, 2, &tm.tm_mday) || !lit(&s, " ") || !month(&s, &tm) ||
            !lit(&s, " ") || !digits(&s, 4, &year) || !lit(&s, " ") || !hms(&s, &tm) ||
            !lit(&s, " GMT"))
            return false;
    } else if (comma) { /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        s = comma + 1;
        if (!lit(&s, " ") || !digits(&s, 2, &tm.tm_mday) || !lit(&s, "-") || !month(&s, &tm) ||
            !lit(&s, "-") || !digits(&s, 2, &year) || !lit(&s, " ") || !hms(&s, &tm) ||
            !lit(&s, " GMT"))
            return false;
        year += year < 70 ? 2000 : 1900;
    } else { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (strlen(s) < 4)
            return false;
        s += 4;
        if (!month(&s, &tm) || !lit(&s, " "))
            return false;
        if (*s == ' ')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        tm.tm_mday = *s++ - '0';
        if (isdigit((unsigned char)*s))
            tm.tm_mday = tm.tm_mday * 10 + (*s++ - '0');
        if (!lit(&s, " ") || !hms(&s, &tm) || !lit(&s, " ") || !digits(&s, 4, &year))
            return false;
    }
    while (*s == ' ' || *s == '\r' || *s == '\n')
        s++;
    if (*s || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60 || year < 1970)
        return false;
    tm.tm_year = year - 1900;
    *out = timegm(&tm);
    return true;
}

bool aws_clock_skew_correct(time_t server, time_t local, long offset, long *new_offset)
{
    long diff = (long)(server - (local + offset));

    if (diff > -AWS_CLOCK_SKEW_MIN_S && diff < AWS_CLOCK_SKEW_MIN_S)
        return false;
    *new_offset = (long)(server - local);
    return true;
}
