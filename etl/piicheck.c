/* piicheck.c: personal-data warnings for `check` (see piicheck.h). */
#include "etl/piicheck.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/codec.h"
#include "anonymise/pii.h"
#include "anonymise/rule_json.h"
#include "anonymise/utf8.h"
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

/* The lines of seen ("a\nb\n"), sorted, as ", "-separated text (at most
 * PIICHECK_SHOWN_PATHS, then "and N more"). */
static void list_sorted(struct abuf *seen, struct abuf *lines)
{
    size_t n = 0, k = 0;
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
    for (k = 0; k < n && k < PIICHECK_SHOWN_PATHS; k++)
        abuf_printf(lines, "%s%s", k ? ", " : "", v[k]);
    if (n > k)
        abuf_printf(lines, " and %zu more", n - k);
    free(v);
}

/* One json column over the sampled documents: what no path names, and what a keep
 * publishes whole (paths and plain key names only, never a value). */
static void survey_column(const struct plan_column *col, const char *table, PGresult *res, int c,
                          struct abuf *lines)
{
    struct anon_error err = {0};
    struct abuf seen, whole;
    size_t docs = 0;
    bool ok = true;

    abuf_init(&seen, 1 << 20);
    abuf_init(&whole, 1 << 20);
    for (int r = 0; ok && r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, c))
            continue;
        docs++;
        ok = rule_json_survey(col->rule, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c),
                              &seen, &whole, &err);
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
        abuf_printf(lines, "warning: %s.%s: json keep publishes whole objects or arrays at ", table,
                    col->source->name);
        list_sorted(&whole, lines);
        abuf_puts(lines, ": every key inside, also keys added later; name the keys instead\n");
    }
out:
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

size_t piicheck_table(PGconn *conn, const struct table_plan *plan, struct abuf *lines)
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
    if (!keep || !d) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified,
                    keep ? err.msg : "out of memory");
    } else if (!(res = rowsample_read(conn, keep, PIICHECK_SAMPLE_ROWS, &err))) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified, err.msg);
    } else {
        n = scan_columns(d, keep, res, lines, &err);
    }
    if (!res) /* names at least */
        for (size_t i = 0; keep && i < keep->n_columns; i++) {
            bool failed;
            n += pii_warn_column(NULL, plan->qualified, keep->columns[i].source->name,
                                 keep->columns[i].rule, NULL, 0, lines, &failed, &err);
        }
out:
    n += survey_json(conn, plan, lines);
    PQclear(res);
    pii_detector_free(d);
    plan_free(keep);
    free(idx);
    return n;
}
