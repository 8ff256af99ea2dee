/*
 * test_aws_pages.c: infra/aws_pages against a fake service: every page is read, the
 * token of one page asks for the next, and a service that repeats a token, never stops,
 * or sends a page that does not parse ends the call with an error, never a loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "infra/aws_pages.h"

/* The fake: page i's body is "token-of-next-page" ("" for the last one), or "!" (bad). */
struct fake {
    const char *const *bodies;
    size_t n_bodies, sent;
    char asked[8][16]; /* the token each request carried ("-" for none) */
    bool fail_send;
};

struct list {
    size_t pages;
    char *token;
};

static bool fake_send(void *ctx, const char *next, struct aws_http_response *resp)
{
    struct fake *f = ctx;
    const char *body = f->bodies[f->sent < f->n_bodies ? f->sent : f->n_bodies - 1];

    if (f->fail_send)
        return false;
    if (f->sent < 8)
        strncpy(f->asked[f->sent], next ? next : "-", sizeof(f->asked[0]) - 1);
    f->sent++;
    memset(resp, 0, sizeof(*resp));
    resp->body = strdup(body);
    resp->body_len = strlen(body);
    return resp->body != NULL;
}

static bool fake_parse(const char *buf, size_t len, void *l, struct infra_error *err)
{
    struct list *list = l;

    if (len == 1 && buf[0] == '!') {
        infra_error_set(err, "not a page");
        return false;
    }
    list->pages++;
    free(list->token);
    list->token = len ? strdup(buf) : NULL;
    return true;
}

static enum aws_pages_stop fetch(struct fake *f, struct list *l, struct infra_error *err)
{
    const struct aws_pages p = {.action = "DescribeThings",
                                .service = "EC2",
                                .token = "NextToken",
                                .max_pages = 5,
                                .send = fake_send,
                                .parse = fake_parse,
                                .ctx = f,
                                .list = l,
                                .next = &l->token};
    enum aws_pages_stop stop = aws_pages_fetch(&p, err);

    free(l->token);
    l->token = NULL;
    return stop;
}

static void test_every_page(void **state)
{
    static const char *const bodies[] = {"t1", "t2", ""};
    struct fake f = {.bodies = bodies, .n_bodies = 3};
    struct list l = {0};
    struct infra_error err = {{0}};

    (void)state;
    assert_int_equal(fetch(&f, &l, &err), AWS_PAGES_DONE);
    assert_int_equal(l.pages, 3);
    assert_string_equal(f.asked[0], "-");
    assert_string_equal(f.asked[1], "t1");
    assert_string_equal(f.asked[2], "t2");
}

static void test_repeated_token(void **state)
{
    static const char *const bodies[] = {"t1", "t1"};
    struct fake f = {.bodies = bodies, .n_bodies = 2};
    struct list l = {0};
    struct infra_error err = {{0}};

    (void)state;
    assert_int_equal(fetch(&f, &l, &err), AWS_PAGES_BAD_PAGE);
    assert_int_equal(f.sent, 2);
    assert_string_equal(err.msg, "DescribeThings: EC2 returned the same NextToken twice");
}

static void test_too_many_pages(void **state)
{
    static const char *const bodies[] = {"a", "b", "c", "d", "e", "f"};
    struct fake f = {.bodies = bodies, .n_bodies = 6};
    struct list l = {0};
    struct infra_error err = {{0}};

    (void)state;
    assert_int_equal(fetch(&f, &l, &err), AWS_PAGES_BAD_PAGE);
    assert_int_equal(f.sent, 5);
    assert_string_equal(err.msg, "DescribeThings: more than 5 pages");
}

static void test_bad_page_and_failed_send(void **state)
{
    static const char *const bodies[] = {"t1", "!"};
    struct fake f = {.bodies = bodies, .n_bodies = 2};
    struct list l = {0};
    struct infra_error err = {{0}};

    (void)state;
    assert_int_equal(fetch(&f, &l, &err), AWS_PAGES_BAD_PAGE);
    assert_string_equal(err.msg, "DescribeThings: not a page");
    f = (struct fake){.bodies = bodies, .n_bodies = 2, .fail_send = true};
    memset(&err, 0, sizeof(err));
    assert_int_equal(fetch(&f, &l, &err), AWS_PAGES_SEND_FAILED);
    assert_int_equal(l.pages, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_page),
        cmocka_unit_test(test_repeated_token),
        cmocka_unit_test(test_too_many_pages),
        cmocka_unit_test(test_bad_page_and_failed_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
