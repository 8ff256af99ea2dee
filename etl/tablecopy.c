/*
 * tablecopy.c: the row pipeline of one table (see tablecopy.h).
 *
 * The loop follows pg_dump's dumpTableData_copy: PQgetCopyData until -1, free every
 * chunk, fail on -2 naming the table, then drain PQgetResult. libpq hands out exactly one
 * row per PQgetCopyData call in COPY OUT, which is what makes per-row splitting possible
 * without a reassembly buffer.
 */
#include "etl/tablecopy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anonymise/hmac.h"
#include "anonymise/pgarray.h"
#include "etl/audit.h"
#include "etl/bincol.h"
#include "etl/copybin.h"
#include "etl/copysend.h"
#include "etl/copytext.h"
#include "etl/keyorder.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/pgerror.h"
#include "etl/pgcancel.h"
#include "etl/stopsig.h"

#define BATCH_BYTES (256 * 1024)
#define VALUE_MAX ((size_t)1 << 30) /* PostgreSQL's own limit on one field */

/* Per-table working state: reused for every row, so the loop never allocates. */
struct rule_row {
    const struct table_plan *plan;
    struct copytext_field *fields;
    struct abuf *decoded;      /* one scratch buffer per column */
    struct rule_value *values; /* decoded values of this row, filled on demand */
    bool *have_value;
    struct abuf result;            /* a rule's output before encoding */
    struct copybin_field *bfields; /* binary mode: the fields of this row */
    struct bincol_scratch scratch; /* binary mode: conversions (bincol.h) */
    bool header_seen;              /* binary mode: the source's file header was skipped */
    struct anon_error *err;
    bool decode_failed;
    struct abuf key_in;  /* the key rules' inputs of this row, for the key digest */
    bool target_rejects; /* a rule's output is not a value of the target type */
};

/* Binary mode: column i's text form, decoded by its codec (bincol_text). */
static const struct rule_value *row_value_binary(struct rule_row *r, size_t i)
{
    bool is_null;

    abuf_reset(&r->decoded[i]);
    if (!bincol_text(&r->plan->columns[i], &r->bfields[i], &r->decoded[i], &is_null)) {
        r->decode_failed = true;
        return NULL;
    }
    r->values[i] = (struct rule_value){.data = r->decoded[i].data ? r->decoded[i].data : "",
                                       .len = r->decoded[i].len,
                                       .is_null = is_null};
    r->have_value[i] = true;
    return &r->values[i];
}

static const struct rule_value *row_value(const struct rule_row *row, size_t i)
{
    struct rule_row *r = (struct rule_row *)row; /* the cache is logically const */
    const struct copytext_field *f = &r->fields[i];

    if (r->have_value[i])
        return &r->values[i];
    if (r->plan->binary)
        return row_value_binary(r, i);
    abuf_reset(&r->decoded[i]);
    if (f->is_null) {
        r->values[i] = (struct rule_value){.data = "", .len = 0, .is_null = true};
    } else if (!copytext_has_escape(f->raw, f->len)) {
        r->values[i] = (struct rule_value){.data = f->raw, .len = f->len};
    } else {
        if (!copytext_decode(f->raw, f->len, &r->decoded[i]))
            r->decode_failed = true;
        r->values[i] = (struct rule_value){.data = r->decoded[i].data ? r->decoded[i].data : "",
                                           .len = r->decoded[i].len};
    }
    r->have_value[i] = true;
    return &r->values[i];
}

/* ctx->column: another column of the current row, by name (rules with `by:`). */
static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    for (size_t i = 0; i < row->plan->n_columns; i++)
        if (strcmp(row->plan->columns[i].source->name, name) == 0)
            return row_value(row, i);
    return NULL;
}

static bool row_init(struct rule_row *r, const struct table_plan *plan, struct anon_error *err)
{
    size_t n = plan->n_columns;

    memset(r, 0, sizeof(*r));
    r->plan = plan;
    r->err = err;
    r->fields = calloc(n + 1, sizeof(*r->fields));
    r->decoded = calloc(n + 1, sizeof(*r->decoded));
    r->values = calloc(n + 1, sizeof(*r->values));
    r->have_value = calloc(n + 1, sizeof(*r->have_value));
    r->bfields = calloc(n + 1, sizeof(*r->bfields));
    bincol_scratch_init(&r->scratch);
    if (!r->fields || !r->decoded || !r->values || !r->have_value || !r->bfields)
        return false;
    for (size_t i = 0; i < n; i++)
        abuf_init(&r->decoded[i], VALUE_MAX);
    abuf_init(&r->result, VALUE_MAX);
    abuf_init(&r->key_in, VALUE_MAX);
    return true;
}

static void row_free(struct rule_row *r)
{
    if (r->decoded)
        for (size_t i = 0; i < r->plan->n_columns; i++)
            abuf_free(&r->decoded[i]);
    abuf_free(&r->result);
    abuf_free(&r->key_in);
    free(r->fields);
    free(r->decoded);
    free(r->values);
    free(r->have_value);
    free(r->bfields);
    bincol_scratch_free(&r->scratch);
}

/* Run column i's rule on `in`: the output is in r->result, or *out_null. */
static bool run_rule(struct rule_row *r, size_t i, const struct rule_ctx *ctx,
                     const struct rule_value *in, bool *out_null)
{
    const struct plan_column *col = &r->plan->columns[i];
    const struct rule *rule = col->rule;
    struct rule_ctx c = *ctx;

    c.type = col->rule_type;
    *out_null = false;
    abuf_reset(&r->result);
    if (col->per_element
            ? !pgarray_apply_rule(rule->ops, rule->state, &c, in, &r->result, out_null, r->err)
            : !rule->ops->apply(rule->state, &c, in, &r->result, out_null, r->err))
        return false;
    if (abuf_failed(&r->result)) {
        anon_error_set(r->err, "%s.%s: rule output too large", r->plan->qualified,
                       col->source->name);
        return false;
    }
    return true;
}

static bool apply_column(struct rule_row *r, size_t i, const struct rule_ctx *ctx, struct abuf *out)
{
    const struct rule_value *in = row_value(r, i);
    bool out_null;

    if (r->decode_failed) {
        anon_error_set(r->err, "%s.%s: malformed COPY field", r->plan->qualified,
                       r->plan->columns[i].source->name);
        return false;
    }
    if (!run_rule(r, i, ctx, in, &out_null))
        return false;
    return copytext_encode(out_null ? NULL : (r->result.data ? r->result.data : ""), r->result.len,
                           out);
}

/*
 * The key digest field (plan.h): HMAC under a key derived for this purpose only, over the
 * inputs of the key columns that go through a rule (length-prefixed), so two source keys
 * differ exactly when their digests do (up to 2^-63). The inputs are what the rules read,
 * the same text on both COPY paths.
 */
static bool put_key_digest(struct rule_row *r, const struct rule_ctx *ctx, struct abuf *out)
{
    const struct table_plan *plan = r->plan;
    unsigned char mac[HMAC_MAC_LEN], be[8];
    long long d;

    if (!ctx->hmac) {
        anon_error_set(r->err, "%s: no hash key for the key digest", plan->qualified);
        return false;
    }
    abuf_reset(&r->key_in);
    for (size_t k = 0; k < plan->n_key; k++) {
        size_t i = plan->key_columns[k];
        const struct rule_value *v;
        unsigned char len[4];
        if (plan->columns[i].rule->ops->passthrough)
            continue;
        v = row_value(r, i); /* binary: the text its codec gives, as on the text path */
        if (!v) {
            anon_error_set(r->err, "%s: malformed binary value from the source", plan->qualified);
            return false;
        }
        for (int b = 0; b < 4; b++)
            len[b] = v->is_null ? 0xff : (unsigned char)(v->len >> (24 - 8 * b));
        abuf_append(&r->key_in, len, 4);
        if (!v->is_null)
            abuf_append(&r->key_in, v->data, v->len);
    }
    if (abuf_failed(&r->key_in)) {
        anon_error_set(r->err, "%s: key too large", plan->qualified);
        return false;
    }
    hmac_key_internal(ctx->hmac, HMAC_PURPOSE_KEY_DIGEST, r->key_in.data ? r->key_in.data : "",
                      r->key_in.len, "", 0, mac);
    d = hmac_to_int63(mac);
    if (plan->binary) {
        for (int b = 0; b < 8; b++)
            be[b] = (unsigned char)((unsigned long long)d >> (56 - 8 * b));
        copybin_put_field(out, (const char *)be, 8);
    } else {
        abuf_printf(out, "\t%lld", d);
    }
    return true;
}

/* Binary mode: transform one row message (the first also holds the file header, the
 * last may be the trailer alone: *end). */
static bool transform_row_binary(struct rule_row *r, const char *msg, size_t len,
                                 const struct rule_ctx *ctx, struct abuf *out, bool *end)
{
    const struct table_plan *plan = r->plan;
    size_t off = 0;

    *end = false;
    if (!r->header_seen) {
        if (!copybin_skip_header(msg, len, &off, r->err))
            return false;
        r->header_seen = true;
    }
    switch (copybin_parse_row(msg, len, off, r->bfields, plan->n_columns, r->err)) {
    case COPYBIN_END:
        *end = true;
        return true;
    case COPYBIN_BAD:
        return false;
    case COPYBIN_ROW:
        break;
    }
    if (plan->all_passthrough)
        return abuf_append(out, msg + off, len - off);
    memset(r->have_value, 0, plan->n_columns * sizeof(*r->have_value));
    copybin_put_row_start(out, plan->n_columns + (plan->key_digest ? 1 : 0));
    for (size_t i = 0; i < plan->n_columns; i++) {
        enum bincol_status st =
            bincol_apply(plan, i, ctx, &r->bfields[i], &r->scratch, out, r->err);
        if (st != BINCOL_OK) {
            r->target_rejects = st == BINCOL_TARGET;
            return false;
        }
        if (r->decode_failed) {
            anon_error_set(r->err, "%s: malformed binary value from the source", plan->qualified);
            return false;
        }
    }
    if (plan->key_digest && !put_key_digest(r, ctx, out))
        return false;
    return !abuf_failed(out);
}

/* Transform one COPY row and append it (with its "\n") to out. */
static bool transform_row(struct rule_row *r, const char *row, size_t len,
                          const struct rule_ctx *ctx, struct abuf *out)
{
    const struct table_plan *plan = r->plan;

    if (plan->all_passthrough)
        return abuf_append(out, row, len);
    if (!copytext_split_exact(row, len, r->fields, plan->n_columns, r->err))
        return false;
    memset(r->have_value, 0, plan->n_columns * sizeof(*r->have_value));
    for (size_t i = 0; i < plan->n_columns; i++) {
        const struct copytext_field *f = &r->fields[i];
        if (i > 0)
            abuf_putc(out, '\t');
        if (plan->columns[i].rule->ops->passthrough)
            abuf_append(out, f->raw, f->len);
        else if (!apply_column(r, i, ctx, out))
            return false;
    }
    if (plan->key_digest && !put_key_digest(r, ctx, out))
        return false;
    abuf_putc(out, '\n');
    return !abuf_failed(out);
}

bool tablecopy_select_sql(PGconn *conn, const struct table_plan *plan, const char *extra_where,
                          bool failing, struct abuf *sql)
{
    const struct cfg_table *t = plan->cfg;

    abuf_puts(sql, "SELECT ");
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(conn, plan->columns[i].source->name, sql);
    }
    abuf_puts(sql, " FROM ");
    pgconn_quote_ident(conn, t->schema, sql);
    abuf_putc(sql, '.');
    pgconn_quote_ident(conn, t->name, sql);
    if (t->where || extra_where)
        abuf_puts(sql, " WHERE ");
    if (t->where)
        abuf_printf(sql, failing ? "NOT COALESCE((%s), false)" : "(%s)", t->where);
    if (t->where && extra_where)
        abuf_puts(sql, " AND ");
    if (extra_where)
        abuf_printf(sql, "(%s)", extra_where);
    return !abuf_failed(sql);
}

/*
 * A window of changed rows is read in the table's physical order: with plain index scans
 * off for the statement, the planner uses a bitmap scan of the watermark's index, which
 * visits each heap page once and in order, instead of one random page per row in
 * watermark order. The rows then also come in the order a full refresh wrote them, which
 * is the order of the published table's pages for the merge.
 */
static bool index_scans_off(PGconn *source, bool *was_on, struct anon_error *err)
{
    PGresult *res = pgconn_query(source,
                                 "SELECT pg_catalog.current_setting('enable_indexscan'), "
                                 "pg_catalog.set_config('enable_indexscan', 'off', true)",
                                 0, NULL, PGRES_TUPLES_OK, err);

    *was_on = res && strcmp(PQgetvalue(res, 0, 0), "on") == 0;
    PQclear(res);
    return res != NULL;
}

static void index_scans_on(PGconn *source)
{
    struct anon_error ignored;

    PQclear(pgconn_query(source, "SELECT pg_catalog.set_config('enable_indexscan', 'on', true)", 0,
                         NULL, PGRES_TUPLES_OK, &ignored));
}

static bool start_source(const struct tablecopy_request *req, bool *ordered, struct anon_error *err)
{
    struct abuf sql, select;
    bool ok;

    abuf_init(&sql, 1 << 20);
    abuf_init(&select, 1 << 20);
    abuf_puts(&sql, "COPY (");
    ok = tablecopy_select_sql(req->source, req->plan, req->extra_where, req->failing_where,
                              &select) &&
         !abuf_failed(&select);
    if (ok && req->key_order) {
        ok = keyorder_select(req->source, req->plan, abuf_cstr(&select), &sql, ordered, err);
        if (ok && !*ordered)
            log_emit(req->shared ? LOG_DEBUG : LOG_INFO, "physical_order", req->plan->qualified,
                     NULL, 0,
                     "read in the source's physical order (in the key's order it would cost "
                     "the source more than %.1f times the plain read): laid out by its published "
                     "key on the target after the load (docs/operations.md, \"Row order\")",
                     KEYORDER_COST_RATIO);
    } else if (ok) {
        abuf_puts(&sql, abuf_cstr(&select));
    }
    abuf_free(&select);
    abuf_puts(&sql, req->plan->binary ? ") TO STDOUT (FORMAT binary)" : ") TO STDOUT");
    ok = ok && !abuf_failed(&sql) && pgconn_exec(req->source, abuf_cstr(&sql), PGRES_COPY_OUT, err);
    abuf_free(&sql);
    return ok;
}

bool tablecopy_copy_in(PGconn *target, const struct table_plan *plan, const char *dest_sql,
                       bool freeze, struct anon_error *err)
{
    struct abuf sql;
    bool ok;

    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql, "COPY %s (", dest_sql);
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(&sql, ", ");
        pgconn_quote_ident(target, plan->columns[i].source->name, &sql);
    }
    if (plan->key_digest)
        abuf_puts(&sql, ", " PLAN_KEY_DIGEST_COLUMN);
    abuf_puts(&sql, ") FROM STDIN");
    if (plan->binary || freeze)
        abuf_printf(&sql, " (%s%s%s)", plan->binary ? "FORMAT binary" : "",
                    plan->binary && freeze ? ", " : "", freeze ? "FREEZE" : "");
    ok = !abuf_failed(&sql) && pgconn_exec(target, abuf_cstr(&sql), PGRES_COPY_IN, err);
    abuf_free(&sql);
    if (ok && plan->binary) {
        /* The file header, sent once for the whole COPY. */
        struct abuf header;
        abuf_init(&header, 64);
        copybin_put_header(&header);
        ok = PQputCopyData(target, header.data, (int)header.len) == 1;
        abuf_free(&header);
        if (!ok)
            anon_error_set(err, "target: sending COPY data failed");
    }
    return ok;
}

bool tablecopy_copy_buffer(PGconn *target, const struct table_plan *plan, const char *dest_sql,
                           const char *data, size_t len, struct anon_error *err)
{
    struct anon_error ignored;
    uint64_t rows = 0;
    bool ok;

    if (!tablecopy_copy_in(target, plan, dest_sql, false, err))
        return false;
    ok = true;
    for (size_t off = 0, n; ok && off < len; off += n) {
        n = len - off < ((size_t)1 << 20) ? len - off : (size_t)1 << 20;
        ok = PQputCopyData(target, data + off, (int)n) == 1;
    }
    if (!ok) {
        char msg[512];
        pgerror_describe(NULL, target, msg, sizeof(msg));
        anon_error_set(err, "target: sending COPY data failed: %s", msg);
        tablecopy_copy_in_end(target, plan, "anonetl: copy aborted", &rows, &ignored);
        return false;
    }
    return tablecopy_copy_in_end(target, plan, NULL, &rows, err);
}

static bool start_target(const struct tablecopy_request *req, const char *dest_sql,
                         struct anon_error *err)
{
    return tablecopy_copy_in(req->target, req->plan, dest_sql, req->freeze, err);
}

static bool put_copy_data(PGconn *target, const char *data, size_t len, struct anon_error *err)
{
    if (len > 0 && PQputCopyData(target, data, (int)len) != 1) {
        char msg[512];
        pgerror_describe(NULL, target, msg, sizeof(msg));
        anon_error_set(err, "target: sending COPY data failed: %s", msg);
        return false;
    }
    return true;
}

static bool send_batch(PGconn *target, struct abuf *batch, struct anon_error *err)
{
    if (!put_copy_data(target, batch->data, batch->len, err))
        return false;
    abuf_reset(batch);
    return true;
}

/* Valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) as a
 * regular expression over a SQL_ASCII database's characters, which are its bytes. */
static const char utf8_pattern[] =
    "^([\\x01-\\x7f]|[\\xc2-\\xdf][\\x80-\\xbf]|\\xe0[\\xa0-\\xbf][\\x80-\\xbf]|"
    "[\\xe1-\\xec\\xee\\xef][\\x80-\\xbf]{2}|\\xed[\\x80-\\x9f][\\x80-\\xbf]|"
    "\\xf0[\\x90-\\xbf][\\x80-\\xbf]{2}|[\\xf1-\\xf3][\\x80-\\xbf]{3}|"
    "\\xf4[\\x80-\\x8f][\\x80-\\xbf]{2})*$";

/*
 * A SQL_ASCII source stores whatever bytes its clients wrote and sends them as they are;
 * a value that is not UTF-8 makes its server refuse the COPY (22021) without naming the
 * column. The run stops there, so the failed snapshot transaction is ended and the
 * server is asked which column holds one (the first, in the table's order, read with
 * the table's where:); the bytes never leave it. Appends the column to err, or nothing.
 */
static void name_column_not_utf8(PGconn *source, const struct table_plan *plan,
                                 struct anon_error *err)
{
    const char *encoding = PQparameterStatus(source, "server_encoding");
    const char *params[1] = {utf8_pattern};
    struct anon_error ignored;
    struct abuf sql;
    PGresult *res;

    if (!encoding || strcmp(encoding, "SQL_ASCII") != 0 || plan->n_columns == 0)
        return;
    PQclear(PQexec(source, "ROLLBACK"));
    abuf_init(&sql, 4096);
    abuf_puts(&sql, "SELECT CASE");
    for (size_t i = 0; i < plan->n_columns; i++) {
        abuf_printf(&sql, " WHEN pg_catalog.bool_or(NOT (");
        pgconn_quote_ident(source, plan->columns[i].source->name, &sql);
        abuf_printf(&sql, "::pg_catalog.text OPERATOR(pg_catalog.~) $1)) THEN %zu", i);
    }
    abuf_puts(&sql, " END FROM ");
    pgconn_quote_ident(source, plan->cfg->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(source, plan->cfg->name, &sql);
    if (plan->cfg->where)
        abuf_printf(&sql, " WHERE (%s)", plan->cfg->where);
    res = abuf_failed(&sql)
              ? NULL
              : pgconn_query(source, abuf_cstr(&sql), 1, params, PGRES_TUPLES_OK, &ignored);
    abuf_free(&sql);
    if (res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        size_t i = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        if (i < plan->n_columns)
            snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
                     "; column %s holds bytes that are not UTF-8 (the source database is "
                     "SQL_ASCII: docs/operations.md, Server settings)",
                     plan->columns[i].source->name);
    }
    PQclear(res);
}

/* Finish the source COPY: drain results until NULL, as libpq requires. */
static bool finish_source(PGconn *source, const struct table_plan *plan, struct anon_error *err)
{
    PGresult *res;
    bool ok = true, not_utf8 = false;

    while ((res = PQgetResult(source)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            char msg[512];
            pgerror_describe(res, source, msg, sizeof(msg));
            anon_error_set(err, "source: COPY of %s failed: %s", plan->qualified, msg);
            not_utf8 = state && strcmp(state, "22021") == 0;
            ok = false;
        }
        PQclear(res);
    }
    if (not_utf8)
        name_column_not_utf8(source, plan, err);
    return ok;
}

/* End the target COPY (aborting it with errmsg when not NULL); *rows = rows it took. */
static bool finish_target(PGconn *target, const char *errmsg, uint64_t *rows,
                          struct anon_error *err)
{
    PGresult *res;
    bool ok = true;

    char msg[512];

    if (PQputCopyEnd(target, errmsg) != 1) {
        pgerror_describe(NULL, target, msg, sizeof(msg));
        anon_error_set(err, "target: ending COPY failed: %s", msg);
        return false;
    }
    while ((res = PQgetResult(target)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            if (ok && !errmsg) {
                pgerror_describe(res, target, msg, sizeof(msg));
                anon_error_set(err, "target: COPY failed: %s", msg);
            }
            ok = false;
        } else {
            *rows = strtoull(PQcmdTuples(res), NULL, 10);
        }
        PQclear(res);
    }
    return ok && !errmsg;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where the rows go: dest_sql, the shared load, or the current piece of req->chunks. */
struct sink {
    const struct tablecopy_request *req;
    struct abuf piece;   /* chunks: the current piece's rows */
    uint64_t limit;      /* rows the current piece takes at most */
    uint64_t left;       /* rows it still takes */
    size_t piece_bytes;  /* bytes of the rows it took (counted as the rows are made) */
    uint64_t written;    /* rows of the pieces ended so far */
    int cancel_fd;       /* the target's socket (a dup: libpq may close its own), or -1 */
    bool stopped;        /* copy_stopped() ended the copy while the sender was waited for */
    bool source_stalled; /* copy_stopped() ended it while the source sent nothing */
};

static bool sink_open(struct sink *s, struct anon_error *err)
{
    const struct tablecopy_chunks *c = s->req->chunks;

    if (s->req->shared) {
        s->left = UINT64_MAX;
        return true;
    }
    if (!c) {
        s->left = UINT64_MAX;
        return start_target(s->req, s->req->dest_sql, err);
    }
    s->limit = s->left = c->limit(c->ctx, s->written);
    s->piece_bytes = 0;
    return true;
}

/* End the current piece and hand it over (every batch of it written: copysend_sync). */
static bool sink_close(struct sink *s, struct anon_error *err)
{
    const struct tablecopy_chunks *c = s->req->chunks;
    uint64_t rows = 0;

    if (s->req->shared) {
        s->written = UINT64_MAX - s->left; /* every row handed over */
        return true;
    }
    if (c) {
        rows = s->limit - s->left;
        if (abuf_failed(&s->piece)) {
            anon_error_set(err, "out of memory");
            return false;
        }
        if (rows > 0 && !c->close(c->ctx, s->piece.data, s->piece.len, rows, err))
            return false;
        abuf_reset(&s->piece);
        s->written += rows;
        return true;
    }
    if (!finish_target(s->req->target, NULL, &rows, err))
        return false;
    s->written += rows;
    return true;
}

/* A stop signal (stopsig.h), run.max_runtime passed, or another worker failed: the copy
 * stops (err says which). */
static bool copy_stopped(const struct tablecopy_request *req, struct anon_error *err)
{
    int sig = stopsig_received();

    if (sig) {
        anon_error_set(err, "%s: stopped by %s: nothing published", req->plan->qualified,
                       stopsig_name(sig));
        return true;
    }
    if (req->abort && atomic_load(req->abort)) {
        anon_error_set(err, "%s: stopped: another worker failed", req->plan->qualified);
        return true;
    }
    if (req->deadline > 0 && now_s() > req->deadline) {
        anon_error_set(err, "%s: run.max_runtime exceeded: stopped, nothing published",
                       req->plan->qualified);
        return true;
    }
    return false;
}

/* copysend's interrupted(): asked while the row loop waits for a stalled target. */
static bool sink_interrupted(void *ctx, struct anon_error *err)
{
    struct sink *s = ctx;

    return (s->stopped = copy_stopped(s->req, err));
}

/* copysend's cancel(): the write blocked on a stalled target fails at once (the
 * connection is lost: the COPY and the transaction that created its table go with it). */
static void sink_cancel(void *ctx)
{
    struct sink *s = ctx;
    const struct tablecopy_shared *sh = s->req->shared;

    if (sh) {
        if (sh->cancel)
            sh->cancel(sh->ctx);
    } else if (s->cancel_fd >= 0) {
        shutdown(s->cancel_fd, SHUT_RDWR);
    }
}

/*
 * The next COPY message from the source (PQgetCopyData's result), or 0 when the copy must
 * stop while the source sends nothing (err set, *stalled). Buffered rows come at once;
 * otherwise the socket is waited for COPYSEND_POLL_MS at a time, so that run.max_runtime
 * and another worker's failure stop a copy whose source stalls (a stopped server, a
 * network that drops everything) instead of blocking until it moves.
 */
static int next_row(const struct tablecopy_request *req, char **buf, bool *stalled,
                    struct anon_error *err)
{
    int n;
    bool socket_read = false; /* PQconsumeInput ran since the last poll() */

    while ((n = PQgetCopyData(req->source, buf, 1)) == 0) {
        /* A source faster than the rules has its next rows waiting in the socket: read
         * them before asking poll() (which doubled the system calls of a copy: 34,000
         * polls for 1 M realistic rows, each a hypervisor round trip on some machines). */
        if (!socket_read) {
            socket_read = true;
            if (!PQconsumeInput(req->source))
                return -2;
            continue;
        }
        struct pollfd p = {.fd = PQsocket(req->source), .events = POLLIN};
        int r = poll(&p, 1, COPYSEND_POLL_MS);
        if (r < 0 && errno != EINTR)
            return -2;
        if ((r == 0 || (r < 0 && errno == EINTR)) && copy_stopped(req, err)) {
            *stalled = true;
            return 0;
        }
        if (r > 0 && !PQconsumeInput(req->source))
            return -2;
    }
    return n;
}

/* The source stalled mid-COPY: reading it to its end would wait for it. Shut the
 * connection's socket and let libpq read what was queued up to the end it then sees
 * (the connection is lost; the snapshot's transaction ends with it). */
static void give_up_source(PGconn *source)
{
    char *junk;
    int n;

    if (shutdown(PQsocket(source), SHUT_RDWR) != 0)
        return;
    while ((n = PQgetCopyData(source, &junk, 1)) > 0 || (n == 0 && PQconsumeInput(source)))
        if (n > 0)
            PQfreemem(junk);
}

/* The sender thread's writer (copysend.h): a batch of whole rows to the target's COPY, to
 * the shared load, or to the current piece in memory. */
static bool sink_write(void *ctx, const char *data, size_t len, struct anon_error *err)
{
    struct sink *s = ctx;
    const struct tablecopy_shared *sh = s->req->shared;

    if (s->req->chunks) {
        if (!abuf_append(&s->piece, data, len)) {
            anon_error_set(err, "out of memory");
            return false;
        }
        return true;
    }
    return sh ? sh->send(sh->ctx, data, len, err) : put_copy_data(s->req->target, data, len, err);
}

bool tablecopy_copy_in_end(PGconn *target, const struct table_plan *plan, const char *abort_msg,
                           uint64_t *rows, struct anon_error *err)
{
    if (!abort_msg && plan->binary) {
        struct abuf trailer;
        bool ok;
        abuf_init(&trailer, 64);
        copybin_put_trailer(&trailer);
        ok = send_batch(target, &trailer, err);
        abuf_free(&trailer);
        if (!ok)
            return false;
    }
    return finish_target(target, abort_msg, rows, err);
}

/* The current piece is full: end it and start the next, once the sender has written
 * every batch of it. */
static bool sink_next(struct sink *s, struct copysend *out, struct anon_error *err)
{
    return copysend_push(out, err) && copysend_sync(out, err) && sink_close(s, err) &&
           sink_open(s, err);
}

/* A piece in memory ends before its limit when it reaches TABLECOPY_PIECE_BYTES, or when
 * the consumer waits for one (tablecopy_chunks.idle). */
static bool piece_ends(const struct tablecopy_chunks *c, const struct sink *s)
{
    if (s->piece_bytes >= TABLECOPY_PIECE_BYTES)
        return true;
    return c->idle && s->limit - s->left >= TABLECOPY_EARLY_ROWS && c->idle(c->ctx);
}

/* The row loop proper. Leaves *st set to the failing side on error. */
static bool pump_rows(const struct tablecopy_request *req, struct sink *sink, struct rule_row *row,
                      struct tablecopy_stats *stats, enum tablecopy_status *st,
                      struct anon_error *err, double start)
{
    struct rule_ctx ctx = {.key = req->key,
                           .key_len = req->key_len,
                           .hmac = req->hmac,
                           .run_time = req->run_time,
                           .column = row_column,
                           .row = row};
    struct copysend_hooks hooks = {.send = sink_write,
                                   .cancel = req->chunks ? NULL : sink_cancel,
                                   .interrupted = sink_interrupted,
                                   .ctx = sink};
    struct copysend *out;
    struct abuf *batch;
    char *buf;
    int n;
    bool ok = true;

    sink->cancel_fd = req->shared || req->chunks ? -1 : dup(PQsocket(req->target));
    if (!(out = copysend_start(&hooks, BATCH_BYTES, BATCH_BYTES + VALUE_MAX, err))) {
        if (sink->cancel_fd >= 0)
            close(sink->cancel_fd);
        *st = TABLECOPY_INTERNAL_ERROR;
        return false;
    }
    batch = copysend_buffer(out);
    while (ok && (n = next_row(req, &buf, &sink->source_stalled, err)) > 0) {
        bool end = false, piece_full;
        size_t row_start = batch->len;
        ok = req->plan->binary ? transform_row_binary(row, buf, (size_t)n, &ctx, batch, &end)
                               : transform_row(row, buf, (size_t)n, &ctx, batch);
        PQfreemem(buf);
        if (!ok) {
            *st = row->target_rejects ? TABLECOPY_TARGET_ERROR : TABLECOPY_INTERNAL_ERROR;
            break;
        }
        if (end)
            continue;
        if (req->audit)
            audit_scan_row(req->audit, batch->data + row_start, batch->len - row_start);
        /* a stop signal at once (an atomic load a row), the clock every 4,096 rows */
        if (++stats->rows_read % 4096 == 0 || stopsig_received()) {
            if (copy_stopped(req, err)) {
                *st = TABLECOPY_INTERNAL_ERROR;
                ok = false;
                break;
            }
            if (stats->rows_read % 65536 == 0)
                log_progress(req->plan->qualified, stats->rows_read, now_s() - start);
        }
        sink->piece_bytes += batch->len - row_start;
        piece_full = --sink->left == 0 || (req->chunks && piece_ends(req->chunks, sink));
        if (piece_full || batch->len >= BATCH_BYTES) {
            if (piece_full ? !sink_next(sink, out, err) : !copysend_push(out, err)) {
                *st = req->chunks || sink->stopped ? TABLECOPY_INTERNAL_ERROR
                                                   : TABLECOPY_TARGET_ERROR;
                ok = false;
            }
            batch = copysend_buffer(out);
        }
    }
    if (ok && sink->source_stalled) {
        *st = TABLECOPY_INTERNAL_ERROR;
        ok = false;
    }
    if (ok && n == -2) {
        char msg[512];
        pgerror_describe(NULL, req->source, msg, sizeof(msg));
        anon_error_set(err, "source: reading COPY data of %s failed: %s", req->plan->qualified,
                       msg);
        *st = TABLECOPY_SOURCE_ERROR;
        ok = false;
    }
    if (ok && req->plan->binary && !req->shared && !req->chunks)
        copybin_put_trailer(batch);
    if (ok && !(copysend_push(out, err) && copysend_sync(out, err))) {
        *st = sink->stopped ? TABLECOPY_INTERNAL_ERROR : TABLECOPY_TARGET_ERROR;
        ok = false;
    }
    /* On failure the batches not sent yet are dropped (the caller aborts the COPY). */
    copysend_end(out);
    if (sink->cancel_fd >= 0)
        close(sink->cancel_fd);
    return ok;
}

/*
 * After the read, its lock held: false, err naming it, when a column the read selected by
 * name is not the one the plan's catalog (read in the run's snapshot) describes. A
 * migration committed after the snapshot that the read waited behind - a column added,
 * filled, the old one dropped and the new one renamed to its name, all in one transaction
 * as migration tools run them; a table swapped for a new one - made the read resolve the
 * name to the new column or table, whose values the snapshot does not show: every value
 * NULL (or rows missing), published with exit 0. The names are resolved again, as the
 * read resolved them, in a query of no rows; libpq reports the relation and the column
 * number each result column comes from (a view's own columns for a view).
 */
static bool columns_kept(PGconn *source, const struct table_plan *plan, struct anon_error *err)
{
    const struct catalog_table *t = plan->catalog;
    struct abuf sql;
    PGresult *res;
    bool kept = true;

    abuf_init(&sql, 1 << 16);
    abuf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(&sql, ", ");
        pgconn_quote_ident(source, plan->columns[i].source->name, &sql);
    }
    abuf_puts(&sql, " FROM ");
    pgconn_quote_ident(source, t->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(source, t->name, &sql);
    abuf_puts(&sql, " LIMIT 0");
    res = pgconn_query_built(source, &sql, 0, NULL, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    for (size_t i = 0; kept && i < plan->n_columns; i++) {
        const struct catalog_column *c = plan->columns[i].source;
        kept = PQftable(res, (int)i) == t->oid && PQftablecol(res, (int)i) == c->attnum;
        if (!kept)
            anon_error_set(err,
                           "source: column %s of %s is not the one the run's snapshot shows "
                           "(the table, or the column, was dropped, added again or renamed "
                           "after it): what the run read of it is not the table's; nothing "
                           "is published, run again",
                           c->name, plan->qualified);
    }
    PQclear(res);
    return kept;
}

/* Stop the source COPY early: cancel it, then read what is in flight until the end. A
 * source that does not take the cancel within STOP_ANSWER_MS cannot be reached (PQcancel
 * would wait minutes in connect(), and the read after it until TCP gives up): its
 * connection is given up instead. */
static void drain_cancelled(PGconn *source)
{
    char *junk;

    if (pgcancel_bounded(source, STOP_ANSWER_MS) == PGCANCEL_PENDING) {
        give_up_source(source);
        return;
    }
    while (PQgetCopyData(source, &junk, 0) > 0)
        PQfreemem(junk);
}

enum tablecopy_status tablecopy_run(const struct tablecopy_request *req,
                                    struct tablecopy_stats *stats, struct anon_error *err)
{
    enum tablecopy_status st = TABLECOPY_OK;
    struct sink sink = {.req = req};
    struct anon_error ignored;
    uint64_t ignored_rows;
    struct rule_row row;
    double start = now_s();
    bool ok, index_scans = false;

    memset(stats, 0, sizeof(*stats));
    abuf_init(&sink.piece, TABLECOPY_PIECE_BYTES + VALUE_MAX);
    if (!row_init(&row, req->plan, err)) {
        row_free(&row);
        abuf_free(&sink.piece);
        anon_error_set(err, "out of memory");
        return TABLECOPY_INTERNAL_ERROR;
    }
    if ((req->physical_order && !index_scans_off(req->source, &index_scans, err)) ||
        !start_source(req, &stats->key_ordered, err))
        st = TABLECOPY_SOURCE_ERROR;
    else if (!sink_open(&sink, err))
        st = TABLECOPY_TARGET_ERROR;
    if (st != TABLECOPY_OK) {
        if (st == TABLECOPY_TARGET_ERROR) {
            drain_cancelled(req->source);
            finish_source(req->source, req->plan, &ignored);
        }
        if (index_scans && st != TABLECOPY_SOURCE_ERROR)
            index_scans_on(req->source);
        row_free(&row);
        abuf_free(&sink.piece);
        return st;
    }
    ok = pump_rows(req, &sink, &row, stats, &st, err, start);
    /* On failure abort the target COPY (nothing of it stays; a shared one is ended by its
     * owner; pieces in memory have none) and drain the source. */
    if (!ok) {
        if (!req->shared && !req->chunks)
            finish_target(req->target, "anonetl: copy aborted", &ignored_rows, &ignored);
        if (sink.source_stalled)
            give_up_source(req->source);
        else if (st != TABLECOPY_SOURCE_ERROR)
            drain_cancelled(req->source);
        finish_source(req->source, req->plan, &ignored);
    } else if (!finish_source(req->source, req->plan, err) ||
               !columns_kept(req->source, req->plan, err)) {
        st = TABLECOPY_SOURCE_ERROR;
        if (!req->shared && !req->chunks)
            finish_target(req->target, "anonetl: source failed", &ignored_rows, &ignored);
    } else if (!sink_close(&sink, err)) {
        st = req->chunks ? TABLECOPY_INTERNAL_ERROR : TABLECOPY_TARGET_ERROR;
    }
    if (index_scans)
        index_scans_on(req->source);
    stats->rows_written = sink.written;
    log_progress_done();
    stats->elapsed_s = now_s() - start;
    row_free(&row);
    abuf_free(&sink.piece);
    return st;
}
