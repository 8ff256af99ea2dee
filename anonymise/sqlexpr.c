/*
 * sqlexpr.c: one SQL expression, lexically (see sqlexpr.h).
 *
 * A small scanner after PostgreSQL's scan.l: it only has to know where quoted text
 * starts and ends; everything outside is checked byte by byte. Every way in which it
 * could disagree with the server about what is quoted is refused, so the text it
 * accepts is read the same way by both.
 */
#include "anonymise/sqlexpr.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Characters that continue an identifier or a number (scan.l ident_cont, digits). */
static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

/* A dollar-quote delimiter at s: "$$" or "$tag$" (tag: a letter, _ or high byte, then
 * those and digits). Its length, or 0. */
static size_t dollar_tag(const char *s, size_t len)
{
    size_t n = 1;

    if (len < 2 || s[0] != '$')
        return 0;
    if (s[1] == '$')
        return 2;
    if ((s[1] >= '0' && s[1] <= '9') || !word_char((unsigned char)s[1]))
        return 0; /* $1 is a parameter */
    while (n < len && word_char((unsigned char)s[n]) && s[n] != '$')
        n++;
    return n < len && s[n] == '$' ? n + 1 : 0;
}

/* End (one past the closing quote) of a quoted part opening at s[i] with quote q;
 * backslash escapes when `escapes` (E strings). 0 when it does not close. */
static size_t quoted_end(const char *s, size_t len, size_t i, char q, bool escapes)
{
    for (size_t j = i + 1; j < len; j++) {
        if (escapes && s[j] == '\\') {
            j++;
            continue;
        }
        if (s[j] == q) {
            if (j + 1 < len && s[j + 1] == q) {
                j++; /* '' or "" inside */
                continue;
            }
            return j + 1;
        }
    }
    return 0;
}

/* How many letters before the quote at s[i] make it a special literal: 1 for E'..',
 * B'..', X'..', N'..' (and E"..", harmless), 2 for U&'..' and U&"..", else 0. */
static size_t quote_prefix(const char *s, size_t i)
{
    if (i >= 2 && s[i - 1] == '&' && (s[i - 2] == 'u' || s[i - 2] == 'U'))
        return 2;
    if (i >= 1 && s[i - 1] != '\0' && strchr("eEbBxXnN", s[i - 1]))
        return 1;
    return 0;
}

/* Quoted text may only open a token: after nothing, a space or punctuation other than
 * '.' (after a name or a number the server may read the quote differently). */
static bool opens_token(const char *s, size_t i)
{
    return i == 0 || (!word_char((unsigned char)s[i - 1]) && s[i - 1] != '.');
}

/* A quoted part opening at s[i]: its end in *end, or the problem. */
static const char *quoted_part(const char *s, size_t len, size_t i, size_t *end)
{
    char q = s[i];
    size_t pre = quote_prefix(s, i);

    if (!opens_token(s, i - pre))
        return "a quote right after a name or number: put a space before it";
    *end = quoted_end(s, len, i, q, q == '\'' && pre == 1 && (s[i - 1] == 'e' || s[i - 1] == 'E'));
    if (*end == 0)
        return q == '\'' ? "a string without its closing quote"
                         : "a quoted name without its closing quote";
    return NULL;
}

/* A dollar-quoted part at s[i] ('$'): its end in *end (0: not a dollar quote here). */
static const char *dollar_part(const char *s, size_t len, size_t i, size_t *end)
{
    size_t tag, start = i;

    *end = 0;
    if (i > 0 && word_char((unsigned char)s[i - 1])) {
        while (start > 0 && word_char((unsigned char)s[start - 1]))
            start--;
        /* In a name, '$' is part of it; after a number the server may open a quote. */
        if (s[start] >= '0' && s[start] <= '9' && dollar_tag(s + i, len - i) > 0)
            return "a `$` right after a number: put a space before it";
        return NULL;
    }
    if ((tag = dollar_tag(s + i, len - i)) == 0)
        return NULL;
    if (!opens_token(s, i))
        return "a dollar quote right after a `.`: put a space before it";
    for (size_t j = i + tag; j + tag <= len; j++)
        if (memcmp(s + j, s + i, tag) == 0) {
            *end = j + tag;
            return NULL;
        }
    return "a dollar-quoted string without its closing delimiter";
}

const char *sqlexpr_check(const char *s, size_t len, size_t *offset)
{
    const char *why = NULL;
    const char *nul = memchr(s, '\0', len);
    int depth = 0;
    size_t i = 0, end;

    if (nul) { /* the server never sees past it: refuse it anywhere */
        *offset = (size_t)(nul - s);
        return "a NUL byte";
    }
    while (i < len && !why) {
        unsigned char c = (unsigned char)s[i];
        *offset = i;
        end = 0;
        if (c == ';')
            why = "`;` outside quotes: where: is one expression, not statements";
        else if ((c == '-' && i + 1 < len && s[i + 1] == '-') ||
                 (c == '/' && i + 1 < len && s[i + 1] == '*'))
            why = "a comment outside quotes: where: may not contain `--` or `/*`";
        else if (c == '(')
            depth++;
        else if (c == ')' && --depth < 0)
            why = "a `)` without its `(`: where: must stay inside its parentheses";
        else if (c == '\'' || c == '"')
            why = quoted_part(s, len, i, &end);
        else if (c == '$')
            why = dollar_part(s, len, i, &end);
        i = end > 0 ? end : i + 1;
    }
    if (!why && depth > 0) {
        *offset = len;
        why = "a `(` without its `)`";
    }
    return why;
}

/* ---- words ---------------------------------------------------------------------- */

static bool ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The first byte after s[i..] that is not a space, or '\0' at the end. */
static char next_char(const char *s, size_t len, size_t i)
{
    while (i < len && is_space(s[i]))
        i++;
    return i < len ? s[i] : '\0';
}

/* The last byte before s[i] that is not a space, or '\0' at the start. */
static char prev_char(const char *s, size_t i)
{
    while (i > 0 && is_space(s[i - 1]))
        i--;
    return i > 0 ? s[i - 1] : '\0';
}

/* A word of s[0..n) (letters only around it) that the date/time input reads as now. */
static bool has_clock_word(const char *s, size_t n)
{
    static const char *const words[] = {"now", "today", "tomorrow", "yesterday"};

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && isalpha((unsigned char)s[i - 1]))
            continue;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            size_t k = strlen(words[w]);
            if (i + k <= n && strncasecmp(s + i, words[w], k) == 0 &&
                (i + k == n || !isalpha((unsigned char)s[i + k])))
                return true;
        }
    }
    return false;
}

/* A string constant s[from..to) (quotes included): may it read as the current time? */
static bool clock_string(const char *s, size_t from, size_t to, bool escapes)
{
    return has_clock_word(s + from, to - from) ||
           (escapes && memchr(s + from, '\\', to - from) != NULL);
}

struct words {
    const char *s;
    size_t len, n, max;
    struct sqlexpr_word *out;
    bool in_type; /* after "::", through the parts of a qualified type name */
};

static void add_word(struct words *w, size_t at, size_t end, bool quoted, bool escaped)
{
    struct sqlexpr_word word = {.offset = at,
                                .len = end - at,
                                .quoted = quoted,
                                .escaped = escaped,
                                .call = next_char(w->s, w->len, end) == '(',
                                .after_dot = prev_char(w->s, at - (escaped ? 2 : 0)) == '.',
                                .before_dot = next_char(w->s, w->len, end) == '.',
                                .type = w->in_type};

    w->in_type = w->in_type && word.before_dot;
    if (w->n < w->max)
        w->out[w->n] = word;
    w->n++;
}

/* A word starting at s[i] (an identifier start): added, or the prefix of a special
 * string (E'', B'', X'', N'', U&'' / U&""). Returns where scanning goes on. */
static size_t scan_word(struct words *w, size_t i, bool *clock)
{
    const char *s = w->s;
    size_t j = i, end;

    while (j < w->len && word_char((unsigned char)s[j]))
        j++;
    if (j - i == 1 && j < w->len && s[j] == '\'' && strchr("eEbBxXnN", s[i])) {
        bool esc = s[i] == 'e' || s[i] == 'E';
        end = quoted_end(s, w->len, j, '\'', esc);
        *clock = *clock || (end && clock_string(s, j, end, esc));
        return end ? end : w->len;
    }
    if (j - i == 1 && (s[i] == 'u' || s[i] == 'U') && j + 1 < w->len && s[j] == '&' &&
        (s[j + 1] == '\'' || s[j + 1] == '"')) {
        end = quoted_end(s, w->len, j + 1, s[j + 1], false);
        if (end && s[j + 1] == '"')
            add_word(w, j + 1, end, true, true);
        else if (end)
            *clock = *clock || clock_string(s, j + 1, end, true);
        return end ? end : w->len;
    }
    add_word(w, i, j, false, false);
    return j;
}

size_t sqlexpr_words(const char *s, size_t len, struct sqlexpr_word *out, size_t max, bool *clock)
{
    struct words w = {.s = s, .len = len, .out = out, .max = out ? max : 0};
    size_t i = 0, end;

    *clock = false;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (ident_start(c)) {
            i = scan_word(&w, i, clock);
        } else if (c == '"') {
            end = quoted_end(s, len, i, '"', false);
            if (end)
                add_word(&w, i, end, true, false);
            i = end ? end : len;
        } else if (c == '\'') {
            end = quoted_end(s, len, i, '\'', false);
            *clock = *clock || (end && clock_string(s, i, end, false));
            i = end ? end : len;
        } else if (c == '$' && dollar_part(s, len, i, &end) == NULL && end > 0) {
            *clock = *clock || clock_string(s, i, end, false);
            i = end;
        } else if (c >= '0' && c <= '9') {
            while (i < len && (word_char((unsigned char)s[i]) || s[i] == '.'))
                i++;
        } else {
            if (c == ':' && i + 1 < len && s[i + 1] == ':') {
                w.in_type = true;
                i++;
            } else if (!is_space((char)c) && c != '.') {
                w.in_type = false;
            }
            i++;
        }
    }
    return w.n;
}

/* ---- dates written in numbers ------------------------------------------------------ */

/* s[0..n) (a string constant's content) starts with a date whose order DateStyle decides:
 * 1-2 digits, a separator (/ . -), 1-2 digits, the same separator, 2-4 digits, then the
 * end or a space or T (a time). A year first (2000-01-02) is ISO and read one way. */
static bool numeric_date(const char *s, size_t n)
{
    size_t i = 0, d;
    char sep;

    while (i < n && is_space(s[i]))
        i++;
    for (d = 0; i < n && d < 3 && isdigit((unsigned char)s[i]); d++)
        i++;
    if (d < 1 || d > 2 || i >= n || !strchr("/.-", s[i]))
        return false;
    sep = s[i++];
    for (d = 0; i < n && d < 3 && isdigit((unsigned char)s[i]); d++)
        i++;
    if (d < 1 || d > 2 || i >= n || s[i] != sep)
        return false;
    for (i++, d = 0; i < n && d < 5 && isdigit((unsigned char)s[i]); d++)
        i++;
    return d >= 2 && d <= 4 && (i == n || is_space(s[i]) || s[i] == 'T' || s[i] == 't');
}

bool sqlexpr_numeric_date(const char *s, size_t len, size_t *offset, size_t *n)
{
    size_t i = 0, j, end, from;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        from = len;
        end = 0;
        if (ident_start(c)) {
            for (j = i; j < len && word_char((unsigned char)s[j]);)
                j++;
            if (j - i == 1 && j < len && s[j] == '\'' && strchr("eEnN", s[i])) {
                from = j;
                end = quoted_end(s, len, j, '\'', s[i] == 'e' || s[i] == 'E');
            } else if (j - i == 1 && j < len && s[j] == '\'') {
                end = quoted_end(s, len, j, '\'', false); /* B'', X'': bits */
            } else if (j - i == 1 && (s[i] == 'u' || s[i] == 'U') && j + 1 < len && s[j] == '&' &&
                       (s[j + 1] == '\'' || s[j + 1] == '"')) {
                end = quoted_end(s, len, j + 1, s[j + 1], false);
            } else {
                i = j;
                continue;
            }
        } else if (c == '"') {
            end = quoted_end(s, len, i, '"', false);
        } else if (c == '\'') {
            from = i;
            end = quoted_end(s, len, i, '\'', false);
        } else if (c == '$' && dollar_part(s, len, i, &end) == NULL && end > 0) {
            /* a dollar-quoted constant: its tag is not its text; not looked into */
        } else if (c >= '0' && c <= '9') {
            while (i < len && (word_char((unsigned char)s[i]) || s[i] == '.'))
                i++;
            continue;
        } else {
            i++;
            continue;
        }
        if (!end)
            return false;
        if (from < len && numeric_date(s + from + 1, end - from - 2)) {
            *offset = from;
            *n = end - from;
            return true;
        }
        i = end;
    }
    return false;
}
