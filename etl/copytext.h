/*
 * copytext.h: the PostgreSQL COPY text format codec (one row at a time).
 *
 * Format (PostgreSQL 15 docs, COPY, "Text Format"): a row ends with "\n", fields are
 * separated by a tab, SQL NULL is the two bytes "\N". Inside a field a backslash starts
 * an escape: \b \f \n \r \t \v \\ , octal \NNN (1-3 digits), hex \xHH (1-2 digits); a
 * backslash before any other byte means that byte (so "\." is ".", "\<TAB>" is a tab
 * that does not separate fields, "\x" without a hex digit is "x"). Octal and hex escapes
 * can produce any byte, NUL included; the codec is byte-oriented (the session's
 * client_encoding is pinned to UTF8, and UTF-8 never puts a byte < 0x80 inside a
 * multibyte character, so no escape can split one).
 *
 * The hot loop of a run goes through here for every row, so nothing allocates per row:
 * copytext_split only records pointers into the row it is given, copytext_decode and
 * copytext_encode append to a caller-owned struct abuf that keeps its memory across rows
 * (abuf_reset between rows).
 *
 * Malformed input (any bytes are accepted, nothing is ever read out of bounds):
 * - copytext_split rejects a row that holds a raw (unescaped) "\n" or "\r" before its
 *   end, or that ends with a lone backslash. Both would change the row framing if a raw
 *   field were passed through unchanged into COPY FROM, and PostgreSQL never emits them.
 *   With those rejected, every raw field of a split row can be written back as is.
 * - copytext_decode rejects a field that ends with a lone backslash; "\x" or "\" followed
 *   by a non-digit decodes as PostgreSQL does (the byte itself); octal escapes above
 *   \377 keep the low 8 bits, as PostgreSQL does.
 */
#ifndef COPYTEXT_H
#define COPYTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"

/* One field of a split row: still escaped, pointing into the row buffer. */
struct copytext_field {
    const char *raw; /* not NUL-terminated */
    size_t len;
    bool is_null; /* the raw field is exactly "\N" */
};

/* copytext_split's result for a malformed row. */
#define COPYTEXT_BAD_ROW SIZE_MAX

/*
 * Split one row (as PQgetCopyData returns it: with its trailing "\n"; a row without
 * one is accepted too). Fills fields[0 .. min(count, max_fields)) and returns the number
 * of fields the row has, which may be larger than max_fields (the extra ones are counted,
 * not stored): compare it with the expected count. A row is never 0 fields: "" and "\n"
 * are one empty field. Returns COPYTEXT_BAD_ROW for a malformed row (see above).
 * fields may be NULL when max_fields is 0 (to count only).
 */
size_t copytext_split(const char *row, size_t len, struct copytext_field *fields,
                      size_t max_fields);

/*
 * copytext_split that requires exactly nfields fields (for a zero-column table, an
 * empty row is 0 fields). On a mismatch or a malformed row, fills err with a message
 * that gives counts and byte offsets, never row content, and returns false.
 */
bool copytext_split_exact(const char *row, size_t len, struct copytext_field *fields,
                          size_t nfields, struct anon_error *err) ANON_MUST_CHECK;

/*
 * Append the decoded value of one raw field to out. Does not look at "\N": test
 * is_null first (decoding "\N" gives "N"). Returns false on a field that ends with a
 * lone backslash or when out fails (full or out of memory); out may then hold part of
 * the value. Returns false as well when out had already failed.
 */
bool copytext_decode(const char *raw, size_t len, struct abuf *out) ANON_MUST_CHECK;

/*
 * Append one value, escaped exactly as PostgreSQL's COPY TO does: backslash, tab, "\n",
 * "\r", backspace, form feed and vertical tab become \\ \t \n \r \b \f \v; every other
 * byte is copied. val == NULL appends "\N" (SQL NULL). No separator or row end is
 * added. Returns false when out fails (or had already failed).
 *
 * Beware: an abuf that never held a byte has data == NULL, so
 * copytext_encode(b.data, b.len, out) on an empty value would write NULL. Encode an
 * abuf's content with copytext_encode_abuf (below), or pass abuf_cstr(&b).
 */
bool copytext_encode(const char *val, size_t len, struct abuf *out) ANON_MUST_CHECK;

/* Append the escaped content of val (never NULL: an empty val is the empty string). */
static inline bool ANON_MUST_CHECK copytext_encode_abuf(const struct abuf *val, struct abuf *out)
{
    return copytext_encode(val->data ? val->data : "", val->len, out);
}

/* Append "\N" (SQL NULL). */
static inline bool ANON_MUST_CHECK copytext_encode_null(struct abuf *out)
{
    return copytext_encode(NULL, 0, out);
}

/* True when raw holds a backslash, i.e. copytext_decode would change it. */
static inline bool copytext_has_escape(const char *raw, size_t len)
{
    return len > 0 && memchr(raw, '\\', len) != NULL;
}

#endif
