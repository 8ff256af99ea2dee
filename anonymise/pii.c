/*
 * pii.c: personal-data hints for `keep` columns (see pii.h).
 *
 * Content detection reuses the scrub rule as configured with every built-in detector:
 * its output marks each match with a typed marker ("[EMAIL]"), so counting the markers
 * a value gained tells which kinds it held. That keeps one definition of "looks like an
 * email" for scrubbing and for warnings.
 */
#include "anonymise/pii.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/rule_json.h"
#include "anonymise/yopts.h"

#define PII_WORDS_MAX 16
#define PII_WORD_LEN 64

struct pii_word {
    const char *word;
    const char *kind;
};

/* Whole words (after splitting) or all the words run together ("firstname"). */
static const struct pii_word telling_words[] = {
    {"email", "an email address"},
    {"mail", "an email address"},
    {"emailaddress", "an email address"},
    {"phone", "a phone number"},
    {"telephone", "a phone number"},
    {"tel", "a phone number"},
    {"mobile", "a phone number"},
    {"msisdn", "a phone number"},
    {"cell", "a phone number"},
    {"fax", "a phone number"},
    {"phonenumber", "a phone number"},
    {"mobilenumber", "a phone number"},
    {"name", "a person's name"},
    {"firstname", "a person's name"},
    {"lastname", "a person's name"},
    {"surname", "a person's name"},
    {"forename", "a person's name"},
    {"forenames", "a person's name"},
    {"fullname", "a person's name"},
    {"middlename", "a person's name"},
    {"maidenname", "a person's name"},
    {"givenname", "a person's name"},
    {"familyname", "a person's name"},
    {"displayname", "a person's name"},
    {"username", "a person's name"},
    {"postcode", "a postcode"},
    {"postal", "a postcode"},
    {"postalcode", "a postcode"},
    {"zip", "a postcode"},
    {"zipcode", "a postcode"},
    {"dob", "a date of birth"},
    {"birth", "a date of birth"},
    {"birthday", "a date of birth"},
    {"birthdate", "a date of birth"},
    {"dateofbirth", "a date of birth"},
    {"address", "an address"},
    {"addr", "an address"},
    {"street", "an address"},
    {"addressline", "an address"},
    {"ssn", "a national identity number"},
    {"nino", "a national identity number"},
    {"nationalinsurance", "a national identity number"},
    {"ninumber", "a national identity number"},
    {"passport", "a national identity number"},
    {"nhsnumber", "a national identity number"},
    {"iban", "a bank account"},
    {"sortcode", "a bank account"},
    {"accountnumber", "a bank account"},
    {"cardnumber", "a card number"},
    {"pan", "a card number"},
    {"ip", "an IP address"},
    {"ipaddress", "an IP address"},
    {NULL, NULL},
};

/* "name" after these words names a thing, not a person. */
static const char *const thing_words[] = {
    "file",    "table",    "schema",       "column",       "host",   "domain",    "company",
    "product", "business", "organisation", "organization", "org",    "brand",     "app",
    "role",    "type",     "category",     "status",       "event",  "field",     "bucket",
    "queue",   "topic",    "key",          "tag",          "object", "class",     "module",
    "service", "server",   "database",     "db",           "index",  "step",      "job",
    "task",    "country",  "city",         "region",       "team",   "group",     "project",
    "plan",    "feature",  "metric",       "attribute",    "param",  "parameter", NULL,
};

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

static const char *kind_of(const char *w)
{
    for (const struct pii_word *p = telling_words; p->word; p++)
        if (strcmp(w, p->word) == 0)
            return p->kind;
    return NULL;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || is_upper(c) || (c >= '0' && c <= '9');
}

/* Split "dateOfBirth2", "first_name", "E-Mail" into lowercase words. */
static size_t split_words(const char *s, char words[PII_WORDS_MAX][PII_WORD_LEN])
{
    size_t n = 0, len = 0;

    for (const char *p = s;; p++) {
        bool boundary =
            !*p || !is_alnum(*p) || (len > 0 && is_upper(*p) && p > s && !is_upper(p[-1]));
        if (boundary && len > 0) {
            words[n][len] = '\0';
            n++;
            len = 0;
            if (n == PII_WORDS_MAX)
                return n;
        }
        if (!*p)
            return n;
        if (is_alnum(*p) && len + 1 < PII_WORD_LEN)
            words[n][len++] = lower(*p);
    }
}

const char *pii_name_kind(const char *column)
{
    char words[PII_WORDS_MAX][PII_WORD_LEN];
    char joined[PII_WORDS_MAX * PII_WORD_LEN];
    size_t n = split_words(column, words), jl = 0;
    const char *k;

    joined[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t wl = strlen(words[i]);
        memcpy(joined + jl, words[i], wl + 1);
        jl += wl;
    }
    if (n > 1 && (k = kind_of(joined)) != NULL)
        return k;
    for (size_t i = 0; i < n; i++) {
        k = kind_of(words[i]);
        if (!k)
            continue;
        /* "file_name", "company_name": the name of a thing */
        if (strcmp(words[i], "name") == 0 && i > 0 && in_list(words[i - 1], thing_words))
            continue;
        /* "ip" alone is a word only when it is the whole name or next to "address" */
        if (strcmp(words[i], "ip") == 0 && n > 1 &&
            !(i + 1 < n && strcmp(words[i + 1], "address") == 0))
            continue;
        return k;
    }
    return NULL;
}

/* ------------------------------------------------------------- content */

struct pii_marker {
    const char *marker;
    const char *kind;
    bool specific; /* one value is enough */
};

static const struct pii_marker markers[] = {
    {"[EMAIL]", "email addresses", true},
    {"[CARD]", "card numbers", true},
    {"[IBAN]", "IBANs", true},
    {"[NINO]", "National Insurance numbers", true},
    {"[PHONE]", "phone numbers", false},
    {"[POSTCODE]", "UK postcodes", false},
};
#define N_MARKERS (sizeof(markers) / sizeof(markers[0]))

struct pii_detector {
    struct rule scrub;
    struct abuf out;
};

void pii_detector_free(struct pii_detector *d)
{
    if (!d)
        return;
    rule_free(&d->scrub);
    abuf_free(&d->out);
    free(d);
}

struct pii_detector *pii_detector_new(struct anon_error *err)
{
    static const char yaml[] = "{ scrub: [email, card_number, iban, nino, phone, postcode] }";
    struct pii_detector *d = calloc(1, sizeof(*d));
    struct yopts *root = NULL;
    bool ok;

    if (!d) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    abuf_init(&d->out, (size_t)1 << 30);
    ok = yopts_load("pii detectors", yaml, sizeof(yaml) - 1, &root, err) &&
         rule_parse(root, &d->scrub, err);
    yopts_free(root);
    if (!ok) {
        pii_detector_free(d);
        return NULL;
    }
    return d;
}

static size_t count_of(const char *s, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);

    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(s + i, needle, nl) == 0) {
            n++;
            i += nl - 1;
        }
    return n;
}

bool pii_scan_values(struct pii_detector *d, const struct rule_value *values, size_t n,
                     struct pii_content *out, struct anon_error *err)
{
    static const struct rule_ctx ctx = {0};
    size_t hits[N_MARKERS] = {0};

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        bool is_null = false;
        if (values[i].is_null)
            continue;
        out->non_null++;
        abuf_reset(&d->out);
        if (!d->scrub.ops->apply(d->scrub.state, &ctx, &values[i], &d->out, &is_null, err))
            return false;
        if (is_null || abuf_failed(&d->out))
            continue;
        for (size_t m = 0; m < N_MARKERS; m++)
            if (count_of(d->out.data ? d->out.data : "", d->out.len, markers[m].marker) >
                count_of(values[i].data, values[i].len, markers[m].marker))
                hits[m]++;
    }
    /* The first kind over its threshold, most specific first. */
    for (size_t m = 0; m < N_MARKERS; m++) {
        bool enough =
            markers[m].specific ? hits[m] >= 1 : hits[m] >= 2 && hits[m] * 10 >= out->non_null;
        if (enough) {
            out->kind = markers[m].kind;
            out->hits = hits[m];
            return true;
        }
    }
    return true;
}

bool pii_text_holds(struct pii_detector *d, const char *s, size_t len, bool *holds,
                    struct anon_error *err)
{
    static const struct rule_ctx ctx = {0};
    const struct rule_value v = {.data = s, .len = len};
    bool is_null = false;

    *holds = false;
    abuf_reset(&d->out);
    if (!d->scrub.ops->apply(d->scrub.state, &ctx, &v, &d->out, &is_null, err))
        return false;
    if (abuf_failed(&d->out)) {
        anon_error_set(err, "out of memory");
        return false;
    }
    for (size_t m = 0; m < N_MARKERS && !is_null; m++)
        *holds = *holds || count_of(d->out.data ? d->out.data : "", d->out.len, markers[m].marker) >
                               count_of(s, len, markers[m].marker);
    return true;
}

/* A json rule: `others: keep` without its review publishes every key no path names, those
 * added later included, unseen: refused like a keep on a personal-looking column
 * (counted), until `others: { keep: { reviewed: "why" } }`; `keep` without `reviewed:`
 * at a path whose last key looks personal is a keep on a personal-looking column
 * (counted: refused). */
static size_t warn_json(const char *table, const char *column, const struct rule *rule,
                        struct abuf *out)
{
    const struct rule *sub;
    const char *path, *last, *kind;
    size_t added = 0;

    if (rule_json_keeps_others(rule) && !rule_json_others_reviewed(rule)) {
        abuf_printf(out,
                    "warning: %s.%s: json others: keep publishes every key no path names, as "
                    "it is, also keys added later: name the keys to publish instead "
                    "(others: drop is the default), or record why none of them is personal "
                    "data: others: { keep: { reviewed: \"why\" } }\n",
                    table, column);
        added++;
    }
    for (size_t i = 0; (path = rule_json_path(rule, i, &sub, &last)) != NULL; i++) {
        if (!sub->ops || strcmp(sub->ops->name, "keep") != 0 || rule_keep_reviewed(sub) || !last ||
            !(kind = pii_name_kind(last)))
            continue;
        abuf_printf(out,
                    "warning: %s.%s: json path %s: rule keep, but the name suggests %s: "
                    "consider hash, mask or suppress\n",
                    table, column, path, kind);
        added++;
    }
    return added;
}

size_t pii_warn_column(struct pii_detector *d, const char *table, const char *column,
                       const struct rule *rule, const struct rule_value *values, size_t n,
                       struct abuf *out, bool *failed, struct anon_error *err)
{
    const char *kind;
    struct pii_content c;
    size_t added = 0;

    *failed = false;
    if (rule->ops && rule_json_n_paths(rule) > 0)
        return warn_json(table, column, rule, out);
    /* a reviewed keep records why it is not personal data: nothing to say */
    if (!rule->ops || strcmp(rule->ops->name, "keep") != 0 || rule_keep_reviewed(rule))
        return 0;
    kind = pii_name_kind(column);
    if (kind) {
        abuf_printf(out,
                    "warning: %s.%s: rule keep, but the name suggests %s: consider hash, "
                    "mask or suppress\n",
                    table, column, kind);
        added++;
    }
    if (!d || !values || n == 0)
        return added;
    if (!pii_scan_values(d, values, n, &c, err)) {
        *failed = true;
        return added;
    }
    if (c.kind) {
        abuf_printf(out,
                    "warning: %s.%s: rule keep, but %zu of %zu sampled values contain %s: "
                    "consider scrub, hash or suppress\n",
                    table, column, c.hits, c.non_null, c.kind);
        added++;
    }
    return added;
}

const char *pii_next_review(const struct rule *rule, size_t *pos, const char **place)
{
    size_t n = rule_json_n_paths(rule);
    const char *path, *last, *why = NULL;
    const struct rule *sub;

    /* 0: the column's keep; 1..n: the json paths; n + 1: others */
    for (; !why && *pos <= n + 1; (*pos)++) {
        if (*pos == 0) {
            *place = NULL;
            why = rule_keep_reviewed(rule);
        } else if (*pos <= n) {
            path = rule_json_path(rule, *pos - 1, &sub, &last);
            *place = path;
            why = path ? rule_keep_reviewed(sub) : NULL;
        } else {
            *place = "others";
            why = rule_json_others_reviewed(rule);
        }
    }
    return why;
}
