/*
 * configsrc.c: the config from a file or from S3, see configsrc.h.
 */
#include "etl/configsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "etl/exitcode.h"
#include "etl/log.h"
#include "infra/aws_creds.h"
#include "infra/s3.h"

static struct config_origin g_origin;

const struct config_origin *configsrc_origin(void)
{
    return &g_origin;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The last load failed for a reason that is not the config's (configsrc_failure_exit). */
static bool g_unavailable;

/* Read s3://bucket/key into *obj; false with the message in err (g_unavailable set when
 * S3 or the credentials failed, not the URL or the object). */
static bool fetch(const char *ref, struct s3_object *obj, struct anon_error *err)
{
    char bucket[S3_BUCKET_MAX], key[S3_KEY_MAX], region[64] = "";
    struct infra_error ie = {{0}};
    struct aws_creds_provider *creds = NULL;
    enum s3_error_kind kind = S3_ERR_OTHER;
    bool ok = false;

    if (!s3_url_parse(ref, bucket, key, &ie)) {
        anon_error_add(err, "%s", ie.msg);
        return false;
    }
    if (!aws_region_resolve(NULL, NULL, region, sizeof(region), &ie))
        region[0] = '\0'; /* us-east-1 first; S3 names the bucket's region if elsewhere */
    creds =
        aws_creds_chain_new(&(struct aws_creds_options){.region = region[0] ? region : NULL}, &ie);
    if (!creds) {
        anon_error_add(err, "%s: %s", ref, ie.msg);
        g_unavailable = true;
        return false;
    }
    ok = s3_get_object(bucket, key, region, creds, obj, &kind, &ie);
    if (!ok) {
        anon_error_add(err, "config %s (%s)", ie.msg, s3_error_kind_name(kind));
        g_unavailable = kind == S3_ERR_TRANSPORT || kind == S3_ERR_OTHER;
    }
    aws_creds_provider_free(creds);
    return ok;
}

bool configsrc_load(const char *ref, struct config **out, struct anon_error *err)
{
    struct s3_object obj = {0};
    bool ok;

    memset(&g_origin, 0, sizeof(g_origin));
    g_unavailable = false;
    snprintf(g_origin.ref, sizeof(g_origin.ref), "%s", ref);
    snprintf(g_origin.identity, sizeof(g_origin.identity), "%s", ref);
    if (!s3_is_url(ref)) {
        char *abs = realpath(ref, NULL);
        if (abs && strlen(abs) < sizeof(g_origin.identity))
            snprintf(g_origin.identity, sizeof(g_origin.identity), "%s", abs);
        free(abs);
        ok = config_load(ref, out, err);
        snprintf(g_origin.description, sizeof(g_origin.description), "%s", ref);
    } else {
        g_origin.s3 = true;
        if (!fetch(ref, &obj, err))
            return false;
        snprintf(g_origin.version_id, sizeof(g_origin.version_id), "%s", obj.version_id);
        snprintf(g_origin.etag, sizeof(g_origin.etag), "%s", obj.etag);
        snprintf(g_origin.description, sizeof(g_origin.description), "%s version_id=%s etag=%s",
                 ref, obj.version_id[0] ? obj.version_id : "none", obj.etag);
        ok = config_load_buffer(ref, obj.body, obj.len, out, err);
        s3_object_free(&obj);
    }
    if (!ok)
        return false;
    hex((*out)->fingerprint, 32, g_origin.fingerprint);
    if (!g_origin.s3)
        return true;
    struct log_field f[] = {LF_STR("source", ref), LF_STR("version_id", g_origin.version_id),
                            LF_STR("etag", g_origin.etag),
                            LF_STR("fingerprint", g_origin.fingerprint)};
    log_emit(LOG_INFO, "config_loaded", NULL, f, 4, "config %s (fingerprint %.16s)",
             g_origin.description, g_origin.fingerprint);
    return true;
}

int configsrc_failure_exit(void)
{
    return g_unavailable ? EXIT_PREFLIGHT : EXIT_USAGE;
}
