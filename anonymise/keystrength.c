/* keystrength.c: a first-glance strength estimate of the hash key (see keystrength.h). */
#include "anonymise/keystrength.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Only the first bytes are analysed: a long key with 96 bits in them is long enough. */
#define KEYSTRENGTH_SCAN_MAX 1024

static unsigned alphabet_of(const unsigned char *k, size_t n)
{
    bool digit = false, lower = false, upper = false, hexl = true, hexu = true, b64 = true;
    bool printable = true;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = k[i];
        bool d = c >= '0' && c <= '9', l = c >= 'a' && c <= 'z', u = c >= 'A' && c <= 'Z';
        digit = digit || d;
        lower = lower || l;
        upper = upper || u;
        hexl = hexl && (d || (c >= 'a' && c <= 'f'));
        hexu = hexu && (d || (c >= 'A' && c <= 'F'));
        b64 = b64 && (d || l || u || c == '+' || c == '/' || c == '-' || c == '_' || c == '=');
        printable = printable && c >= 0x20 && c < 0x7f;
    }
    if (!printable)
        return 256;
    if (!b64)
        return 95;
    if (!lower && !upper)
        return 10;
    if (hexl || hexu)
        return 16;
    if (!digit && (!lower || !upper))
        return 26;
    if (!digit)
        return 52;
    for (size_t i = 0; i < n; i++)
        if (strchr("+/-_=", k[i]))
            return 64;
    return 62;
}

/* Longest m >= 3 such that k[i..i+m) equals an earlier stretch k[j..j+m), j < i (it may
 * overlap position i, like an LZ77 back-reference); 0 when none. */
static size_t longest_repeat(const unsigned char *k, size_t n, size_t i)
{
    size_t best = 0;

    for (size_t j = 0; j < i; j++) {
        size_t m = 0;
        while (i + m < n && k[j + m] == k[i + m])
            m++;
        if (m > best)
            best = m;
    }
    return best >= 3 ? best : 0;
}

static size_t novel_bytes(const unsigned char *k, size_t n)
{
    size_t novel = 0, i = 0;

    while (i < n) {
        size_t m = longest_repeat(k, n, i);
        if (m) {
            novel++; /* the reference itself */
            i += m;
        } else if (i >= 1 && k[i] == k[i - 1]) {
            i++;
        } else if (i >= 2 && (int)k[i] - k[i - 1] == (int)k[i - 1] - k[i - 2]) {
            i++;
        } else {
            novel++;
            i++;
        }
    }
    return novel;
}

void keystrength_estimate(const unsigned char *key, size_t len, struct keystrength_result *r)
{
    size_t n = len < KEYSTRENGTH_SCAN_MAX ? len : KEYSTRENGTH_SCAN_MAX, count[256] = {0}, run = 0;
    double shannon = 0;

    memset(r, 0, sizeof(*r));
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (count[key[i]]++ == 0)
            r->distinct++;
        run = i > 0 && key[i] == key[i - 1] ? run + 1 : 1;
        if (run > r->longest_run)
            r->longest_run = run;
    }
    for (size_t c = 0; c < 256; c++)
        if (count[c]) {
            double p = (double)count[c] / (double)n;
            shannon -= p * log2(p);
        }
    r->alphabet = alphabet_of(key, n);
    r->novel = novel_bytes(key, n);
    r->bits = (double)r->novel * log2((double)r->alphabet);
    if (shannon * (double)n < r->bits)
        r->bits = shannon * (double)n;
}

bool keystrength_ok(const unsigned char *key, size_t len, const char *what, struct anon_error *err)
{
    struct keystrength_result r;
    const char *why;
    char detail[96] = "";

    keystrength_estimate(key, len, &r);
    if (r.bits >= KEYSTRENGTH_MIN_BITS && r.distinct >= KEYSTRENGTH_MIN_DISTINCT)
        return true;
    if (r.distinct < KEYSTRENGTH_MIN_DISTINCT) {
        snprintf(detail, sizeof(detail), "it has only %zu different characters", r.distinct);
        why = detail;
    } else if (r.longest_run * 4 >= len) {
        snprintf(detail, sizeof(detail), "one character repeats %zu times in a row", r.longest_run);
        why = detail;
    } else if (r.novel * 2 < (len < KEYSTRENGTH_SCAN_MAX ? len : KEYSTRENGTH_SCAN_MAX)) {
        why = "it repeats a short pattern or runs in sequence (abcd, 1234)";
    } else {
        snprintf(detail, sizeof(detail), "it draws on %u characters only", r.alphabet);
        why = detail;
    }
    anon_error_set(err,
                   "%s: refused: the key looks weak (about %.0f bits of entropy estimated, at "
                   "least %d wanted): %s; make one with `openssl rand -hex 32`",
                   what, r.bits, KEYSTRENGTH_MIN_BITS, why);
    return false;
}
