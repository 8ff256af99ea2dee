/*
 * dupkeys.h: which names of a list repeat an earlier one, in O(n log n).
 *
 * The config's duplicate checks (a mapping's keys, its tables and their published
 * names) compared each name with every earlier one: a 4 MB config of 80,000 one-column
 * tables kept `check` busy for 31 s, a mapping of 40,000 keys 5 s. Sorting a copy of the
 * names finds the same first occurrences.
 */
#ifndef DUPKEYS_H
#define DUPKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A name of one or two parts (a table: its schema and its name; b NULL for one part).
 * An item whose a is NULL (a name that could not be read) matches nothing. */
struct dupkeys_item {
    const char *a;
    const char *b;
};

#define DUPKEYS_NONE SIZE_MAX

/* For each of the n items, first[i] = the index of the first earlier item equal to it
 * (both parts byte for byte), or DUPKEYS_NONE. False when out of memory (first is then
 * undefined). */
bool dupkeys_first(const struct dupkeys_item *items, size_t n, size_t *first);

#endif
