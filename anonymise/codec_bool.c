/*
 * codec_bool.c: boolean (see codec.h). Binary: one byte, 1 or 0. Text: "t" or "f".
 * Input as the server's parse_bool: blanks around, then any case-insensitive prefix of
 * true/false/yes/no, "on", "off" (at least "of"), "1" or "0".
 */
#include "anonymise/codec.h"

#include <strings.h>

static bool bool_to_text(const char *bin, size_t len, struct abuf *out)
{
    if (len != 1)
        return false;
    return abuf_putc(out, bin[0] ? 't' : 'f');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* s[0..n) is a prefix of word of at least min characters. */
static bool prefix_of(const char *s, size_t n, const char *word, size_t min)
{
    return n >= min && n <= strlen(word) && strncasecmp(s, word, n) == 0;
}

static bool bool_from_text(const char *text, size_t len, struct abuf *out)
{
    size_t i = 0;
    int v = -1;

    while (i < len && is_blank(text[i]))
        i++;
    while (len > i && is_blank(text[len - 1]))
        len--;
    text += i;
    len -= i;
    if (prefix_of(text, len, "true", 1) || prefix_of(text, len, "yes", 1) ||
        prefix_of(text, len, "on", 2) || (len == 1 && text[0] == '1'))
        v = 1;
    else if (prefix_of(text, len, "false", 1) || prefix_of(text, len, "no", 1) ||
             prefix_of(text, len, "off", 2) || (len == 1 && text[0] == '0'))
        v = 0;
    return v >= 0 && abuf_putc(out, (char)v);
}

const struct codec codec_bool = {
    .name = "boolean",
    .oid = 16,
    .array_oid = 1000,
    .to_text = bool_to_text,
    .from_text = bool_from_text,
};
