/*
 * test_keystrength.c: the weak-key check of the hash key (anonymise/keystrength.h, issue 10.9):
 * keys that are weak on their face are refused with a reason and without the key in
 * the message; keys made the way the docs say (openssl rand -hex 32, -hex 16, -base64,
 * raw random bytes) are never refused: 20000 random keys of each shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "anonymise/keystrength.h"

static void weak_keys_refused(void **state)
{
    static const struct {
        const char *key, *why;
    } weak[] = {
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "only 1 different characters"},
        {"abababababababababababababababab", "only 2 different characters"},
        {"0123456789abcdef0123456789abcdef", "repeats a short pattern or runs in sequence"},
        {"abcdefghijklmnopqrstuvwxyzabcdef", "repeats a short pattern or runs in sequence"},
        {"passwordpasswordpasswordpassword", "only 7 different characters"},
        {"01234567890123456789012345678901", "repeats a short pattern or runs in sequence"},
        {"44770090012344770090012344770090", "only 7 different characters"},
        {"Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3", "repeats a short pattern"},
        {"zyxwvutsrqponmlkjihgfedcbazyxwvu", "runs in sequence"},
        {"00000000000000000000000000000000000000000000000000000000000000ff", "only 2 different"},
    };
    struct anon_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        const char *k = weak[i].key;
        anon_error_clear(&err);
        if (keystrength_ok((const unsigned char *)k, strlen(k), "secrets.hash_key", &err))
            fail_msg("accepted the weak key %s", k);
        if (!strstr(err.msg, "secrets.hash_key: refused: the key looks weak") ||
            !strstr(err.msg, weak[i].why) || strstr(err.msg, k))
            fail_msg("%s -> %s", k, err.msg);
    }
    /* 32 zero bytes, 32 bytes counting up */
    {
        unsigned char zero[32] = {0}, up[32];
        for (int i = 0; i < 32; i++)
            up[i] = (unsigned char)i;
        assert_false(keystrength_ok(zero, sizeof(zero), "k", &err));
        assert_false(keystrength_ok(up, sizeof(up), "k", &err));
    }
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The shapes the docs suggest: never refused (the estimate stays far above the bar). */
static void random_keys_accepted(void **state)
{
    struct anon_error err;
    double min[4] = {1e9, 1e9, 1e9, 1e9};

    (void)state;
    for (int t = 0; t < 20000; t++) {
        unsigned char b[32], b64[64];
        char h[65];
        struct keystrength_result r;
        const unsigned char *keys[4];
        size_t lens[4];
        assert_int_equal(RAND_bytes(b, sizeof(b)), 1);
        hex(b, 32, h);
        keys[0] = (const unsigned char *)h, lens[0] = 64; /* openssl rand -hex 32 */
        keys[1] = (const unsigned char *)h, lens[1] = 32; /* openssl rand -hex 16 */
        EVP_EncodeBlock(b64, b, 24);
        keys[2] = b64, lens[2] = 32; /* openssl rand -base64 24 */
        keys[3] = b, lens[3] = 32;   /* 32 raw bytes */
        for (int k = 0; k < 4; k++) {
            keystrength_estimate(keys[k], lens[k], &r);
            if (r.bits < min[k])
                min[k] = r.bits;
            if (!keystrength_ok(keys[k], lens[k], "k", &err))
                fail_msg("refused a random key of shape %d: %s", k, err.msg);
        }
    }
    print_message("# lowest estimates: hex32 %.0f, hex16 %.0f, base64 %.0f, raw %.0f bits\n",
                  min[0], min[1], min[2], min[3]);
    {
        const char *phrase = "correct horse battery staple orbit lunar quiet";
        assert_true(keystrength_ok((const unsigned char *)phrase, strlen(phrase), "k", &err));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weak_keys_refused),
        cmocka_unit_test(random_keys_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
