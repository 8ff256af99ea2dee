/*
 * suggest.h: "did you mean ...?" for misspelt config words (keys, rule names, enum
 * values). Distance is optimal string alignment (Damerau-Levenshtein with adjacent
 * transpositions), so `hsah` is one edit from `hash`.
 */
#ifndef SUGGEST_H
#define SUGGEST_H

#include <stddef.h>

/* Edit distance between a and b (insert, delete, substitute, swap two adjacent
 * characters), or SIZE_MAX when either word is longer than SUGGEST_MAX_WORD. */
#define SUGGEST_MAX_WORD 64
size_t suggest_distance(const char *a, const char *b);

/* The candidate (NULL-terminated list) nearest to word when it is close enough to be
 * a plausible typo (at most 1 edit for words up to 5 characters, 2 up to 8, 3 beyond),
 * else NULL. Ties go to the earlier candidate. */
const char *suggest_word(const char *word, const char *const *candidates);

#endif
