/*
 * sqlexpr.h: the lexical half of checking a table's `where:` (SQL text from the config,
 * pasted into several statements as `WHERE (...)`).
 *
 * The text must be one expression that cannot leave its parentheses: outside quoted
 * text there is no `;`, no comment (`--`, `slash-star`), and every parenthesis closes
 * in order. Quoted text follows PostgreSQL's lexer with standard_conforming_strings on
 * (anonetl pins it for every session): '...' with '' inside, E'...' with backslash
 * escapes, "..." identifiers with "", and $tag$...$tag$ dollar quotes. A quote whose
 * kind depends on what precedes it in a way the server reads differently (1E'..' is a
 * number and an E string there, xE'..' an identifier and a plain string) is refused
 * rather than guessed. The server then checks that the text is a boolean expression
 * over the table (etl/plan.c): this check only makes sure it stays one expression.
 */
#ifndef SQLEXPR_H
#define SQLEXPR_H

#include <stdbool.h>
#include <stddef.h>

/* NULL when text[0..len) is one expression by the rules above; else the problem, and
 * *offset its byte offset in text. */
const char *sqlexpr_check(const char *text, size_t len, size_t *offset);

/* A word of an accepted expression, outside quoted text: a keyword, a name or part of
 * one. Numbers and the letter before a quote (E'..', U&'..') are not words. */
struct sqlexpr_word {
    size_t offset, len; /* in the text; a quoted name includes its quotes */
    bool quoted;        /* "Name" (U&"..." too, with `escaped`) */
    bool escaped;       /* U&"...": the name has escapes, it cannot be read here */
    bool call;          /* followed by "(": a function, or a keyword like IN or EXISTS */
    bool after_dot;     /* after ".": a later part of a qualified name */
    bool before_dot;    /* followed by ".": a schema or table part of one */
    bool type;          /* a type name after "::" (each part of a qualified one) */
};

/*
 * The words of text[0..len) (an expression sqlexpr_check accepted), in order: up to max
 * into out (out may be NULL when max is 0); returns how many there are. *clock is set
 * when a string constant may read as the current time: 'now', 'today', 'tomorrow' or
 * 'yesterday' as a word in it (PostgreSQL reads them in any date/time input), or an E''
 * or U&'' string with escapes (which could spell them).
 */
size_t sqlexpr_words(const char *text, size_t len, struct sqlexpr_word *out, size_t max,
                     bool *clock);

/*
 * A string constant of text[0..len) (an accepted expression) holding a date written in
 * numbers whose order DateStyle decides ('01/02/2000', '1.2.00', '01-02-2000 10:00'):
 * true with its offset and length, quotes included. anonetl's sessions read it month
 * first (DateStyle ISO, MDY): `check` warns, since a server or an author may mean
 * otherwise (etl/inspect.c).
 */
bool sqlexpr_numeric_date(const char *text, size_t len, size_t *offset, size_t *n);

#endif
