/* scrubnorm.c: the text scrub's detectors read (see scrubnorm.h). */
#include "anonymise/scrubnorm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/utf8.h"

/* The code point of a well-formed 2- or 3-byte UTF-8 sequence at s. */
static unsigned code_point(const unsigned char *s, size_t cl)
{
    if (cl == 2)
        return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    return (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
}

/* What the character at s (cl bytes) folds to: an ASCII byte in *to (returns 1),
 * nothing (0), or -1 when it stays as it is. */
static int fold(const unsigned char *s, size_t cl, char *to)
{
    unsigned cp;

    if (cl != 2 && cl != 3)
        return -1;
    cp = code_point(s, cl);
    if (cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF)
        return 0;
    if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
        cp == 0x3000)
        *to = ' ';
    else if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63)
        *to = '-';
    else if (cp >= 0xFF01 && cp <= 0xFF5E)
        *to = (char)(cp - 0xFEE0);
    else if (cp == 0xFE6B)
        *to = '@';
    else if (cp >= 0x660 && cp <= 0x669)
        *to = (char)('0' + (cp - 0x660));
    else if (cp >= 0x6F0 && cp <= 0x6F9)
        *to = (char)('0' + (cp - 0x6F0));
    else if (cp >= 0x966 && cp <= 0x96F)
        *to = (char)('0' + (cp - 0x966));
    else
        return -1;
    return 1;
}

void scrubnorm_free(struct scrubnorm *n)
{
    free(n->text);
    free(n->src);
    memset(n, 0, sizeof(*n));
}

/* An '@' written as an entity or escape at s[i] ("%40" of a URL, "&#64;", "&#x40;",
 * "&commat;" of HTML): the bytes it takes, else 0. */
static size_t escaped_at(const char *s, size_t len, size_t i)
{
    static const char *const forms[] = {"%40", "&#64;", "&#x40;", "&#X40;", "&commat;", NULL};

    for (size_t k = 0; forms[k]; k++) {
        size_t n = strlen(forms[k]);
        if (i + n <= len && memcmp(s + i, forms[k], n) == 0)
            return n;
    }
    return 0;
}

/* A byte that may start a folded form: any non-ASCII byte, a tab, '%' or '&'. */
static bool may_fold(unsigned char c)
{
    return c >= 0x80 || c == '\t' || c == '%' || c == '&';
}

/* Does any character of s fold? A text of ASCII letters, digits and punctuation without
 * '%', '&' or a tab is passed over eight bytes at a time. */
static bool any_folds(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    char to;
    size_t i = 0;
    uint64_t high = 0, w;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        high |= w;
    }
    for (; i < len; i++)
        high |= u[i];
    if (!(high & UINT64_C(0x8080808080808080)) && !memchr(s, '%', len) && !memchr(s, '&', len) &&
        !memchr(s, '\t', len))
        return false;
    for (i = 0; i < len;) {
        size_t cl;
        if (!may_fold(u[i])) {
            i++;
            continue;
        }
        if (u[i] == '\t' || escaped_at(s, len, i))
            return true;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        cl = utf8_char_len(s + i, len - i);
        if (fold(u + i, cl, &to) >= 0)
            return true;
        i += cl;
    }
    return false;
}

bool scrubnorm_set(struct scrubnorm *n, const char *s, size_t len, bool *oom)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;

    memset(n, 0, sizeof(*n));
    *oom = false;
    if (!any_folds(s, len))
        return false;
    n->text = malloc(len + 1); /* a folded character is never longer than its source */
    n->src = malloc((len + 1) * sizeof(*n->src));
    if (!n->text || !n->src) {
        scrubnorm_free(n);
        *oom = true;
        return false;
    }
    while (i < len) {
        size_t cl = u[i] < 0x80 ? 1 : utf8_char_len(s + i, len - i), esc;
        char to;
        int r = cl == 1 ? -1 : fold(u + i, cl, &to);
        if (u[i] == '\t') {
            r = 1;
            to = ' ';
        } else if ((u[i] == '%' || u[i] == '&') && (esc = escaped_at(s, len, i)) > 0) {
            r = 1;
            to = '@';
            cl = esc;
        }
        if (r == 1) {
            n->src[k] = i;
            n->text[k++] = to;
        } else if (r < 0) {
            for (size_t b = 0; b < cl; b++) {
                n->src[k] = i + b;
                n->text[k++] = s[i + b];
            }
        }
        i += cl;
    }
    n->src[k] = len;
    n->text[k] = '\0';
    n->len = k;
    return true;
}
