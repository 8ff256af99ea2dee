/* aws_pages.c: every page of a paginated AWS Query API call (see aws_pages.h). */
#include "infra/aws_pages.h"

#include <stdlib.h>
#include <string.h>

enum aws_pages_stop aws_pages_fetch(const struct aws_pages *p, struct infra_error *err)
{
    enum aws_pages_stop stop = AWS_PAGES_BAD_PAGE;
    char *prev = NULL;

    for (int page = 0; page < p->max_pages; page++) {
        struct aws_http_response resp;
        struct infra_error perr = {{0}};
        bool parsed;

        if (!p->send(p->ctx, prev, &resp)) {
            stop = AWS_PAGES_SEND_FAILED;
            goto out;
        }
        parsed = p->parse(resp.body, resp.body_len, p->list, &perr);
        aws_http_response_free(&resp);
        if (!parsed) {
            infra_error_set(err, "%s: %s", p->action, perr.msg);
            goto out;
        }
        if (!*p->next) {
            stop = AWS_PAGES_DONE;
            goto out;
        }
        if (prev && strcmp(prev, *p->next) == 0) {
            infra_error_set(err, "%s: %s returned the same %s twice", p->action, p->service,
                            p->token);
            goto out;
        }
        free(prev);
        if (!(prev = strdup(*p->next))) {
            infra_error_set(err, "out of memory");
            stop = AWS_PAGES_NO_MEMORY;
            goto out;
        }
    }
    infra_error_set(err, "%s: more than %d pages", p->action, p->max_pages);
out:
    free(prev);
    return stop;
}
