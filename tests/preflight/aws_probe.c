/*
 * aws_probe.c: drives infra/aws_creds and infra/aws_http from the shell for
 * tests/preflight/credentials.sh (built as build/asan/aws_probe). Never prints a secret.
 *
 *   aws_probe creds [-p PROFILE] [-n TIMES]
 *       resolve credentials through the chain TIMES times (default 1); each time print
 *       "source=SRC access_key_id=AKID token=yes|no expires=EPOCH|never"
 *   aws_probe sts [-p PROFILE] [-r REGION] [-e ENDPOINT]
 *       resolve credentials, then send a signed STS GetCallerIdentity (form POST);
 *       print "status=HTTP" and either "arn=..." or "error=CODE kind=auth|denied|other"
 *   aws_probe region [-p PROFILE]      print the resolved region
 *   aws_probe endpoint SERVICE REGION [OVERRIDE]   print the resolved endpoint
 *
 * Exit: 0 success, 1 failure (message on stderr), 3 the service refused the signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
            printf("source=%s access_key_id=%s token=%s expires=%lld\n", c.source,
                   c.access_key_id, c.session_token[0] ? "yes" : "no", (long long)c.expiration);
        else
            printf("source=%s access_key_id=%s token=%s expires=never\n", c.source,
                   c.access_key_id, c.session_token[0] ? "yes" : "no");
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

static int cmd_sts(const char *profile, const char *region, const char *endpoint)
{
    struct infra_error err = {{0}};
    struct aws_creds_options o = {profile, region, NULL, NULL};
    struct aws_creds_provider *p = aws_creds_chain_new(&o, &err);
    struct aws_client *c = NULL;
    struct aws_form f;
    struct aws_http_response r = {0};
    struct aws_http_options ho = {2000, 10000, 2, 50, 200, 0, NULL};
    char reg[64], code[128], msg[512];
    int rc = 1;

    aws_form_init(&f);
    if (!p || !aws_region_resolve(region, profile, reg, sizeof(reg), &err))
        goto out;
    c = aws_client_new("sts", reg, endpoint, p, &ho, &err);
    if (!c)
        goto out;
    aws_form_add(&f, "Action", "GetCallerIdentity");
    aws_form_add(&f, "Version", "2011-06-15");
    if (!aws_client_post_form(c, &f, &r, &err))
        goto out;
    printf("endpoint=%s\nstatus=%ld\nattempts=%d\n", aws_client_endpoint(c), r.status,
           r.attempts);
    if (r.status == 200) {
        print_arn(r.body, r.body_len);
        rc = 0;
    } else {
        enum aws_error_kind k;
        aws_http_error_code(r.body, r.body_len, code, sizeof(code), msg, sizeof(msg));
        k = aws_error_classify(code);
        printf("error=%s kind=%s\n", code[0] ? code : "-",
               k == AWS_ERR_AUTH ? "auth" : k == AWS_ERR_DENIED ? "denied" : "other");
        rc = k == AWS_ERR_AUTH ? 3 : 1;
    }
out:
    if (rc == 1 && err.msg[0])
        fprintf(stderr, "aws_probe: %s\n", err.msg);
    aws_http_response_free(&r);
    aws_form_free(&f);
    aws_client_free(c);
    aws_creds_provider_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    const char *profile = NULL, *region = NULL, *endpoint = NULL, *cmd;
    int times = 1, opt, rc;
    struct infra_error err = {{0}};

    if (argc < 2)
        return usage();
    cmd = argv[1];
    optind = 2;
    while ((opt = getopt(argc, argv, "p:r:e:n:")) != -1) {
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
            times = (int)strtol(optarg, NULL, 10);
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
        rc = cmd_sts(profile, region, endpoint);
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
