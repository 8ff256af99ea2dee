/*
 * scrub_detectors.h: recognisers for personal data found in free text, shared by the
 * scrub rule (regular expressions, then these checks in C) and truncate's UK postcode
 * handling. The regular expressions live here too so tests and docs see one definition.
 */
#ifndef SCRUB_DETECTORS_H
#define SCRUB_DETECTORS_H

#include <stdbool.h>
#include <stddef.h>

enum scrub_kind {
    SCRUB_EMAIL,
    SCRUB_CARD,
    SCRUB_IBAN,
    SCRUB_NINO,
    SCRUB_PHONE,
    SCRUB_POSTCODE,
    SCRUB_NKINDS
};

struct scrub_detector {
    enum scrub_kind kind;
    const char *name;   /* the YAML word: "email" */
    const char *marker; /* what replaces a match: "[EMAIL]" */
    const char *regex;  /* PCRE2 pattern (no capture groups of its own); NULL: found in C */
    /* Check done in C after the regex matched (NULL = none): true keeps the match. */
    bool (*check)(const char *s, size_t len);
};

/* The detectors in matching order (earlier wins when two match at the same place). */
const struct scrub_detector *scrub_detector_at(enum scrub_kind kind);
/* By YAML word; "card" and "card_number" are the same detector. NULL when unknown. */
const struct scrub_detector *scrub_detector_find(const char *name);

/* The e-mail address around the '@' at s[at]: local part before it (letters, digits,
 * . _ % + -, non-ASCII), then one or more labels each followed by a dot, then a
 * top-level domain of 2+ letters not followed by a letter or '-'. */
bool scrub_email_at(const char *s, size_t len, size_t at, size_t *start, size_t *end);

/* The first address spelled out to dodge filters at or after `from`: "alice at example
 * dot com", "alice (at) example [dot] co [dot] uk", "alice@example dot com": a local
 * part, "at" as a word (or "(at)", "[at]", "{at}", "<at>", "@"), then labels joined by
 * "dot" or "." ending with a known top-level domain, at least one of them spelled. */
bool scrub_email_spelled(const char *s, size_t len, size_t from, size_t *start, size_t *end);

/* Luhn check over the digits of s (other characters ignored); 13..19 digits. */
bool scrub_luhn_ok(const char *s, size_t len);
/* IBAN: country letters, check digits, 11..30 alphanumerics (spaces ignored), mod 97 = 1. */
bool scrub_iban_ok(const char *s, size_t len);
/* NI number prefixes that are never issued (BG GB KN NK NT TN ZZ), any case. */
bool scrub_nino_ok(const char *s, size_t len);
/* Phone spelling checks: a UK national number has 10 or 11 digits; an international one
 * 8..15 digits, not counting a "(0)" trunk prefix. */
bool scrub_phone_ok(const char *s, size_t len);

/* UK postcode, any spacing and case ("sw1a1aa", " SW1A  1AA "). On success writes the
 * outward code uppercased, NUL-terminated, into outward[5] ("SW1A"). */
bool scrub_postcode_outward(const char *s, size_t len, char outward[5]);

#endif
