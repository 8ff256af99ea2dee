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

bool scrub_nino_ok(const char *s, size_t len)
{
    static const char *const never[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ", NULL};
    char p[2];

    if (len < 2)
        return false;
    p[0] = upper(s[0]);
    p[1] = upper(s[1]);
    for (size_t i = 0; never[i]; i++)
        if (p[0] == never[i][0] && p[1] == never[i][1])
            return false;
    return true;
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

/* Local part: A-Z a-z 0-9 . _ % + - and any non-ASCII byte (internationalised). */
static bool local_char(unsigned char c)
{
    return is_digit((char)c) || is_alpha((char)c) || c >= 0x80 || strchr("._%+-", c) != NULL;
}

/* Domain label: A-Z a-z 0-9 - and any non-ASCII byte. */
static bool label_char(unsigned char c)
{
    return is_digit((char)c) || is_alpha((char)c) || c >= 0x80 || c == '-';
}

static bool tld_char(unsigned char c)
{
    return is_alpha((char)c) || c >= 0x80;
}

#define EMAIL_MAX_LABELS 64

bool scrub_email_at(const char *s, size_t len, size_t at, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t b = at, e = at + 1, labels[EMAIL_MAX_LABELS], n = 0;

    if (at >= len || s[at] != '@')
        return false;
    while (b > 0 && local_char(u[b - 1]))
        b--;
    if (b == at)
        return false;
    /* label starts: each label but the last is followed by a dot */
    labels[n++] = e;
    while (n < EMAIL_MAX_LABELS) {
        size_t k = e;
        while (k < len && label_char(u[k]))
            k++;
        if (k == e || k >= len || s[k] != '.' || k + 1 >= len || !label_char(u[k + 1]))
            break;
        e = k + 1;
        labels[n++] = e;
    }
    /* the last label that starts with 2+ letters not followed by a letter or '-' is the
     * top-level domain ("a@example.com.123" ends at "com") */
    while (n-- > 1) {
        size_t t = labels[n];
        while (t < len && tld_char(u[t]))
            t++;
        if (t - labels[n] >= 2 && !(t < len && u[t] == '-')) {
            *start = b;
            *end = t;
            return true;
        }
    }
    return false;
}

/* Token boundaries: a match starts and ends where no letter or digit touches it. */
#define NB "(?<![A-Za-z0-9])"
#define NA "(?![A-Za-z0-9])"

static const struct scrub_detector detectors[SCRUB_NKINDS] = {
    /* e-mails are found in C from each '@' (scrub_email_at): much faster than a regex
     * that must try every word as a possible local part */
    {SCRUB_EMAIL, "email", "[EMAIL]", NULL, NULL},
    {SCRUB_CARD, "card_number", "[CARD]", "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])",
     scrub_luhn_ok},
    {SCRUB_IBAN, "iban", "[IBAN]",
     NB "[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" NA, scrub_iban_ok},
    {SCRUB_NINO, "nino", "[NINO]",
     NB "[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]"
        " ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]" NA,
     scrub_nino_ok},
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
