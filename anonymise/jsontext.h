/*
 * jsontext.h: a validating scanner over JSON text (RFC 8259, as PostgreSQL's json and
 * jsonb input accept it), for rules that must touch only parts of a document and copy
 * the rest byte for byte (rule_json.c).
 *
 * Offsets, not trees: every function reads s[0..len) from *pos and moves *pos past what
 * it read; nothing is allocated except the nesting stack of jsontext_skip (heap, grown
 * as needed: nesting is limited by the input's length, never by a constant). Numbers
 * are checked against the JSON grammar and left as text (no conversion, so integers
 * over 64 bits and 1e400 are just digits). Strings are checked for escapes and control
 * characters; their UTF-8 is not checked here (PostgreSQL has, on input).
 */
#ifndef JSONTEXT_H
#define JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"

/* The first byte of the value at s[pos] tells its kind. */
enum jsontext_kind {
    JSONTEXT_BAD,
    JSONTEXT_OBJECT,
    JSONTEXT_ARRAY,
    JSONTEXT_STRING,
    JSONTEXT_NUMBER,
    JSONTEXT_TRUE,
    JSONTEXT_FALSE,
    JSONTEXT_NULL,
};

/* Past JSON whitespace (space, tab, CR, LF). */
size_t jsontext_ws(const char *s, size_t len, size_t pos);
/* Kind of the value starting at s[pos] (no whitespace skipped; BAD at the end). */
enum jsontext_kind jsontext_kind_at(const char *s, size_t len, size_t pos);
/* One string token at s[*pos] == '"': *pos moves past the closing quote. *escaped
 * (may be NULL) tells whether it holds a backslash escape. False when malformed. */
bool jsontext_skip_string(const char *s, size_t len, size_t *pos, bool *escaped);
/* One whole value at s[*pos] (no leading whitespace), validated to its end, nested
 * containers included; *pos moves past it. False when malformed. */
bool jsontext_skip(const char *s, size_t len, size_t *pos);
/* The whole text is one JSON value, with optional whitespace around it. */
bool jsontext_valid(const char *s, size_t len);

/* The string token tok[0..n) (quotes included, already validated) decoded: escapes
 * resolved, \uXXXX surrogate pairs joined into UTF-8. Appended to out. False when it
 * cannot be text: a lone surrogate (which `json`, unlike `jsonb`, accepts) or an out
 * of memory (abuf_failed(out)). \u0000 decodes to a NUL byte. */
bool jsontext_decode_string(const char *tok, size_t n, struct abuf *out);
/* s[0..n) appended as a JSON string token (quote, backslash and control characters
 * escaped, the rest as it is).
 * False, with nothing appended, when s is not valid UTF-8 or holds a NUL byte (jsonb
 * cannot store U+0000). */
bool jsontext_encode_string(const char *s, size_t n, struct abuf *out);
/* The validated value v[0..n) appended without the whitespace between its tokens
 * (strings and numbers as written). */
void jsontext_compact(const char *v, size_t n, struct abuf *out);
/* The validated value v[0..n) is an object or holds one, at any depth (strings skipped:
 * a '{' inside one is text). */
bool jsontext_holds_object(const char *v, size_t n);

#endif
