/*
 * keystrength.h: refuse an obviously weak hash key before it protects anything.
 *
 * The key is secret bytes of unknown shape: hex from `openssl rand -hex 32`, base64, raw
 * bytes, or a phrase someone typed. The estimate is deliberately simple and errs on the
 * generous side; it catches keys that are weak on their face, not clever ones:
 *
 *   alphabet  the smallest character class that holds every byte: digits (10), hex
 *             (16), lowercase or uppercase letters (26), letters (52), letters and
 *             digits (62), base64 (64), printable ASCII (95), any byte (256)
 *   novel     the bytes that a simple predictor cannot guess from what came before: a
 *             byte repeating the previous one, continuing a constant step ("abcd",
 *             "2468"), or inside a repeat of an earlier stretch of 3+ bytes counts as 0
 *   bits      novel * log2(alphabet), and never more than the key's Shannon entropy
 *             (byte frequencies) times its length
 *
 * A key under KEYSTRENGTH_MIN_BITS, or with fewer than KEYSTRENGTH_MIN_DISTINCT different
 * bytes, is refused with the reason; the message never contains the key.
 */
#ifndef KEYSTRENGTH_H
#define KEYSTRENGTH_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"

#define KEYSTRENGTH_MIN_BITS 80
#define KEYSTRENGTH_MIN_DISTINCT 8

struct keystrength_result {
    double bits;        /* the estimate above */
    unsigned alphabet;  /* size of the character class */
    size_t distinct;    /* different byte values */
    size_t novel;       /* unpredictable bytes */
    size_t longest_run; /* longest run of one repeated byte */
};

void keystrength_estimate(const unsigned char *key, size_t len, struct keystrength_result *r);
/* false with err "what: the key looks weak: ..." (no key material in it). */
bool keystrength_ok(const unsigned char *key, size_t len, const char *what,
                    struct anon_error *err) ANON_MUST_CHECK;

#endif
