/*
 * hmac.h: keyed hashing for the `hash` and `hash_int` rules (DESIGN.md "Keyed hashing").
 *
 *   mac = HMAC-SHA256(key, namespace || 0x00 || value)
 *
 * The per-value path must be fast (it runs for every value of millions of rows), so a
 * struct hmac_key holds the SHA-256 states after the key's inner and outer pads were
 * absorbed; each value then costs two compression runs and no key setup. The key must
 * be at least 32 bytes: that is checked where the key is bound (hmac_key_new); the
 * one-shot functions take any length (test vectors use short keys). Key material is
 * wiped with OPENSSL_cleanse on free and never appears in messages.
 */
#ifndef HMAC_H
#define HMAC_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"

#define HMAC_MAC_LEN 32
#define HMAC_MIN_KEY_LEN 32

struct hmac_key;

/* False (err: "hash key is N bytes, at least 32 are required") when len < 32. */
bool hmac_key_ok(size_t len, struct anon_error *err) ANON_MUST_CHECK;
/* Prepare a key (checked with hmac_key_ok). The caller may wipe its own copy after. */
struct hmac_key *hmac_key_new(const unsigned char *key, size_t len,
                              struct anon_error *err) ANON_MUST_CHECK;
void hmac_key_free(struct hmac_key *k); /* wipes; NULL is a no-op */

/* HMAC-SHA256(key, ns || 0x00 || value) with a prepared key. Thread-safe: the key is
 * only read. */
void hmac_key_value(const struct hmac_key *k, const void *ns, size_t nslen, const void *value,
                    size_t vlen, unsigned char out[HMAC_MAC_LEN]);
/* The same with a raw key of any length (slower: the key is set up on each call). */
void hmac_value(const unsigned char *key, size_t keylen, const void *ns, size_t nslen,
                const void *value, size_t vlen, unsigned char out[HMAC_MAC_LEN]);
/* Plain HMAC-SHA256(key, msg) through OpenSSL's HMAC(), for tests and fingerprints. */
void hmac_sha256(const unsigned char *key, size_t keylen, const void *msg, size_t len,
                 unsigned char out[HMAC_MAC_LEN]);

/* Lowercase hex of the first nchars/2 bytes (nchars <= 64; odd counts keep the high
 * nibble of the last byte); writes nchars characters and a NUL. */
void hmac_hex(const unsigned char mac[HMAC_MAC_LEN], size_t nchars, char *out);
/* Unpadded base64url of the whole MAC (43 characters) cut to nchars (<= 43), plus NUL. */
void hmac_base64url(const unsigned char mac[HMAC_MAC_LEN], size_t nchars, char *out);
/* The first 8 bytes, big-endian, top bit cleared: a non-negative bigint. */
long long hmac_to_int63(const unsigned char mac[HMAC_MAC_LEN]);

#endif
