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
    char first = 0;
    bool same = true;

    /* No card number starts with 0 (ISO/IEC 7812: that industry digit is not issued) or
     * repeats one digit: a run of zeros (a nil UUID, a blank form) passes Luhn. */
    for (size_t i = 0; i < len; i++)
        if (is_digit(s[i])) {
            if (!first)
                first = s[i];
            same = same && s[i] == first;
        }
    if (first == '0' || same)
        return false;
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

/* IBAN lengths by country (SWIFT IBAN registry): a country code and a length must both
 * fit before the checksum is even tried, so a random token passes 1 in many thousands. */
static size_t iban_length(char a, char b)
{
    static const char table[] =
        "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28"
        "EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27"
        "JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18"
        "NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28"
        "TL23TN24TR26UA29VA22VG24XK20YE30";

    for (size_t i = 0; i + 4 <= sizeof(table) - 1; i += 4)
        if (table[i] == a && table[i + 1] == b)
            return (size_t)((table[i + 2] - '0') * 10 + (table[i + 3] - '0'));
    return 0;
}

bool scrub_iban_ok(const char *s, size_t len)
{
    char c[34];
    size_t n = 0;
    unsigned rem = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '-')
            continue;
        if (n == sizeof(c) || !(is_digit(s[i]) || is_alpha(s[i])))
            return false;
        c[n++] = upper(s[i]);
    }
    if (n < 15 || !is_alpha(c[0]) || !is_alpha(c[1]) || !is_digit(c[2]) || !is_digit(c[3]) ||
        iban_length(c[0], c[1]) != n)
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
    char d[24] = {0};
    size_t digits = 0, i = 0;
    bool plus = len > 0 && (s[0] == '+' || (s[0] == '(' && len > 1 && s[1] == '+'));

    for (; i < len; i++) {
        if (s[i] == '(' && i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')' && i > 0) {
            i += 2; /* "(0)" trunk prefix of "+44 (0)20 ..." */
            continue;
        }
        if (!is_digit(s[i]))
            continue;
        if (digits == sizeof(d))
            return false;
        d[digits++] = s[i];
    }
    if (digits < 8)
        return false;
    if (plus) /* E.164: a country code, 8 to 15 digits in all */
        return d[0] != '0' && digits >= 8 && digits <= 15;
    if (digits >= 2 && d[0] == '0' && d[1] == '0') /* "00" international prefix */
        return d[2] != '0' && digits - 2 >= 8 && digits - 2 <= 15;
    if (d[0] == '0') /* UK national: 10 or 11 digits, a 1-9 after the trunk 0 */
        return digits >= 2 && d[1] != '0' && (digits == 10 || digits == 11);
    /* North American: NXX NXX XXXX, the area code and exchange not starting 0 or 1 */
    return digits == 10 && d[0] >= '2' && d[3] >= '2';
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

/* Local part: RFC 5322 atext (letters, digits, ! # $ % & ' * + - / = ? ^ _ ` { | } ~),
 * dots, and any non-ASCII byte (internationalised addresses). */
static bool local_char(unsigned char c)
{
    return is_digit((char)c) || is_alpha((char)c) || c >= 0x80 ||
           (c && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The start of the local part ending at s[at] (exclusive): atext back from the '@', or a
 * quoted local part ("bob smith"@example.com, at most 64 bytes, no line break). Quote
 * marks and other punctuation at the very start are taken as the text around the
 * address, not as part of it: 'bob@example.com' keeps its opening quote. */
static size_t local_start(const unsigned char *u, size_t at)
{
    size_t b = at;

    if (at >= 2 && u[at - 1] == '"') {
        for (size_t k = at - 1; k-- > 0 && at - k <= 66;) {
            if (u[k] == '\n' || u[k] == '\r')
                break;
            if (u[k] == '"')
                return k + 2 < at ? k : at;
        }
        return at;
    }
    while (b > 0 && local_char(u[b - 1]))
        b--;
    while (b < at && !(is_digit((char)u[b]) || is_alpha((char)u[b]) || u[b] >= 0x80 ||
                       u[b] == '_' || u[b] == '+'))
        b++;
    return b;
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
    b = local_start(u, at);
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

/* ------------------------------------------------- addresses spelled out */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The word w (lowercase) at s[i], case-insensitively, alone or in (), [], {} or <>: its
 * length, else 0. */
static size_t spelled_token(const char *s, size_t len, size_t i, const char *w)
{
    static const char *const open = "([{<", *const close = ")]}>";
    size_t wl = strlen(w), k;
    const char *o = i < len ? strchr(open, s[i]) : NULL;

    if (o && s[i]) {
        for (k = 0; k < wl && i + 1 + k < len && lower(s[i + 1 + k]) == w[k]; k++)
            ;
        if (k == wl && i + 1 + wl < len && s[i + 1 + wl] == close[o - open])
            return wl + 2;
        return 0;
    }
    if (i > 0 && (is_alpha(s[i - 1]) || is_digit(s[i - 1])))
        return 0;
    for (k = 0; k < wl && i + k < len && lower(s[i + k]) == w[k]; k++)
        ;
    if (k != wl || (i + wl < len && (is_alpha(s[i + wl]) || is_digit(s[i + wl]))))
        return 0;
    return wl;
}

static size_t skip_spaces(const char *s, size_t len, size_t i)
{
    for (int n = 0; n < 3 && i < len && s[i] == ' '; n++)
        i++;
    return i;
}

static size_t domain_label(const char *s, size_t len, size_t i)
{
    size_t k = i;

    while (k < len && (is_alpha(s[k]) || is_digit(s[k]) || s[k] == '-'))
        k++;
    return k - i;
}

static bool known_tld(const char *s, size_t n)
{
    static const char *const tlds[] = {
        "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io",  "co", "uk", "ie",
        "de",  "fr",  "es",  "it",  "nl",  "be",  "eu",  "us",   "ca",  "au",  "nz", "ch", "at",
        "se",  "no",  "dk",  "fi",  "pl",  "pt",  "in",  "me",   "app", "dev", NULL};
    char t[8];

    if (n < 2 || n >= sizeof(t))
        return false;
    for (size_t i = 0; i < n; i++)
        t[i] = lower(s[i]);
    t[n] = '\0';
    for (size_t i = 0; tlds[i]; i++)
        if (strcmp(tlds[i], t) == 0)
            return true;
    return false;
}

/* After the "at" token: " example dot co dot uk"; the end, or 0. *spelled_dot: one of the
 * dots was a word ("dot", "(dot)"). */
static size_t spelled_domain(const char *s, size_t len, size_t i, bool *spelled_dot)
{
    size_t k = skip_spaces(s, len, i), l, last_start = 0, last_len = 0, end = 0;
    int dots = 0;

    *spelled_dot = false;
    if (!(l = domain_label(s, len, k)))
        return 0;
    k += l;
    for (int n = 0; n < 4; n++) {
        size_t j = skip_spaces(s, len, k), t;
        bool word = false;
        if ((t = spelled_token(s, len, j, "dot")) != 0)
            word = true;
        else if (j < len && s[j] == '.')
            t = 1;
        else
            break;
        j = skip_spaces(s, len, j + t);
        if (!(l = domain_label(s, len, j)))
            break;
        dots++;
        *spelled_dot = *spelled_dot || word;
        last_start = j;
        last_len = l;
        k = j + l;
        if (known_tld(s + last_start, last_len))
            end = k;
    }
    return dots > 0 && end ? end : 0;
}

/* Can s hold a spelled address at all? It needs "dot" (any case), a bracketed "at" or
 * an '@' (one left by scrub_email_at: spaced or bracketed, "alice @ example.com",
 * "alice[@]example.com"): vectorised memchr over the letter 'o', the brackets and '@'
 * rules out ordinary text before the token-by-token scan. */
static bool spelled_hint(const char *s, size_t len)
{
    if (memchr(s, '@', len))
        return true;
    for (const char *b = "oO([{<"; *b; b++) {
        for (const char *p = s; (p = memchr(p, *b, len - (size_t)(p - s))) != NULL; p++) {
            size_t i = (size_t)(p - s);
            if (*b == 'o' || *b == 'O') {
                if (i > 0 && i + 1 < len && (s[i - 1] | 0x20) == 'd' && (s[i + 1] | 0x20) == 't')
                    return true;
            } else if (i + 2 < len && (p[1] | 0x20) == 'a' && (p[2] | 0x20) == 't') {
                return true;
            }
        }
    }
    return false;
}

bool scrub_email_spelled(const char *s, size_t len, size_t from, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;

    if (from == 0 && !spelled_hint(s, len))
        return false;
    for (size_t i = from; i < len; i++) {
        size_t tl = 0, b, e, k;
        bool spelled = true, dot_word, bracketed, at_sign = false;
        if (s[i] == '@') {
            tl = 1;
            spelled = false;
        } else if (s[i] == 'a' || s[i] == 'A' || (s[i] && strchr("([{<", s[i]))) {
            tl = spelled_token(s, len, i, "at");
            /* an '@' in brackets: "alice[@]example.com", "alice (@) example.com" */
            if (!tl && s[i] != 'a' && s[i] != 'A')
                at_sign = (tl = spelled_token(s, len, i, "@")) != 0;
        }
        if (!tl)
            continue;
        /* the local part: back over up to 3 spaces, then its characters */
        k = i;
        for (int n = 0; n < 3 && k > 0 && s[k - 1] == ' '; n++)
            k--;
        if (spelled && k == i && s[i] != '(' && s[i] != '[' && s[i] != '{' && s[i] != '<')
            continue; /* "at" glued to the word before is not an "at" */
        b = local_start(u, k);
        if (b == k || b < from)
            continue;
        /* "look at example.com" is a sentence: a spelled "at" needs a spelled "dot"; "(at)"
         * and "[@]" are deliberate on their own ("alice (at) example.com"), and so is an
         * '@' (scrub_email_at took those written without spaces) */
        bracketed = spelled && (tl == 4 || at_sign);
        e = spelled_domain(s, len, i + tl, &dot_word);
        if (!e || !(dot_word || bracketed || !spelled))
            continue;
        *start = b;
        *end = e;
        return true;
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
    /* 13 to 19 digits, groups split by up to two spaces, dashes or dots ("4111  1111 ...",
     * "4111.1111.1111.1111") */
    {SCRUB_CARD, "card_number", "[CARD]", "(?<![0-9])[1-9](?:[ .-]{0,2}[0-9]){12,18}(?![0-9])",
     scrub_luhn_ok},
    /* any case, groups of 4 split by a space or a dash; country, length, mod 97 in C */
    {SCRUB_IBAN, "iban", "[IBAN]",
     NB "(?i:[A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?)" NA, scrub_iban_ok},
    /* the suffix letter is optional ("AB123456"), spaces between the pairs too */
    {SCRUB_NINO, "nino", "[NINO]",
     NB "[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]"
        " ?[0-9]{2} ?[0-9]{2} ?[0-9]{2}(?: ?[A-Da-d])?" NA,
     scrub_nino_ok},
    /* international (+ or 00, the country code in parentheses "(+44)", "(0)" trunk), UK
     * national, North American (NXX NXX XXXX);
     * groups split by a space, a dot or a dash, or in parentheses */
    {SCRUB_PHONE, "phone", "[PHONE]",
     "(?<![0-9+])(?:(?:(?:\\+|00 ?)[1-9][0-9]{0,2}|\\(\\+[1-9][0-9]{0,2}\\))(?:[ .-]?\\(0\\))?"
     "(?:[ .-]?(?:\\([0-9]{1,4}\\)|[0-9]++)){1,6}"
     "|(?:0[0-9]++|\\(0[0-9]++\\)(?:[ .-]?[0-9]++)?)(?:[ .-][0-9]++){0,4}"
     "|(?:\\([2-9][0-9]{2}\\)|[2-9][0-9]{2})[ .-]?[2-9][0-9]{2}[ .-][0-9]{4})"
     "(?![0-9])",
     scrub_phone_ok},
    /* any case, up to two spaces or a dash between the outward and inward codes */
    {SCRUB_POSTCODE, "postcode", "[POSTCODE]",
     NB "(?i:GIR(?: {0,2}|-)0AA|[A-Z]{1,2}[0-9][A-Z0-9]?(?: {0,2}|-)[0-9][A-Z]{2})" NA, NULL},
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
