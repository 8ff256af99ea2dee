/*
 * sigv4.c: AWS Signature Version 4, see sigv4.h.
 *
 * The four stages follow the AWS documentation (and aws-c-auth, whose vector folders
 * tests/unit/test_sigv4.c replays):
 *   1. canonical request: method, canonical URI (dot segments and empty segments removed
 *      when normalising, then every byte but RFC 3986 unreserved and '/' percent-encoded,
 *      '%' included: the path is taken as sent, so an already encoded path is encoded a
 *      second time, as AWS requires of every service but S3), canonical query (pairs
 *      decoded then re-encoded, sorted by key then value), canonical headers, the signed
 *      header list, hex SHA-256 of the payload;
 *   2. string to sign: algorithm, X-Amz-Date, scope, hex SHA-256 of stage 1;
 *   3. signature: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request",
 *      then HMAC of stage 2, in hex;
 *   4. the Authorization header, or (presign) the query string with X-Amz-Signature.
 * Every intermediate string has a hard size limit; the derived keys are wiped.
 */
#include "infra/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define SB_MAX (1024u * 1024u) /* any one canonical string */
#define MAX_PARAMS 1024
#define MAX_HEADERS 128

/* A small bounded string builder with a sticky failure bit. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_append(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n >= SB_MAX - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
    sb_append(b, &c, 1);
}

static void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

size_t sigv4_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            if (n + 1 < outsz)
                out[n] = (char)c;
            n++;
        } else {
            if (n + 3 < outsz) {
                out[n] = '%';
                out[n + 1] = hex[c >> 4];
                out[n + 2] = hex[c & 15];
            }
            n += 3;
        }
    }
    if (outsz > 0)
        out[n < outsz ? n : outsz - 1] = '\0';
    return n;
}

static void sb_encode(struct sbuf *b, const char *s, size_t len, bool keep_slash)
{
    char tmp[256];

    while (len > 0 && !b->failed) {
        size_t chunk = len < 64 ? len : 64; /* 64 bytes encode to at most 192 */
        size_t n = sigv4_uri_encode(s, chunk, keep_slash, tmp, sizeof(tmp));
        sb_append(b, tmp, n);
        s += chunk;
        len -= chunk;
    }
}

static void hex_encode(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data ? data : (const void *)"", len, md);
    hex_encode(md, sizeof(md), out);
}

static bool hmac256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32])
{
    unsigned int n = 32;

    return HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) != NULL && n == 32;
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        memcpy(out, "19700101T000000Z", 17);
}

/* ---- canonical URI ---- */

struct seg {
    const char *p;
    size_t n;
};

static void canonical_uri(struct sbuf *b, const char *path, bool normalize)
{
    if (!path || !*path)
        path = "/";
    if (!normalize) {
        sb_encode(b, path, strlen(path), true);
        return;
    }
    /* Remove empty, "." and ".." segments (RFC 3986 5.2.4, plus empty ones). */
    size_t len = strlen(path), nseg = 0, cap = 16;
    struct seg *segs = malloc(cap * sizeof(*segs));
    if (!segs) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && path[i] == '.')) {
            /* skip */
        } else if (n == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else {
            if (nseg == cap) {
                struct seg *ns = realloc(segs, 2 * cap * sizeof(*segs));
                if (!ns) {
                    free(segs);
                    b->failed = true;
                    return;
                }
                segs = ns;
                cap *= 2;
            }
            segs[nseg].p = path + i;
            segs[nseg].n = n;
            nseg++;
        }
        i = j + 1;
    }
    sb_putc(b, '/');
    for (size_t k = 0; k < nseg; k++) {
        if (k > 0)
            sb_putc(b, '/');
        sb_encode(b, segs[k].p, segs[k].n, false);
    }
    if (nseg > 0 && path[len - 1] == '/')
        sb_putc(b, '/');
    free(segs);
}

/* ---- canonical query ---- */

struct qparam {
    char *key; /* encoded */
    char *val; /* encoded */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) then encode it canonically into a fresh string. */
static char *recode(const char *s, size_t n)
{
    char *dec = malloc(n + 1);
    size_t m = 0;
    struct sbuf b = {0};

    if (!dec)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            dec[m++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dec[m++] = s[i];
        }
    }
    sb_encode(&b, dec, m, false);
    free(dec);
    if (b.failed) {
        sb_free(&b);
        return NULL;
    }
    if (!b.p) {
        b.p = malloc(1);
        if (b.p)
            b.p[0] = '\0';
    }
    return b.p;
}

struct qlist {
    struct qparam *v;
    size_t n, cap;
};

static void qlist_free(struct qlist *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].key);
        free(q->v[i].val);
    }
    free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}

/* Add one pair from raw (possibly encoded) text. */
static bool qlist_add(struct qlist *q, const char *k, size_t kn, const char *v, size_t vn)
{
    if (q->n >= MAX_PARAMS)
        return false;
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 16;
        struct qparam *nv = realloc(q->v, cap * sizeof(*nv));
        if (!nv)
            return false;
        q->v = nv;
        q->cap = cap;
    }
    char *ek = recode(k, kn);
    char *ev = recode(v, vn);
    if (!ek || !ev) {
        free(ek);
        free(ev);
        return false;
    }
    q->v[q->n].key = ek;
    q->v[q->n].val = ev;
    q->n++;
    return true;
}

static bool qlist_parse(struct qlist *q, const char *query)
{
    if (!query)
        return true;
    size_t len = strlen(query);
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && query[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(query + i, '=', j - i);
            size_t kn = eq ? (size_t)(eq - (query + i)) : j - i;
            const char *v = eq ? eq + 1 : query + j;
            size_t vn = eq ? (size_t)(query + j - v) : 0;
            if (!qlist_add(q, query + i, kn, v, vn))
                return false;
        }
        i = j + 1;
    }
    return true;
}

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : strcmp(x->val, y->val);
}

static void qlist_render(const struct qlist *q, struct sbuf *b)
{
    for (size_t i = 0; i < q->n; i++) {
        if (i > 0)
            sb_putc(b, '&');
        sb_puts(b, q->v[i].key);
        sb_putc(b, '=');
        sb_puts(b, q->v[i].val);
    }
}

/* ---- canonical headers ---- */

struct chdr {
    char *name; /* lower-case */
    const char *value;
    size_t idx; /* original position: keeps duplicates in order */
};

static int chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Value trimmed, inner whitespace runs (folded lines included) as one space. */
static void sb_header_value(struct sbuf *b, const char *v)
{
    bool pending = false, started = false;

    for (; *v; v++) {
        if (is_ws(*v)) {
            pending = started;
            continue;
        }
        if (pending)
            sb_putc(b, ' ');
        pending = false;
        started = true;
        sb_putc(b, *v);
    }
}

static bool canonical_headers(const struct sigv4_request *req, struct sbuf *out,
                              char *signed_headers, size_t shsz, struct infra_error *err)
{
    struct chdr *h;
    bool ok = false, have_host = false;
    struct sbuf sh = {0};

    if (req->n_headers == 0 || req->n_headers > MAX_HEADERS) {
        infra_error_set(err, "sigv4: %zu headers to sign (need 1..%d, with host)", req->n_headers,
                        MAX_HEADERS);
        return false;
    }
    h = calloc(req->n_headers, sizeof(*h));
    if (!h) {
        infra_error_set(err, "sigv4: out of memory");
        return false;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name;
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 256 || !req->headers[i].value) {
            infra_error_set(err, "sigv4: header %zu has no name or value", i);
            goto out;
        }
        h[i].name = malloc(n + 1);
        if (!h[i].name) {
            infra_error_set(err, "sigv4: out of memory");
            goto out;
        }
        for (size_t k = 0; k < n; k++) {
            char c = name[k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if ((unsigned char)c <= ' ' || c == ':' || c == 0x7f) {
                infra_error_set(err, "sigv4: header %zu has an invalid name", i);
                goto out;
            }
            h[i].name[k] = c;
        }
        h[i].name[n] = '\0';
        h[i].value = req->headers[i].value;
        h[i].idx = i;
        if (strcmp(h[i].name, "host") == 0)
            have_host = true;
    }
    if (!have_host) {
        infra_error_set(err, "sigv4: the host header is required");
        goto out;
    }
    qsort(h, req->n_headers, sizeof(*h), chdr_cmp);
    for (size_t i = 0; i < req->n_headers; i++) {
        bool same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            sb_putc(out, ',');
        } else {
            if (i > 0) {
                sb_putc(out, '\n');
                sb_putc(&sh, ';');
            }
            sb_puts(out, h[i].name);
            sb_putc(out, ':');
            sb_puts(&sh, h[i].name);
        }
        sb_header_value(out, h[i].value);
    }
    sb_putc(out, '\n');
    if (out->failed || sh.failed || sh.len >= shsz) {
        infra_error_set(err, "sigv4: headers too large to sign");
        goto out;
    }
    memcpy(signed_headers, sh.p, sh.len + 1);
    ok = true;
out:
    for (size_t i = 0; i < req->n_headers; i++)
        free(h[i].name);
    free(h);
    sb_free(&sh);
    return ok;
}

/* ---- assembling the stages ---- */

static bool check_inputs(const struct sigv4_request *req, const struct sigv4_key *key,
                         const struct sigv4_params *p, struct infra_error *err)
{
    if (!req || !req->method || !*req->method || !key || !key->access_key_id ||
        !*key->access_key_id || !key->secret_access_key || !*key->secret_access_key || !p ||
        !p->region || !*p->region || !p->service || !*p->service) {
        infra_error_set(err, "sigv4: missing method, key, region or service");
        return false;
    }
    if (strlen(key->secret_access_key) > 256 || strlen(key->access_key_id) > 128 ||
        strlen(p->region) > 32 || strlen(p->service) > 48) {
        infra_error_set(err, "sigv4: key id, secret, region or service too long");
        return false;
    }
    if (req->body_len > 0 && !req->body) {
        infra_error_set(err, "sigv4: body length without a body");
        return false;
    }
    return true;
}

static void set_scope(struct sigv4_signature *sig, const struct sigv4_params *p)
{
    sigv4_amz_date(p->when, sig->amz_date);
    snprintf(sig->scope, sizeof(sig->scope), "%.8s/%s/%s/aws4_request", sig->amz_date, p->region,
             p->service);
}

/* Stages 2 and 3 from the canonical request in sig. */
static bool sign_stages(struct sigv4_signature *sig, const struct sigv4_key *key,
                        const struct sigv4_params *p, struct infra_error *err)
{
    char hash[65];
    unsigned char k1[32], k2[32];
    char kseed[4 + 257];
    struct sbuf sts = {0};
    bool ok = false;

    sigv4_sha256_hex(sig->canonical_request, strlen(sig->canonical_request), hash);
    sb_puts(&sts, "AWS4-HMAC-SHA256\n");
    sb_puts(&sts, sig->amz_date);
    sb_putc(&sts, '\n');
    sb_puts(&sts, sig->scope);
    sb_putc(&sts, '\n');
    sb_puts(&sts, hash);
    if (sts.failed) {
        infra_error_set(err, "sigv4: out of memory");
        sb_free(&sts);
        return false;
    }
    int kn = snprintf(kseed, sizeof(kseed), "AWS4%s", key->secret_access_key);
    if (kn > 0 && (size_t)kn < sizeof(kseed) && hmac256(kseed, (size_t)kn, sig->amz_date, 8, k1) &&
        hmac256(k1, 32, p->region, strlen(p->region), k2) &&
        hmac256(k2, 32, p->service, strlen(p->service), k1) &&
        hmac256(k1, 32, "aws4_request", 12, k2) && hmac256(k2, 32, sts.p, sts.len, k1)) {
        hex_encode(k1, 32, sig->signature);
        sig->string_to_sign = sts.p;
        sts.p = NULL;
        ok = true;
    } else {
        infra_error_set(err, "sigv4: HMAC failed");
    }
    OPENSSL_cleanse(kseed, sizeof(kseed));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    sb_free(&sts);
    return ok;
}

/* The x-amz-content-sha256 header's value (the payload hash the server will use). */
static bool content_sha256(const struct sigv4_request *req, char *out, size_t outsz)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct sigv4_header *h = &req->headers[i];
        if (h->name && h->value && strcasecmp(h->name, "x-amz-content-sha256") == 0 &&
            strlen(h->value) < outsz) {
            snprintf(out, outsz, "%s", h->value);
            return true;
        }
    }
    return false;
}

static bool build_canonical(const struct sigv4_request *req, const struct sigv4_params *p,
                            const struct qlist *q, struct sigv4_signature *sig,
                            struct infra_error *err)
{
    struct sbuf cr = {0};
    char hash[65];

    sb_puts(&cr, req->method);
    sb_putc(&cr, '\n');
    if (p->s3) /* S3: the path as sent, encoded once by the caller */
        sb_puts(&cr, req->path && *req->path ? req->path : "/");
    else
        canonical_uri(&cr, req->path, p->normalize_path);
    sb_putc(&cr, '\n');
    qlist_render(q, &cr);
    sb_putc(&cr, '\n');
    if (!canonical_headers(req, &cr, sig->signed_headers, sizeof(sig->signed_headers), err)) {
        sb_free(&cr);
        return false;
    }
    sb_putc(&cr, '\n');
    sb_puts(&cr, sig->signed_headers);
    sb_putc(&cr, '\n');
    if (!content_sha256(req, hash, sizeof(hash)))
        sigv4_sha256_hex(req->body, req->body_len, hash);
    sb_puts(&cr, hash);
    if (cr.failed) {
        infra_error_set(err, "sigv4: request too large to sign");
        sb_free(&cr);
        return false;
    }
    sig->canonical_request = cr.p;
    return true;
}

bool sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_key *key,
                        const struct sigv4_params *params, struct sigv4_signature *sig,
                        struct infra_error *err)
{
    struct qlist q = {0};
    struct sbuf az = {0};

    memset(sig, 0, sizeof(*sig));
    if (!check_inputs(req, key, params, err))
        return false;
    set_scope(sig, params);
    if (!qlist_parse(&q, req->query)) {
        infra_error_set(err, "sigv4: query string too large");
        goto fail;
    }
    if (q.n > 1)
        qsort(q.v, q.n, sizeof(*q.v), qparam_cmp);
    if (!build_canonical(req, params, &q, sig, err) || !sign_stages(sig, key, params, err))
        goto fail;
    sb_puts(&az, "AWS4-HMAC-SHA256 Credential=");
    sb_puts(&az, key->access_key_id);
    sb_putc(&az, '/');
    sb_puts(&az, sig->scope);
    sb_puts(&az, ", SignedHeaders=");
    sb_puts(&az, sig->signed_headers);
    sb_puts(&az, ", Signature=");
    sb_puts(&az, sig->signature);
    if (az.failed) {
        infra_error_set(err, "sigv4: out of memory");
        sb_free(&az);
        goto fail;
    }
    sig->authorization = az.p;
    qlist_free(&q);
    return true;
fail:
    qlist_free(&q);
    sigv4_signature_free(sig);
    return false;
}

static bool add_param(struct qlist *q, const char *k, const char *v)
{
    return qlist_add(q, k, strlen(k), v, strlen(v));
}

bool sigv4_presign(const struct sigv4_request *req, const struct sigv4_key *key,
                   const struct sigv4_params *params, struct sigv4_signature *sig,
                   struct infra_error *err)
{
    struct qlist q = {0};
    struct sbuf qs = {0};
    char cred[300], expires[16];

    memset(sig, 0, sizeof(*sig));
    if (!check_inputs(req, key, params, err))
        return false;
    if (params->expires < 1 || params->expires > SIGV4_MAX_EXPIRES) {
        infra_error_set(err, "sigv4: presign expiry %u s is outside 1..%d", params->expires,
                        SIGV4_MAX_EXPIRES);
        return false;
    }
    set_scope(sig, params);
    snprintf(cred, sizeof(cred), "%s/%s", key->access_key_id, sig->scope);
    snprintf(expires, sizeof(expires), "%u", params->expires);
    /* The signed header list is known before the canonical request: compute it once. */
    {
        struct sbuf tmp = {0};
        bool ok =
            canonical_headers(req, &tmp, sig->signed_headers, sizeof(sig->signed_headers), err);
        sb_free(&tmp);
        if (!ok)
            goto fail;
    }
    if (!qlist_parse(&q, req->query) || !add_param(&q, "X-Amz-Algorithm", "AWS4-HMAC-SHA256") ||
        !add_param(&q, "X-Amz-Credential", cred) || !add_param(&q, "X-Amz-Date", sig->amz_date) ||
        !add_param(&q, "X-Amz-Expires", expires) ||
        !add_param(&q, "X-Amz-SignedHeaders", sig->signed_headers) ||
        (key->session_token && *key->session_token &&
         !add_param(&q, "X-Amz-Security-Token", key->session_token))) {
        infra_error_set(err, "sigv4: query string too large");
        goto fail;
    }
    if (q.n > 1)
        qsort(q.v, q.n, sizeof(*q.v), qparam_cmp);
    if (!build_canonical(req, params, &q, sig, err) || !sign_stages(sig, key, params, err))
        goto fail;
    qlist_render(&q, &qs);
    sb_puts(&qs, "&X-Amz-Signature=");
    sb_puts(&qs, sig->signature);
    if (qs.failed) {
        infra_error_set(err, "sigv4: query string too large");
        sb_free(&qs);
        goto fail;
    }
    sig->query = qs.p;
    qlist_free(&q);
    return true;
fail:
    qlist_free(&q);
    sigv4_signature_free(sig);
    return false;
}

void sigv4_signature_free(struct sigv4_signature *sig)
{
    if (!sig)
        return;
    free(sig->canonical_request);
    free(sig->string_to_sign);
    free(sig->authorization);
    if (sig->query) {
        /* may carry a session token */
        OPENSSL_cleanse(sig->query, strlen(sig->query));
        free(sig->query);
    }
    memset(sig, 0, sizeof(*sig));
}
