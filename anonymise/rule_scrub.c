/*
 * rule_scrub.c: replace personal data found in free text with typed markers.
 *
 *   scrub                                        every built-in detector
 *   scrub: [email, phone, postcode, card_number] these detectors
 *   scrub: { detectors: [email], patterns: [{ regex: "CASE-[0-9]+", replacement: "[CASE]" }] }
 *
 * Detectors (scrub_detectors.h): email [EMAIL], card_number (or card) [CARD], iban
 * [IBAN], nino [NINO], phone [PHONE], postcode [POSTCODE]. In the mapping form an absent
 * `detectors` means all of them (write `detectors: []` for patterns only). A rule that
 * would change nothing (`scrub: []`, no detectors and no patterns) is a config error,
 * and so is an empty `patterns: []`. User patterns
 * are PCRE2 regular expressions (UTF-8), applied in order after the detectors; the
 * replacement is literal text (default "[REDACTED]"); empty matches are ignored.
 *
 * Speed: it runs on the free text of every row. The selected detectors are compiled at
 * parse time into ONE alternation of named groups, JIT-compiled and matched on bytes
 * (they are ASCII-only; user patterns are UTF-8), so a value is scanned
 * once whatever the number of detectors; Luhn / mod-97 / digit-count / NI-prefix checks
 * run in C from callouts (a failed check backtracks into the next detector). Every
 * regex detector needs a digit: a value without one skips the regex entirely. E-mails
 * are found first, in C, from each '@' (memchr), which is several times faster than a
 * regex trying every word as a local part.
 * Threads: the compiled patterns and the match context are only read by apply; the
 * match data is made per call, so one state can serve several workers.
 *
 * A value on which PCRE2 fails (a user pattern exceeding the match limit) becomes NULL,
 * never passed through. Output type: text and citext stay; other types become text
 * (markers can be longer than what they replace, which varchar(n) would reject). Only
 * text-like and json columns can be scrubbed: any other type is a config error.
 */
#include "anonymise/rules_extra.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "anonymise/rule_util.h"
#include "anonymise/scrub_detectors.h"
#include "anonymise/scrub_rowvals.h"
#include "anonymise/scrubnorm.h"
#include "anonymise/sqltype.h"
#include "anonymise/suggest.h"
#include "anonymise/utf8.h"

#define SCRUB_MAX_PATTERNS 64
#define SCRUB_DEFAULT_REPLACEMENT "[REDACTED]"

struct scrub_pattern {
    pcre2_code *code;
    char *regex;
    char *replacement;
    size_t replacement_len;
};

struct scrub_state {
    bool enabled[SCRUB_NKINDS];
    int group[SCRUB_NKINDS]; /* capture group of each enabled detector */
    pcre2_code *detect;      /* NULL when no detector is enabled */
    pcre2_match_context *mctx;
    struct scrub_pattern *patterns;
    size_t n_patterns;
    struct scrub_rowvals *rowvals; /* NULL: no row_values */
    /* Values withheld on a match error (PCRE2's match, depth or heap limit: a pattern
     * that backtracks without end, (a+)+$): the only field apply changes, atomically. */
    atomic_ulong withheld;
};

static void scrub_free(void *state)
{
    struct scrub_state *s = state;

    if (!s)
        return;
    for (size_t i = 0; i < s->n_patterns; i++) {
        pcre2_code_free(s->patterns[i].code);
        free(s->patterns[i].regex);
        free(s->patterns[i].replacement);
    }
    free(s->patterns);
    scrub_rowvals_free(s->rowvals);
    pcre2_code_free(s->detect);
    pcre2_match_context_free(s->mctx);
    free(s);
}

/* Callout after a detector's group: run its C check on the text matched so far. */
static int detector_callout(pcre2_callout_block *b, void *data)
{
    const struct scrub_detector *d = scrub_detector_at((enum scrub_kind)(b->callout_number - 1));

    (void)data;
    if (!d || !d->check)
        return 0;
    return d->check((const char *)b->subject + b->start_match, b->current_position - b->start_match)
               ? 0
               : 1; /* > 0: fail here and backtrack */
}

/* utf: user patterns are UTF-8 (a "." is one character, invalid input never breaks a
 * match); the detectors are ASCII-only and run faster on bytes. */
static pcre2_code *compile(const char *regex, size_t len, bool utf, int *errcode,
                           PCRE2_SIZE *erroff)
{
    pcre2_code *c =
        pcre2_compile((PCRE2_SPTR)regex, len, utf ? PCRE2_UTF | PCRE2_MATCH_INVALID_UTF : 0,
                      errcode, erroff, NULL);

    if (c)
        (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* no JIT: the interpreter runs */
    return c;
}

static bool build_detectors(const struct yopts *opts, struct scrub_state *s, struct anon_error *err)
{
    struct abuf re;
    int group = 0, errcode;
    PCRE2_SIZE erroff;
    bool any = false;

    abuf_init(&re, 1 << 16);
    for (int k = 0; k < SCRUB_NKINDS; k++) {
        const struct scrub_detector *d = scrub_detector_at((enum scrub_kind)k);
        if (!s->enabled[k] || !d->regex)
            continue;
        s->group[k] = ++group;
        abuf_printf(&re, "%s(?<%s>%s)", any ? "|" : "", d->name, d->regex);
        if (d->check)
            abuf_printf(&re, "(?C%d)", k + 1);
        any = true;
    }
    if (!any) {
        abuf_free(&re);
        return true;
    }
    if (abuf_failed(&re)) {
        abuf_free(&re);
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->detect = compile(re.data, re.len, false, &errcode, &erroff);
    abuf_free(&re);
    if (!s->detect) {
        yopts_error(opts, NULL, err, "internal error: detector pattern does not compile (%d)",
                    errcode);
        return false;
    }
    return true;
}

static bool enable_detector(const struct yopts *item, struct scrub_state *s, struct anon_error *err)
{
    static const char *const names[] = {"email", "phone", "postcode", "card_number",
                                        "card",  "nino",  "iban",     NULL};
    const char *name = yopts_scalar(item);
    const struct scrub_detector *d = name ? scrub_detector_find(name) : NULL;
    const char *near;
    char shown[64];

    if (d) {
        s->enabled[d->kind] = true;
        return true;
    }
    if (!name) {
        yopts_error(item, NULL, err, "expected a detector name");
        return false;
    }
    yopts_shown(shown, sizeof(shown), name);
    near = suggest_word(name, names);
    if (near)
        yopts_error(item, NULL, err, "unknown detector \"%s\" (did you mean \"%s\"?)", shown, near);
    else
        yopts_error(item, NULL, err,
                    "unknown detector \"%s\" (known: email, phone, postcode, card_number, "
                    "nino, iban)",
                    shown);
    return false;
}

static bool parse_detector_list(const struct yopts *seq, struct scrub_state *s,
                                struct anon_error *err)
{
    bool ok = true;

    if (yopts_kind(seq) != YOPTS_SEQUENCE) {
        yopts_error(seq, NULL, err, "expected a list of detectors");
        return false;
    }
    for (size_t i = 0; i < yopts_count(seq); i++) {
        struct yopts *it = yopts_item(seq, i);
        if (!it) {
            yopts_error(seq, NULL, err, "out of memory");
            return false;
        }
        ok = enable_detector(it, s, err) && ok;
        yopts_free(it);
    }
    return ok;
}

static bool parse_pattern(const struct yopts *p, struct scrub_pattern *pat, struct anon_error *err)
{
    static const char *const keys[] = {"regex", "replacement", NULL};
    const char *regex = NULL, *repl = SCRUB_DEFAULT_REPLACEMENT;
    PCRE2_UCHAR msg[160];
    PCRE2_SIZE erroff;
    int errcode;

    if (yopts_kind(p) != YOPTS_MAPPING) {
        yopts_error(p, NULL, err, "expected { regex: ..., replacement: ... }");
        return false;
    }
    if (!yopts_only_keys(p, keys, err) || !yopts_get_string(p, "regex", &regex, NULL, err) ||
        !yopts_get_string(p, "replacement", &repl, NULL, err))
        return false;
    if (!regex || !*regex) {
        yopts_error(p, "regex", err, "is required");
        return false;
    }
    pat->code = compile(regex, strlen(regex), true, &errcode, &erroff);
    if (!pat->code) {
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        yopts_error(p, "regex", err, "invalid regular expression at offset %zu: %s", (size_t)erroff,
                    (const char *)msg);
        return false;
    }
    pat->regex = strdup(regex);
    pat->replacement = strdup(repl);
    pat->replacement_len = strlen(repl);
    if (!pat->regex || !pat->replacement) {
        yopts_error(p, NULL, err, "out of memory");
        return false;
    }
    return true;
}

static bool parse_patterns(const struct yopts *seq, struct scrub_state *s, struct anon_error *err)
{
    size_t n = yopts_count(seq);
    bool ok = true;

    if (yopts_kind(seq) != YOPTS_SEQUENCE || n == 0 || n > SCRUB_MAX_PATTERNS) {
        yopts_error(seq, NULL, err, "expected a list of 1 to %d { regex, replacement }",
                    SCRUB_MAX_PATTERNS);
        return false;
    }
    s->patterns = calloc(n ? n : 1, sizeof(*s->patterns));
    if (!s->patterns) {
        yopts_error(seq, NULL, err, "out of memory");
        return false;
    }
    s->n_patterns = n;
    for (size_t i = 0; i < n; i++) {
        struct yopts *it = yopts_item(seq, i);
        if (!it) {
            yopts_error(seq, NULL, err, "out of memory");
            return false;
        }
        ok = parse_pattern(it, &s->patterns[i], err) && ok;
        yopts_free(it);
    }
    return ok;
}

static bool parse_mapping(const struct yopts *opts, struct scrub_state *s, struct anon_error *err)
{
    static const char *const keys[] = {"detectors", "patterns", "row_values", NULL};
    struct yopts *det = NULL, *pats = NULL, *rows = NULL;
    bool has_det = false, has_pats = false, has_rows = false, ok;

    ok = yopts_only_keys(opts, keys, err) &&
         yopts_get_sub(opts, "detectors", &det, &has_det, err) &&
         yopts_get_sub(opts, "patterns", &pats, &has_pats, err) &&
         yopts_get_sub(opts, "row_values", &rows, &has_rows, err);
    if (ok && has_det)
        ok = parse_detector_list(det, s, err);
    else if (ok)
        memset(s->enabled, 1, sizeof(s->enabled));
    if (ok && has_pats)
        ok = parse_patterns(pats, s, err);
    if (ok && has_rows)
        ok = scrub_rowvals_parse(rows, &s->rowvals, err);
    yopts_free(det);
    yopts_free(pats);
    yopts_free(rows);
    return ok;
}

/* An empty list of detectors and no patterns would pass the text through: a config
 * error, never a silent `keep`. */
static bool scrub_does_something(const struct scrub_state *s)
{
    for (int k = 0; k < SCRUB_NKINDS; k++)
        if (s->enabled[k])
            return true;
    return s->n_patterns > 0 || s->rowvals;
}

static bool scrub_parse_into(const struct yopts *opts, struct scrub_state *s,
                             struct anon_error *err)
{
    bool ok;

    switch (yopts_kind(opts)) {
    case YOPTS_EMPTY:
        memset(s->enabled, 1, sizeof(s->enabled));
        ok = true;
        break;
    case YOPTS_SEQUENCE:
        ok = parse_detector_list(opts, s, err);
        break;
    case YOPTS_MAPPING:
        ok = parse_mapping(opts, s, err);
        break;
    default:
        yopts_error(opts, NULL, err,
                    "expected a list of detectors or { detectors: [...], patterns: [...] }");
        return false;
    }
    if (ok && !scrub_does_something(s)) {
        yopts_error(opts, NULL, err,
                    "no detectors and no patterns: scrub would publish the text unchanged "
                    "(write `scrub` for every detector, or name the ones to use)");
        return false;
    }
    if (!ok || !build_detectors(opts, s, err))
        return false;
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->mctx) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    pcre2_set_callout(s->mctx, detector_callout, NULL);
    return true;
}

static bool scrub_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    struct scrub_state *s = calloc(1, sizeof(*s));

    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    if (!scrub_parse_into(opts, s, err)) {
        scrub_free(s);
        return false;
    }
    *state = s;
    return true;
}

static void scrub_describe(const void *state, struct abuf *out)
{
    const struct scrub_state *s = state;
    bool first = true;

    abuf_puts(out, "detectors=[");
    for (int k = 0; k < SCRUB_NKINDS; k++) {
        if (!s->enabled[k])
            continue;
        abuf_printf(out, "%s%s", first ? "" : ",", scrub_detector_at((enum scrub_kind)k)->name);
        first = false;
    }
    abuf_puts(out, "] patterns=[");
    for (size_t i = 0; i < s->n_patterns; i++) {
        abuf_puts(out, i ? ",{regex=" : "{regex=");
        rule_describe_string(out, s->patterns[i].regex);
        abuf_puts(out, " replacement=");
        rule_describe_string(out, s->patterns[i].replacement);
        abuf_putc(out, '}');
    }
    abuf_putc(out, ']');
    if (s->rowvals)
        scrub_rowvals_describe(s->rowvals, out);
}

static void scrub_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    if (source_type &&
        (strcasecmp(source_type, "text") == 0 || strcasecmp(source_type, "citext") == 0))
        snprintf(out->type, sizeof(out->type), "%s", source_type);
    else
        snprintf(out->type, sizeof(out->type), "text");
    out->may_be_null = true;
    /* Free text is text; a number, a date or a uuid is not (scrubbing its text form
     * would publish it unchanged): use hash, bucket, generalise or suppress there. */
    if (source_type && !sqltype_is_text(source_type) && !sqltype_is_json(source_type))
        snprintf(out->problem, sizeof(out->problem),
                 "scrub needs a text column (text, varchar, char, json, jsonb), not %s",
                 source_type);
}

/* Can the regex detectors match anywhere? Every one of them needs a digit. Eight bytes
 * at a time: a byte is a digit when, its high bit clear, it is >= '0' and not > '9'. */
static bool has_digit(const char *s, size_t len)
{
    const uint64_t high = UINT64_C(0x8080808080808080), low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w, h;
        memcpy(&w, s + i, 8);
        h = w & low7;
        if (((h + UINT64_C(0x5050505050505050)) & ~(h + UINT64_C(0x4646464646464646)) & ~w &
             high) != 0)
            return true;
    }
    for (; i < len; i++)
        if ((unsigned char)(s[i] - '0') < 10)
            return true;
    return false;
}

/*
 * Where the detectors' matches go. Plain (found NULL): each match is replaced by its
 * marker in out. Folded (scrubnorm.h): the detectors read a folded copy of the value;
 * each match is recorded in found and written to out as that many FILLER bytes, so the
 * next detector reads the copy's offsets unchanged and sees the match as a boundary, as
 * it sees a marker; the matches are then replaced in the value itself (replace_found).
 */
#define FILLER '\x01'
struct found {
    struct found_span {
        size_t start, end;
        const char *marker;
    } * v;
    size_t n, cap;
    bool failed;
};

static void put_match(struct abuf *out, struct found *f, size_t start, size_t end,
                      const char *marker)
{
    if (!f) {
        abuf_puts(out, marker);
        return;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 8;
        struct found_span *v = realloc(f->v, cap * sizeof(*v));
        if (!v) {
            f->failed = true;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = (struct found_span){start, end, marker};
    for (size_t i = start; i < end; i++)
        abuf_putc(out, FILLER);
}

/* E-mails, found from each '@' (scrub_email_at). */
static void replace_emails(const char *subj, size_t len, struct abuf *out, struct found *f)
{
    const char *at;
    size_t from = 0, copied = 0, start, end;

    while (from < len && (at = memchr(subj + from, '@', len - from)) != NULL) {
        size_t i = (size_t)(at - subj);
        if (i >= copied && scrub_email_at(subj, len, i, &start, &end) && start >= copied) {
            abuf_append(out, subj + copied, start - copied);
            put_match(out, f, start, end, scrub_detector_at(SCRUB_EMAIL)->marker);
            copied = from = end;
        } else {
            from = i + 1;
        }
    }
    abuf_append(out, subj + copied, len - copied);
}

/* Addresses spelled out ("alice at example dot com", scrub_email_spelled) replaced:
 * false when there is none (out untouched). */
static bool replace_spelled(const char *subj, size_t len, struct abuf *out, struct found *f)
{
    size_t from = 0, copied = 0, start, end;
    bool any = false;

    while (from < len && scrub_email_spelled(subj, len, from, &start, &end)) {
        abuf_append(out, subj + copied, start - copied);
        put_match(out, f, start, end, scrub_detector_at(SCRUB_EMAIL)->marker);
        copied = from = end;
        any = true;
    }
    if (any)
        abuf_append(out, subj + copied, len - copied);
    return any;
}

/* Marker for the detector whose group matched. */
static const char *matched_marker(const struct scrub_state *s, const PCRE2_SIZE *ov)
{
    for (int k = 0; k < SCRUB_NKINDS; k++)
        if (s->group[k] > 0 && ov[2 * s->group[k]] != PCRE2_UNSET)
            return scrub_detector_at((enum scrub_kind)k)->marker;
    return "[REDACTED]";
}

/*
 * Copy subject to out with every non-empty match of code replaced: by `replacement`, or
 * (replacement NULL) by the marker of the detector that matched (put_match: f records
 * it instead). Returns 0, or the PCRE2 error code.
 */
static int replace_all(const struct scrub_state *s, const pcre2_code *code, const char *replacement,
                       size_t rlen, const char *subj, size_t len, struct abuf *out, struct found *f)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    PCRE2_SIZE start = 0, copied = 0;
    uint32_t opts = 0;
    int rc = 0;

    if (!md)
        return PCRE2_ERROR_NOMEMORY;
    while (start <= len) {
        PCRE2_SIZE *ov;
        rc = pcre2_match(code, (PCRE2_SPTR)subj, len, start, opts, md, s->mctx);
        if (rc == PCRE2_ERROR_NOMATCH && opts) {
            /* no non-empty match right here: step over one character */
            opts = 0;
            start += start < len ? utf8_char_len(subj + start, len - start) : 1;
            continue;
        }
        if (rc == PCRE2_ERROR_NOMATCH) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) { /* empty: retry here wanting a non-empty match */
            start = ov[0];
            opts = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
            continue;
        }
        opts = 0;
        abuf_append(out, subj + copied, ov[0] - copied);
        if (replacement)
            abuf_append(out, replacement, rlen);
        else
            put_match(out, f, ov[0], ov[1], matched_marker(s, ov));
        copied = start = ov[1];
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        rc = 0;
    if (rc == 0 && copied < len)
        abuf_append(out, subj + copied, len - copied);
    pcre2_match_data_free(md);
    return rc;
}

/* The detectors, one after the other, each reading the previous one's output: e-mails,
 * spelled addresses, then the regex alternation. *cur: the last output (one of bufs). */
static int run_detectors(const struct scrub_state *s, const char **cur, size_t *cur_len,
                         struct abuf bufs[2], int *which, struct found *f)
{
    int rc = 0;

    if (s->enabled[SCRUB_EMAIL] && memchr(*cur, '@', *cur_len)) {
        abuf_reset(&bufs[*which]);
        replace_emails(*cur, *cur_len, &bufs[*which], f);
        *cur = bufs[*which].data ? bufs[*which].data : "";
        *cur_len = bufs[*which].len;
        *which ^= 1;
    }
    if (s->enabled[SCRUB_EMAIL]) {
        abuf_reset(&bufs[*which]);
        if (replace_spelled(*cur, *cur_len, &bufs[*which], f)) {
            *cur = bufs[*which].data ? bufs[*which].data : "";
            *cur_len = bufs[*which].len;
            *which ^= 1;
        }
    }
    if (s->detect && has_digit(*cur, *cur_len)) {
        abuf_reset(&bufs[*which]);
        rc = replace_all(s, s->detect, NULL, 0, *cur, *cur_len, &bufs[*which], f);
        *cur = bufs[*which].data ? bufs[*which].data : "";
        *cur_len = bufs[*which].len;
        *which ^= 1;
    }
    return rc;
}

static int by_found_start(const void *a, const void *b)
{
    const struct found_span *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* The value with the matches found in its folded copy n replaced by their markers. */
static void replace_found(const struct scrubnorm *n, struct found *f, const char *text, size_t len,
                          struct abuf *out)
{
    size_t copied = 0;

    if (f->n > 1)
        qsort(f->v, f->n, sizeof(*f->v), by_found_start);
    for (size_t i = 0; i < f->n; i++) {
        size_t start = n->src[f->v[i].start], end = n->src[f->v[i].end];
        if (start < copied) /* fillers keep matches apart: never */
            continue;
        abuf_append(out, text + copied, start - copied);
        abuf_puts(out, f->v[i].marker);
        copied = end;
    }
    abuf_append(out, text + copied, len - copied);
}

/* The detectors over a value with characters scrubnorm folds (no-break spaces, dashes,
 * fullwidth forms...): matched in the folded copy, replaced in the value; run_detectors'
 * code. *folded: false when nothing folds (nothing done); *oom: out of memory. */
static int run_detectors_folded(const struct scrub_state *s, const char **cur, size_t *cur_len,
                                struct abuf bufs[2], int *which, bool *folded, bool *oom)
{
    struct scrubnorm norm;
    struct found f = {0};
    const char *ncur;
    size_t nlen;
    int rc;

    *folded = scrubnorm_set(&norm, *cur, *cur_len, oom);
    if (!*folded)
        return 0;
    ncur = norm.text;
    nlen = norm.len;
    rc = run_detectors(s, &ncur, &nlen, bufs, which, &f);
    if (rc == 0 && !f.failed) {
        abuf_reset(&bufs[*which]);
        replace_found(&norm, &f, *cur, *cur_len, &bufs[*which]);
        *cur = bufs[*which].data ? bufs[*which].data : "";
        *cur_len = bufs[*which].len;
        *which ^= 1;
    }
    *oom = f.failed;
    free(f.v);
    scrubnorm_free(&norm);
    return rc;
}

static bool scrub_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                        struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct scrub_state *s = state;
    struct abuf bufs[2];
    const char *cur = in->data;
    size_t cur_len = in->len;
    int rc = 0, which = 0;
    bool overflow, folded = false, oom = false;

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    abuf_init(&bufs[0], out->max);
    abuf_init(&bufs[1], out->max);
    rc = run_detectors_folded(s, &cur, &cur_len, bufs, &which, &folded, &oom);
    if (oom) {
        abuf_free(&bufs[0]);
        abuf_free(&bufs[1]);
        anon_error_set(err, "scrub: out of memory");
        return false;
    }
    if (!folded)
        rc = run_detectors(s, &cur, &cur_len, bufs, &which, NULL);
    /* the row's own values after the detectors, so an address goes as a whole before a
     * name inside it ("o'brien@example.ie") could cut it */
    if (rc == 0 && s->rowvals) {
        abuf_reset(&bufs[which]);
        if (!scrub_rowvals_apply(s->rowvals, ctx, cur, cur_len, &bufs[which], err)) {
            abuf_free(&bufs[0]);
            abuf_free(&bufs[1]);
            return false;
        }
        cur = bufs[which].data ? bufs[which].data : "";
        cur_len = bufs[which].len;
        which ^= 1;
    }
    for (size_t i = 0; rc == 0 && i < s->n_patterns; i++) {
        const struct scrub_pattern *p = &s->patterns[i];
        abuf_reset(&bufs[which]);
        rc = replace_all(s, p->code, p->replacement, p->replacement_len, cur, cur_len, &bufs[which],
                         NULL);
        cur = bufs[which].data ? bufs[which].data : "";
        cur_len = bufs[which].len;
        which ^= 1;
    }
    overflow = abuf_failed(&bufs[0]) || abuf_failed(&bufs[1]);
    if (rc == 0 && !overflow)
        abuf_append(out, cur, cur_len);
    abuf_free(&bufs[0]);
    abuf_free(&bufs[1]);
    if (overflow || rc == PCRE2_ERROR_NOMEMORY || abuf_failed(out)) {
        anon_error_set(err, "scrub: out of memory or output too large");
        return false;
    }
    *out_null = rc != 0; /* a match error: the value is withheld, never passed through */
    if (rc != 0)
        atomic_fetch_add_explicit((atomic_ulong *)&s->withheld, 1, memory_order_relaxed);
    return true;
}

static unsigned long scrub_withheld(const void *state)
{
    const struct scrub_state *s = state;

    return atomic_load_explicit((atomic_ulong *)&s->withheld, memory_order_relaxed);
}

static const struct rule_column_ref *scrub_columns(const void *state, size_t *n)
{
    const struct scrub_state *s = state;

    return scrub_rowvals_refs(s->rowvals, n);
}

const struct rule_ops rule_scrub = {
    .name = "scrub",
    .summary = "replace e-mails, phones, postcodes, cards, NI numbers, IBANs and regexes "
               "found in free text",
    .passthrough = false,
    .parse = scrub_parse,
    .free_state = scrub_free,
    .describe = scrub_describe,
    .output = scrub_output,
    .apply = scrub_apply,
    .columns = scrub_columns,
    .withheld = scrub_withheld,
};
