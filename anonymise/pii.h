/*
 * pii.h: does a column kept as is (`keep`) look like personal data? `anonetl check` and
 * `anonetl run` refuse such a column (exit 6) unless its rule records a review
 * (`keep: { reviewed: "why" }`, rule_keep.c).
 *
 * Two signals:
 *  - the column name: split into lowercase words (snake_case, camelCase, digits), each
 *    word and the words run together compared with a table of telling words: email,
 *    mail, phone, mobile, tel, name, first_name, surname, postcode, zip, dob, birth,
 *    address, ssn, nino, iban, ... ("file_name", "table_name" and other names of
 *    things are not people's names);
 *  - sampled values (with --source): the scrub rule's own detectors (emails, UK and
 *    E.164 phones, UK postcodes, Luhn-checked card numbers, NI numbers, IBANs) run over
 *    each value. Emails, cards, NI numbers and IBANs are specific enough that one
 *    value is a warning; phones and postcodes need 2 values and 10% of the non-NULL
 *    sample (numbers that only look like phones are common).
 * Pure: names and values in, warning lines out. Values never appear in a warning.
 */
#ifndef PII_H
#define PII_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/rule.h"

/* What the name suggests ("an email address", "a date of birth", ...), or NULL. */
const char *pii_name_kind(const char *column);

/* Content detectors (a scrub rule over every built-in detector). */
struct pii_detector;
struct pii_detector *pii_detector_new(struct anon_error *err) ANON_MUST_CHECK;
void pii_detector_free(struct pii_detector *d);

struct pii_content {
    const char *kind; /* the most specific kind found ("email addresses"), or NULL */
    size_t hits;      /* values holding it */
    size_t non_null;  /* non-NULL values looked at */
};

/* Run the detectors over values[0..n). False only on an internal error. */
bool pii_scan_values(struct pii_detector *d, const struct rule_value *values, size_t n,
                     struct pii_content *out, struct anon_error *err) ANON_MUST_CHECK;

/* Whether any detector finds something in s[0..len) (a json key that is an e-mail
 * address, a postcode, a National Insurance number...): *holds. False only on an
 * internal error. */
bool pii_text_holds(struct pii_detector *d, const char *s, size_t len, bool *holds,
                    struct anon_error *err) ANON_MUST_CHECK;

/* When rule is `keep` without `reviewed:` and the name (or, when d and values are given,
 * the content) looks like personal data, append one "warning: table.column: ..." line
 * per signal to out and return the number of lines added (0: nothing to say). *failed
 * is set on an internal error of the detectors (err filled). */
size_t pii_warn_column(struct pii_detector *d, const char *table, const char *column,
                       const struct rule *rule, const struct rule_value *values, size_t n,
                       struct abuf *out, bool *failed, struct anon_error *err);

/* The reviews rule records, one per call: *pos starts at 0 and moves on; returns the
 * reason and sets *place (NULL for the column's own `keep: { reviewed: }`, the path as
 * written for a json path's keep, "others" for a json rule's `others: { keep: {
 * reviewed: } }`), or NULL when there is no more. */
const char *pii_next_review(const struct rule *rule, size_t *pos, const char **place);

#endif
