/*
 * copybin.h: the PostgreSQL COPY binary format, for tables whose columns allow it.
 *
 * Format (PostgreSQL 15 docs, COPY, "Binary Format"): an 11-byte signature
 * "PGCOPY\n\377\r\n\0", a 32-bit flags field, a 32-bit header extension length and the
 * extension; then per row a 16-bit field count and, per field, a 32-bit length (-1 for
 * NULL) and that many bytes in the type's binary (send/recv) form; a field count of -1
 * ends the data. All integers are big-endian.
 *
 * Why: `keep` columns then travel in their binary form end to end. Neither the source
 * (timestamp_out, numeric_out) nor the target (timestamptz_in, numeric_in) spends time
 * formatting and parsing text, which is most of a COPY's cost; the raw bytes are never
 * looked at here. Rule columns go through the type codecs (anonymise/codec.h, driven by
 * etl/bincol.c): a table uses binary COPY when every column has a way through.
 * libpq returns one row per CopyData message; the server puts the header in the first
 * one, and the trailer may come alone.
 */
#ifndef COPYBIN_H
#define COPYBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"

#define COPYBIN_HEADER_LEN 19

struct copybin_field {
    const char *data; /* into the message */
    size_t len;
    bool is_null;
};

enum copybin_row { COPYBIN_ROW, COPYBIN_END, COPYBIN_BAD };

/* Skip the file header if msg starts with it (first message); *offset is set past it.
 * Returns false on a malformed header (signature, flags with OIDs, extension). */
bool copybin_skip_header(const char *msg, size_t len, size_t *offset, struct anon_error *err);

/* Parse one row at msg[offset..len): exactly nfields fields, or the trailer. On
 * COPYBIN_BAD err says why (counts and offsets, never content). */
enum copybin_row copybin_parse_row(const char *msg, size_t len, size_t offset,
                                   struct copybin_field *fields, size_t nfields,
                                   struct anon_error *err);

/* Writers (append to out). */
void copybin_put_header(struct abuf *out);
void copybin_put_row_start(struct abuf *out, size_t nfields);
void copybin_put_field(struct abuf *out, const char *data, size_t len);
void copybin_put_null(struct abuf *out);
void copybin_put_trailer(struct abuf *out);

#endif
