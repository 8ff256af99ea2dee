/*
 * rds_token.c: RDS IAM authentication tokens (see rds_token.h).
 *
 * The signing is sigv4_presign's; this file only shapes the request the way botocore's
 * generate_db_auth_token does, so tokens match it byte for byte:
 *   - the signed "host" header is "HOST:PORT", except on 443 where botocore (an https URL
 *     on its default port) signs the bare host name while the token still says ":443";
 *   - the query is Action, DBUser (percent-encoded), then the X-Amz-* parameters in the
 *     order botocore appends them (SignedHeaders before Security-Token, Signature last).
 *     sigv4_presign renders them sorted, which differs only when a session token is
 *     present; the order does not change the signature (the canonical query is sorted).
 */
#include "infra/rds_token.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define MAX_PIECES 16

static bool valid_host(const char *h)
{
    size_t n = h ? strlen(h) : 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        /* a DNS name or an IP literal; no URL syntax, no whitespace */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

static bool valid_region(const char *r)
{
    size_t n = r ? strlen(r) : 0;

    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return false;
    return true;
}

static bool check_request(const struct rds_token_request *req, struct infra_error *err)
{
    if (!valid_host(req->host)) {
        infra_error_set(err, "rds token: host must be a DNS name or an IP address");
        return false;
    }
    if (req->port < 1 || req->port > 65535) {
        infra_error_set(err, "rds token: port %d is outside 1..65535", req->port);
        return false;
    }
    if (!req->user || !*req->user || strlen(req->user) > 255) {
        infra_error_set(err, "rds token: the user must be 1..255 bytes");
        return false;
    }
    if (!valid_region(req->region)) {
        infra_error_set(err, "rds token: invalid or missing region");
        return false;
    }
    return true;
}

/* botocore's order of the query parameters; anything else (none today) goes last. */
static const char *const param_order[] = {
    "Action=",         "DBUser=",        "X-Amz-Algorithm=",     "X-Amz-Credential=",
    "X-Amz-Date=",     "X-Amz-Expires=", "X-Amz-SignedHeaders=", "X-Amz-Security-Token=",
    "X-Amz-Signature="};
#define N_ORDER (sizeof(param_order) / sizeof(param_order[0]))

static size_t param_rank(const char *piece)
{
    for (size_t i = 0; i < N_ORDER; i++)
        if (strncmp(piece, param_order[i], strlen(param_order[i])) == 0)
            return i;
    return N_ORDER;
}

/* Append the query's '&'-separated pieces to out[*len..] in botocore's order. */
static bool render_query(const char *query, char *out, size_t outsz, size_t *len)
{
    const char *piece[MAX_PIECES];
    size_t plen[MAX_PIECES], n = 0;
    const char *p = query;

    while (*p) {
        size_t l = strcspn(p, "&");
        if (n == MAX_PIECES)
            return false;
        piece[n] = p;
        plen[n++] = l;
        p += l + (p[l] == '&');
    }
    for (size_t rank = 0; rank <= N_ORDER; rank++) {
        for (size_t i = 0; i < n; i++) {
            if (param_rank(piece[i]) != rank)
                continue;
            if (*len + plen[i] + 2 > outsz)
                return false;
            if (out[*len - 1] != '?')
                out[(*len)++] = '&';
            memcpy(out + *len, piece[i], plen[i]);
            *len += plen[i];
            out[*len] = '\0';
        }
    }
    return true;
}

bool rds_token_build(const struct rds_token_request *req, const struct sigv4_key *key, char *out,
                     size_t outsz, struct infra_error *err)
{
    char hostport[300], user[3 * 255 + 1], query[sizeof(user) + 32];
    struct sigv4_signature sig;
    size_t len;
    int n;

    if (outsz)
        out[0] = '\0';
    if (!check_request(req, err))
        return false;
    snprintf(hostport, sizeof(hostport), "%s:%d", req->host, req->port);
    (void)sigv4_uri_encode(req->user, strlen(req->user), false, user, sizeof(user));
    snprintf(query, sizeof(query), "Action=connect&DBUser=%s", user);

    struct sigv4_header host = {"host", req->port == 443 ? req->host : hostport};
    struct sigv4_request r = {"GET", "/", query, &host, 1, NULL, 0};
    struct sigv4_params params = {req->region, "rds-db", req->when, true, RDS_TOKEN_EXPIRES, false};
    if (!sigv4_presign(&r, key, &params, &sig, err))
        return false;
    n = snprintf(out, outsz, "%s/?", hostport);
    len = n > 0 ? (size_t)n : 0;
    if (n < 0 || (size_t)n >= outsz || !render_query(sig.query, out, outsz, &len)) {
        OPENSSL_cleanse(out, outsz);
        if (outsz)
            out[0] = '\0';
        sigv4_signature_free(&sig);
        infra_error_set(err, "rds token: longer than the %zu bytes available", outsz);
        return false;
    }
    OPENSSL_cleanse(sig.query, strlen(sig.query));
    sigv4_signature_free(&sig);
    return true;
}

bool rds_token_region_from_host(const char *host, char *out, size_t outsz)
{
    static const char *const suffixes[] = {".rds.amazonaws.com", ".rds.amazonaws.com.cn"};
    size_t hl = host ? strlen(host) : 0;

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]), end, start;
        if (hl <= sl || strcasecmp(host + hl - sl, suffixes[i]) != 0)
            continue;
        end = hl - sl; /* the region label ends here */
        start = end;
        while (start > 0 && host[start - 1] != '.')
            start--;
        if (start == 0 || end - start == 0 || end - start >= outsz)
            return false;
        memcpy(out, host + start, end - start);
        out[end - start] = '\0';
        for (size_t k = 0; out[k]; k++)
            if (out[k] >= 'A' && out[k] <= 'Z')
                out[k] = (char)(out[k] - 'A' + 'a');
        return valid_region(out);
    }
    return false;
}
