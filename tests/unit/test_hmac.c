/*
 * test_hmac.c: keyed hashing (anonymise/hmac.c) against independent computations:
 * RFC 4231 HMAC-SHA256 test cases, the `openssl dgst -mac HMAC` command line on the
 * exact bytes namespace || 0x00 || value, and OpenSSL's HMAC() for the precomputed-pad
 * path over many key and value lengths (block boundaries, keys longer than a block).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "anonymise/hmac.h"

static void unhex(const char *hex, unsigned char *out, size_t *len)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n; i++) {
        unsigned v;
        char pair[3] = {hex[2 * i], hex[2 * i + 1], 0};
        v = (unsigned)strtoul(pair, NULL, 16);
        out[i] = (unsigned char)v;
    }
    *len = n;
}

static void tohex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* RFC 4231 section 4: test cases 1-4, 6, 7 (case 5 is a truncated output). */
static void rfc4231(void **state)
{
    static const struct {
        const char *key, *data, *mac;
    } cases[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddddd",
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"0102030405060708090a0b0c0d0e0f10111213141516171819",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcd",
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {NULL, /* 131 bytes of 0xaa */
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20"
         "48617368204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {NULL, /* 131 bytes of 0xaa */
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b"
         "2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a652064"
         "6174612e20546865206b6579206e6565647320746f20626520686173686564206265666f72652062"
         "65696e6720757365642062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char key[256], data[256], mac[HMAC_MAC_LEN], ns_split[HMAC_MAC_LEN];
        char hex[2 * HMAC_MAC_LEN + 1];
        size_t kl, dl;

        if (cases[i].key) {
            unhex(cases[i].key, key, &kl);
        } else {
            memset(key, 0xaa, 131);
            kl = 131;
        }
        unhex(cases[i].data, data, &dl);
        hmac_sha256(key, kl, data, dl, mac);
        tohex(mac, sizeof(mac), hex);
        assert_string_equal(hex, cases[i].mac);
        /* hmac_value frames the value as "" || 0x00 || value: check it against
         * HMAC() over the same framed bytes, with the RFC's keys. */
        {
            unsigned char framed[300];
            framed[0] = 0;
            memcpy(framed + 1, data, dl);
            hmac_sha256(key, kl, framed, dl + 1, mac);
            hmac_value(key, kl, "", 0, data, dl, ns_split);
            assert_memory_equal(mac, ns_split, HMAC_MAC_LEN);
        }
    }
}

/* hmac_key_value (pads absorbed once) == HMAC() on the framed message, for key
 * lengths around the 64-byte block and value lengths across block boundaries. */
static void precomputed_matches_openssl(void **state)
{
    static const size_t key_lens[] = {32, 33, 63, 64, 65, 100, 200};
    unsigned char key[200], value[300], framed[400], a[HMAC_MAC_LEN], b[HMAC_MAC_LEN];
    struct anon_error err;
    const char *ns = "users";

    (void)state;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (unsigned char)(i * 13 + 1);
    for (size_t k = 0; k < sizeof(key_lens) / sizeof(key_lens[0]); k++) {
        struct hmac_key *hk = hmac_key_new(key, key_lens[k], &err);
        assert_non_null(hk);
        for (size_t vl = 0; vl <= 260; vl += (vl < 130 ? 1 : 13)) {
            memcpy(framed, ns, 5);
            framed[5] = 0;
            memcpy(framed + 6, value, vl);
            hmac_sha256(key, key_lens[k], framed, vl + 6, a);
            hmac_key_value(hk, ns, 5, value, vl, b);
            assert_memory_equal(a, b, HMAC_MAC_LEN);
            hmac_value(key, key_lens[k], ns, 5, value, vl, b);
            assert_memory_equal(a, b, HMAC_MAC_LEN);
        }
        hmac_key_free(hk);
    }
}

/* The openssl command line on the exact framed bytes. */
static void matches_openssl_cli(void **state)
{
    static const struct {
        const char *ns, *value;
    } cases[] = {
        {"", "alice@example.com"},       {"", ""},   {"users", "42"},
        {"", "Zo\xc3\xab \xe6\x9d\x8e"}, {"a", "b"}, {"ab", ""},
    };
    unsigned char key[40];
    char keyhex[81], path[] = "/tmp/test_hmac_XXXXXX";
    struct anon_error err;
    struct hmac_key *hk;
    int fd;

    (void)state;
    if (system("openssl version >/dev/null 2>&1") != 0)
        skip();
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(0xa0 + i);
    tohex(key, sizeof(key), keyhex);
    hk = hmac_key_new(key, sizeof(key), &err);
    assert_non_null(hk);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FILE *f = fopen(path, "wb");
        char cmd[512], line[256], want[2 * HMAC_MAC_LEN + 1], *eq;
        unsigned char mac[HMAC_MAC_LEN];
        FILE *p;

        assert_non_null(f);
        fwrite(cases[i].ns, 1, strlen(cases[i].ns), f);
        fputc(0, f);
        fwrite(cases[i].value, 1, strlen(cases[i].value), f);
        fclose(f);
        snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s < %s", keyhex,
                 path);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        assert_int_equal(pclose(p), 0);
        eq = strrchr(line, ' ');
        assert_non_null(eq);
        eq[1 + strcspn(eq + 1, "\r\n")] = '\0';
        hmac_key_value(hk, cases[i].ns, strlen(cases[i].ns), cases[i].value, strlen(cases[i].value),
                       mac);
        tohex(mac, sizeof(mac), want);
        assert_string_equal(want, eq + 1);
    }
    unlink(path);
    hmac_key_free(hk);
}

static void key_length_is_checked(void **state)
{
    unsigned char key[32] = {0};
    struct anon_error err;

    (void)state;
    anon_error_clear(&err);
    assert_false(hmac_key_ok(31, &err));
    assert_string_equal(err.msg, "hash key is 31 bytes, at least 32 are required");
    assert_null(hmac_key_new(key, 31, &err));
    assert_null(hmac_key_new(key, 0, &err));
    assert_string_equal(err.msg, "hash key is 0 bytes, at least 32 are required");
    assert_true(hmac_key_ok(32, &err));
    hmac_key_free(NULL);
}

static void encodings(void **state)
{
    unsigned char mac[HMAC_MAC_LEN];
    char out[80];

    (void)state;
    for (size_t i = 0; i < sizeof(mac); i++)
        mac[i] = (unsigned char)(0xf0 + i);
    hmac_hex(mac, 8, out);
    assert_string_equal(out, "f0f1f2f3");
    hmac_hex(mac, 5, out);
    assert_string_equal(out, "f0f1f");
    hmac_hex(mac, 64, out);
    assert_int_equal(strlen(out), 64);
    assert_string_equal(out + 60, "0e0f");
    /* base64url of f0 f1 f2 f3 ...: 111100 001111 000111 110010 ... */
    hmac_base64url(mac, 4, out);
    assert_string_equal(out, "8PHy");
    hmac_base64url(mac, 43, out);
    assert_int_equal(strlen(out), 43);
    /* last sextet: the final 4 bits (0x0f & 0x0f = 1111) padded with 00 -> 111100 = '8' */
    assert_int_equal(out[42], '8');
    /* int63: first 8 bytes big-endian, top bit cleared */
    assert_true(hmac_to_int63(mac) == (long long)0x70f1f2f3f4f5f6f7LL);
    memset(mac, 0, sizeof(mac));
    mac[7] = 42;
    assert_true(hmac_to_int63(mac) == 42);
}

/* Throughput of the per-value path; reported, and held to a floor that even a
 * sanitizer build clears (the release target is > 1.5 M/s, see the report). */
static void throughput(void **state)
{
    unsigned char key[32] = {1}, mac[HMAC_MAC_LEN];
    struct anon_error err;
    struct hmac_key *hk = hmac_key_new(key, sizeof(key), &err);
    struct timespec t0, t1;
    const long n = 200000;
    char value[32];
    double secs;
    unsigned acc = 0;

    (void)state;
    assert_non_null(hk);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        int len = snprintf(value, sizeof(value), "user%ld@example.com", i);
        hmac_key_value(hk, "", 0, value, (size_t)len, mac);
        acc += mac[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("# %.2f M hashes/s (this build; acc %u)\n", (double)n / secs / 1e6, acc);
    assert_true((double)n / secs > 100000.0);
    hmac_key_free(hk);
}

/* HKDF-SHA256 against RFC 5869 test case 3 (empty salt and info: the first 32 bytes of
 * its OKM), and the internal keys against Python's hmac module:
 *   prk = hmac.new(b"\\0" * 32, key, sha256).digest()
 *   k_p = hmac.new(prk, info + b"\\x01", sha256).digest()
 *   hmac.new(k_p, b"42" + b"\\0", sha256).hexdigest()  (key = bytes(range(32))) */
static void hkdf_and_internal_keys(void **state)
{
    unsigned char ikm[22], key[32], out[HMAC_MAC_LEN], raw[HMAC_MAC_LEN];
    const char *info = hmac_purpose_info(HMAC_PURPOSE_SHIFT_DAYS);
    struct anon_error err;
    struct hmac_key *hk;
    char hex[2 * HMAC_MAC_LEN + 1];

    (void)state;
    memset(ikm, 0x0b, sizeof(ikm));
    hmac_hkdf_sha256(ikm, sizeof(ikm), "", 0, out);
    tohex(out, sizeof(out), hex);
    assert_string_equal(hex, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)i;
    assert_string_equal(info, "anonetl/v1/date_shift/days");
    hmac_hkdf_sha256(key, sizeof(key), info, strlen(info), out);
    tohex(out, sizeof(out), hex);
    assert_string_equal(hex, "683e6a19c97c68ca25031ea09d5b465a8efef042e8899cee0f4d8ced6eddf21f");
    hk = hmac_key_new(key, sizeof(key), &err);
    assert_non_null(hk);
    hmac_key_internal(hk, HMAC_PURPOSE_SHIFT_DAYS, "42", 2, "", 0, out);
    tohex(out, sizeof(out), hex);
    assert_string_equal(hex, "3f598ce8868440188163815f2783f4ccd27094fecf614a32fc2a63209030ad7e");
    hmac_internal(key, sizeof(key), HMAC_PURPOSE_SHIFT_DAYS, "42", 2, "", 0, raw);
    assert_memory_equal(out, raw, sizeof(out));
    /* the user MAC of the same bytes under the hash key is another value */
    hmac_key_value(hk, "42", 2, "", 0, raw);
    assert_memory_not_equal(out, raw, sizeof(out));
    hmac_key_internal(hk, HMAC_PURPOSE_SHIFT_TIME, "42", 2, "", 0, raw);
    assert_memory_not_equal(out, raw, sizeof(out));
    hmac_key_free(hk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4231),
        cmocka_unit_test(hkdf_and_internal_keys),
        cmocka_unit_test(precomputed_matches_openssl),
        cmocka_unit_test(matches_openssl_cli),
        cmocka_unit_test(key_length_is_checked),
        cmocka_unit_test(encodings),
        cmocka_unit_test(throughput),
    };
    return cmocka_run_group_tests_name("hmac", tests, NULL, NULL);
}
