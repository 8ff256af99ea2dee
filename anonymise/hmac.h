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
 *
 * Internal values (date_shift's day offsets and time jitter) must never be computable
 * from a published pseudonym, whatever namespace a user writes. They use keys derived
 * with HKDF-SHA256 (RFC 5869):
 *
 *   K_p = HKDF-SHA256(IKM = hash key, salt = none, info = "anonetl/v1/" || p, L = 32)
 *       = HMAC-SHA256(HMAC-SHA256(0^32, hash key), info || 0x01)
 *   mac = HMAC-SHA256(K_p, part1 || 0x00 || part2)
 *
 * Every user-visible MAC is HMAC-SHA256 under the hash key itself; K_p is an HMAC under
 * the all-zero salt of the hash key, then under a PRK no user MAC is keyed with, so no
 * choice of namespace or value gives a user MAC equal to K_p or to any internal MAC
 * (this holds whatever bytes a namespace holds: it does not rest on a separator).
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
/* What an internal value is for: each purpose has its own derived key K_p. */
enum hmac_purpose {
    HMAC_PURPOSE_SHIFT_DAYS, /* date_shift: the entity's offset in days */
    HMAC_PURPOSE_SHIFT_TIME, /* date_shift time: jitter: a value's time of day */
    HMAC_PURPOSE_KEY_DIGEST, /* incremental merges: which source key a published key is */
    HMAC_PURPOSE_COUNT,
};
/* The info string of a purpose: "anonetl/v1/date_shift/days", ... */
const char *hmac_purpose_info(enum hmac_purpose p);
/* HMAC-SHA256(K_p, part1 || 0x00 || part2) with K_p derived from the prepared key. */
void hmac_key_internal(const struct hmac_key *k, enum hmac_purpose p, const void *part1,
                       size_t len1, const void *part2, size_t len2,
                       unsigned char out[HMAC_MAC_LEN]);
/* The same from a raw key (K_p derived on each call: slow, tests and fallbacks). */
void hmac_internal(const unsigned char *key, size_t keylen, enum hmac_purpose p, const void *part1,
                   size_t len1, const void *part2, size_t len2, unsigned char out[HMAC_MAC_LEN]);
/* HKDF-SHA256 (RFC 5869) with an empty salt and one block of output (L = 32). */
void hmac_hkdf_sha256(const unsigned char *ikm, size_t ikmlen, const void *info, size_t infolen,
                      unsigned char out[HMAC_MAC_LEN]);

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
