/*
 * scrub_detectors.c: the built-in personal-data detectors (see scrub_detectors.h).
 *
 * The regular expressions are written so a failed attempt costs little: each starts
 * only where a token starts (a negative look-behind), repeated digit runs are
 * possessive (no re-splitting of a run on backtrack), and the number of groups is
 * bounded. Checks that a regex cannot express (Luhn, mod 97, digit counts) run in C
 * from a PCRE2 callout, so a failed check lets the match fall through to the next
 * detector at the same place (a Luhn-invalid 16-digit run may still be a phone).
 */
#include "anonymise/scrub_detectors.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

bool scrub_luhn_ok(const char *s, size_t len)
{
    unsigned sum = 0, n = 0;

    for (size_t i = len; i-- > 0;) {
        unsigned d;
        if (!is_digit(s[i]))
            continue;
        d = (unsigned)(s[i] - '0');
        if (n % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        n++;
    }
    return n >= 13 && n <= 19 && sum % 10 == 0;
}

bool scrub_iban_ok(const char *s, size_t len)
{
    char c[34];
    size_t n = 0;
    unsigned rem = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ')
            continue;
        if (n == sizeof(c) || !(is_digit(s[i]) || is_alpha(s[i])))
            return false;
        c[n++] = upper(s[i]);
    }
    if (n < 15 || !is_alpha(c[0]) || !is_alpha(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
        return false;
    /* Move the first four characters to the end; letters count as 10..35. */
    for (size_t k = 0; k < n; k++) {
        char ch = c[(k + 4) % n];
        if (is_digit(ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

bool scrub_phone_ok(const char *s, size_t len)
{
    size_t digits = 0, i = 0;
    bool intl = len > 0 && s[0] == '+';
    char first = 0, second = 0;

    for (; i < len; i++) {
        if (intl && s[i] == '(' && i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')') {
            i += 2; /* "(0)" trunk prefix of "+44 (0)20 ..." */
            continue;
        }
        if (!is_digit(s[i]))
            continue;
        if (digits == 0)
            first = s[i];
        else if (digits == 1)
            second = s[i];
        digits++;
    }
    if (intl)
        return first != '0' && digits >= 8 && digits <= 15;
    return first == '0' && second != '0' && (digits == 10 || digits == 11);
}

bool scrub_postcode_outward(const char *s, size_t len, char outward[5])
{
    char c[8];
    size_t n = 0, o, i;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\t')
            continue;
        if (n == 7 || !(is_digit(s[i]) || is_alpha(s[i])))
            return false;
        c[n++] = upper(s[i]);
    }
    if (n < 5)
        return false;
    o = n - 3; /* outward length 2..4 */
    if (!is_digit(c[o]) || !is_alpha(c[o + 1]) || !is_alpha(c[o + 2]))
        return false;
    if (o == 3 && memcmp(c, "GIR0AA", 6) == 0)
        goto ok;
    i = 0;
    if (!is_alpha(c[i++]))
        return false;
    if (is_alpha(c[i]))
        i++;
    if (i >= o || !is_digit(c[i++]))
        return false;
    if (i < o && (is_digit(c[i]) || is_alpha(c[i])))
        i++;
    if (i != o)
        return false;
ok:
    memcpy(outward, c, o);
    outward[o] = '\0';
    return true;
}

/* Token boundaries: a match starts and ends where no letter or digit touches it. */
#define NB "(?<![A-Za-z0-9])"
#define NA "(?![A-Za-z0-9])"

static const struct scrub_detector detectors[SCRUB_NKINDS] = {
    {SCRUB_EMAIL, "email", "[EMAIL]",
     "(?<![A-Za-z0-9._%+\\-\\x{80}-\\x{10FFFF}])[A-Za-z0-9._%+\\-\\x{80}-\\x{10FFFF}]++@"
     "(?:[A-Za-z0-9\\-\\x{80}-\\x{10FFFF}]++\\.)+[A-Za-z\\x{80}-\\x{10FFFF}]{2,63}+"
     "(?![A-Za-z\\-\\x{80}-\\x{10FFFF}])",
     NULL},
    {SCRUB_CARD, "card_number", "[CARD]", "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])",
     scrub_luhn_ok},
    {SCRUB_IBAN, "iban", "[IBAN]",
     NB "[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" NA, scrub_iban_ok},
    {SCRUB_NINO, "nino", "[NINO]",
     NB "(?i:(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        " ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D])" NA,
     NULL},
    {SCRUB_PHONE, "phone", "[PHONE]",
     "(?<![0-9+])(?:\\+[0-9]++(?:[ -]?\\(0\\)[ -]?[0-9]++)?(?:[ -][0-9]++){0,5}"
     "|(?:0[0-9]++|\\(0[0-9]++\\))(?:[ -][0-9]++){0,3})(?![0-9])",
     scrub_phone_ok},
    {SCRUB_POSTCODE, "postcode", "[POSTCODE]",
     NB "(?i:GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})" NA, NULL},
};

const struct scrub_detector *scrub_detector_at(enum scrub_kind kind)
{
    return (unsigned)kind < SCRUB_NKINDS ? &detectors[kind] : NULL;
}

const struct scrub_detector *scrub_detector_find(const char *name)
{
    if (strcmp(name, "card") == 0)
        name = "card_number";
    for (size_t i = 0; i < SCRUB_NKINDS; i++)
        if (strcmp(detectors[i].name, name) == 0)
            return &detectors[i];
    return NULL;
}
