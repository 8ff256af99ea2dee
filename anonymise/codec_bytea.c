/*
 * codec_bytea.c: bytea (see codec.h). Binary: the bytes. Text (bytea_output=hex):
 * "\x" and two lowercase hex digits per byte. Input as byteain: "\x" then hex pairs
 * (blanks allowed between pairs), or the escape format (a backslash before three octal
 * digits or before a backslash; every other byte as it is).
 */
#include "anonymise/codec.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool bytea_to_text(const char *bin, size_t len, struct abuf *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t need = 2 + 2 * len;
    char *p;

    if (out->cap - out->len <= need && !abuf_grow(out, need))
        return false;
    p = out->data + out->len;
    *p++ = '\\';
    *p++ = 'x';
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)bin[i];
        *p++ = digits[b >> 4];
        *p++ = digits[b & 15];
    }
    out->len += need;
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool from_hex(const char *s, size_t len, struct abuf *out)
{
    for (size_t i = 0; i < len;) {
        int hi, lo;
        if (is_blank(s[i])) {
            i++;
            continue;
        }
        if (len - i < 2 || (hi = hex_value(s[i])) < 0 || (lo = hex_value(s[i + 1])) < 0)
            return false;
        if (!abuf_putc(out, (char)(hi << 4 | lo)))
            return false;
        i += 2;
    }
    return true;
}

static bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

static bool from_escape(const char *s, size_t len, struct abuf *out)
{
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            abuf_putc(out, s[i++]);
        } else if (len - i >= 2 && s[i + 1] == '\\') {
            abuf_putc(out, '\\');
            i += 2;
        } else if (len - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' && is_octal(s[i + 2]) &&
                   is_octal(s[i + 3])) {
            abuf_putc(out,
                      (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0')));
            i += 4;
        } else {
            return false;
        }
    }
    return !abuf_failed(out);
}

static bool bytea_from_text(const char *text, size_t len, struct abuf *out)
{
    if (len >= 2 && text[0] == '\\' && text[1] == 'x')
        return from_hex(text + 2, len - 2, out);
    return from_escape(text, len, out);
}

const struct codec codec_bytea = {
    .name = "bytea",
    .oid = 17,
    .array_oid = 1001,
    .to_text = bytea_to_text,
    .from_text = bytea_from_text,
};
