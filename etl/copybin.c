/* copybin.c: COPY binary format reader and writer (see copybin.h). */
#include "etl/copybin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint16_t get16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint16_t)(u[0] << 8 | u[1]);
}

static void put32(struct abuf *out, uint32_t v)
{
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

    abuf_append(out, b, 4);
}

static void put16(struct abuf *out, uint16_t v)
{
    char b[2] = {(char)(v >> 8), (char)v};

    abuf_append(out, b, 2);
}

bool copybin_skip_header(const char *msg, size_t len, size_t *offset, struct anon_error *err)
{
    uint32_t flags, ext;

    *offset = 0;
    if (len < sizeof(signature) || memcmp(msg, signature, sizeof(signature)) != 0)
        return true; /* not a header: a plain row */
    if (len < COPYBIN_HEADER_LEN) {
        anon_error_set(err, "binary COPY header truncated (%zu bytes)", len);
        return false;
    }
    flags = get32(msg + 11);
    ext = get32(msg + 15);
    if (flags & 0x00010000u) {
        anon_error_set(err, "binary COPY with OIDs is not supported");
        return false;
    }
    if (ext > len - COPYBIN_HEADER_LEN) {
        anon_error_set(err, "binary COPY header extension of %" PRIu32 " bytes is truncated", ext);
        return false;
    }
    *offset = COPYBIN_HEADER_LEN + ext;
    return true;
}

enum copybin_row copybin_parse_row(const char *msg, size_t len, size_t offset,
                                   struct copybin_field *fields, size_t nfields,
                                   struct anon_error *err)
{
    size_t p = offset;
    int16_t count;

    if (len < p || len - p < 2) {
        anon_error_set(err, "binary COPY row truncated at byte %zu", p);
        return COPYBIN_BAD;
    }
    count = (int16_t)get16(msg + p);
    p += 2;
    if (count == -1)
        return COPYBIN_END;
    if (count < 0 || (size_t)count != nfields) {
        anon_error_set(err, "binary COPY row has %d fields, expected %zu", count, nfields);
        return COPYBIN_BAD;
    }
    for (size_t i = 0; i < nfields; i++) {
        int32_t flen;
        if (len - p < 4) {
            anon_error_set(err, "binary COPY field %zu truncated at byte %zu", i + 1, p);
            return COPYBIN_BAD;
        }
        flen = (int32_t)get32(msg + p);
        p += 4;
        if (flen == -1) {
            fields[i] = (struct copybin_field){.data = "", .len = 0, .is_null = true};
            continue;
        }
        if (flen < 0 || (size_t)flen > len - p) {
            anon_error_set(err, "binary COPY field %zu has a bad length at byte %zu", i + 1, p - 4);
            return COPYBIN_BAD;
        }
        fields[i] = (struct copybin_field){.data = msg + p, .len = (size_t)flen};
        p += (size_t)flen;
    }
    if (p != len) {
        anon_error_set(err, "binary COPY row has %zu trailing bytes", len - p);
        return COPYBIN_BAD;
    }
    return COPYBIN_ROW;
}

void copybin_put_header(struct abuf *out)
{
    abuf_append(out, signature, sizeof(signature));
    put32(out, 0); /* flags */
    put32(out, 0); /* no header extension */
}

void copybin_put_row_start(struct abuf *out, size_t nfields)
{
    put16(out, (uint16_t)nfields);
}

void copybin_put_field(struct abuf *out, const char *data, size_t len)
{
    put32(out, (uint32_t)len);
    abuf_append(out, data, len);
}

void copybin_put_null(struct abuf *out)
{
    put32(out, 0xFFFFFFFFu);
}

void copybin_put_trailer(struct abuf *out)
{
    put16(out, 0xFFFFu);
}
