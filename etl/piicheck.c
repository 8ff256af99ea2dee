/* piicheck.c: personal-data warnings for `check` (see piicheck.h). */
#include "etl/piicheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/codec.h"
#include "anonymise/pii.h"
#include "anonymise/rule_json.h"
#include "anonymise/utf8.h"
#include "etl/pgconn.h"
#include "etl/rowsample.h"

size_t piicheck_config(const struct config *cfg, struct abuf *lines)
{
    struct anon_error err = {0};
    size_t n = 0;
    bool failed;

    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        char qualified[300];
        snprintf(qualified, sizeof(qualified), "%s.%s", t->schema, t->name);
        for (size_t c = 0; c < t->n_columns; c++)
            n += pii_warn_column(NULL, qualified, t->columns[c].name, &t->columns[c].rule, NULL, 0,
                                 lines, &failed, &err);
    }
    return n;
}

/* A bytea's text form is a backslash, x and hex digits: the detectors would read card or phone
 * numbers in the digit runs of any binary data, and never the text a bytea may hold. The
 * bytes themselves are scanned instead when they are text (well-formed UTF-8, no NUL);
 * other binary values are not scanned (the column's name still is). */
static bool bytea_as_text(const struct codec *bytea, const char *hex, size_t len, struct abuf *out)
{
    size_t start = out->len;

    if (!bytea->from_text(hex, len, out))
        return false;
    for (size_t i = start; i < out->len;) {
        size_t n = utf8_char_len(out->data + i, out->len - i);
        if (out->data[i] == '\0' || ((unsigned char)out->data[i] >= 0x80 && n == 1))
            return false;
        i += n;
    }
    return true;
}

/* The sampled values of column c as the detectors read them (bytea: see above); the bytes
 * of decoded values live in text, which must outlive v. */
static void column_values(const struct plan_column *col, PGresult *res, int c, struct rule_value *v,
                          struct abuf *text)
{
    int rows = PQntuples(res);
    bool is_array, is_bytea = strcmp(col->source->type, "bytea") == 0;
    const struct codec *bytea = is_bytea ? codec_find("bytea", &is_array) : NULL;
    size_t *start = bytea ? calloc((size_t)rows + 1, sizeof(*start)) : NULL;

    abuf_reset(text);
    for (int r = 0; r < rows; r++) {
        v[r] = (struct rule_value){.data = PQgetvalue(res, r, c),
                                   .len = (size_t)PQgetlength(res, r, c),
                                   .is_null = PQgetisnull(res, r, c) != 0};
        if (!is_bytea || v[r].is_null)
            continue;
        if (!start) { /* no memory (or no codec): not scanned rather than read as hex */
            v[r] = (struct rule_value){.is_null = true};
            continue;
        }
        start[r] = text->len;
        if (!bytea_as_text(bytea, v[r].data, v[r].len, text)) {
            text->len = start[r];
            v[r] = (struct rule_value){.is_null = true}; /* binary: not scanned */
        } else
            v[r].len = text->len - start[r];
    }
    for (int r = 0; start && r < rows; r++)
        if (!v[r].is_null && is_bytea)
            v[r] = abuf_failed(text)
                       ? (struct rule_value){.is_null = true}
                       : (struct rule_value){.data = text->data + start[r], .len = v[r].len};
    free(start);
}

static size_t scan_columns(struct pii_detector *d, const struct table_plan *keep, PGresult *res,
                           struct abuf *lines, struct anon_error *err)
{
    int rows = PQntuples(res);
    struct rule_value *v = calloc((size_t)rows + 1, sizeof(*v));
    struct abuf text;
    size_t n = 0;
    bool failed = false;

    if (!v)
        return 0;
    abuf_init(&text, (size_t)1 << 28);
    for (size_t c = 0; c < keep->n_columns && !failed; c++) {
        column_values(&keep->columns[c], res, (int)c, v, &text);
        n += pii_warn_column(d, keep->qualified, keep->columns[c].source->name,
                             keep->columns[c].rule, v, (size_t)rows, lines, &failed, err);
    }
    abuf_free(&text);
    free(v);
    if (failed)
        abuf_printf(lines, "warning: %s: content check stopped: %s\n", keep->qualified, err->msg);
    return n;
}

#define PIICHECK_SHOWN_PATHS 25

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of seen ("a\nb\n"), sorted and each once, as ", "-separated text (at most
 * PIICHECK_SHOWN_PATHS, then "and N more"). */
static void list_sorted(struct abuf *seen, struct abuf *lines)
{
    size_t n = 0, k = 0, shown = 0, unique = 0;
    char **v;

    for (size_t i = 0; i < seen->len; i++)
        n += seen->data[i] == '\n';
    v = calloc(n + 1, sizeof(*v));
    if (!v) {
        abuf_puts(lines, "(out of memory)");
        return;
    }
    for (char *p = seen->data, *nl; k < n; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(seen->data + seen->len - p));
        *nl = '\0';
        v[k++] = p;
    }
    qsort(v, n, sizeof(*v), cmp_str);
    for (k = 0; k < n; k++) {
        if (k > 0 && strcmp(v[k], v[k - 1]) == 0)
            continue;
        unique++;
        if (shown < PIICHECK_SHOWN_PATHS)
            abuf_printf(lines, "%s%s", shown++ ? ", " : "", v[k]);
    }
    if (unique > shown)
        abuf_printf(lines, " and %zu more", unique - shown);
    free(v);
}

/*
 * A key name is shown only when at least PIICHECK_KEY_DOCS of the sampled documents hold
 * it. A key found in fewer may be data: a map keyed by user name, person or e-mail
 * ({"guardians": {"Alice": ...}}) is all plain words, and `check` prints no value. The
 * survey runs twice over the sample: once to count in how many documents each key
 * appears, once to write the paths with the rare keys as "[?]".
 */
#define PIICHECK_KEY_DOCS 5
#define KEY_SLOTS 65536 /* keys beyond 3/4 of it are not counted: shown as [?] */

struct key_slot {
    char *key;
    size_t len;
    unsigned docs, last_doc; /* last_doc: 1 + the document that counted it last */
    int personal;            /* the detectors find something in it: 1, not: 0, unknown: -1 */
};

struct key_counts {
    struct key_slot *slots;
    size_t used;
    unsigned doc;                  /* 1 + the document being counted */
    struct pii_detector *detector; /* NULL: every key is taken for data */
};

static uint32_t key_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

/* The slot of k[0..n), added when `add` and there is room; NULL otherwise. */
static struct key_slot *key_slot(struct key_counts *kc, const char *k, size_t n, bool add)
{
    size_t h = key_hash(k, n) & (KEY_SLOTS - 1);

    for (size_t probe = 0; probe < KEY_SLOTS; probe++, h = (h + 1) & (KEY_SLOTS - 1)) {
        struct key_slot *s = &kc->slots[h];
        if (s->key && s->len == n && memcmp(s->key, k, n) == 0)
            return s;
        if (s->key)
            continue;
        if (!add || kc->used >= KEY_SLOTS / 4 * 3 || !(s->key = malloc(n + 1)))
            return NULL;
        memcpy(s->key, k, n);
        s->key[n] = '\0';
        s->len = n;
        s->personal = -1;
        kc->used++;
        return s;
    }
    return NULL;
}

static void key_counts_free(struct key_counts *kc)
{
    for (size_t i = 0; kc->slots && i < KEY_SLOTS; i++)
        free(kc->slots[i].key);
    free(kc->slots);
    pii_detector_free(kc->detector);
}

/* Length of the key of a ".key" segment whose name starts at p (before end). */
static size_t key_len(const char *p, const char *end)
{
    size_t n = 0;

    while (p + n < end && p[n] != '.' && p[n] != '[' && p[n] != '\n')
        n++;
    return n;
}

/* Pass 1: every key of the survey lines lines[0..len), counted once for this document. */
static void count_keys(struct key_counts *kc, const char *lines, size_t len)
{
    const char *end = lines + len;

    for (const char *p = lines; p < end; p++) {
        struct key_slot *s;
        size_t n;
        if (*p != '.')
            continue;
        n = key_len(p + 1, end);
        s = key_slot(kc, p + 1, n, true);
        if (s && s->last_doc != kc->doc) {
            s->docs++;
            s->last_doc = kc->doc;
        }
        p += n;
    }
}

/*
 * Whether a key common to the sample is shown all the same as "[?]": a value the
 * detectors recognise (an e-mail address, a postcode, a National Insurance number, an
 * IBAN) is data whatever its count: one person's records keyed by their own number
 * ({"claims": {"QQ123456C": ...}}) are several documents. Asked once per key; a
 * detector that cannot answer hides the key.
 */
static bool key_personal(struct key_counts *kc, struct key_slot *s)
{
    struct anon_error err;
    bool holds = true;

    if (s->personal < 0)
        s->personal =
            !kc->detector || !pii_text_holds(kc->detector, s->key, s->len, &holds, &err) || holds;
    return s->personal != 0;
}

/* Pass 2: the lines lines[0..len) appended to out, rare keys and keys that are values
 * the detectors recognise written as "[?]". */
static void mask_rare_keys(struct key_counts *kc, const char *lines, size_t len, struct abuf *out)
{
    const char *end = lines + len;

    for (const char *p = lines; p < end; p++) {
        struct key_slot *s;
        size_t n;
        if (*p != '.') {
            abuf_putc(out, *p);
            continue;
        }
        n = key_len(p + 1, end);
        s = key_slot(kc, p + 1, n, false);
        if (s && s->docs >= PIICHECK_KEY_DOCS && !key_personal(kc, s))
            abuf_append(out, p, n + 1);
        else
            abuf_puts(out, "[?]");
        p += n;
    }
}

/* The survey of one document into seen and whole (pass 2) or into the counts (pass 1). */
static bool survey_doc(const struct plan_column *col, const char *doc, size_t len,
                       struct key_counts *kc, bool counting, struct abuf *seen, struct abuf *whole,
                       struct anon_error *err)
{
    struct abuf s, w;
    bool ok;

    abuf_init(&s, 1 << 20);
    abuf_init(&w, 1 << 20);
    ok = rule_json_survey(col->rule, doc, len, &s, &w, err) && !abuf_failed(&s) && !abuf_failed(&w);
    if (ok && counting) {
        count_keys(kc, s.data ? s.data : "", s.len);
        count_keys(kc, w.data ? w.data : "", w.len);
    } else if (ok) {
        mask_rare_keys(kc, s.data ? s.data : "", s.len, seen);
        mask_rare_keys(kc, w.data ? w.data : "", w.len, whole);
    }
    if (!ok && !err->msg[0])
        anon_error_set(err, "out of memory");
    abuf_free(&s);
    abuf_free(&w);
    return ok;
}

/* One json column over the sampled documents: what no path names, and the objects a plain
 * keep meets (paths and key names common to the sample only, never a value). */
static void survey_column(const struct plan_column *col, const char *table, PGresult *res, int c,
                          struct abuf *lines)
{
    struct anon_error err = {0};
    struct anon_error detector_err;
    struct key_counts kc = {.slots = calloc(KEY_SLOTS, sizeof(struct key_slot)),
                            .detector = pii_detector_new(&detector_err)}; /* NULL: keys hidden */
    struct abuf seen, whole;
    size_t docs = 0;
    bool ok = kc.slots != NULL;

    abuf_init(&seen, 1 << 20);
    abuf_init(&whole, 1 << 20);
    for (int pass = 0; pass < 2; pass++)
        for (int r = 0; ok && r < PQntuples(res); r++) {
            if (PQgetisnull(res, r, c))
                continue;
            if (pass == 1)
                docs++;
            kc.doc = (unsigned)r + 1;
            ok = survey_doc(col, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c), &kc,
                            pass == 0, &seen, &whole, &err);
        }
    if (!ok || abuf_failed(&seen) || abuf_failed(&whole)) {
        abuf_printf(lines, "warning: %s.%s: json survey stopped: %s\n", table, col->source->name,
                    err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    if (seen.len > 0) {
        abuf_printf(lines, "%s: %s.%s: in %zu sampled documents, no json path names ",
                    rule_json_keeps_others(col->rule) ? "warning" : "note", table,
                    col->source->name, docs);
        list_sorted(&seen, lines);
        abuf_puts(lines, rule_json_keeps_others(col->rule)
                             ? ": published as they are (others: keep)\n"
                             : ": dropped (others: drop)\n");
    }
    if (whole.len > 0) {
        abuf_printf(lines, "warning: %s.%s: json keep finds objects at ", table, col->source->name);
        list_sorted(&whole, lines);
        abuf_puts(lines, ": published as null (a keep publishes values and arrays of values; "
                         "name the keys inside, or review the keep, keep: { reviewed: \"why\" }, "
                         "to publish every key, also keys added later)\n");
    }
out:
    key_counts_free(&kc);
    abuf_free(&seen);
    abuf_free(&whole);
}

/* The json columns of plan: the names-only warnings, then the survey of a sample. */
static size_t survey_json(PGconn *conn, const struct table_plan *plan, struct abuf *lines)
{
    size_t *idx = calloc(plan->n_columns + 1, sizeof(*idx)), n = 0, warned = 0;
    struct table_plan *js = NULL;
    struct anon_error err = {0};
    PGresult *res = NULL;
    bool failed;

    for (size_t c = 0; idx && c < plan->n_columns; c++) {
        if (rule_json_n_paths(plan->columns[c].rule) == 0)
            continue;
        warned += pii_warn_column(NULL, plan->qualified, plan->columns[c].source->name,
                                  plan->columns[c].rule, NULL, 0, lines, &failed, &err);
        if (!plan->columns[c].per_element) /* arrays of json: not surveyed */
            idx[n++] = c;
    }
    if (n > 0 && (js = plan_project(plan, idx, n)) != NULL &&
        (res = rowsample_read(conn, js, PIICHECK_SAMPLE_ROWS, &err)) != NULL)
        for (size_t i = 0; i < n; i++)
            survey_column(&js->columns[i], plan->qualified, res, (int)i, lines);
    else if (n > 0)
        abuf_printf(lines, "warning: %s: json survey not done: %s\n", plan->qualified,
                    err.msg[0] ? err.msg : "out of memory");
    PQclear(res);
    plan_free(js);
    free(idx);
    return warned;
}

/* Each stored generated column of the table and the columns its expression reads (the
 * normal dependencies of its pg_attrdef entry: the internal one is the column itself). */
static const char generated_sql[] =
    "SELECT a.attname, r.attname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attgenerated = 's' "
    "  AND NOT a.attisdropped "
    "JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
    "JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass "
    "  AND dep.objid = d.oid AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "  AND dep.refobjid = c.oid AND dep.refobjsubid > 0 AND dep.deptype = 'n' "
    "JOIN pg_catalog.pg_attribute r ON r.attrelid = c.oid AND r.attnum = dep.refobjsubid "
    "WHERE n.nspname = $1 AND c.relname = $2 ORDER BY a.attnum, r.attnum";

static const struct plan_column *planned(const struct table_plan *plan, const char *name)
{
    for (size_t c = 0; c < plan->n_columns; c++)
        if (strcmp(plan->columns[c].source->name, name) == 0)
            return &plan->columns[c];
    return NULL;
}

static bool unreviewed_keep(const struct plan_column *pc)
{
    return pc && strcmp(pc->rule->ops->name, "keep") == 0 && !rule_keep_reviewed(pc->rule);
}

/*
 * A keep on a stored generated column computed from a column another rule hides
 * (`search tsvector GENERATED ALWAYS AS (to_tsvector(notes))` kept, notes suppressed;
 * `email_domain` from a hashed email; `name_upper`): it publishes what its expression
 * derives from them, which the policy did not allow, and the content detectors know no
 * names (a tsvector of a note is its words). Refused like a personal-looking keep, naming
 * the columns and their rules, until the keep records its review.
 */
static size_t warn_generated(PGconn *conn, const struct table_plan *plan, struct abuf *lines)
{
    const char *params[2] = {plan->cfg->schema, plan->cfg->name};
    struct anon_error err = {0};
    PGresult *res = NULL;
    struct abuf from;
    size_t n = 0;
    bool any = false;

    for (size_t c = 0; c < plan->n_columns && !any; c++)
        any = unreviewed_keep(&plan->columns[c]);
    if (!any)
        return 0;
    res = pgconn_query(conn, generated_sql, 2, params, PGRES_TUPLES_OK, &err);
    if (!res) {
        abuf_printf(lines, "warning: %s: generated columns not checked: %s\n", plan->qualified,
                    err.msg);
        return 0;
    }
    abuf_init(&from, 1 << 16);
    for (int r = 0; r < PQntuples(res); r++) {
        const char *gen = PQgetvalue(res, r, 0);
        const struct plan_column *g = planned(plan, gen),
                                 *src = planned(plan, PQgetvalue(res, r, 1));
        bool last = r + 1 == PQntuples(res) || strcmp(PQgetvalue(res, r + 1, 0), gen) != 0;
        if (unreviewed_keep(g) && src && strcmp(src->rule->ops->name, "keep") != 0)
            abuf_printf(&from, "%s%s (%s)", from.len ? ", " : "", src->source->name,
                        src->rule->ops->name);
        if (!last)
            continue;
        if (from.len > 0) {
            abuf_printf(lines,
                        "warning: %s.%s: rule keep on a generated column computed from %s: it "
                        "publishes what its expression derives from them, which their rules "
                        "hide; give it a rule as strict, or review the keep\n",
                        plan->qualified, gen, abuf_cstr(&from));
            n++;
        }
        abuf_reset(&from);
    }
    abuf_free(&from);
    PQclear(res);
    return n;
}

size_t piicheck_table(PGconn *conn, const struct table_plan *plan, struct abuf *lines,
                      size_t *not_done)
{
    struct anon_error err = {0};
    struct pii_detector *d = NULL;
    struct table_plan *keep = NULL;
    size_t *idx = calloc(plan->n_columns + 1, sizeof(*idx)), n_keep = 0, n = 0;
    PGresult *res = NULL;

    for (size_t c = 0; idx && c < plan->n_columns; c++)
        if (strcmp(plan->columns[c].rule->ops->name, "keep") == 0 &&
            !rule_keep_reviewed(plan->columns[c].rule))
            idx[n_keep++] = c;
    if (n_keep == 0)
        goto out;
    keep = plan_project(plan, idx, n_keep);
    d = pii_detector_new(&err);
    /* A content check not done is a review not done (fail closed: check --source said
     * "ok" over a thousand such lines and the run copied on): its columns are counted in
     * *not_done, which check --source and run refuse as the source error it is (exit 4).
     * A reviewed keep is not sampled. */
    if (!keep || !d) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified,
                    keep ? err.msg : "out of memory");
    } else if (!(res = rowsample_read(conn, keep, PIICHECK_SAMPLE_ROWS, &err))) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified, err.msg);
    } else {
        n = scan_columns(d, keep, res, lines, &err);
    }
    if (!res && not_done)
        *not_done += n_keep;
    if (!res) /* names at least */
        for (size_t i = 0; keep && i < keep->n_columns; i++) {
            bool failed;
            n += pii_warn_column(NULL, plan->qualified, keep->columns[i].source->name,
                                 keep->columns[i].rule, NULL, 0, lines, &failed, &err);
        }
out:
    n += warn_generated(conn, plan, lines);
    n += survey_json(conn, plan, lines);
    PQclear(res);
    pii_detector_free(d);
    plan_free(keep);
    free(idx);
    return n;
}
