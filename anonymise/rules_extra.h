/*
 * rules_extra.h: the richer anonymisation rules (issue 3), each a `const struct
 * rule_ops` in its own rule_<name>.c, listed in the registry (rule_registry.c).
 *
 *   mask        keep_first / keep_last characters, the rest replaced by `char`
 *   truncate    first `length` characters, or the outward code of a UK postcode
 *   generalise  dates/timestamps to the first day of year/quarter/month/week, or age bands
 *   bucket      numbers to the lower bound of a fixed-width bucket or of explicit edges
 *   round       numbers to `digits` decimal places or to a `multiple`
 *   scrub       free text: e-mails, phones, postcodes, cards, NI numbers, IBANs, regexes
 *   date_shift  dates/timestamps moved by a keyed per-entity number of days
 *   json        rules applied to paths inside json/jsonb values
 */
#ifndef RULES_EXTRA_H
#define RULES_EXTRA_H

#include "anonymise/rule.h"

extern const struct rule_ops rule_mask;
extern const struct rule_ops rule_truncate;
extern const struct rule_ops rule_generalise;
extern const struct rule_ops rule_bucket;
extern const struct rule_ops rule_round;
extern const struct rule_ops rule_scrub;
extern const struct rule_ops rule_date_shift;
extern const struct rule_ops rule_json;

#endif
