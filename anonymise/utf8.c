/* utf8.c: UTF-8 character stepping (see utf8.h); follows RFC 3629 well-formedness. */
#include "anonymise/utf8.h"

#include <stdlib.h>

static bool cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t utf8_char_len(const char *p, size_t avail)
{
    const unsigned char *s = (const unsigned char *)p;
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && cont(s[1]) ? 2 : 1;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return avail >= 3 && s[1] >= lo && s[1] <= hi && cont(s[2]) ? 3 : 1;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return avail >= 4 && s[1] >= lo && s[1] <= hi && cont(s[2]) && cont(s[3]) ? 4 : 1;
    }
    return 1;
}

size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; n++)
        i += utf8_char_len(s + i, len - i);
    return n;
}

size_t utf8_offset(const char *s, size_t len, size_t n)
{
    size_t i = 0;

    while (n > 0 && i < len) {
        i += utf8_char_len(s + i, len - i);
        n--;
    }
    return i;
}

bool utf8_is_one_char(const char *s, size_t len)
{
    if (len == 0)
        return false;
    if (len == 1)
        return (unsigned char)s[0] < 0x80;
    return utf8_char_len(s, len) == len;
}

char *utf8_printable(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    char *out, *o;

    for (const char *p = s; *p; p++)
        n += (unsigned char)*p < 0x20 || *p == 0x7f ? 4 : 1;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    for (o = out; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}
