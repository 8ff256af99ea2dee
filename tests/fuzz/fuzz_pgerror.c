/*
 * fuzz_pgerror.c: libFuzzer target for the server-message redactor (etl/pgerror.c).
 *
 * The input is a server message (any bytes). Properties checked (abort on violation),
 * for several output sizes:
 * - the output is NUL-terminated inside its buffer, one line, without control bytes,
 *   and valid UTF-8 (never half a character, never a stray byte);
 * - every quote in the output opens either a known name closed by the same quote, or
 *   the cut mark (quote, U+2026, quote) that ends the output: no other quoted text of
 *   the input survives;
 * - masked (pgerror_mask_unquoted), it is no longer, still valid UTF-8, and holds no
 *   digit and no ": ".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/utf8.h"
#include "etl/pgerror.h"

static const char *const known[] = {"people", "people_email_key", "email"};

static void require(bool ok)
{
    if (!ok)
        abort();
}

static size_t known_len(const char *s, char q)
{
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        size_t n = strlen(known[k]);
        if (strncmp(s, known[k], n) == 0 && s[n] == q)
            return n;
    }
    return 0;
}

static void check_masked(const char *redacted)
{
    char out[512];
    size_t len, i = 0;

    memcpy(out, redacted, strlen(redacted) + 1);
    pgerror_mask_unquoted(out);
    len = strlen(out);
    require(len <= strlen(redacted) && strstr(out, ": ") == NULL);
    while (i < len) {
        size_t n = utf8_char_len(out + i, len - i);
        require(!(out[i] >= '0' && out[i] <= '9'));
        require(n > 1 || (unsigned char)out[i] < 0x80);
        i += n;
    }
}

static void check(const char *msg, size_t size)
{
    char out[512];
    size_t len, i = 0;

    memset(out, 'Z', sizeof(out));
    pgerror_redact(msg, known, sizeof(known) / sizeof(known[0]), out, size);
    len = strnlen(out, size);
    require(len < size);
    check_masked(out);
    while (i < len) {
        unsigned char c = (unsigned char)out[i];
        size_t n = utf8_char_len(out + i, len - i);
        require(c >= 0x20 && c != 0x7f);
        require(n > 1 || c < 0x80);
        if (c == '"' || c == '\'') {
            size_t k = known_len(out + i + 1, (char)c);
            if (k == 0) {
                require(len - i == 5 && memcmp(out + i + 1, "\xe2\x80\xa6", 3) == 0 &&
                        out[i + 4] == (char)c);
                return;
            }
            i += k + 2;
            continue;
        }
        i += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size + 1);

    if (!msg)
        return 0;
    memcpy(msg, data, size);
    msg[size] = '\0';
    check(msg, 512);
    check(msg, 40);
    check(msg, 7);
    check(msg, 1);
    free(msg);
    return 0;
}
