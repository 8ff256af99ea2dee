/*
 * rule.h: the contract every anonymisation rule implements.
 *
 * A rule is a `const struct rule_ops` in its own file (rule_keep.c, rule_hash.c, ...),
 * listed once in the registry (rule_registry.c). The engine never switches on the rule
 * kind: it parses options, asks for the output type and applies the rule through these
 * function pointers, so adding a rule touches no engine code.
 *
 * Values: `apply` receives the decoded value (the PostgreSQL text output of the column
 * under the pinned session settings, COPY escapes already removed) and writes the new
 * decoded value into `out`; the engine does the COPY escaping. NULL is a flag, never a
 * string.
 *
 * Direct forms: a rule on dates and timestamps may also implement `apply_time`, which
 * works on the day number and microseconds (pgtime.h). The engine calls it for columns
 * that travel in binary COPY, so no text is formatted by the source, parsed here,
 * formatted again and parsed by the target. Such a rule implements `apply` through the
 * same function (rule_apply_time_text, rule_util.h): one semantics, two entry points,
 * and the text and binary paths give the same output by construction.
 */
#ifndef RULE_H
#define RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/yopts.h"

struct rule_value {
    const char *data;
    size_t len;
    bool is_null;
};

struct rule_row; /* opaque: the engine's current row */
struct hmac_key; /* hmac.h */
struct pgtime;   /* pgtime.h */

/* What apply_time produced. */
enum rule_time_result {
    RULE_TIME_NULL,  /* SQL NULL */
    RULE_TIME_VALUE, /* a date/timestamp in *out */
    RULE_TIME_TEXT,  /* text appended to `text` (e.g. an age band) */
};

/* What a rule needs at apply time besides its own options. */
struct rule_ctx {
    const unsigned char *key; /* the hash key (>= 32 bytes); never logged or copied */
    size_t key_len;
    /* The same key, prepared once by hmac_key_new (hmac.h): hashing rules then skip the
     * per-value key setup. NULL = rules fall back to `key` (slower). */
    const struct hmac_key *hmac;
    time_t run_time; /* the run's start */
    /* The SQL type of the value being transformed: the column's source type, or the
     * element type for an array column (catalog spelling, "integer"); NULL when unknown
     * (json paths, tests). Rules whose results can leave a type's range (round, bucket
     * on integers) keep them inside it. */
    const char *type;
    /* Another column of the current row, decoded (for rules with `by: column`). */
    const struct rule_value *(*column)(const struct rule_row *row, const char *name);
    const struct rule_row *row;
};

/* Target column type a rule produces for a given source type. */
struct rule_output {
    char type[128];   /* SQL type for the target DDL, e.g. "text", "bigint", or the source type */
    bool may_be_null; /* the rule can turn a non-NULL value into NULL: target drops NOT NULL */
    bool always_null; /* every output is NULL (suppress): the engine need not encode a value */
    /* Non-empty when the rule cannot work on this source type, e.g. "generalise needs a
     * date or timestamp column, not text" (the engine memsets the struct to 0 first). */
    char problem[160];
    /* Non-NULL when every output is this fixed text (constant): the engine has the source
     * server check, before any row moves, that the target type accepts it. Points into
     * the rule's state. */
    const char *literal;
};

/* A column of the same row that a rule reads besides its own (date_shift `by:`, scrub
 * `row_values:`), and where its name was written. */
struct rule_column_ref {
    char *name;
    const char *key; /* the option naming it, from the rule's name: "date_shift.by" */
    int line, column;
};

struct rule_ops {
    const char *name;    /* the YAML word: "hash" */
    const char *summary; /* one line for `explain` and `schema` */
    /* The output is the input, byte for byte: the engine copies the raw COPY field
     * without decoding it (only `keep`). */
    bool passthrough;
    /* The rule replaces a whole array value (suppress, constant); otherwise a rule on an
     * array column applies to each element (pgarray.h). */
    bool whole_value;
    /* The output never holds the input's text (a keyed pseudonym, NULL, a fixed value):
     * the leak audit (etl/audit.c) does not search the columns it produces. */
    bool hides_input;
    /* Parse and validate the options. `opts` is the value written after the rule name
     * (a mapping, a scalar, a sequence), or an empty options object when the rule is a
     * bare word. On success *state holds the parsed options (may stay NULL). Errors are
     * added to err as "file:line:column: key: problem". */
    bool (*parse)(const struct yopts *opts, void **state, struct anon_error *err);
    void (*free_state)(void *state);
    /* Canonical description of the options, e.g. "length=32 namespace=\"\"": used by
     * explain and the config fingerprint (a change here means a changed rule set). */
    void (*describe)(const void *state, struct abuf *out);
    void (*output)(const void *state, const char *source_type, struct rule_output *out);
    /* Transform one value. Return false only on an internal error (err filled, no row
     * value in it); a value the rule cannot handle follows the rule's documented policy
     * (usually NULL), it is not an error. */
    bool (*apply)(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                  struct abuf *out, bool *out_null, struct anon_error *err);
    /* The other columns of the row the rule reads (NULL, or *n = 0: none). The config
     * loader checks that each is another column of the same table (file:line:column);
     * the engine hands their SOURCE values to apply through ctx->column. */
    const struct rule_column_ref *(*columns)(const void *state, size_t *n);
    /* Optional: `apply` on a non-NULL date or timestamp in its direct form (see above).
     * NULL inputs always go through `apply`. Return false only on an internal error. */
    bool (*apply_time)(const void *state, const struct rule_ctx *ctx, const struct pgtime *in,
                       struct pgtime *out, struct abuf *text, enum rule_time_result *result,
                       struct anon_error *err);
    /* Optional: the rule's output when it is the same for every value (constant), else
     * NULL: the engine converts it once into the target's binary form. */
    const char *(*fixed_output)(const void *state, size_t *len);
    /* Optional: how many values apply withheld (published as NULL) because it could not
     * finish them, since the state was parsed: a scrub pattern past PCRE2's match limit
     * (and json, for the rules at its paths). Counted from every thread; the engine warns
     * with the count, as such NULLs are otherwise silent. */
    unsigned long (*withheld)(const void *state);
};

/* One configured rule: ops plus parsed state, and where it was written. */
struct rule {
    const struct rule_ops *ops;
    void *state;
    int line, column; /* 1-based position in the config file */
};

/* Fill a reference to the column named by the string option `key` of opts (the option
 * must be present: call after reading it). `rule_key` is "date_shift.by". */
bool rule_column_ref_set(struct rule_column_ref *ref, const struct yopts *opts, const char *key,
                         const char *rule_key, const char *name);

/* The reason recorded by `keep: { reviewed: "..." }`, or NULL (rule_keep.c). */
const char *rule_keep_reviewed(const struct rule *r);

/* Registry (rule_registry.c). */
const struct rule_ops *rule_lookup(const char *name);
/* NULL-terminated list of every rule, in documentation order. */
const struct rule_ops *const *rule_all(void);
void rule_free(struct rule *r); /* frees state; r itself is owned by the caller */
/* Parse a column's rule as written in the config: a bare word (`keep`) or a one-key
 * mapping (`{ hash: { length: 16 } }`). Unknown rules get "did you mean". On success
 * r->ops/state/line/column are set; on failure r is left empty (rule_free is safe). */
bool rule_parse(const struct yopts *value, struct rule *r, struct anon_error *err) ANON_MUST_CHECK;

#endif
