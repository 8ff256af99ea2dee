/*
 * hmac.c: HMAC-SHA256 with the key's pads absorbed once (see hmac.h).
 *
 * HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m)), K0 the key padded to the 64-byte
 * block (hashed first when longer). The two states after absorbing K0^ipad and K0^opad
 * depend only on the key: we keep them and copy a SHA256_CTX (a plain struct) per
 * value. OpenSSL 3 marks the SHA256_* functions deprecated in favour of EVP, but an
 * EVP_MD_CTX copy per value costs an allocation and locking; the low-level interface
 * is still shipped and is what makes millions of hashes per second possible.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "anonymise/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 64

struct hmac_pads {
    SHA256_CTX inner; /* after (K0 ^ ipad) */
    SHA256_CTX outer; /* after (K0 ^ opad) */
};

struct hmac_key {
    struct hmac_pads user;                         /* the hash key: hash, hash_int */
    struct hmac_pads internal[HMAC_PURPOSE_COUNT]; /* K_p of each purpose (hmac.h) */
};

static const char *const purpose_info[HMAC_PURPOSE_COUNT] = {
    [HMAC_PURPOSE_SHIFT_DAYS] = "anonetl/v1/date_shift/days",
    [HMAC_PURPOSE_SHIFT_TIME] = "anonetl/v1/date_shift/time",
    [HMAC_PURPOSE_KEY_DIGEST] = "anonetl/v1/key_digest",
};

static void key_setup(struct hmac_pads *k, const unsigned char *key, size_t len)
{
    unsigned char k0[BLOCK], pad[BLOCK];

    memset(k0, 0, sizeof(k0));
    if (len > BLOCK)
        SHA256(key, len, k0);
    else if (len)
        memcpy(k0, key, len);
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x36;
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, BLOCK);
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x5c;
    SHA256_Init(&k->outer);
    SHA256_Update(&k->outer, pad, BLOCK);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
}

bool hmac_key_ok(size_t len, struct anon_error *err)
{
    if (len >= HMAC_MIN_KEY_LEN)
        return true;
    anon_error_set(err, "hash key is %zu bytes, at least %d are required", len, HMAC_MIN_KEY_LEN);
    return false;
}

const char *hmac_purpose_info(enum hmac_purpose p)
{
    return (unsigned)p < HMAC_PURPOSE_COUNT ? purpose_info[p] : "";
}

void hmac_hkdf_sha256(const unsigned char *ikm, size_t ikmlen, const void *info, size_t infolen,
                      unsigned char out[HMAC_MAC_LEN])
{
    static const unsigned char salt[SHA256_DIGEST_LENGTH] = {0};
    unsigned char prk[HMAC_MAC_LEN];
    struct hmac_pads k;
    SHA256_CTX c;
    unsigned char ih[SHA256_DIGEST_LENGTH], one = 1;

    /* Extract: PRK = HMAC(salt, IKM). Expand, one block: T(1) = HMAC(PRK, info || 0x01). */
    hmac_sha256(salt, sizeof(salt), ikm, ikmlen, prk);
    key_setup(&k, prk, sizeof(prk));
    c = k.inner;
    if (infolen)
        SHA256_Update(&c, info, infolen);
    SHA256_Update(&c, &one, 1);
    SHA256_Final(ih, &c);
    c = k.outer;
    SHA256_Update(&c, ih, sizeof(ih));
    SHA256_Final(out, &c);
    OPENSSL_cleanse(prk, sizeof(prk));
    OPENSSL_cleanse(&k, sizeof(k));
    OPENSSL_cleanse(&c, sizeof(c));
}

/* The pads of K_p for a raw key. */
static void internal_setup(struct hmac_pads *k, const unsigned char *key, size_t len,
                           enum hmac_purpose p)
{
    unsigned char kp[HMAC_MAC_LEN];
    const char *info = hmac_purpose_info(p);

    hmac_hkdf_sha256(key, len, info, strlen(info), kp);
    key_setup(k, kp, sizeof(kp));
    OPENSSL_cleanse(kp, sizeof(kp));
}

struct hmac_key *hmac_key_new(const unsigned char *key, size_t len, struct anon_error *err)
{
    struct hmac_key *k;

    if (!hmac_key_ok(len, err))
        return NULL;
    k = malloc(sizeof(*k));
    if (!k) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    key_setup(&k->user, key, len);
    for (int p = 0; p < HMAC_PURPOSE_COUNT; p++)
        internal_setup(&k->internal[p], key, len, (enum hmac_purpose)p);
    return k;
}

void hmac_key_free(struct hmac_key *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

static void pads_value(const struct hmac_pads *k, const void *ns, size_t nslen, const void *value,
                       size_t vlen, unsigned char out[HMAC_MAC_LEN])
{
    static const unsigned char zero = 0;
    unsigned char ih[SHA256_DIGEST_LENGTH];
    SHA256_CTX c = k->inner;

    if (nslen)
        SHA256_Update(&c, ns, nslen);
    SHA256_Update(&c, &zero, 1);
    if (vlen)
        SHA256_Update(&c, value, vlen);
    SHA256_Final(ih, &c);
    c = k->outer;
    SHA256_Update(&c, ih, sizeof(ih));
    SHA256_Final(out, &c);
}

void hmac_key_value(const struct hmac_key *k, const void *ns, size_t nslen, const void *value,
                    size_t vlen, unsigned char out[HMAC_MAC_LEN])
{
    pads_value(&k->user, ns, nslen, value, vlen, out);
}

void hmac_value(const unsigned char *key, size_t keylen, const void *ns, size_t nslen,
                const void *value, size_t vlen, unsigned char out[HMAC_MAC_LEN])
{
    struct hmac_pads k;

    key_setup(&k, key, keylen);
    pads_value(&k, ns, nslen, value, vlen, out);
    OPENSSL_cleanse(&k, sizeof(k));
}

void hmac_key_internal(const struct hmac_key *k, enum hmac_purpose p, const void *part1,
                       size_t len1, const void *part2, size_t len2, unsigned char out[HMAC_MAC_LEN])
{
    pads_value(&k->internal[(unsigned)p < HMAC_PURPOSE_COUNT ? p : 0], part1, len1, part2, len2,
               out);
}

void hmac_internal(const unsigned char *key, size_t keylen, enum hmac_purpose p, const void *part1,
                   size_t len1, const void *part2, size_t len2, unsigned char out[HMAC_MAC_LEN])
{
    struct hmac_pads k;

    internal_setup(&k, key, keylen, p);
    pads_value(&k, part1, len1, part2, len2, out);
    OPENSSL_cleanse(&k, sizeof(k));
}

void hmac_sha256(const unsigned char *key, size_t keylen, const void *msg, size_t len,
                 unsigned char out[HMAC_MAC_LEN])
{
    static const unsigned char empty = 0;
    unsigned int outlen = HMAC_MAC_LEN;

    HMAC(EVP_sha256(), keylen ? key : &empty, (int)keylen, len ? msg : &empty, len, out, &outlen);
}

void hmac_hex(const unsigned char mac[HMAC_MAC_LEN], size_t nchars, char *out)
{
    static const char digits[] = "0123456789abcdef";
    static const char pairs[] = /* "00" .. "ff": two characters a byte, every hashed value */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    size_t i = 0;

    if (nchars > 2 * HMAC_MAC_LEN)
        nchars = 2 * HMAC_MAC_LEN;
    for (; i + 1 < nchars; i += 2)
        memcpy(out + i, pairs + 2 * mac[i / 2], 2);
    if (i < nchars)
        out[i] = digits[mac[i / 2] >> 4];
    out[nchars] = '\0';
}

void hmac_base64url(const unsigned char mac[HMAC_MAC_LEN], size_t nchars, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = 0;

    if (nchars > 43)
        nchars = 43;
    /* 32 bytes = 256 bits = 42 full sextets and 4 bits left (padded with zeros). */
    for (size_t bit = 0; n < nchars; bit += 6) {
        size_t byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)mac[byte] << 8;
        if (byte + 1 < HMAC_MAC_LEN)
            v |= mac[byte + 1];
        out[n++] = alphabet[(v >> (10 - shift)) & 0x3f];
    }
    out[n] = '\0';
}

long long hmac_to_int63(const unsigned char mac[HMAC_MAC_LEN])
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | mac[i];
    return (long long)(v & UINT64_C(0x7fffffffffffffff));
}
