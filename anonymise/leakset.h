/*
 * leakset.h: the values a leak audit looks for, and the search itself (etl/audit.c
 * samples the source and feeds the published rows through it). No I/O.
 *
 * The audit samples source values that a rule is meant to hide, then searches the data
 * about to be published: a published value EQUAL to a sampled one, or text CONTAINING
 * one, means that some rule let a source value through.
 *
 * What is searched (tiny or common values match by chance and would stop runs for
 * nothing; these limits are documented in docs/operations.md):
 *   - values are trimmed of surrounding white space, and compared ignoring ASCII case;
 *   - fewer than LEAKSET_MIN_EQUAL characters: not searched; fewer than
 *     LEAKSET_MIN_CONTAIN: searched as a whole published value only (equality), not
 *     inside text;
 *   - a value made only of digits and separators (a number, a phone number) needs
 *     LEAKSET_MIN_DIGITS digits, or LEAKSET_MIN_INTEGER_DIGITS when it comes from an
 *     integer column (row ids and counts of unrelated tables collide); a date or a time
 *     (2024-03-01, 01/03/2024, 12:30) is never searched; an IPv4 address counts as text;
 *   - a value that repeats in its column's sample (at least 3 times and more than 1% of
 *     the values added for that column) is a category (a status, a country, a company
 *     that half the rows name), not an identifier: not searched;
 *   - values are cut at LEAKSET_MAX_VALUE bytes (at a character boundary): the cut
 *     value is still hidden text, so finding it is still a leak.
 * A value holding '"' or '\' is also searched in its backslash-escaped form, the one it
 * takes inside JSON and array text. A value, and a published value, holding characters
 * the text scrub folds (scrubnorm.h: a no-break space, a fullwidth digit or '@', "%40")
 * is also searched in its folded form: "07700 900123" sampled is found in a note that
 * writes "07700" U+00A0 "900123", as the scrub would have found it.
 *
 * Containment: every value of LEAKSET_MIN_CONTAIN characters or more (so at least 8
 * bytes) puts its 4-byte grams at offsets 0..4 in a bitmap, and itself in a table by its
 * first 8 bytes. Any occurrence of such a value in a text covers 5 consecutive positions
 * from its start, one of which is a multiple of 5: the search looks at every 5th position
 * of the text only (a bit test); on a hit, the value may start 0..4 bytes earlier, and the
 * table gives the values with those 8 bytes. One pass, whatever the number of values.
 * (Measured: ~1,300 instructions per row of the bench's 175-byte notes with 2,400
 * values; common English grams such as "ence" hit often, the 8-byte table rarely.)
 */
#ifndef LEAKSET_H
#define LEAKSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/anon_error.h"

#define LEAKSET_MIN_EQUAL 4           /* characters */
#define LEAKSET_MIN_CONTAIN 8         /* characters */
#define LEAKSET_MIN_DIGITS 8          /* digits of a number-like value */
#define LEAKSET_MIN_INTEGER_DIGITS 10 /* digits of a value from an integer column */
#define LEAKSET_MAX_VALUE 1024        /* bytes */

/* Where a sampled value comes from, for the class rules above. */
enum leakset_class {
    LEAKSET_TEXT,    /* text, json leaves, array elements, numbers that are not integers */
    LEAKSET_INTEGER, /* smallint, integer, bigint */
};

/* How a value is searched. */
enum leakset_use {
    LEAKSET_SKIP = 0, /* not at all (too short, a date, too few digits) */
    LEAKSET_EQUAL,    /* as a whole published value */
    LEAKSET_CONTAIN,  /* as a whole published value and inside published text */
};

struct leakset;

struct leakset *leakset_new(void);
/* Wipes the values (OPENSSL_cleanse) and frees. NULL is a no-op. */
void leakset_free(struct leakset *s);

/*
 * How v would be searched (the rules above, except the repetition rule, which needs the
 * whole sample). *start and *n are set to the trimmed (and cut) value.
 */
enum leakset_use leakset_classify(const char *v, size_t len, enum leakset_class cls, size_t *start,
                                  size_t *n);

/*
 * Add one sampled value from `origin` (a number the caller gives meaning to, < 2^24).
 * Returns false only when out of memory (err filled); a value that is not searched is
 * simply not added. Adding the same value again counts a repetition.
 */
bool leakset_add(struct leakset *s, const char *v, size_t len, enum leakset_class cls,
                 uint32_t origin, struct anon_error *err) ANON_MUST_CHECK;

/* After the last add: drop the categories, build the containment index. Returns false
 * when out of memory. */
bool leakset_build(struct leakset *s, struct anon_error *err) ANON_MUST_CHECK;

/* Distinct values searched (after leakset_build). */
size_t leakset_count(const struct leakset *s);
/* Of those, the ones from origin o. */
size_t leakset_count_origin(const struct leakset *s, uint32_t o);

/*
 * Search one published value (after leakset_build; safe from several threads at once):
 * true when it equals a sampled value or, with `contain`, holds one. *origin is then the
 * origin of the value found.
 */
bool leakset_find(const struct leakset *s, const char *v, size_t len, bool contain,
                  uint32_t *origin);

#endif
