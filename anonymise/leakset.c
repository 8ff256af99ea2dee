/* leakset.c: sampled values and their search (see leakset.h). */
#include "anonymise/leakset.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/scrubnorm.h"
#include "anonymise/utf8.h"

#define CHUNK_BYTES ((size_t)64 * 1024) /* value storage: fixed chunks, never moved */
#define GRAM_OFFSETS 5                  /* LEAKSET_MIN_CONTAIN bytes - 4 + 1 */
#define BITMAP_BITS 18                  /* 32 KiB: stays in the L1 cache during a scan */
#define EQUAL_BITS 16                   /* equality prefilter: 8 KiB */
#define PREFIX_BITS 16                  /* prefix prefilter: 8 KiB */
#define MAX_ORIGIN (1u << 24)

struct entry {
    const char *data; /* in a chunk */
    uint32_t len;
    uint32_t origin;
    uint32_t count; /* times added */
    uint8_t use;    /* enum leakset_use */
    bool dropped;   /* a category (see leakset.h) */
};

struct chunk {
    struct chunk *next;
    size_t used;
    char data[];
};

struct leakset {
    struct chunk *chunks;
    struct entry *entries;
    size_t n, cap;
    uint32_t *slots;      /* equality: entry index + 1, 0 = empty; open addressing */
    uint64_t *equal_bits; /* equality: hashes present (a probe of slots is a cache miss) */
    size_t n_slots;
    uint32_t *origin_total; /* values added per origin, repetitions included */
    uint32_t *origin_kept;  /* distinct values searched per origin (after build) */
    size_t n_origins;
    /* Containment: the 4-byte grams at offsets 0..4 of each value (a bitmap, by hash),
     * then the values by their first 8 bytes (chains, with a bitmap in front). */
    uint64_t *bitmap;
    uint64_t *prefix_bits;
    uint32_t *prefix_head; /* entry index + 1, 0 = empty */
    uint32_t *prefix_next; /* per entry */
    size_t n_prefix;       /* chains, a power of 2 */
    size_t n_contain;
    size_t n_kept;
    size_t max_len; /* of the values searched: a longer published value equals none */
    bool built;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* 8 bytes with ASCII upper case folded, all at once (see gram_at). */
static inline uint64_t lower8(uint64_t x)
{
    uint64_t low = x & 0x7f7f7f7f7f7f7f7full;
    uint64_t upper = ((low + 0x3f3f3f3f3f3f3f3full) ^ (low + 0x2525252525252525ull)) & ~x &
                     0x8080808080808080ull;

    return x | upper >> 2;
}

static inline uint64_t load8(const char *p, size_t n) /* n <= 8 bytes, zero padded */
{
    uint64_t x = 0;

    memcpy(&x, p, n);
    return lower8(x);
}

/* Equality hash: the length, the first 16 and the last 8 bytes (ASCII case folded), read
 * as words. Constant time whatever the length, so long published texts cost nothing
 * here; values that share these bytes are told apart by the comparison. */
static uint32_t hash_ci(const char *p, size_t n)
{
    uint64_t a = load8(p, n < 8 ? n : 8), b = 0, c = 0, h;

    if (n > 8)
        b = load8(p + 8, n < 16 ? n - 8 : 8);
    if (n > 16)
        c = load8(p + n - 8, 8);
    h = (a * 0x9E3779B97F4A7C15ull) ^ ((b * 0xC2B2AE3D27D4EB4Full) >> 7) ^
        (c * 0x165667B19E3779F9ull) ^ (uint64_t)n;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (uint32_t)(h >> 32);
}

static bool equal_ci(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        if (load8(a + i, 8) != load8(b + i, 8))
            return false;
    return i == n || load8(a + i, n - i) == load8(b + i, n - i);
}

/* The 4 bytes at p, ASCII upper case folded, all at once: a byte gets 0x20 when it is
 * ASCII (high bit clear), >= 'A' (+0x3f carries into the high bit) and <= 'Z' (+0x25
 * does not). */
static inline uint32_t gram_at(const char *p)
{
    uint32_t x, low, upper;

    memcpy(&x, p, 4);
    low = x & 0x7f7f7f7fu;
    upper = ((low + 0x3f3f3f3fu) ^ (low + 0x25252525u)) & ~x & 0x80808080u;
    return x | upper >> 2;
}

static inline uint32_t gram_hash(uint32_t g)
{
    return g * 0x9E3779B1u;
}

/* ------------------------------------------------------------ classes */

static bool number_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-' || c == '.' || c == '/' ||
           c == '(' || c == ')' || c == ',' || c == ':';
}

/* 2024-03-01, 1/3/2024, 01.03.24: three digit groups, one of 4 digits first or last. */
static bool looks_like_date(const char *v, size_t n)
{
    size_t groups[4], g = 0, run = 0;
    char sep = 0;

    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)v[i] : 0;
        if (c >= '0' && c <= '9') {
            run++;
            continue;
        }
        if (run == 0 || g == 3)
            return false;
        groups[g++] = run;
        run = 0;
        if (i == n)
            break;
        if ((c != '-' && c != '/' && c != '.') || (sep && c != sep))
            return false;
        sep = (char)c;
    }
    if (g != 3)
        return false;
    if (groups[0] == 4)
        return groups[1] <= 2 && groups[2] <= 2;
    return groups[0] <= 2 && groups[1] <= 2 && (groups[2] == 2 || groups[2] == 4);
}

/* 192.0.2.17: an IPv4 address, personal data for many laws, whatever its digit count. */
static bool looks_like_ipv4(const char *v, size_t n)
{
    size_t groups = 0, run = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] >= '0' && v[i] <= '9') {
            if (++run > 3)
                return false;
            continue;
        }
        if (run == 0 || (i < n && v[i] != '.'))
            return false;
        groups++;
        run = 0;
    }
    return groups == 4;
}

enum leakset_use leakset_classify(const char *v, size_t len, enum leakset_class cls, size_t *start,
                                  size_t *n)
{
    size_t a = 0, b = len, chars, digits = 0;
    bool number = true, colon = false;

    while (a < b && is_space((unsigned char)v[a]))
        a++;
    while (b > a && is_space((unsigned char)v[b - 1]))
        b--;
    if (b - a > LEAKSET_MAX_VALUE) {
        b = a + LEAKSET_MAX_VALUE;
        while (b > a && ((unsigned char)v[b] & 0xC0) == 0x80) /* not inside a character */
            b--;
        while (b > a && is_space((unsigned char)v[b - 1])) /* as the search trims */
            b--;
    }
    *start = a;
    *n = b - a;
    chars = utf8_count(v + a, b - a);
    if (chars < LEAKSET_MIN_EQUAL)
        return LEAKSET_SKIP;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)v[i];
        digits += c >= '0' && c <= '9';
        colon = colon || c == ':';
        number = number && number_char(c);
    }
    if (number && !looks_like_ipv4(v + a, b - a)) {
        if (colon || looks_like_date(v + a, b - a))
            return LEAKSET_SKIP;
        if (digits < (cls == LEAKSET_INTEGER ? LEAKSET_MIN_INTEGER_DIGITS : LEAKSET_MIN_DIGITS))
            return LEAKSET_SKIP;
    }
    return chars >= LEAKSET_MIN_CONTAIN ? LEAKSET_CONTAIN : LEAKSET_EQUAL;
}

/* ------------------------------------------------------------ storage */

struct leakset *leakset_new(void)
{
    return calloc(1, sizeof(struct leakset));
}

void leakset_free(struct leakset *s)
{
    if (!s)
        return;
    while (s->chunks) {
        struct chunk *next = s->chunks->next;
        OPENSSL_cleanse(s->chunks->data, s->chunks->used);
        free(s->chunks);
        s->chunks = next;
    }
    free(s->entries);
    free(s->slots);
    free(s->equal_bits);
    free(s->origin_total);
    free(s->origin_kept);
    free(s->bitmap);
    free(s->prefix_bits);
    free(s->prefix_head);
    free(s->prefix_next);
    free(s);
}

static const char *store(struct leakset *s, const char *v, size_t n)
{
    struct chunk *c = s->chunks;
    char *p;

    if (!c || CHUNK_BYTES - c->used < n) {
        c = malloc(sizeof(*c) + CHUNK_BYTES);
        if (!c)
            return NULL;
        c->used = 0;
        c->next = s->chunks;
        s->chunks = c;
    }
    p = c->data + c->used;
    memcpy(p, v, n);
    c->used += n;
    return p;
}

static bool grow_slots(struct leakset *s)
{
    size_t n = s->n_slots ? s->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(*slots));

    if (!slots)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = hash_ci(s->entries[i].data, s->entries[i].len) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->n_slots = n;
    return true;
}

/* The entry equal to v (ASCII case ignored), or NULL; *slot = where it would go. */
static struct entry *lookup(const struct leakset *s, const char *v, size_t n, size_t *slot)
{
    size_t j = hash_ci(v, n) & (s->n_slots - 1);

    for (; s->slots[j]; j = (j + 1) & (s->n_slots - 1)) {
        struct entry *e = &s->entries[s->slots[j] - 1];
        if (e->len == n && equal_ci(e->data, v, n)) {
            *slot = j;
            return e;
        }
    }
    *slot = j;
    return NULL;
}

static bool count_origin(struct leakset *s, uint32_t origin)
{
    if (origin >= s->n_origins) {
        size_t n = origin + 16;
        uint32_t *t = realloc(s->origin_total, n * sizeof(*t));
        if (!t)
            return false;
        memset(t + s->n_origins, 0, (n - s->n_origins) * sizeof(*t));
        s->origin_total = t;
        s->n_origins = n;
    }
    s->origin_total[origin]++;
    return true;
}

static bool add_one(struct leakset *s, const char *v, size_t n, enum leakset_use use,
                    uint32_t origin)
{
    struct entry *e;
    size_t slot;

    if ((s->n + 1) * 2 > s->n_slots && !grow_slots(s))
        return false;
    if ((e = lookup(s, v, n, &slot)) != NULL) {
        e->count++;
        return true;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct entry *t = realloc(s->entries, cap * sizeof(*t));
        if (!t)
            return false;
        s->entries = t;
        s->cap = cap;
    }
    e = &s->entries[s->n];
    *e = (struct entry){.len = (uint32_t)n, .origin = origin, .count = 1, .use = (uint8_t)use};
    if (!(e->data = store(s, v, n)))
        return false;
    s->slots[slot] = (uint32_t)++s->n;
    return true;
}

/* The form a value takes inside JSON strings and array literals. */
static bool add_escaped(struct leakset *s, const char *v, size_t n, enum leakset_use use,
                        uint32_t origin)
{
    char buf[2 * LEAKSET_MAX_VALUE];
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\')
            buf[k++] = '\\';
        buf[k++] = v[i];
    }
    return k == n || add_one(s, buf, k, use, origin);
}

/* The value as the scrub's detectors read it (scrubnorm.h: a no-break space, a fullwidth
 * digit or '@', an '@' written %40), when that differs: searched as well, so that the
 * same value written one way in the source and another in the published text is found.
 * seen[0..seen_len) is the value as leakset_add kept it: a folded form that trims to the
 * same bytes (a tab at an end) is that very sample, not another one, and counting it
 * again would make a value look like a category. False when out of memory. */
static bool add_folded(struct leakset *s, const char *v, size_t len, enum leakset_class cls,
                       uint32_t origin, const char *seen, size_t seen_len)
{
    struct scrubnorm f;
    size_t start, n;
    enum leakset_use use;
    bool oom, ok = true;

    if (!scrubnorm_set(&f, v, len, &oom))
        return !oom;
    use = leakset_classify(f.text, f.len, cls, &start, &n);
    if (use != LEAKSET_SKIP && !(n == seen_len && memcmp(f.text + start, seen, n) == 0))
        ok = add_one(s, f.text + start, n, use, origin) &&
             add_escaped(s, f.text + start, n, use, origin);
    scrubnorm_free(&f);
    return ok;
}

bool leakset_add(struct leakset *s, const char *v, size_t len, enum leakset_class cls,
                 uint32_t origin, struct anon_error *err)
{
    size_t start, n;
    enum leakset_use use;

    if (s->built || origin >= MAX_ORIGIN) {
        anon_error_set(err, "leak audit: internal error (value added after the search began)");
        return false;
    }
    if (!count_origin(s, origin))
        goto oom;
    use = leakset_classify(v, len, cls, &start, &n);
    if (use != LEAKSET_SKIP &&
        (!add_one(s, v + start, n, use, origin) || !add_escaped(s, v + start, n, use, origin)))
        goto oom;
    if (!add_folded(s, v, len, cls, origin, v + start, n))
        goto oom;
    return true;
oom:
    anon_error_set(err, "leak audit: out of memory for the sampled values");
    return false;
}

/* ------------------------------------------------------------ the index */

/* A value repeated in its column's sample is a category (leakset.h). */
static bool is_category(const struct leakset *s, const struct entry *e)
{
    return e->count >= 3 && (uint64_t)e->count * 100 > s->origin_total[e->origin];
}

static inline uint32_t prefix_hash(uint64_t p8)
{
    return (uint32_t)((p8 * 0x9E3779B97F4A7C15ull) >> 32);
}

/* The containment index over the values searched inside text (see find_inside). */
static bool build_index(struct leakset *s)
{
    s->n_prefix = 256;
    while (s->n_prefix < 2 * s->n_contain)
        s->n_prefix *= 2;
    s->prefix_head = calloc(s->n_prefix, sizeof(uint32_t));
    s->prefix_next = calloc(s->n + 1, sizeof(uint32_t));
    if (!s->prefix_head || !s->prefix_next)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const struct entry *e = &s->entries[i];
        uint32_t h, bit;
        if (e->dropped || e->use != LEAKSET_CONTAIN)
            continue;
        for (uint32_t o = 0; o < GRAM_OFFSETS; o++) {
            bit = gram_hash(gram_at(e->data + o)) >> (32 - BITMAP_BITS);
            s->bitmap[bit / 64] |= 1ull << (bit % 64);
        }
        h = prefix_hash(load8(e->data, 8));
        bit = h >> (32 - PREFIX_BITS);
        s->prefix_bits[bit / 64] |= 1ull << (bit % 64);
        s->prefix_next[i] = s->prefix_head[h & (s->n_prefix - 1)];
        s->prefix_head[h & (s->n_prefix - 1)] = (uint32_t)i + 1;
    }
    return true;
}

bool leakset_build(struct leakset *s, struct anon_error *err)
{
    s->bitmap = calloc(((size_t)1 << BITMAP_BITS) / 64, sizeof(uint64_t));
    s->prefix_bits = calloc(((size_t)1 << PREFIX_BITS) / 64, sizeof(uint64_t));
    s->origin_kept = calloc(s->n_origins + 1, sizeof(uint32_t));
    s->equal_bits = calloc(((size_t)1 << EQUAL_BITS) / 64, sizeof(uint64_t));
    if (!s->bitmap || !s->prefix_bits || !s->origin_kept || !s->equal_bits ||
        (s->n_slots == 0 && !grow_slots(s)))
        goto oom;
    for (size_t i = 0; i < s->n; i++) {
        struct entry *e = &s->entries[i];
        uint32_t eq;
        e->dropped = is_category(s, e);
        if (e->dropped)
            continue;
        eq = hash_ci(e->data, e->len) >> (32 - EQUAL_BITS);
        s->equal_bits[eq / 64] |= 1ull << (eq % 64);
        s->n_kept++;
        s->origin_kept[e->origin]++;
        s->max_len = e->len > s->max_len ? e->len : s->max_len;
        s->n_contain += e->use == LEAKSET_CONTAIN;
    }
    if (!build_index(s))
        goto oom;
    s->built = true;
    return true;
oom:
    anon_error_set(err, "leak audit: out of memory for the search index");
    return false;
}

size_t leakset_count(const struct leakset *s)
{
    return s->n_kept;
}

size_t leakset_count_origin(const struct leakset *s, uint32_t o)
{
    return s->built && o < s->n_origins ? s->origin_kept[o] : 0;
}

/* ------------------------------------------------------------ search */

static bool find_equal(const struct leakset *s, const char *v, size_t n, uint32_t *origin)
{
    uint32_t h, eq;
    size_t j;

    if (n < LEAKSET_MIN_EQUAL || n > s->max_len)
        return false;
    h = hash_ci(v, n);
    eq = h >> (32 - EQUAL_BITS);
    if (!(s->equal_bits[eq / 64] >> (eq % 64) & 1))
        return false;
    j = h & (s->n_slots - 1);
    for (; s->slots[j]; j = (j + 1) & (s->n_slots - 1)) {
        const struct entry *e = &s->entries[s->slots[j] - 1];
        if (!e->dropped && e->len == n && equal_ci(e->data, v, n)) {
            *origin = e->origin;
            return true;
        }
    }
    return false;
}

/* Values that start at text[t..]: the chain of their first 8 bytes. */
static bool find_at(const struct leakset *s, const char *v, size_t n, size_t t, uint32_t *origin)
{
    uint64_t p8 = load8(v + t, 8);
    uint32_t h = prefix_hash(p8), bit = h >> (32 - PREFIX_BITS);

    if (!(s->prefix_bits[bit / 64] >> (bit % 64) & 1))
        return false;
    for (uint32_t i = s->prefix_head[h & (s->n_prefix - 1)]; i; i = s->prefix_next[i - 1]) {
        const struct entry *e = &s->entries[i - 1];
        if (e->len <= n - t && load8(e->data, 8) == p8 && equal_ci(v + t, e->data, e->len)) {
            *origin = e->origin;
            return true;
        }
    }
    return false;
}

/*
 * Every value searched inside text has 8 bytes or more, and its grams at offsets 0..4
 * are in the bitmap. An occurrence starting at t covers the positions t..t+4, one of
 * which is a multiple of 5: looking at every 5th position q finds it, with a gram of the
 * value at offset q - t. On a bit hit the value may start at q - 0 .. q - 4: the values
 * with the text's 8 bytes at that start, if any, are compared.
 */
static bool find_inside(const struct leakset *s, const char *v, size_t n, uint32_t *origin)
{
    if (s->n_contain == 0)
        return false;
    for (size_t q = 0; q + 4 <= n; q += GRAM_OFFSETS) {
        uint32_t bit = gram_hash(gram_at(v + q)) >> (32 - BITMAP_BITS);
        if (!(s->bitmap[bit / 64] >> (bit % 64) & 1))
            continue;
        for (size_t o = 0; o < GRAM_OFFSETS && o <= q; o++)
            if (q - o + 8 <= n && find_at(s, v, n, q - o, origin))
                return true;
    }
    return false;
}

static bool find_trimmed(const struct leakset *s, const char *v, size_t len, bool contain,
                         uint32_t *origin)
{
    size_t a = 0, b = len;

    while (a < b && is_space((unsigned char)v[a]))
        a++;
    while (b > a && is_space((unsigned char)v[b - 1]))
        b--;
    if (find_equal(s, v + a, b - a, origin))
        return true;
    return contain && b - a >= LEAKSET_MIN_CONTAIN && find_inside(s, v + a, b - a, origin);
}

bool leakset_find(const struct leakset *s, const char *v, size_t len, bool contain,
                  uint32_t *origin)
{
    struct scrubnorm f;
    bool oom, hit;

    if (!s->built)
        return false;
    if (find_trimmed(s, v, len, contain, origin))
        return true;
    /* Also as the detectors read it (add_folded): out of memory, it is not searched so. */
    if (!scrubnorm_set(&f, v, len, &oom))
        return false;
    hit = find_trimmed(s, f.text, f.len, contain, origin);
    scrubnorm_free(&f);
    return hit;
}
