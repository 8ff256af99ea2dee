/*
 * test_abuf.c: the bounded buffer (anonymise/abuf.h): limits, the sticky failure bit,
 * and (issue 10.9) a secret buffer that grows leaves no copy of the secret behind: the
 * old block is wiped before it is freed. A plain realloc moves the bytes and frees the
 * old block as it is; this test reads the freed block (under AddressSanitizer, which
 * keeps freed memory in quarantine and does not overwrite it) and must find none of
 * the secret's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "anonymise/abuf.h"

static void limits_and_failure(void **state)
{
    struct abuf b;

    (void)state;
    abuf_init(&b, 8);
    assert_true(abuf_puts(&b, "12345678"));
    assert_false(abuf_putc(&b, '9'));
    assert_true(abuf_failed(&b));
    assert_false(abuf_puts(&b, "x"));
    abuf_reset(&b);
    assert_false(abuf_failed(&b));
    assert_true(abuf_puts(&b, "ok"));
    assert_string_equal(abuf_cstr(&b), "ok");
    abuf_free(&b);
}

/* Read memory ASan considers freed: only to prove it was wiped. */
#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address))
#endif
static size_t
count_byte(const volatile char *p, size_t n, char c)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

static void secret_growth_leaves_no_copy(void **state)
{
    struct abuf b;
    const char *old;
    size_t old_cap;
    char chunk[100];

    (void)state;
#if !defined(__SANITIZE_ADDRESS__)
    skip(); /* reading freed memory is only defined enough under ASan's quarantine */
#endif
    memset(chunk, 'K', sizeof(chunk));
    abuf_init(&b, 1 << 20);
    b.secret = true;
    assert_true(abuf_append(&b, chunk, sizeof(chunk)));
    old = b.data;
    old_cap = b.cap;
    for (int i = 0; i < 40; i++) /* grows several times */
        assert_true(abuf_append(&b, chunk, sizeof(chunk)));
    assert_ptr_not_equal(b.data, old);
    assert_int_equal(b.len, 41 * sizeof(chunk));
    /* none of the secret's bytes is left (ASan keeps a few bytes of bookkeeping at the
     * start of a freed block: they are not 'K') */
    assert_int_equal(count_byte(old, old_cap, 'K'), 0);
    abuf_free_secret(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limits_and_failure),
        cmocka_unit_test(secret_growth_leaves_no_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
