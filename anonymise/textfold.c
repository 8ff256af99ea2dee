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

/* Latin letters past Extended-A that names carry: Vietnamese (o and u with horn, the
 * Latin Extended Additional block's letters with a dot below, hook or tilde: "Nguyễn"),
 * Pinyin's tone marks ("Lǚ"), Romanian's comma below ("Ștefan", often typed with the
 * cedilla of Extended-A, or without). [first, last] -> base letter. */
static const struct {
    unsigned first, last;
    char base;
} latin_more[] = {
    {0x1A0, 0x1A1, 'o'},   {0x1AF, 0x1B0, 'u'},   {0x1CD, 0x1CE, 'a'},   {0x1CF, 0x1D0, 'i'},
    {0x1D1, 0x1D2, 'o'},   {0x1D3, 0x1DC, 'u'},   {0x218, 0x219, 's'},   {0x21A, 0x21B, 't'},
    {0x1EA0, 0x1EB7, 'a'}, {0x1EB8, 0x1EC7, 'e'}, {0x1EC8, 0x1ECB, 'i'}, {0x1ECC, 0x1EE3, 'o'},
    {0x1EE4, 0x1EF1, 'u'}, {0x1EF2, 0x1EF9, 'y'},
};

static char latin_more_base(unsigned cp)
{
    for (size_t i = 0; i < sizeof(latin_more) / sizeof(latin_more[0]); i++)
        if (cp >= latin_more[i].first && cp <= latin_more[i].last)
            return latin_more[i].base;
    return 0;
}

/* Combining marks: an accent typed (or normalised, NFD) as its own character after the
 * letter ("Zoe" U+0308 for "Zoë"). Folded to nothing, as a precomposed accent is. */
static bool combining_mark(unsigned cp)
{
    return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* Greek: lowercase, tonos and dialytika dropped ("Νίκος" and "ΝΙΚΟΣ" are "νικοσ"),
 * final sigma as sigma. 0 when cp is not a Greek letter to change. */
static unsigned greek_fold(unsigned cp)
{
    static const struct {
        unsigned from, to;
    } accented[] = {
        {0x386, 0x3B1}, {0x388, 0x3B5}, {0x389, 0x3B7}, {0x38A, 0x3B9}, {0x38C, 0x3BF},
        {0x38E, 0x3C5}, {0x38F, 0x3C9}, {0x390, 0x3B9}, {0x3AA, 0x3B9}, {0x3AB, 0x3C5},
        {0x3AC, 0x3B1}, {0x3AD, 0x3B5}, {0x3AE, 0x3B7}, {0x3AF, 0x3B9}, {0x3B0, 0x3C5},
        {0x3C2, 0x3C3}, {0x3CA, 0x3B9}, {0x3CB, 0x3C5}, {0x3CC, 0x3BF}, {0x3CD, 0x3C5},
        {0x3CE, 0x3C9},
    };

    if ((cp >= 0x391 && cp <= 0x3A1) || (cp >= 0x3A3 && cp <= 0x3A9))
        return cp + 0x20;
    for (size_t i = 0; i < sizeof(accented) / sizeof(accented[0]); i++)
        if (accented[i].from == cp)
            return accented[i].to;
    return 0;
}

/* Cyrillic: lowercase, and the letters whose accent NFD writes as a combining mark to
 * their base (ё -> е, й -> и, ї -> і, ў -> у, ѓ -> г, ќ -> к, ѐ -> е, ѝ -> и), as for
 * Latin. 0 when cp is not a Cyrillic letter to change. */
static unsigned cyrillic_fold(unsigned cp)
{
    static const struct {
        unsigned from, to;
    } accented[] = {
        {0x450, 0x435}, {0x451, 0x435}, {0x439, 0x438}, {0x457, 0x456},
        {0x45E, 0x443}, {0x453, 0x433}, {0x45C, 0x43A}, {0x45D, 0x438},
    };
    unsigned low = cp;

    if (cp >= 0x400 && cp <= 0x40F)
        low = cp + 0x50;
    else if (cp >= 0x410 && cp <= 0x42F)
        low = cp + 0x20;
    else if (((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
              (cp >= 0x4D0 && cp <= 0x52F)) &&
             cp % 2 == 0)
        low = cp + 1;
    else if (cp >= 0x4C1 && cp <= 0x4CE && cp % 2 == 1)
        low = cp + 1;
    for (size_t i = 0; i < sizeof(accented) / sizeof(accented[0]); i++)
        if (accented[i].from == low)
            return accented[i].to;
    return low != cp ? low : 0;
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

/* The code point of a well-formed 2- or 3-byte UTF-8 sequence at s (the only ones folded). */
static unsigned code_point(const unsigned char *s, size_t cl)
{
    if (cl == 2)
        return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    return (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
}

/* Punctuation and spaces outside ASCII: what ends a word. Every non-ASCII byte counts as
 * a word byte (letters of other scripts), so a name next to a no-break space ("Mr"
 * U+00A0 "Smith", Word's), a guillemet ("«Smith»"), a curly quote, an ellipsis, a dash
 * ("Smith‐Jones") or CJK punctuation ("李小龍，") had no word boundary and was not found.
 * Folded to ASCII: apostrophes to "'", hyphens and dashes to "-", the rest of Latin-1's
 * signs, General Punctuation and CJK punctuation to " "; invisible ones (soft hyphen,
 * zero-width space and joiners, word joiner, BOM) to nothing. Returns the bytes written
 * (0 or 1), or -1 when cp is none of these. */
static int punctuation_fold(unsigned cp, char *to)
{
    if (cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
        cp == 0xFEFF)
        return 0;
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x201B || cp == 0x2032 || cp == 0x2BC)
        *to = '\'';
    else if (cp >= 0x2010 && cp <= 0x2015)
        *to = '-';
    else if ((cp >= 0xA0 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
             (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x3004) ||
             (cp >= 0x3008 && cp <= 0x3020) || cp == 0x3030)
        *to = ' ';
    else
        return -1;
    return 1;
}

/* The folded form of one non-ASCII character, in out (at most as long as the character:
 * the caller's buffer never grows). Returns its length; 0 for a combining mark (folded to
 * nothing); -1 when the character stays as it is. */
static int fold_char(const unsigned char *s, size_t cl, char out[3])
{
    unsigned cp, to;
    const char *base;
    char c;
    int n;

    if (cl != 2 && cl != 3)
        return -1;
    cp = code_point(s, cl);
    if (combining_mark(cp))
        return 0;
    if ((n = punctuation_fold(cp, out)) >= 0)
        return n;
    if (cp >= 0xFF01 && cp <= 0xFF5E) { /* fullwidth ASCII ("ａｌｉｃｅ＠…") */
        c = (char)(cp - 0xFEE0);
        out[0] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        return 1;
    }
    if ((base = base_of(cp)) && *base) {
        size_t len = strlen(base); /* 1 or 2 letters, from a 2-byte character */
        memcpy(out, base, len);
        return (int)len;
    }
    if ((c = latin_more_base(cp))) {
        out[0] = c;
        return 1;
    }
    if ((to = greek_fold(cp)) || (to = cyrillic_fold(cp))) { /* 2 bytes, as cp */
        out[0] = (char)(0xC0 | to >> 6);
        out[1] = (char)(0x80 | (to & 0x3f));
        return 2;
    }
    return -1;
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
        char folded[3];
        int fl = cl == 1 ? -1 : fold_char(u + i, cl, folded);
        if (fl >= 0) {
            for (int k = 0; k < fl; k++) {
                f->src[n] = i;
                f->text[n++] = folded[k];
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
