/*
 * test_secret.c: secret references resolved (etl/secret.h), issue 10.9: a `{ file: }`
 * secret readable or writable by group or others, or owned by another user, is refused
 * as ssh refuses such a private key (the message names the path and the mode, never the
 * content); a FIFO is refused at once, not waited on; a key read from the environment is
 * wiped from it once used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "etl/secret.h"

static char dir[] = "/tmp/test_secret_XXXXXX";

static void write_file(const char *path, const char *content, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static bool resolve_file(const char *path, struct abuf *out, struct anon_error *err)
{
    struct cfg_secret s = {.kind = CFG_SECRET_FILE, .ref = (char *)path};

    anon_error_clear(err);
    return secret_resolve(&s, "secrets.hash_key", out, NULL, err);
}

static void file_modes(void **state)
{
    static const struct {
        mode_t mode;
        bool ok;
    } cases[] = {{0600, true},  {0400, true},  {0644, false}, {0640, false},
                 {0604, false}, {0620, false}, {0602, false}, {0660, false}};
    char path[64];
    struct abuf out;
    struct anon_error err;

    (void)state;
    snprintf(path, sizeof(path), "%s/key", dir);
    abuf_init(&out, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(path, "s3cret-content\n", cases[i].mode);
        if (resolve_file(path, &out, &err) != cases[i].ok)
            fail_msg("mode %04o: %s", (unsigned)cases[i].mode, cases[i].ok ? err.msg : "accepted");
        if (cases[i].ok) {
            assert_int_equal(out.len, 14);
            assert_memory_equal(out.data, "s3cret-content", 14);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "is open to group or others (mode %04o)",
                     (unsigned)cases[i].mode);
            assert_non_null(strstr(err.msg, want));
            assert_non_null(strstr(err.msg, path));
            assert_null(strstr(err.msg, "s3cret"));
        }
    }
    abuf_free_secret(&out);
    unlink(path);
}

static void file_owner_and_kind(void **state)
{
    char path[64], link_path[64], fifo_path[64];
    struct abuf out;
    struct anon_error err;

    (void)state;
    snprintf(path, sizeof(path), "%s/key", dir);
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    abuf_init(&out, 0);
    write_file(path, "s3cret", 0600);
    /* a symlink to a private file is fine (Kubernetes and systemd mount secrets so) */
    assert_int_equal(symlink(path, link_path), 0);
    assert_true(resolve_file(link_path, &out, &err));
    /* a directory is not a secret */
    assert_false(resolve_file(dir, &out, &err));
    assert_non_null(strstr(err.msg, "is not a regular file"));
    /* nor a FIFO: refused at once, not waited on for a writer that never comes (the
     * alarm ends a hang as a failure) */
    snprintf(fifo_path, sizeof(fifo_path), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo_path, 0600), 0);
    alarm(20);
    assert_false(resolve_file(fifo_path, &out, &err));
    alarm(0);
    assert_non_null(strstr(err.msg, "is not a regular file"));
    unlink(fifo_path);
    /* another user's file, even private (only root can make one here) */
    if (geteuid() == 0) {
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_false(resolve_file(path, &out, &err));
        assert_non_null(strstr(err.msg, "belongs to another user (uid 65534)"));
    }
    abuf_free_secret(&out);
    unlink(link_path);
    unlink(path);
}

static void env_forgotten(void **state)
{
    struct cfg_secret s = {.kind = CFG_SECRET_ENV, .ref = "TEST_SECRET_KEY_VAR"};
    struct abuf out;
    struct anon_error err;
    char *raw;

    (void)state;
    assert_int_equal(setenv("TEST_SECRET_KEY_VAR", "0123456789-secret", 1), 0);
    raw = getenv("TEST_SECRET_KEY_VAR");
    abuf_init(&out, 0);
    assert_true(secret_resolve(&s, "k", &out, NULL, &err));
    assert_true(out.secret);
    secret_forget_env(&s);
    assert_null(getenv("TEST_SECRET_KEY_VAR"));
    /* setenv's copy (still allocated: glibc never frees environment strings) is wiped */
    for (size_t i = 0; i < 17; i++)
        assert_int_equal(raw[i], 0);
    abuf_free_secret(&out);
}

/* Unset and set to nothing are told apart; an empty file (or one of newlines only) is
 * said to be empty (it was "only 0 different characters", from the key's strength). */
static void empty_secrets(void **state)
{
    struct cfg_secret s = {.kind = CFG_SECRET_ENV, .ref = "TEST_SECRET_EMPTY_VAR"};
    struct abuf out;
    struct anon_error err;
    char path[64];
    enum secret_failure why = SECRET_FAIL_UNAVAILABLE;

    (void)state;
    abuf_init(&out, 0);
    unsetenv("TEST_SECRET_EMPTY_VAR");
    anon_error_clear(&err);
    assert_false(secret_resolve(&s, "secrets.hash_key", &out, &why, &err));
    assert_string_equal(err.msg,
                        "secrets.hash_key: environment variable TEST_SECRET_EMPTY_VAR is not set");
    assert_int_equal(setenv("TEST_SECRET_EMPTY_VAR", "", 1), 0);
    anon_error_clear(&err);
    assert_false(secret_resolve(&s, "secrets.hash_key", &out, &why, &err));
    assert_string_equal(
        err.msg, "secrets.hash_key: environment variable TEST_SECRET_EMPTY_VAR is set but empty");
    assert_int_equal(secret_failure_exit(why), 2);
    unsetenv("TEST_SECRET_EMPTY_VAR");
    snprintf(path, sizeof(path), "%s/empty", dir);
    for (int i = 0; i < 2; i++) {
        write_file(path, i == 0 ? "" : "\n\r\n", 0600);
        assert_false(resolve_file(path, &out, &err));
        assert_non_null(strstr(err.msg, "is empty"));
        assert_non_null(strstr(err.msg, path));
    }
    unlink(path);
    abuf_free_secret(&out);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_modes),
        cmocka_unit_test(file_owner_and_kind),
        cmocka_unit_test(env_forgotten),
        cmocka_unit_test(empty_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
