/*
 * aws_probe.c: drives infra/aws_creds and infra/aws_http from the shell for
 * tests/preflight/credentials.sh (built as build/asan/aws_probe). Never prints a secret.
 *
 *   aws_probe creds [-p PROFILE] [-n TIMES]
 *       resolve credentials through the chain TIMES times (default 1); each time print
 *       "source=SRC access_key_id=AKID token=yes|no expires=EPOCH|never"
 *   aws_probe sts [-p PROFILE] [-r REGION] [-e ENDPOINT] [-n TIMES] [-a ATTEMPTS]
 *                 [-b BACKOFF_BASE_MS] [-M BACKOFF_MAX_MS] [-c CONNECT_MS] [-T TOTAL_MS]
 *                 [-D DEADLINE_MS]
 *       resolve credentials, then send a signed STS GetCallerIdentity (form POST) TIMES
 *       times on one client; print "attempts=N elapsed_ms=N clock_offset=S [gave_up=WHY]"
 *       and "status=HTTP clock_corrected=yes|no" with "arn=..." or
 *       "error=CODE kind=auth|denied|throttle|other", or "failure=KIND" (no answer)
 *   aws_probe region [-p PROFILE]      print the resolved region
 *   aws_probe endpoint SERVICE REGION [OVERRIDE]   print the resolved endpoint
 *
 * Exit: 0 success, 1 failure (message on stderr), 3 the service refused the signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "infra/aws_creds.h"
#include "infra/aws_http.h"

static int usage(void)
{
    fprintf(stderr, "usage: aws_probe creds|sts|region|endpoint [options]\n");
    return 1;
}

static int cmd_creds(const char *profile, int times)
{
    struct infra_error err = {{0}};
    struct aws_creds_options o = {profile, NULL, NULL, NULL};
    struct aws_creds_provider *p = aws_creds_chain_new(&o, &err);
    struct aws_credentials c;
    int rc = 0;

    if (!p) {
        fprintf(stderr, "aws_probe: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < times; i++) {
        if (!aws_creds_get(p, &c, &err)) {
            fprintf(stderr, "aws_probe: %s\n", err.msg);
            rc = 1;
            break;
        }
        if (c.expiration)
            printf("source=%s access_key_id=%s token=%s expires=%lld\n", c.source, c.access_key_id,
                   c.session_token[0] ? "yes" : "no", (long long)c.expiration);
        else
            printf("source=%s access_key_id=%s token=%s expires=never\n", c.source, c.access_key_id,
                   c.session_token[0] ? "yes" : "no");
        aws_credentials_wipe(&c);
    }
    aws_creds_provider_free(p);
    return rc;
}

/* The Arn of a GetCallerIdentity answer. */
static void print_arn(const char *body, size_t len)
{
    xmlDoc *doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *n = doc ? xmlDocGetRootElement(doc) : NULL;

    for (int depth = 0; n && depth < 3;) {
        xmlNode *c;
        for (c = n->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE &&
                (xmlStrcmp(c->name, (const xmlChar *)"GetCallerIdentityResult") == 0 ||
                 xmlStrcmp(c->name, (const xmlChar *)"Arn") == 0))
                break;
        n = c;
        depth++;
        if (n && xmlStrcmp(n->name, (const xmlChar *)"Arn") == 0) {
            xmlChar *t = xmlNodeGetContent(n);
            printf("arn=%s\n", (const char *)t);
            xmlFree(t);
            break;
        }
    }
    xmlFreeDoc(doc);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* One GetCallerIdentity on client c; prints one block of key=value lines. */
static int sts_call(struct aws_client *c)
{
    struct infra_error err = {{0}};
    struct aws_form f;
    struct aws_http_response r = {0};
    struct timespec t0;
    char code[128], msg[512];
    int rc = 1;
    bool sent;

    aws_form_init(&f);
    aws_form_add(&f, "Action", "GetCallerIdentity");
    aws_form_add(&f, "Version", "2011-06-15");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sent = aws_client_post_form(c, &f, &r, &err);
    printf("endpoint=%s\nattempts=%d\nelapsed_ms=%ld\nclock_offset=%ld\n", aws_client_endpoint(c),
           r.attempts, elapsed_ms(&t0), aws_client_clock_offset(c));
    if (r.gave_up)
        printf("gave_up=%s\n", r.gave_up);
    if (!sent) {
        printf("failure=%s\n", aws_http_failure_name(r.failure));
        fprintf(stderr, "aws_probe: %s\n", err.msg);
        goto out;
    }
    printf("status=%ld\nclock_corrected=%s\n", r.status, r.clock_corrected ? "yes" : "no");
    if (r.status == 200) {
        print_arn(r.body, r.body_len);
        rc = 0;
    } else {
        enum aws_error_kind k;
        aws_http_error_code(r.body, r.body_len, code, sizeof(code), msg, sizeof(msg));
        k = aws_error_classify(code);
        printf("error=%s kind=%s\n", code[0] ? code : "-",
               k == AWS_ERR_AUTH       ? "auth"
               : k == AWS_ERR_DENIED   ? "denied"
               : k == AWS_ERR_THROTTLE ? "throttle"
                                       : "other");
        rc = k == AWS_ERR_AUTH ? 3 : 1;
    }
out:
    aws_http_response_free(&r);
    aws_form_free(&f);
    return rc;
}

/* GetCallerIdentity `times` times on one client (the retry quota is the client's). */
static int cmd_sts(const char *profile, const char *region, const char *endpoint,
                   const struct aws_http_options *ho, int times)
{
    struct infra_error err = {{0}};
    struct aws_creds_options o = {profile, region, NULL, NULL};
    struct aws_creds_provider *p = aws_creds_chain_new(&o, &err);
    struct aws_client *c = NULL;
    char reg[64];
    int rc = 1;

    if (!p || !aws_region_resolve(region, profile, reg, sizeof(reg), &err))
        goto out;
    c = aws_client_new("sts", reg, endpoint, p, ho, &err);
    if (!c)
        goto out;
    for (int i = 0; i < times; i++) {
        if (times > 1)
            printf("call=%d\n", i + 1);
        rc = sts_call(c);
    }
    err.msg[0] = '\0';
out:
    if (rc == 1 && err.msg[0])
        fprintf(stderr, "aws_probe: %s\n", err.msg);
    aws_client_free(c);
    aws_creds_provider_free(p);
    return rc;
}

static long num(const char *s)
{
    return strtol(s, NULL, 10);
}

int main(int argc, char **argv)
{
    const char *profile = NULL, *region = NULL, *endpoint = NULL, *cmd;
    int times = 1, opt, rc;
    struct infra_error err = {{0}};
    /* sts: 2 s connect, 10 s per attempt; attempts and backoff as the environment says
     * unless -a/-b/-M; -D a deadline for the whole call */
    struct aws_http_options ho = {.connect_timeout_ms = 2000, .total_timeout_ms = 10000};

    if (argc < 2)
        return usage();
    cmd = argv[1];
    optind = 2;
    while ((opt = getopt(argc, argv, "p:r:e:n:a:b:M:c:T:D:")) != -1) {
        switch (opt) {
        case 'p':
            profile = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'n':
            times = (int)num(optarg);
            break;
        case 'a':
            ho.max_attempts = (int)num(optarg);
            break;
        case 'b':
            ho.backoff_base_ms = num(optarg);
            break;
        case 'M':
            ho.backoff_max_ms = num(optarg);
            break;
        case 'c':
            ho.connect_timeout_ms = num(optarg);
            break;
        case 'T':
            ho.total_timeout_ms = num(optarg);
            break;
        case 'D':
            ho.deadline_ms = num(optarg);
            break;
        default:
            return usage();
        }
    }
    if (!aws_http_global_init(&err)) {
        fprintf(stderr, "aws_probe: %s\n", err.msg);
        return 1;
    }
    if (strcmp(cmd, "creds") == 0) {
        rc = cmd_creds(profile, times < 1 ? 1 : times);
    } else if (strcmp(cmd, "sts") == 0) {
        rc = cmd_sts(profile, region, endpoint, &ho, times < 1 ? 1 : times);
    } else if (strcmp(cmd, "region") == 0) {
        char r[64];
        rc = aws_region_resolve(region, profile, r, sizeof(r), &err) ? 0 : 1;
        if (rc == 0)
            printf("%s\n", r);
        else
            fprintf(stderr, "aws_probe: %s\n", err.msg);
    } else if (strcmp(cmd, "endpoint") == 0 && optind + 2 <= argc) {
        char u[AWS_URL_MAX];
        rc = aws_endpoint_resolve(optind + 2 < argc ? argv[optind + 2] : NULL, argv[optind],
                                  argv[optind + 1], u, sizeof(u), &err)
                 ? 0
                 : 1;
        if (rc == 0)
            printf("%s\n", u);
        else
            fprintf(stderr, "aws_probe: %s\n", err.msg);
    } else {
        rc = usage();
    }
    xmlCleanupParser();
    aws_http_global_cleanup();
    return rc;
}
