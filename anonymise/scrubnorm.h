/*
 * scrubnorm.h: the text scrub's detectors read, when it differs from the value.
 *
 * The detectors (scrub_detectors.h) are ASCII patterns: a phone number whose groups are
 * split by a no-break space ("07700" U+00A0 "900123", what word processors and web pages
 * put there), a narrow no-break space, a tab or an en dash, an address with a
 * fullwidth "＠" or its '@' escaped in a link ("mailto:alice%40example.com"),
 * digits written fullwidth or in Arabic-Indic, a zero-width space or a soft hyphen
 * inside a number: none of them matched, and the value was published as it was.
 *
 * scrubnorm folds those characters to what they stand for, in a copy that keeps, for
 * each byte, the offset of the source character it came from: the detectors match the
 * copy, and the matches are replaced in the source. Text outside a match is published
 * as written (a CJK text keeps its fullwidth punctuation).
 *
 *   Unicode spaces (U+00A0, U+2000..U+200A, U+202F, U+205F, U+3000)        -> " "
 *   dashes and minus (U+2010..U+2015, U+2212, U+FE58, U+FE63)             -> "-"
 *   fullwidth ASCII (U+FF01..U+FF5E: "０", "Ａ", "＠", "＋", "．", "（")    -> ASCII
 *   small commercial at (U+FE6B)                                            -> "@"
 *   Arabic-Indic, Extended Arabic-Indic and Devanagari digits               -> 0-9
 *   an '@' escaped: "%40" (URLs), "&#64;", "&#x40;", "&commat;" (HTML)       -> "@"
 *   a tab                                                                   -> " "
 *   soft hyphen, zero-width space and joiners, word joiner, BOM             -> nothing
 */
#ifndef SCRUBNORM_H
#define SCRUBNORM_H

#include <stdbool.h>
#include <stddef.h>

struct scrubnorm {
    char *text; /* folded bytes, NUL-terminated */
    size_t len;
    size_t *src; /* src[i]: source offset of folded byte i; src[len]: source length */
};

/* Fold s[0..len) into n (n->text and n->src malloc'd; scrubnorm_free). Returns false,
 * leaving n empty, when no character of s folds (the detectors read s itself) or when
 * out of memory (*oom set). */
bool scrubnorm_set(struct scrubnorm *n, const char *s, size_t len, bool *oom);
void scrubnorm_free(struct scrubnorm *n);

#endif
