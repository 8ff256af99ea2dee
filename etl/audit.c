/*
 * audit.c: the leak audit (see audit.h): sampling the source, scanning the rows about to
 * be published, the report, and `anonetl audit`.
 *
 * Why the rows are scanned on their way to the target and not searched there with SQL:
 * containment of thousands of values in free text has no fast SQL form without an index
 * (one regular expression alternating 2,600 sampled values over 1 M rows of notes did
 * not finish in 15 minutes; LIKE per value costs values x rows). The workers already hold
 * every row: scanning it with leakset's index costs a bit test per 5 bytes of text.
 */
#include "etl/audit.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/hmac.h"
#include "anonymise/keystrength.h"
#include "anonymise/leakset.h"
#include "anonymise/pgarray.h"
#include "anonymise/rule_json.h"
#include "etl/copytext.h"
#include "etl/exitcode.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/pgerror.h"
#include "etl/secret.h"
#include "etl/sourcesnap.h"

#define AUDIT_VALUE_MAX ((size_t)1 << 30)
#define RESYNC_BYTES 8  /* bytes of output that must match again after a difference */
#define RESYNC_SPAN 64  /* longest replacement looked for (scrub's "[EMAIL]", masks) */
#define SAMPLE_OVER 4.0 /* rows read by TABLESAMPLE per row kept */

/* How a published column is searched. */
enum scan_mode { SCAN_SKIP = 0, SCAN_EQUAL, SCAN_TEXT /* equality, and inside text */ };
/* How its binary COPY form becomes text. */
enum bin_form { BIN_RAW = 0, BIN_JSONB, BIN_INT, BIN_UUID, BIN_INET };

struct audit_column {
    const char *name;
    const struct rule *rule; /* NULL: a published column the config does not name */
    enum scan_mode mode;
    enum bin_form bin;
    atomic_uint_fast64_t hits;
    atomic_uint first_origin; /* origin + 1 of the first value found, 0 = none */
};

/* The rows written for one table (run), or one published view (`anonetl audit`). */
struct audit_table {
    const char *qualified;
    struct audit_column *columns;
    size_t n_columns;
    bool binary;
    atomic_uint_fast64_t rows;
};

/* Where a sampled value comes from: a column of a planned table. */
struct origin {
    size_t table, column;
};

struct audit {
    const struct table_plan **plans;
    size_t n;
    int sample;
    struct leakset *set;
    struct origin *origins;
    size_t *origin_base; /* first origin of each table */
    size_t n_origins;
    struct audit_table *tables; /* one per plan (run), filled by audit_new */
    uint64_t sampled;
};

struct audit_scanner {
    struct audit *a;
    struct audit_table *t;
    struct copytext_field *fields;
    struct abuf scratch;
    uint64_t rows;
};

/* ------------------------------------------------------------ types */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The element type of "text[]" into buf; false when type is not an array. */
static bool array_element(const char *type, char *buf, size_t size)
{
    size_t n = strlen(type);

    if (n < 3 || strcmp(type + n - 2, "[]") != 0 || n - 2 >= size)
        return false;
    memcpy(buf, type, n - 2);
    buf[n - 2] = '\0';
    return true;
}

static bool is_text_type(const char *t)
{
    return strcmp(t, "text") == 0 || starts_with(t, "character") || strcmp(t, "name") == 0 ||
           strcmp(t, "citext") == 0 || strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0 ||
           strcmp(t, "xml") == 0;
}

static bool is_integer_type(const char *t)
{
    return strcmp(t, "smallint") == 0 || strcmp(t, "integer") == 0 || strcmp(t, "bigint") == 0;
}

static bool is_address_type(const char *t)
{
    return strcmp(t, "inet") == 0 || strcmp(t, "cidr") == 0;
}

/* How a published column of this type is searched (binary form into *bin). */
static enum scan_mode scan_mode_of(const char *type, enum bin_form *bin)
{
    char elem[128];

    *bin = BIN_RAW;
    if (array_element(type, elem, sizeof(elem)))
        return is_text_type(elem) ? SCAN_TEXT : SCAN_SKIP; /* binary: elements are raw */
    if (is_text_type(type)) {
        *bin = strcmp(type, "jsonb") == 0 ? BIN_JSONB : BIN_RAW;
        return SCAN_TEXT;
    }
    if (is_integer_type(type)) {
        *bin = BIN_INT;
        return SCAN_EQUAL;
    }
    if (strcmp(type, "uuid") == 0) {
        *bin = BIN_UUID;
        return SCAN_EQUAL;
    }
    if (is_address_type(type)) {
        *bin = BIN_INET;
        return SCAN_EQUAL;
    }
    return SCAN_SKIP;
}

/* Which source columns are sampled, and as what: dates, times, booleans, bytes and
 * other types are not (a date is never searched, see leakset.h). */
enum sample_form { SAMPLE_NONE = 0, SAMPLE_VALUE, SAMPLE_JSON, SAMPLE_ARRAY };

static enum sample_form sample_form_of(const char *type, enum leakset_class *cls)
{
    char elem[128];
    bool array = array_element(type, elem, sizeof(elem));
    const char *t = array ? elem : type;

    *cls = is_integer_type(t) ? LEAKSET_INTEGER : LEAKSET_TEXT;
    if (!array && (strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0))
        return SAMPLE_JSON;
    if (!(is_text_type(t) || is_integer_type(t) || is_address_type(t) || strcmp(t, "uuid") == 0 ||
          strcmp(t, "numeric") == 0 || starts_with(t, "numeric(") || strcmp(t, "real") == 0 ||
          strcmp(t, "double precision") == 0 || strcmp(t, "macaddr") == 0))
        return SAMPLE_NONE;
    return array ? SAMPLE_ARRAY : SAMPLE_VALUE;
}

/* ------------------------------------------------------------ lifetime */

static bool table_init(struct audit_table *t, const struct table_plan *plan)
{
    t->qualified = plan->qualified;
    t->binary = plan->binary;
    t->n_columns = plan->n_columns;
    t->columns = calloc(plan->n_columns + 1, sizeof(*t->columns));
    if (!t->columns)
        return false;
    for (size_t i = 0; i < plan->n_columns; i++) {
        struct audit_column *c = &t->columns[i];
        const struct plan_column *pc = &plan->columns[i];
        c->name = pc->source->name;
        c->rule = pc->rule;
        c->mode = pc->rule->ops->hides_input ? SCAN_SKIP : scan_mode_of(pc->output.type, &c->bin);
    }
    return true;
}

struct audit *audit_new(const struct table_plan *const *plans, size_t n, int sample)
{
    struct audit *a = calloc(1, sizeof(*a));
    size_t k = 0;

    if (!a)
        return NULL;
    a->n = n;
    a->sample = sample > 0 ? sample : AUDIT_DEFAULT_SAMPLE;
    a->plans = calloc(n + 1, sizeof(*a->plans));
    a->tables = calloc(n + 1, sizeof(*a->tables));
    a->origin_base = calloc(n + 1, sizeof(*a->origin_base));
    a->set = leakset_new();
    for (size_t t = 0; t < n; t++)
        a->n_origins += plans[t]->n_columns;
    a->origins = calloc(a->n_origins + 1, sizeof(*a->origins));
    if (!a->plans || !a->tables || !a->origin_base || !a->set || !a->origins) {
        audit_free(a);
        return NULL;
    }
    for (size_t t = 0; t < n; t++) {
        a->plans[t] = plans[t];
        a->origin_base[t] = k;
        for (size_t c = 0; c < plans[t]->n_columns; c++)
            a->origins[k++] = (struct origin){.table = t, .column = c};
        if (!table_init(&a->tables[t], plans[t])) {
            audit_free(a);
            return NULL;
        }
    }
    return a;
}

void audit_free(struct audit *a)
{
    if (!a)
        return;
    for (size_t t = 0; a->tables && t < a->n; t++)
        free(a->tables[t].columns);
    free(a->tables);
    free(a->plans);
    free(a->origins);
    free(a->origin_base);
    leakset_free(a->set);
    free(a);
}

/* ------------------------------------------------------------ sampling */

/* A sampled row, for rules that read other columns (date_shift `by:`, scrub
 * `row_values:`): the values of one PGresult row. */
struct rule_row {
    const struct table_plan *plan;
    struct rule_value *values;
};

static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    size_t i = plan_column_index(row->plan, name);

    return i == (size_t)-1 ? NULL : &row->values[i];
}

/* Strings kept while comparing an input with an output (wiped: source values). */
struct strlist {
    char **items;
    size_t n, cap;
};

static bool strlist_add(struct strlist *l, const char *s, size_t n)
{
    char *copy;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **t = realloc(l->items, cap * sizeof(*t));
        if (!t)
            return false;
        l->items = t;
        l->cap = cap;
    }
    if (!(copy = malloc(n + 1)))
        return false;
    memcpy(copy, s, n);
    copy[n] = '\0';
    l->items[l->n++] = copy;
    return true;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        OPENSSL_cleanse(l->items[i], strlen(l->items[i]));
        free(l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add each string of `in` that `out` does not hold. */
static bool add_missing(struct audit *a, struct strlist *in, struct strlist *out,
                        enum leakset_class cls, uint32_t origin, struct anon_error *err)
{
    if (out->n)
        qsort(out->items, out->n, sizeof(*out->items), cmp_str);
    for (size_t i = 0; i < in->n; i++) {
        if (out->n && bsearch(&in->items[i], out->items, out->n, sizeof(*out->items), cmp_str))
            continue;
        if (!leakset_add(a->set, in->items[i], strlen(in->items[i]), cls, origin, err))
            return false;
    }
    return true;
}

/* The string leaves of a JSON document (object keys are not: they name, rarely hold). */
static bool json_leaves(const json_t *j, struct strlist *out, int depth)
{
    const char *key;
    json_t *v;
    size_t i;

    if (depth > 64)
        return true;
    switch (json_typeof(j)) {
    case JSON_STRING:
        return strlist_add(out, json_string_value(j), json_string_length(j));
    case JSON_OBJECT:
        json_object_foreach((json_t *)j, key, v)
        {
            if (!json_leaves(v, out, depth + 1))
                return false;
        }
        return true;
    case JSON_ARRAY:
        json_array_foreach(j, i, v)
        {
            if (!json_leaves(v, out, depth + 1))
                return false;
        }
        return true;
    default:
        return true;
    }
}

static bool parse_leaves(const char *s, size_t n, struct strlist *out)
{
    json_error_t jerr;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    bool ok;

    if (!j)
        return true; /* not readable: no leaves (the input then gives none to sample) */
    ok = json_leaves(j, out, 0);
    json_decref(j);
    return ok;
}

/* A key rule_json_survey shows by name (its "plain" keys); others are "[?]". */
static bool plain_key(const char *k, size_t n)
{
    if (n == 0 || n > 40 ||
        !((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || k[i] == '_' ||
              (k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
            return false;
    return true;
}

/* The string leaves under the place `path` ("$.a.b", "[?]", "[*]", "[3]" steps, as
 * rule_json_survey writes them) of j. */
static bool leaves_at(const json_t *j, const char *path, struct strlist *out, int depth)
{
    const char *key, *end;
    json_t *v;
    size_t i;

    if (depth > 64)
        return true;
    if (*path == '\0')
        return json_leaves(j, out, depth);
    if (path[0] == '.') {
        end = path + 1 + strcspn(path + 1, ".[");
        v = json_is_object(j) ? json_object_getn(j, path + 1, (size_t)(end - path - 1)) : NULL;
        return !v || leaves_at(v, end, out, depth + 1);
    }
    if (path[0] != '[' || !(end = strchr(path, ']')))
        return true;
    if (strncmp(path, "[?]", 3) == 0 && json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            if (!plain_key(key, strlen(key)) && !leaves_at(v, end + 1, out, depth + 1))
                return false;
        }
    } else if (strncmp(path, "[*]", 3) == 0 && json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (!leaves_at(v, end + 1, out, depth + 1))
                return false;
        }
    } else if (json_is_array(j) && path[1] >= '0' && path[1] <= '9') {
        v = json_array_get(j, strtoul(path + 1, NULL, 10));
        return !v || leaves_at(v, end + 1, out, depth + 1);
    }
    return true;
}

/*
 * A json rule with `others: keep` publishes what no path names as it is. The audit
 * treats those values as hidden all the same: a path left out is the leak it must see,
 * and a key that may be published is named (`"$.status": keep`).
 */
static bool add_unnamed_leaves(struct audit *a, const struct rule *rule,
                               const struct rule_value *in, uint32_t origin, struct anon_error *err)
{
    struct abuf seen, whole;
    struct strlist leaves = {0};
    json_error_t jerr;
    json_t *doc;
    bool ok = true;

    if (!rule_json_keeps_others(rule))
        return true;
    abuf_init(&seen, AUDIT_VALUE_MAX);
    abuf_init(&whole, AUDIT_VALUE_MAX);
    doc = json_loadb(in->data, in->len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                     &jerr);
    if (doc && rule_json_survey(rule, in->data, in->len, &seen, &whole, err)) {
        const char *p = abuf_cstr(&seen), *nl;
        for (; ok && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
            char place[4096];
            size_t n = (size_t)(nl - p);
            if (n == 0 || n >= sizeof(place) || p[0] != '$')
                continue;
            memcpy(place, p + 1, n - 1);
            place[n - 1] = '\0';
            ok = leaves_at(doc, place, &leaves, 0);
        }
        for (size_t i = 0; ok && i < leaves.n; i++)
            ok = leakset_add(a->set, leaves.items[i], strlen(leaves.items[i]), LEAKSET_TEXT, origin,
                             err);
    } else if (doc) {
        ok = false;
    }
    json_decref(doc);
    strlist_free(&leaves);
    abuf_free_secret(&seen);
    abuf_free_secret(&whole);
    return ok;
}

static bool collect_element(void *arg, const struct rule_value *elem, struct abuf *out,
                            bool *out_null, struct anon_error *err)
{
    (void)err;
    *out_null = elem->is_null;
    return elem->is_null || (strlist_add(arg, elem->data, elem->len) && !abuf_failed(out));
}

static bool parse_elements(const char *s, size_t n, struct strlist *out, struct anon_error *err)
{
    struct abuf ignored;
    enum pgarray_status st;

    abuf_init(&ignored, AUDIT_VALUE_MAX);
    st = pgarray_map(s, n, ',', collect_element, out, &ignored, err);
    abuf_free_secret(&ignored);
    return st != PGARRAY_ERROR;
}

/* The parts of `in` that `out` no longer holds: walk both, and after each difference
 * find where they agree again (the next RESYNC_BYTES of the output further on in the
 * input, or the output's end as the input's end). What scrub replaced, what mask hid. */
static bool add_removed_parts(struct audit *a, const char *in, size_t n, const char *out, size_t m,
                              enum leakset_class cls, uint32_t origin, struct anon_error *err)
{
    size_t i = 0, j = 0;

    while (i < n) {
        size_t next_i = n, next_j = m;
        while (i < n && j < m && in[i] == out[j])
            i++, j++;
        if (i >= n)
            break;
        for (size_t b = 0; b <= RESYNC_SPAN && j + b <= m; b++) {
            size_t left = m - j - b;
            const char *hit;
            if (left == 0)
                break; /* the output ends: the rest of the input is gone */
            if (left < RESYNC_BYTES) {
                if (n - i >= left && memcmp(in + n - left, out + j + b, left) == 0) {
                    next_i = n - left;
                    next_j = j + b;
                    break;
                }
                continue;
            }
            hit = memmem(in + i, n - i, out + j + b, RESYNC_BYTES);
            if (hit) {
                next_i = (size_t)(hit - in);
                next_j = j + b;
                break;
            }
        }
        if (next_i > i && next_i - i < n &&
            !leakset_add(a->set, in + i, next_i - i, cls, origin, err))
            return false;
        i = next_i;
        j = next_j;
    }
    return true;
}

/* What the rule hid of one value: see audit.h. */
static bool add_hidden(struct audit *a, const struct rule *rule, enum sample_form form,
                       enum leakset_class cls, const struct rule_value *in, const struct abuf *out,
                       bool out_null, uint32_t origin, struct anon_error *err)
{
    const char *o = out->data ? out->data : "";
    struct strlist ins = {0}, outs = {0};
    bool ok = true;

    if (form == SAMPLE_JSON || form == SAMPLE_ARRAY) {
        if (form == SAMPLE_JSON)
            ok = parse_leaves(in->data, in->len, &ins) &&
                 (out_null || parse_leaves(o, out->len, &outs));
        else
            ok = parse_elements(in->data, in->len, &ins, err) &&
                 (out_null || parse_elements(o, out->len, &outs, err));
        ok = ok && add_missing(a, &ins, &outs, cls, origin, err) &&
             (form != SAMPLE_JSON || add_unnamed_leaves(a, rule, in, origin, err));
        strlist_free(&ins);
        strlist_free(&outs);
        return ok;
    }
    if (!out_null && out->len == in->len && memcmp(o, in->data, in->len) == 0)
        return true; /* published as it is: this rule does not hide it */
    return leakset_add(a->set, in->data, in->len, cls, origin, err) &&
           (out_null || add_removed_parts(a, in->data, in->len, o, out->len, cls, origin, err));
}

static bool apply_rule(const struct plan_column *col, const struct rule_ctx *ctx,
                       const struct rule_value *in, struct abuf *out, bool *out_null,
                       struct anon_error *err)
{
    const struct rule *rule = col->rule;

    abuf_reset(out);
    *out_null = false;
    if (col->per_element ? !pgarray_apply_rule(rule->ops, rule->state, ctx, in, out, out_null, err)
                         : !rule->ops->apply(rule->state, ctx, in, out, out_null, err))
        return false;
    if (abuf_failed(out)) {
        anon_error_set(err, "leak audit: %s.%s: rule output too large", col->source->name,
                       rule->ops->name);
        return false;
    }
    return true;
}

/* SELECT every column FROM t [TABLESAMPLE SYSTEM (pct)] ORDER BY random() LIMIT n */
static bool sample_sql(PGconn *src, const struct table_plan *plan, double pct, int n,
                       struct abuf *sql)
{
    abuf_reset(sql);
    abuf_puts(sql, "SELECT ");
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(src, plan->columns[i].source->name, sql);
    }
    abuf_puts(sql, " FROM ");
    pgconn_quote_ident(src, plan->cfg->schema, sql);
    abuf_putc(sql, '.');
    pgconn_quote_ident(src, plan->cfg->name, sql);
    if (pct < 100)
        abuf_printf(sql, " TABLESAMPLE SYSTEM (%.6f)", pct);
    abuf_printf(sql, " ORDER BY pg_catalog.random() LIMIT %d", n);
    return !abuf_failed(sql);
}

/* N rows of the table at random: TABLESAMPLE SYSTEM reads about SAMPLE_OVER x N rows
 * (whole pages at random, so the cost does not grow with the table), then N of them are
 * kept at random. Too few (stale statistics): again with a larger share. */
static PGresult *sample_rows(PGconn *src, const struct table_plan *plan, int n,
                             struct anon_error *err)
{
    double est = plan->catalog->est_rows, pct = 100;
    struct abuf sql;
    PGresult *res = NULL;

    /* Never analyzed (reltuples -1): guess from its size, at 64 bytes a row (too many
     * rows guessed only means a second, larger sample below). */
    if (est <= 0 && plan->catalog->est_bytes > 0)
        est = (double)plan->catalog->est_bytes / 64;
    if (est > SAMPLE_OVER * 4 * n)
        pct = 100.0 * SAMPLE_OVER * n / est;
    /* No size known (a partitioned table's parent): start with 1% of its pages. Views and
     * foreign tables have no TABLESAMPLE: they are read whole (ORDER BY random()). */
    if (est <= 0 && strchr("rmp", plan->catalog->relkind))
        pct = 1;
    abuf_init(&sql, 1 << 20);
    for (;;) {
        if (!sample_sql(src, plan, pct, n, &sql)) {
            anon_error_set(err, "leak audit: %s: query too long", plan->qualified);
            break;
        }
        res = pgconn_query(src, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
        if (!res || PQntuples(res) >= n || pct >= 100)
            break;
        PQclear(res);
        res = NULL;
        pct = pct * 8 < 100 ? pct * 8 : 100;
    }
    abuf_free(&sql);
    return res;
}

static bool sample_table(struct audit *a, size_t t, PGconn *src, const struct rule_ctx *base,
                         struct anon_error *err)
{
    const struct table_plan *plan = a->plans[t];
    struct rule_row row = {.plan = plan};
    struct rule_ctx ctx = *base;
    enum leakset_class cls;
    struct abuf out;
    PGresult *res;
    bool any = false, ok = true;

    for (size_t c = 0; c < plan->n_columns; c++)
        any = any || (!plan->columns[c].rule->ops->passthrough &&
                      sample_form_of(plan->columns[c].source->type, &cls) != SAMPLE_NONE);
    if (!any)
        return true;
    if (!(res = sample_rows(src, plan, a->sample, err)))
        return false;
    row.values = calloc(plan->n_columns + 1, sizeof(*row.values));
    abuf_init(&out, AUDIT_VALUE_MAX);
    ctx.column = row_column;
    ctx.row = &row;
    for (int r = 0; ok && row.values && r < PQntuples(res); r++) {
        for (size_t c = 0; c < plan->n_columns; c++)
            row.values[c] = (struct rule_value){.data = PQgetvalue(res, r, (int)c),
                                                .len = (size_t)PQgetlength(res, r, (int)c),
                                                .is_null = PQgetisnull(res, r, (int)c)};
        for (size_t c = 0; ok && c < plan->n_columns; c++) {
            const struct plan_column *col = &plan->columns[c];
            enum sample_form form = sample_form_of(col->source->type, &cls);
            bool out_null;
            if (col->rule->ops->passthrough || form == SAMPLE_NONE || row.values[c].is_null)
                continue;
            ok = apply_rule(col, &ctx, &row.values[c], &out, &out_null, err) &&
                 add_hidden(a, col->rule, form, cls, &row.values[c], &out, out_null,
                            (uint32_t)(a->origin_base[t] + c), err);
        }
    }
    if (!row.values) {
        anon_error_set(err, "out of memory");
        ok = false;
    }
    abuf_free_secret(&out);
    free(row.values);
    PQclear(res);
    return ok;
}

bool audit_sample(struct audit *a, PGconn *source, const struct rule_ctx *ctx,
                  struct anon_error *err)
{
    for (size_t t = 0; t < a->n; t++)
        if (!sample_table(a, t, source, ctx, err))
            return false;
    if (!leakset_build(a->set, err))
        return false;
    a->sampled = leakset_count(a->set);
    return true;
}

uint64_t audit_sampled(const struct audit *a)
{
    return a->sampled;
}

/* ------------------------------------------------------------ scanning */

static struct audit_scanner *scanner_new(struct audit *a, struct audit_table *t)
{
    struct audit_scanner *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->a = a;
    s->t = t;
    s->fields = calloc(t->n_columns + 1, sizeof(*s->fields));
    abuf_init(&s->scratch, AUDIT_VALUE_MAX);
    if (!s->fields) {
        audit_scanner_free(s);
        return NULL;
    }
    return s;
}

struct audit_scanner *audit_scanner_new(struct audit *a, const struct table_plan *plan)
{
    for (size_t t = 0; a && t < a->n; t++)
        if (a->plans[t]->cfg == plan->cfg)
            return scanner_new(a, &a->tables[t]);
    return NULL;
}

void audit_scanner_free(struct audit_scanner *s)
{
    if (!s)
        return;
    atomic_fetch_add(&s->t->rows, s->rows);
    abuf_free_secret(&s->scratch);
    free(s->fields);
    free(s);
}

static void look_up(struct audit_scanner *s, struct audit_column *c, const char *v, size_t n)
{
    uint32_t origin;
    unsigned none = 0;

    if (!leakset_find(s->a->set, v, n, c->mode == SCAN_TEXT, &origin))
        return;
    atomic_fetch_add(&c->hits, 1);
    atomic_compare_exchange_strong(&c->first_origin, &none, origin + 1);
}

static long long be_int(const unsigned char *p, size_t n)
{
    unsigned long long v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    if (n < 8 && (p[0] & 0x80))
        v |= ~0ull << (8 * n); /* sign extension */
    return (long long)v;
}

/* The text form of a binary field, in buf, or NULL when it has none worth searching. */
static const char *binary_text(enum bin_form form, const char *data, size_t len, char *buf,
                               size_t size, size_t *n)
{
    const unsigned char *u = (const unsigned char *)data;
    long long i;
    int k = -1;

    switch (form) {
    case BIN_RAW:
        *n = len;
        return data;
    case BIN_JSONB:
        if (len < 1 || u[0] != 1)
            return NULL;
        *n = len - 1;
        return data + 1;
    case BIN_INT: /* below 8 digits no sampled value can be equal (leakset.h) */
        if (len == 8 || len == 4) {
            i = be_int(u, len);
            if (i >= 10000000LL || i <= -10000000LL)
                k = snprintf(buf, size, "%lld", i);
        }
        break;
    case BIN_UUID:
        if (len == 16)
            k = snprintf(buf, size,
                         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                         u[12], u[13], u[14], u[15]);
        break;
    case BIN_INET: /* family (2 = IPv4, 3 = IPv6), bits, is_cidr, length, address */
        if (len >= 4 && ((u[0] == 2 && u[3] == 4) || (u[0] == 3 && u[3] == 16)) &&
            len == 4u + u[3] && inet_ntop(u[0] == 2 ? AF_INET : AF_INET6, u + 4, buf, size))
            k = (int)strlen(buf);
        break;
    }
    if (k < 0 || (size_t)k >= size)
        return NULL;
    *n = (size_t)k;
    return buf;
}

/* A row as written in binary COPY: a 16-bit field count, then per field a 32-bit length
 * (-1: NULL) and the bytes, all big-endian. Walked here directly (this runs for every
 * row; the writer just built it): a row that does not add up is skipped, never read past
 * its end. */
static void scan_binary(struct audit_scanner *s, const char *row, size_t len)
{
    struct audit_table *t = s->t;
    const unsigned char *p = (const unsigned char *)row, *end = p + len;
    char buf[64];

    if (len < 2 || ((size_t)p[0] << 8 | p[1]) != t->n_columns)
        return;
    p += 2;
    for (size_t i = 0; i < t->n_columns; i++) {
        uint32_t flen;
        const char *v;
        size_t n;
        if (end - p < 4)
            return;
        flen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        p += 4;
        if (flen == 0xFFFFFFFFu) /* NULL */
            continue;
        if (flen > (size_t)(end - p))
            return;
        if (t->columns[i].mode != SCAN_SKIP &&
            (v = binary_text(t->columns[i].bin, (const char *)p, flen, buf, sizeof(buf), &n)))
            look_up(s, &t->columns[i], v, n);
        p += flen;
    }
}

static void scan_text(struct audit_scanner *s, const char *row, size_t len)
{
    struct audit_table *t = s->t;

    if (copytext_split(row, len, s->fields, t->n_columns) != t->n_columns)
        return;
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct copytext_field *f = &s->fields[i];
        if (t->columns[i].mode == SCAN_SKIP || f->is_null)
            continue;
        if (!copytext_has_escape(f->raw, f->len)) {
            look_up(s, &t->columns[i], f->raw, f->len);
            continue;
        }
        abuf_reset(&s->scratch);
        if (copytext_decode(f->raw, f->len, &s->scratch))
            look_up(s, &t->columns[i], s->scratch.data, s->scratch.len);
    }
}

void audit_scan_row(struct audit_scanner *s, const char *row, size_t len)
{
    s->rows++;
    if (s->t->binary)
        scan_binary(s, row, len);
    else
        scan_text(s, row, len);
}

/* ------------------------------------------------------------ results */

uint64_t audit_hits(const struct audit *a)
{
    uint64_t hits = 0;

    for (size_t t = 0; t < a->n; t++)
        for (size_t c = 0; c < a->tables[t].n_columns; c++)
            hits += atomic_load(&a->tables[t].columns[c].hits);
    return hits;
}

static void report_table(const struct audit *a, const struct audit_table *t, struct abuf *out)
{
    for (size_t c = 0; c < t->n_columns; c++) {
        const struct audit_column *col = &t->columns[c];
        uint64_t hits = atomic_load(&col->hits);
        unsigned first = atomic_load(&col->first_origin);
        const struct origin *o;
        const struct plan_column *from;
        if (hits == 0 || first == 0 || first > a->n_origins)
            continue;
        o = &a->origins[first - 1];
        from = &a->plans[o->table]->columns[o->column];
        abuf_printf(out, "\n  %s.%s", t->qualified, col->name);
        if (col->rule)
            abuf_printf(out, " (rule %s, line %d)", col->rule->ops->name, col->rule->line);
        abuf_printf(out, ": %llu value%s equal to or holding values sampled from %s.%s (rule %s)",
                    (unsigned long long)hits, hits == 1 ? "" : "s", a->plans[o->table]->qualified,
                    from->source->name, from->rule->ops->name);
    }
}

void audit_report(const struct audit *a, struct abuf *out)
{
    abuf_printf(out,
                "leak audit: %llu published value%s hold source values that rules should hide "
                "(the values are not shown):",
                (unsigned long long)audit_hits(a), audit_hits(a) == 1 ? "" : "s");
    for (size_t t = 0; t < a->n; t++)
        report_table(a, &a->tables[t], out);
    abuf_puts(out, "\nchange the rule of each column named (see `anonetl preview`)");
}

bool audit_record(PGconn *target, int64_t run_id, const struct audit *a, struct anon_error *err)
{
    char id[32], sampled[32], hits[32];
    const char *p[3] = {id, sampled, hits};
    PGresult *res;

    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    snprintf(sampled, sizeof(sampled), "%llu", (unsigned long long)a->sampled);
    snprintf(hits, sizeof(hits), "%llu", (unsigned long long)audit_hits(a));
    res = pgconn_query(target,
                       "UPDATE anonetl.runs SET audit_sampled = $2::bigint, "
                       "audit_hits = $3::bigint WHERE run_id = $1::bigint",
                       3, p, PGRES_COMMAND_OK, err);
    PQclear(res);
    return res != NULL;
}

/* ------------------------------------------------------------ anonetl audit */

struct audit_cmd {
    const struct config *cfg;
    struct abuf key;
    struct hmac_key *hmac;
    struct source_snapshot *source;
    PGconn *target;
    struct table_plan **plans;
    size_t n_plans;
    PGresult **views; /* per table: the published view's columns (names point into it) */
    struct audit *audit;
    struct anon_error err;
};

static int cmd_prepare(struct audit_cmd *c, int sample)
{
    enum secret_failure why = SECRET_FAIL_CONFIG;
    struct rule_ctx ctx = {0};
    struct abuf report;
    enum plan_status st;

    abuf_init(&c->key, 0);
    if (!secret_resolve(&c->cfg->hash_key, "secrets.hash_key", &c->key, &why, &c->err) ||
        !keystrength_ok((const unsigned char *)c->key.data, c->key.len, "secrets.hash_key",
                        &c->err) ||
        !(c->hmac = hmac_key_new((const unsigned char *)c->key.data, c->key.len, &c->err))) {
        abuf_free_secret(&c->key);
        return secret_failure_exit(why);
    }
    abuf_free_secret(&c->key); /* only the prepared states stay (run.c load_key) */
    secret_forget_env(&c->cfg->hash_key);
    if (!(c->source = source_snapshot_open(&c->cfg->source, &c->err)))
        return EXIT_SOURCE;
    c->plans = calloc(c->cfg->n_tables + 1, sizeof(*c->plans));
    c->views = calloc(c->cfg->n_tables + 1, sizeof(*c->views));
    if (!c->plans || !c->views) {
        anon_error_set(&c->err, "out of memory");
        return EXIT_INTERNAL;
    }
    abuf_init(&report, 1 << 20);
    st = plan_all(source_snapshot_conn(c->source), c->cfg, c->plans, &report);
    if (st != PLAN_OK)
        anon_error_set(&c->err, "the rules do not match the source:\n%s", abuf_cstr(&report));
    abuf_free(&report);
    if (st != PLAN_OK)
        return plan_exit_code(st);
    c->n_plans = c->cfg->n_tables;
    c->audit = audit_new((const struct table_plan *const *)c->plans, c->n_plans, sample);
    if (!c->audit) {
        anon_error_set(&c->err, "out of memory");
        return EXIT_INTERNAL;
    }
    ctx.hmac = c->hmac;
    ctx.run_time = time(NULL);
    if (!audit_sample(c->audit, source_snapshot_conn(c->source), &ctx, &c->err))
        return EXIT_SOURCE;
    return EXIT_OK;
}

/* The published view's columns as a scanned table (text COPY); false: not published. */
static bool view_columns(struct audit_cmd *c, size_t t, PGresult **cols)
{
    const struct table_plan *plan = c->plans[t];
    struct audit_table *at = &c->audit->tables[t];
    const char *p[2] = {c->cfg->target.schema, plan->cfg->name};
    PGresult *res = pgconn_query(
        c->target,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class r ON r.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace "
        "WHERE n.nspname = $1 AND r.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        2, p, PGRES_TUPLES_OK, &c->err);
    int n = res ? PQntuples(res) : 0;

    *cols = res;
    if (n == 0)
        return false;
    free(at->columns);
    at->columns = calloc((size_t)n + 1, sizeof(*at->columns));
    at->n_columns = at->columns ? (size_t)n : 0;
    at->binary = false;
    for (size_t i = 0; i < at->n_columns; i++) {
        struct audit_column *col = &at->columns[i];
        const struct cfg_column *cc = config_find_column(plan->cfg, PQgetvalue(res, (int)i, 0));
        col->name = PQgetvalue(res, (int)i, 0);
        col->rule = cc ? &cc->rule : NULL;
        col->mode = col->rule && col->rule->ops->hides_input
                        ? SCAN_SKIP
                        : scan_mode_of(PQgetvalue(res, (int)i, 1), &col->bin);
    }
    return at->columns != NULL;
}

/* Stream the published view through a scanner. */
static int scan_view(struct audit_cmd *c, size_t t)
{
    struct audit_table *at = &c->audit->tables[t];
    struct audit_scanner *s = scanner_new(c->audit, at);
    struct abuf sql;
    PGresult *res;
    char *buf;
    int n = 0;
    bool ok;

    abuf_init(&sql, 4096);
    abuf_puts(&sql, "COPY (SELECT * FROM ");
    pgconn_quote_ident(c->target, c->cfg->target.schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(c->target, c->plans[t]->cfg->name, &sql);
    abuf_puts(&sql, ") TO STDOUT");
    ok =
        s && !abuf_failed(&sql) && pgconn_exec(c->target, abuf_cstr(&sql), PGRES_COPY_OUT, &c->err);
    while (ok && (n = PQgetCopyData(c->target, &buf, 0)) > 0) {
        audit_scan_row(s, buf, (size_t)n);
        PQfreemem(buf);
    }
    if (ok && n == -2) {
        char msg[512];
        pgerror_describe(NULL, c->target, msg, sizeof(msg));
        anon_error_set(&c->err, "target: reading %s.%s failed: %s", c->cfg->target.schema,
                       c->plans[t]->cfg->name, msg);
        ok = false;
    }
    while (ok && (res = PQgetResult(c->target)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            anon_error_set(&c->err, "target: reading %s.%s failed", c->cfg->target.schema,
                           c->plans[t]->cfg->name);
            ok = false;
        }
        PQclear(res);
    }
    audit_scanner_free(s);
    abuf_free(&sql);
    return ok ? EXIT_OK : EXIT_TARGET;
}

static int cmd_scan(struct audit_cmd *c)
{
    int code = EXIT_OK;

    if (!(c->target = pgconn_open(&c->cfg->target.db, "target", &c->err)))
        return EXIT_TARGET;
    for (size_t t = 0; t < c->n_plans && code == EXIT_OK; t++) {
        bool published = view_columns(c, t, &c->views[t]);
        if (!c->views[t]) {
            code = EXIT_TARGET;
        } else if (!published) {
            printf("%-40s not published yet: skipped\n", c->plans[t]->qualified);
        } else if ((code = scan_view(c, t)) == EXIT_OK) {
            uint64_t hits = 0;
            for (size_t i = 0; i < c->audit->tables[t].n_columns; i++)
                hits += atomic_load(&c->audit->tables[t].columns[i].hits);
            printf("%-40s %12llu rows searched  %llu hit%s\n", c->plans[t]->qualified,
                   (unsigned long long)atomic_load(&c->audit->tables[t].rows),
                   (unsigned long long)hits, hits == 1 ? "" : "s");
        }
    }
    return code;
}

int audit_main(const struct config *cfg, int sample)
{
    struct audit_cmd c = {.cfg = cfg};
    int code;

    anon_error_clear(&c.err);
    code = cmd_prepare(&c, sample);
    if (code == EXIT_OK) {
        printf("sampled %llu values from the source (%d rows per table at most)\n",
               (unsigned long long)audit_sampled(c.audit), c.audit->sample);
        code = cmd_scan(&c);
    }
    if (code == EXIT_OK && audit_hits(c.audit) > 0) {
        struct abuf report;
        abuf_init(&report, 1 << 20);
        audit_report(c.audit, &report);
        printf("%s\n", abuf_cstr(&report));
        abuf_free(&report);
        code = EXIT_POLICY;
    } else if (code == EXIT_OK) {
        printf("no sampled value was found in the published tables\n");
    } else {
        log_error("audit_failed", NULL, "%s", c.err.msg);
    }
    audit_free(c.audit);
    for (size_t i = 0; c.plans && i < c.cfg->n_tables; i++) {
        plan_free(c.plans[i]);
        if (c.views)
            PQclear(c.views[i]);
    }
    free(c.plans);
    free(c.views);
    pgconn_close(c.target);
    source_snapshot_close(c.source);
    hmac_key_free(c.hmac);
    abuf_free_secret(&c.key);
    return code;
}
