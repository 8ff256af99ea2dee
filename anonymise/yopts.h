/*
 * yopts.h: read a rule's options from the YAML document without touching libyaml.
 *
 * A rule's `parse` gets a `struct yopts` for the value written after the rule name:
 *   email: { hash: { length: 16 } }   -> a mapping
 *   owner: { constant: "n/a" }        -> a scalar
 *   notes: { scrub: [email, phone] }  -> a sequence
 *   name: suppress                    -> empty (yopts_kind == YOPTS_EMPTY)
 * Every getter reports problems as "file:line:column: key: problem" through err, with
 * the position of the offending node, and "did you mean ...?" for unknown keys.
 */
#ifndef YOPTS_H
#define YOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"

struct yopts; /* opaque: document, node, file name, key path for messages */

enum yopts_kind { YOPTS_EMPTY, YOPTS_SCALAR, YOPTS_SEQUENCE, YOPTS_MAPPING };

enum yopts_kind yopts_kind(const struct yopts *o);
/* "rule hash" style path used in messages, e.g. "tables[0].columns.email.hash". */
const char *yopts_path(const struct yopts *o);
/* Add "file:line:column: <path>[.key]: <message>" at the node (or key) position. */
void yopts_error(const struct yopts *o, const char *key, struct anon_error *err, const char *fmt,
                 ...) ANON_PRINTF(4, 5);

/* Mapping: fail on any key not in `allowed` (NULL-terminated), suggesting the nearest. */
bool yopts_only_keys(const struct yopts *o, const char *const *allowed, struct anon_error *err);
/* Mapping getters. *present (may be NULL) tells whether the key was written; when it is
 * absent the output keeps the default the caller put there. */
bool yopts_get_int(const struct yopts *o, const char *key, long min, long max, long *val,
                   bool *present, struct anon_error *err);
bool yopts_get_double(const struct yopts *o, const char *key, double *val, bool *present,
                      struct anon_error *err);
bool yopts_get_bool(const struct yopts *o, const char *key, bool *val, bool *present,
                    struct anon_error *err);
/* The string stays owned by the document; copy it (strdup) to keep it. */
bool yopts_get_string(const struct yopts *o, const char *key, const char **val, bool *present,
                      struct anon_error *err);
/* Sub-options (a nested mapping/sequence/scalar) for key; caller frees with yopts_free. */
bool yopts_get_sub(const struct yopts *o, const char *key, struct yopts **sub, bool *present,
                   struct anon_error *err);

/* Scalar: the text. */
const char *yopts_scalar(const struct yopts *o);
/* Sequence / mapping iteration: number of items; the i-th item (caller frees); for a
 * mapping also its key text. */
size_t yopts_count(const struct yopts *o);
struct yopts *yopts_item(const struct yopts *o, size_t i);
const char *yopts_key_at(const struct yopts *o, size_t i);

void yopts_free(struct yopts *o);

/* ---- Loading (config loader and tests; rules only use the getters above) ---- */

/* Parse one YAML document from memory; `name` (a file name) appears in messages.
 * Fatal problems (syntax, aliases, nesting deeper than 64, no document, a second
 * document) return false with err filled. Duplicate mapping keys and non-scalar keys
 * are added to err (err->count grows) but the root is still returned, so the caller
 * can report every problem at once; lookups then see the first occurrence.
 * The root owns the document: free it last, after every yopts taken from it. */
bool yopts_load(const char *name, const char *text, size_t len, struct yopts **root,
                struct anon_error *err) ANON_MUST_CHECK;
/* 1-based position of the node (for an empty options object: where it was made). */
void yopts_pos(const struct yopts *o, int *line, int *column);
/* Mapping: the value for key, or NULL when absent (caller frees). */
struct yopts *yopts_get(const struct yopts *o, const char *key);
/* Mapping: position of the i-th key; an error positioned on the i-th key. */
void yopts_key_pos(const struct yopts *o, size_t i, int *line, int *column);
void yopts_error_key_at(const struct yopts *o, size_t i, struct anon_error *err, const char *fmt,
                        ...) ANON_PRINTF(4, 5);
/* An error at an explicit position (1-based), with o's path [.key]. */
void yopts_error_pos(const struct yopts *o, int line, int column, const char *key,
                     struct anon_error *err, const char *fmt, ...) ANON_PRINTF(6, 7);
/* An empty options object at o's position, path "<o's path>.<suffix>" (used for a rule
 * written as a bare word: `name: suppress`). Caller frees. */
struct yopts *yopts_empty_at(const struct yopts *o, const char *suffix);
/* Scalar written in quotes ("..." or '...'): a string even if it looks like a number. */
bool yopts_is_quoted(const struct yopts *o);
/* Copy user text into dst for a message: control characters become '?', text longer
 * than 48 bytes is cut with "...". */
void yopts_shown(char *dst, size_t cap, const char *src);
/* The file name given to yopts_load. */
const char *yopts_file(const struct yopts *o);

#endif
