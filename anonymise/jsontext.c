/*
 * jsontext.c: a validating JSON scanner over text (see jsontext.h).
 *
 * Why not a JSON library for the structure: the json rule must copy what it does not
 * change byte for byte and never re-format a number (jsonb's text output is already
 * canonical; 12345678901234567890123 and 1e400 are valid jsonb). jansson builds a full
 * tree for every document, turns numbers into int64/double (integers over 64 bits fail
 * the parse, 0.1 comes back as 0.10000000000000001) and stops at 2048 levels of
 * nesting. yajl (the other streaming parser packaged by Debian) hands numbers over as
 * text but gives no byte offsets for containers, so nothing can be copied as it is,
 * and upstream has been unmaintained since 2014. What the rule needs from the structure
 * is small: where each value starts and ends. That is this file: a table-driven,
 * bounds-checked state machine, no recursion (the nesting stack is on the heap and
 * grows with the input), fuzzed by tests/fuzz/fuzz_json.c.
 *
 * Where decoding is needed (a string with escapes whose value is hashed, a rule output
 * that needs escaping), jansson does it: it resolves \uXXXX and surrogate pairs,
 * checks UTF-8 and escapes the characters PostgreSQL escapes (quote, backslash,
 * controls). Strings without a backslash (nearly all of them) need no decoding at all.
 */
#include "anonymise/jsontext.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that end the fast run inside a string: the quote, the backslash, control
 * characters (which JSON requires escaped). */
static const uint8_t string_stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

size_t jsontext_ws(const char *s, size_t len, size_t pos)
{
    while (pos < len && is_ws(s[pos]))
        pos++;
    return pos;
}

enum jsontext_kind jsontext_kind_at(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return JSONTEXT_BAD;
    switch (s[pos]) {
    case '{':
        return JSONTEXT_OBJECT;
    case '[':
        return JSONTEXT_ARRAY;
    case '"':
        return JSONTEXT_STRING;
    case 't':
        return JSONTEXT_TRUE;
    case 'f':
        return JSONTEXT_FALSE;
    case 'n':
        return JSONTEXT_NULL;
    default:
        return s[pos] == '-' || is_digit(s[pos]) ? JSONTEXT_NUMBER : JSONTEXT_BAD;
    }
}

bool jsontext_skip_string(const char *s, size_t len, size_t *pos, bool *escaped)
{
    size_t i = *pos + 1;
    bool esc = false;

    for (;;) {
        while (i < len && !string_stop[(uint8_t)s[i]])
            i++;
        if (i >= len || (uint8_t)s[i] < 0x20)
            return false;
        if (s[i] == '"')
            break;
        /* a backslash */
        esc = true;
        if (++i >= len)
            return false;
        if (s[i] == 'u') {
            if (len - i < 5 || !is_hex(s[i + 1]) || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) ||
                !is_hex(s[i + 4]))
                return false;
            i += 5;
        } else if (strchr("\"\\/bfnrt", s[i]) && s[i] != '\0') {
            i++;
        } else {
            return false;
        }
    }
    *pos = i + 1;
    if (escaped)
        *escaped = esc;
    return true;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool skip_number(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos, start;

    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    *pos = i;
    return true;
}

static bool skip_word(const char *s, size_t len, size_t *pos, const char *word, size_t n)
{
    if (len - *pos < n || memcmp(s + *pos, word, n) != 0)
        return false;
    *pos += n;
    return true;
}

/* A scalar (not a container) at s[*pos]. */
static bool skip_scalar(const char *s, size_t len, size_t *pos)
{
    switch (jsontext_kind_at(s, len, *pos)) {
    case JSONTEXT_STRING:
        return jsontext_skip_string(s, len, pos, NULL);
    case JSONTEXT_NUMBER:
        return skip_number(s, len, pos);
    case JSONTEXT_TRUE:
        return skip_word(s, len, pos, "true", 4);
    case JSONTEXT_FALSE:
        return skip_word(s, len, pos, "false", 5);
    case JSONTEXT_NULL:
        return skip_word(s, len, pos, "null", 4);
    default:
        return false;
    }
}

/* The open containers of jsontext_skip: '{' or '[' per level. The first levels live in
 * the struct; deeper ones on the heap (one byte per level, and every level costs at
 * least one byte of input, so the stack never outgrows the text). */
struct nest {
    char small[64];
    char *heap;
    size_t depth, cap;
};

static bool nest_push(struct nest *n, char c)
{
    if (n->depth < sizeof(n->small)) {
        n->small[n->depth++] = c;
        return true;
    }
    if (n->depth - sizeof(n->small) == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 256;
        char *p = realloc(n->heap, cap);
        if (!p)
            return false;
        n->heap = p;
        n->cap = cap;
    }
    n->heap[n->depth - sizeof(n->small)] = c;
    n->depth++;
    return true;
}

static char nest_top(const struct nest *n)
{
    size_t i = n->depth - 1;
    return i < sizeof(n->small) ? n->small[i] : n->heap[i - sizeof(n->small)];
}

enum skip_state { EXPECT_VALUE, EXPECT_KEY, AFTER_VALUE };

/* After an opening bracket at s[*i - 1]: the empty container, or the first member. */
static enum skip_state after_open(const char *s, size_t len, size_t *i, struct nest *n, char open,
                                  bool *ok)
{
    *i = jsontext_ws(s, len, *i);
    if (*i < len && s[*i] == (open == '{' ? '}' : ']')) {
        (*i)++;
        return AFTER_VALUE;
    }
    *ok = nest_push(n, open);
    return open == '{' ? EXPECT_KEY : EXPECT_VALUE;
}

/* After a value inside a container: a comma and the next member, or the close. */
static enum skip_state after_member(const char *s, size_t len, size_t *i, struct nest *n, bool *ok)
{
    char top = nest_top(n);

    *i = jsontext_ws(s, len, *i);
    if (*i < len && s[*i] == ',') {
        (*i)++;
        return top == '{' ? EXPECT_KEY : EXPECT_VALUE;
    }
    if (*i < len && s[*i] == (top == '{' ? '}' : ']')) {
        (*i)++;
        n->depth--;
        return AFTER_VALUE;
    }
    *ok = false;
    return AFTER_VALUE;
}

bool jsontext_skip(const char *s, size_t len, size_t *pos)
{
    struct nest n;
    enum skip_state st = EXPECT_VALUE;
    size_t i = *pos;
    bool ok = true;

    if (i < len && s[i] != '{' && s[i] != '[')
        return skip_scalar(s, len, pos); /* most values: no state machine */
    n.depth = n.cap = 0;
    n.heap = NULL;

    while (ok) {
        if (st == EXPECT_KEY) {
            i = jsontext_ws(s, len, i);
            ok = i < len && s[i] == '"' && jsontext_skip_string(s, len, &i, NULL);
            i = jsontext_ws(s, len, i);
            ok = ok && i < len && s[i] == ':';
            i++;
            st = EXPECT_VALUE;
        } else if (st == EXPECT_VALUE) {
            i = jsontext_ws(s, len, i);
            if (i < len && (s[i] == '{' || s[i] == '[')) {
                char open = s[i++];
                st = after_open(s, len, &i, &n, open, &ok);
            } else {
                ok = skip_scalar(s, len, &i);
                st = AFTER_VALUE;
            }
        } else if (n.depth == 0) {
            break;
        } else {
            st = after_member(s, len, &i, &n, &ok);
        }
    }
    free(n.heap);
    if (ok)
        *pos = i;
    return ok;
}

bool jsontext_valid(const char *s, size_t len)
{
    size_t i = jsontext_ws(s, len, 0);

    return jsontext_skip(s, len, &i) && jsontext_ws(s, len, i) == len;
}

/* ----------------------------------------------------------- decode and encode */

bool jsontext_decode_string(const char *tok, size_t n, struct abuf *out)
{
    json_error_t jerr;
    json_t *j = json_loadb(tok, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    bool ok =
        j && json_is_string(j) && abuf_append(out, json_string_value(j), json_string_length(j));

    json_decref(j);
    return ok;
}

static int append_cb(const char *buf, size_t size, void *data)
{
    return abuf_append(data, buf, size) ? 0 : -1;
}

/* Printable ASCII other than the quote and the backslash: written as it is. */
static bool plain_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

bool jsontext_encode_string(const char *s, size_t n, struct abuf *out)
{
    size_t mark = out->len;
    json_t *j;
    bool ok;

    if (plain_ascii(s, n)) {
        abuf_putc(out, '"');
        abuf_append(out, s, n);
        return abuf_putc(out, '"');
    }
    if (memchr(s, '\0', n))
        return false;
    j = json_stringn(s, n); /* NULL when s is not UTF-8 */
    ok = j && json_dump_callback(j, append_cb, out, JSON_ENCODE_ANY) == 0;
    json_decref(j);
    if (!ok && !abuf_failed(out))
        out->len = mark;
    return ok;
}

void jsontext_compact(const char *v, size_t n, struct abuf *out)
{
    size_t i = 0, start;

    while (i < n) {
        if (is_ws(v[i])) {
            i++;
            continue;
        }
        start = i;
        if (v[i] == '"') {
            if (!jsontext_skip_string(v, n, &i, NULL))
                i = n; /* not reached: v was validated */
        } else {
            while (i < n && !is_ws(v[i]) && v[i] != '"')
                i++;
        }
        abuf_append(out, v + start, i - start);
    }
}

bool jsontext_holds_object(const char *v, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (v[i] == '{')
            return true;
        if (v[i] != '"') {
            i++;
        } else if (!jsontext_skip_string(v, n, &i, NULL)) {
            return false; /* not reached: v was validated */
        }
    }
    return false;
}
