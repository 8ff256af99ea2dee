/*
 * codec_uuid.c: uuid (see codec.h). Binary: the 16 bytes. Text: lowercase hex as
 * 8-4-4-4-12. Input as the server's uuid_in: optional braces, hex digits in either
 * case, a hyphen allowed after any group of four.
 */
#include "anonymise/codec.h"

#define UUID_LEN 16

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

static bool uuid_to_text(const char *bin, size_t len, struct abuf *out)
{
    static const char digits[] = "0123456789abcdef";
    char buf[36], *p = buf;

    if (len != UUID_LEN)
        return false;
    for (int i = 0; i < UUID_LEN; i++) {
        unsigned char b = (unsigned char)bin[i];
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = digits[b >> 4];
        *p++ = digits[b & 15];
    }
    return abuf_append(out, buf, sizeof(buf));
}

static bool uuid_from_text(const char *text, size_t len, struct abuf *out)
{
    char bytes[UUID_LEN];
    size_t i = 0;
    bool braces = false;

    if (i < len && text[i] == '{') {
        braces = true;
        i++;
    }
    for (int k = 0; k < UUID_LEN; k++) {
        int hi, lo;
        if (len - i < 2 || (hi = hex_value(text[i])) < 0 || (lo = hex_value(text[i + 1])) < 0)
            return false;
        bytes[k] = (char)(hi << 4 | lo);
        i += 2;
        if (i < len && text[i] == '-' && k % 2 == 1 && k < UUID_LEN - 1)
            i++;
    }
    if (braces) {
        if (i >= len || text[i] != '}')
            return false;
        i++;
    }
    return i == len && abuf_append(out, bytes, UUID_LEN);
}

const struct codec codec_uuid = {
    .name = "uuid",
    .oid = 2950,
    .array_oid = 2951,
    .to_text = uuid_to_text,
    .from_text = uuid_from_text,
};
