/* textfold.c: lowercase, accent-free text for matching row values (see textfold.h). */
#include "anonymise/textfold.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/utf8.h"

/* U+00C0..U+00FF and U+0100..U+017F: the base letters ("" = not a letter: x and /). */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

/* Latin Extended-A by runs: [first, last] code point -> base letters. */
static const struct {
    unsigned first, last;
    const char *base;
} extended_a[] = {
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

static const char *base_of(unsigned cp)
{
    if (cp >= 0xC0 && cp <= 0xFF)
        return latin1[cp - 0xC0];
    for (size_t i = 0; i < sizeof(extended_a) / sizeof(extended_a[0]); i++)
        if (cp >= extended_a[i].first && cp <= extended_a[i].last)
            return extended_a[i].base;
    return NULL;
}

void textfold_init(struct textfold *f)
{
    memset(f, 0, sizeof(*f));
}

void textfold_init_buffers(struct textfold *f, char *text, size_t *src, size_t cap)
{
    textfold_init(f);
    f->text = text;
    f->src = src;
    f->cap = cap;
}

void textfold_free(struct textfold *f)
{
    if (f->owned) {
        free(f->text);
        free(f->src);
    }
    textfold_init(f);
}

static bool reserve(struct textfold *f, size_t need)
{
    char *t;
    size_t *s;

    if (need <= f->cap)
        return true;
    t = malloc(need);
    s = malloc(need * sizeof(*s));
    if (!t || !s) {
        free(t);
        free(s);
        return false;
    }
    if (f->owned) {
        free(f->text);
        free(f->src);
    }
    f->text = t;
    f->src = s;
    f->cap = need;
    f->owned = true;
    return true;
}

bool textfold_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* The code point of a 2-byte UTF-8 sequence at s (the only ones with a base letter). */
static unsigned two_byte(const unsigned char *s)
{
    return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
}

/* No byte of s has its high bit set: eight bytes at a time. */
static bool all_ascii(const unsigned char *s, size_t len)
{
    uint64_t acc = 0, w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < len; i++)
        acc |= s[i];
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

bool textfold_set(struct textfold *f, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n = 0;

    /* a folded character is never longer than its source, but "ß" -> "ss" is as long */
    if (!reserve(f, len + 1))
        return false;
    f->identity = all_ascii(u, len);
    if (f->identity) { /* the common case: lowercase only, eight bytes at a time */
        for (; i + 8 <= len; i += 8) {
            uint64_t w, ge_a, gt_z;
            memcpy(&w, u + i, 8);
            /* per byte (all < 0x80): high bit of ge_a set when >= 'A', of gt_z when > 'Z' */
            ge_a = w + UINT64_C(0x3f3f3f3f3f3f3f3f);
            gt_z = w + UINT64_C(0x2525252525252525);
            w |= (ge_a & ~gt_z & UINT64_C(0x8080808080808080)) >> 2;
            memcpy(f->text + i, &w, 8);
        }
        for (; i < len; i++)
            f->text[i] = (char)(u[i] + (((unsigned)(u[i] - 'A') < 26u) << 5));
        f->text[len] = '\0';
        f->len = len;
        return true;
    }
    while (i < len) {
        size_t cl = u[i] < 0x80 ? 1 : utf8_char_len(s + i, len - i);
        const char *base = cl == 2 ? base_of(two_byte(u + i)) : NULL;
        if (base && *base) {
            for (const char *b = base; *b; b++) {
                f->src[n] = i;
                f->text[n++] = *b;
            }
        } else {
            for (size_t k = 0; k < cl; k++) {
                f->src[n] = i + k;
                f->text[n++] =
                    (char)(u[i + k] >= 'A' && u[i + k] <= 'Z' ? u[i + k] + 32 : u[i + k]);
            }
        }
        i += cl;
    }
    f->src[n] = len;
    f->text[n] = '\0';
    f->len = n;
    return true;
}
