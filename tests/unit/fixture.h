/*
 * tests/unit/fixture.h: a test's fixture file read whole (the unit tests that parse
 * recorded AWS responses). Include after cmocka.h; run the tests from the repository
 * root, where the fixture paths start.
 */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* dir/name, NUL-terminated, its length in *len; the test fails when it cannot be read
 * or is empty. The caller frees it. */
static char *fixture_read(const char *dir, const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s%s", dir, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

#endif
