/*
 * aws_pages.h: every page of a paginated AWS Query API call (EC2's NextToken, RDS's
 * Marker): each page asked with the previous page's token, parsed into one list, until a
 * page has none. A token returned twice, or more pages than allowed, ends it as an error:
 * a service that loops must not keep the preflight waiting.
 */
#ifndef AWS_PAGES_H
#define AWS_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_http.h"
#include "infra/infra_error.h"

enum aws_pages_stop {
    AWS_PAGES_DONE,        /* every page read */
    AWS_PAGES_SEND_FAILED, /* send() failed: its own error says why */
    AWS_PAGES_BAD_PAGE,    /* a page did not parse, a token repeated, too many pages */
    AWS_PAGES_NO_MEMORY,
};

struct aws_pages {
    const char *action;  /* for messages: DescribeRouteTables */
    const char *service; /* EC2, RDS */
    const char *token;   /* the token's name: NextToken, Marker */
    int max_pages;
    /* Ask for one page (next: the token, NULL for the first); false when no answer came
     * (the caller records why). */
    bool (*send)(void *ctx, const char *next, struct aws_http_response *resp);
    bool (*parse)(const char *buf, size_t len, void *list, struct infra_error *err);
    void *ctx, *list;
    char **next; /* where parse leaves the last page's token (NULL: no more pages) */
};

/* Read every page into p->list; err says why it stopped otherwise (not for SEND_FAILED). */
enum aws_pages_stop aws_pages_fetch(const struct aws_pages *p, struct infra_error *err);

#endif
