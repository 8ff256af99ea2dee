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

#endif
