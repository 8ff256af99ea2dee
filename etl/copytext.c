/*
 * copytext.c: PostgreSQL COPY text codec (see copytext.h for the format and contract).
 *
 * Speed: every row of every table passes through here. Split and decode find the bytes
 * they care about with memchr (vectorised in libc) and skip everything in between; encode
 * tests eight bytes at a time for "any byte < 0x20 or == '\\'" (the only bytes it may
 * have to escape) and copies clean runs in one append. Nothing allocates: fields point
 * into the row, output goes to the caller's reused abuf.
 *
 * Escapes are a backslash plus one byte, or plus octal/hex digits: never a backslash
 * after the first byte. So a run of backslashes always starts at an unescaped position,
 * and whether the byte after a run is escaped is the parity of the run's length; that
 * is how escaped_at() decides without scanning from the start of the row.
 */
#include "etl/copytext.h"

#include <string.h>

/* Is row[pos] preceded by an odd number of backslashes (i.e. escaped)? */
static bool escaped_at(const char *row, size_t pos)
{
    size_t run = 0;

    while (run < pos && row[pos - 1 - run] == '\\')
        run++;
    return (run & 1) != 0;
}

/* Does row[0..len) hold an unescaped c? */
static bool has_bare(const char *row, size_t len, char c)
{
    const char *p = row, *end = row + len, *hit;

    while (p < end && (hit = memchr(p, c, (size_t)(end - p))) != NULL) {
        if (!escaped_at(row, (size_t)(hit - row)))
            return true;
        p = hit + 1;
    }
    return false;
}

static void put_field(struct copytext_field *fields, size_t max_fields, size_t n, const char *start,
                      const char *stop)
{
    size_t len = (size_t)(stop - start);

    if (n >= max_fields)
        return;
    fields[n].raw = start;
    fields[n].len = len;
    fields[n].is_null = len == 2 && start[0] == '\\' && start[1] == 'N';
}

/* Next backslash in [p, end), or NULL. */
static const char *next_backslash(const char *p, const char *end)
{
    return p < end ? memchr(p, '\\', (size_t)(end - p)) : NULL;
}

/* Next tab in [p, end), or end. */
static const char *next_tab(const char *p, const char *end)
{
    const char *t = p < end ? memchr(p, '\t', (size_t)(end - p)) : NULL;

    return t ? t : end;
}

size_t copytext_split(const char *row, size_t len, struct copytext_field *fields, size_t max_fields)
{
    static const char empty[1] = "";
    const char *p, *end, *bs, *tab;
    size_t n = 0;

    if (!row) /* only legal with len == 0: the empty row */
        row = empty, len = 0;
    if (len > 0 && row[len - 1] == '\n' && !escaped_at(row, len - 1))
        len--;
    if (has_bare(row, len, '\n') || has_bare(row, len, '\r'))
        return COPYTEXT_BAD_ROW;
    if (len > 0 && escaped_at(row, len))
        return COPYTEXT_BAD_ROW; /* ends with a lone backslash */

    p = row;
    end = row + len;
    bs = next_backslash(p, end); /* kept ahead of p: one memchr per escape, not per field */
    for (;;) {
        const char *start = p;

        tab = next_tab(p, end);
        /* Backslashes before the tab: each one escapes the byte after it, which may be
         * that very tab (then look for the next one). */
        while (bs && bs < tab) {
            p = bs + 2; /* bs + 1 < end: a lone final backslash was rejected above */
            bs = next_backslash(p, end);
            if (p > tab)
                tab = next_tab(p, end);
        }
        put_field(fields, max_fields, n, start, tab);
        n++;
        if (tab == end)
            return n;
        p = tab + 1;
    }
}

bool copytext_split_exact(const char *row, size_t len, struct copytext_field *fields,
                          size_t nfields, struct anon_error *err)
{
    size_t n;

    if (nfields == 0 && (len == 0 || (len == 1 && row[0] == '\n')))
        return true;
    n = copytext_split(row, len, fields, nfields);
    if (n == COPYTEXT_BAD_ROW) {
        anon_error_set(err,
                       "malformed COPY row (%zu bytes): raw line break inside the row or a "
                       "lone backslash at its end",
                       len);
        return false;
    }
    if (n != nfields) {
        anon_error_set(err, "COPY row has %zu fields, expected %zu", n, nfields);
        return false;
    }
    return true;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode the escape whose backslash is at p[-1]; p < end. Stores the byte in *out and
 * returns the first position after the escape. Same rules as PostgreSQL's
 * CopyReadAttributesText.
 */
static const char *decode_escape(const char *p, const char *end, char *out)
{
    unsigned char c = (unsigned char)*p++;
    unsigned int v;
    int d;

    switch (c) {
    case 'b':
        *out = '\b';
        return p;
    case 'f':
        *out = '\f';
        return p;
    case 'n':
        *out = '\n';
        return p;
    case 'r':
        *out = '\r';
        return p;
    case 't':
        *out = '\t';
        return p;
    case 'v':
        *out = '\v';
        return p;
    case 'x':
        if (p < end && (d = hex_value((unsigned char)*p)) >= 0) {
            v = (unsigned int)d;
            p++;
            if (p < end && (d = hex_value((unsigned char)*p)) >= 0) {
                v = (v << 4) + (unsigned int)d;
                p++;
            }
            *out = (char)v;
            return p;
        }
        *out = 'x';
        return p;
    default:
        if (c >= '0' && c <= '7') {
            v = c - '0';
            if (p < end && *p >= '0' && *p <= '7') {
                v = (v << 3) + (unsigned int)(*p++ - '0');
                if (p < end && *p >= '0' && *p <= '7')
                    v = (v << 3) + (unsigned int)(*p++ - '0');
            }
            *out = (char)(v & 0xff);
            return p;
        }
        *out = (char)c;
        return p;
    }
}

bool copytext_decode(const char *raw, size_t len, struct abuf *out)
{
    const char *p = raw, *end = raw + len, *bs;
    char c;

    if (abuf_failed(out))
        return false;
    if (len == 0)
        return true;
    while ((bs = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (bs > p && !abuf_append(out, p, (size_t)(bs - p)))
            return false;
        if (bs + 1 == end)
            return false; /* lone backslash at the end */
        p = decode_escape(bs + 1, end, &c);
        if (!abuf_putc(out, c))
            return false;
        if (p == end)
            return true;
    }
    return abuf_append(out, p, (size_t)(end - p));
}

/*
 * The escape letter for each byte that COPY TO escapes, 0 for the others. Same set as
 * PostgreSQL's CopyAttributeOutText with a tab delimiter.
 */
static const char escape_letter[256] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',  ['\r'] = 'r',
    ['\t'] = 't', ['\v'] = 'v', ['\\'] = '\\',
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Could any of these 8 bytes need escaping (a byte < 0x20 or a backslash)? Exact "no". */
static inline bool word_may_escape(uint64_t x)
{
    uint64_t below_space = (x - ONES * 0x20) & ~x & HIGHS;
    uint64_t y = x ^ (ONES * '\\');
    uint64_t is_backslash = (y - ONES) & ~y & HIGHS;

    return (below_space | is_backslash) != 0;
}

/* First byte in [p, end) that needs escaping, or end. */
static const char *next_special(const char *p, const char *end)
{
    for (;;) {
        const char *stop;
        uint64_t x;

        while (end - p >= 8) {
            memcpy(&x, p, 8);
            if (word_may_escape(x))
                break;
            p += 8;
        }
        stop = end - p > 8 ? p + 8 : end;
        for (; p < stop; p++)
            if (escape_letter[(unsigned char)*p])
                return p;
        if (p == end)
            return end;
    }
}

bool copytext_encode(const char *val, size_t len, struct abuf *out)
{
    const char *p = val, *end, *s;
    char esc[2] = {'\\', 0};

    if (abuf_failed(out))
        return false;
    if (!val)
        return abuf_append(out, "\\N", 2);
    end = val + len;
    while (p < end) {
        s = next_special(p, end);
        if (s > p && !abuf_append(out, p, (size_t)(s - p)))
            return false;
        if (s == end)
            break;
        esc[1] = escape_letter[(unsigned char)*s];
        if (!abuf_append(out, esc, 2))
            return false;
        p = s + 1;
    }
    return true;
}
