/* increment.c: incremental windows and reload decisions (see increment.h). */
#include "etl/increment.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"
#include "etl/target.h"
#include "etl/watermark.h"

bool increment_needs_zone(const struct table_plan *plan)
{
    enum watermark_kind k = watermark_of(plan).kind;

    return plan->cfg->mode == CFG_MODE_INCREMENTAL &&
           (k == WATERMARK_TIMESTAMP || k == WATERMARK_DATE);
}

bool increment_check_plan(const struct table_plan *plan, struct abuf *report)
{
    const struct cfg_table *t = plan->cfg;
    struct watermark w = watermark_of(plan);

    if (t->mode != CFG_MODE_INCREMENTAL)
        return true;
    if (w.kind == WATERMARK_NONE) {
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" must be a date, timestamp or integer column "
                    "of the source%s%s\n",
                    t->schema, t->name, t->watermark ? t->watermark : "", w.type[0] ? ", not " : "",
                    w.type);
        return false;
    }
    if (!w.not_null) {
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" can be NULL in the source: a row whose "
                    "watermark is NULL is never in a window, so incremental runs would never "
                    "publish it (make the column NOT NULL)\n",
                    t->schema, t->name, t->watermark);
        return false;
    }
    if (plan->n_key == 0) {
        abuf_printf(report,
                    "tables.%s.%s: incremental mode needs a key (the source has no "
                    "primary key: set `key:`)\n",
                    t->schema, t->name);
        return false;
    }
    for (size_t k = 0; k < plan->n_key; k++) {
        const struct plan_column *c = &plan->columns[plan->key_columns[k]];
        if (c->output.may_be_null || !c->source->not_null) {
            abuf_printf(report,
                        "tables.%s.%s: key column %s can be NULL (or its rule makes "
                        "it NULL): rows could not be merged by key\n",
                        t->schema, t->name, c->source->name);
            return false;
        }
    }
    if (t->deletes == CFG_DELETES_SOFT) {
        size_t i = plan_column_index(plan, t->deleted_column);
        if (i == (size_t)-1 || !plan->columns[i].rule->ops->passthrough) {
            abuf_printf(report,
                        "tables.%s.%s: deleted_column \"%s\" must be a source column "
                        "with rule keep\n",
                        t->schema, t->name, t->deleted_column ? t->deleted_column : "");
            return false;
        }
    }
    return true;
}

/*
 * The columns of the published version against the plan: a source column whose type
 * changed (int -> numeric(10,2), varchar(5) -> text) would otherwise be merged into the
 * old type (1.75 rounded to 2, or every run failing on a too long value). The types are
 * both format_type() text, of the source catalog (or a rule's fixed type) and of the
 * target's column: the same text for the same type.
 */
static bool compare_layout(PGconn *target, const struct table_plan *plan, struct table_state *st,
                           struct anon_error *err)
{
    const char *params[1] = {st->base_table[0] ? st->base_table : st->version_table};
    PGresult *res = pgconn_query(
        target,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "  AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        1, params, PGRES_TUPLES_OK, err);
    bool digest = false;
    int n;

    if (!res)
        return false;
    n = PQntuples(res);
    for (size_t i = 0; i < plan->n_columns && !st->layout_change[0]; i++) {
        const struct plan_column *c = &plan->columns[i];
        int r = 0;
        while (r < n && strcmp(PQgetvalue(res, r, 0), c->source->name) != 0)
            r++;
        if (r == n)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s is not in the published table", c->source->name);
        else if (strcmp(PQgetvalue(res, r, 1), c->output.type) != 0)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s changed type (published as %s, now %s)", c->source->name,
                     PQgetvalue(res, r, 1), c->output.type);
        else if (PQgetvalue(res, r, 2)[0] == 't' && !c->target_not_null)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s can be NULL now (published NOT NULL)", c->source->name);
    }
    for (int r = 0; r < n; r++)
        digest = digest || strcmp(PQgetvalue(res, r, 0), PLAN_KEY_DIGEST_COLUMN) == 0;
    if (!st->layout_change[0] && digest != plan->key_digest)
        snprintf(st->layout_change, sizeof(st->layout_change),
                 digest ? "the key no longer needs a digest of the source key"
                        : "the published table has no digest of the source key (needed to "
                          "tell a hash collision from a changed row)");
    if (!st->layout_change[0] && (size_t)n != plan->n_columns + (digest ? 1 : 0))
        snprintf(st->layout_change, sizeof(st->layout_change),
                 "the published table has %d columns, the rules now produce %zu", n,
                 plan->n_columns);
    PQclear(res);
    return true;
}

char *increment_source_layout(const struct table_plan *plan)
{
    json_t *list = json_array();
    char *text;

    for (size_t i = 0; list && i < plan->n_columns; i++) {
        const struct catalog_column *c = plan->columns[i].source;
        const char *type = c->declared_type ? c->declared_type : c->type;
        json_t *labels = c->enum_labels ? json_loads(c->enum_labels, 0, NULL) : NULL;
        /* an enum's labels as a fourth item (compare_source) */
        json_array_append_new(list, labels ? json_pack("[siso]", c->name, c->attnum, type, labels)
                                           : json_pack("[sis]", c->name, c->attnum, type));
    }
    text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return text;
}

/* Whether a label of the recorded enum labels (`was`, a JSON array) is gone from `now`
 * (the column's labels, JSON text): renamed (ALTER TYPE ... RENAME VALUE; labels cannot be
 * dropped), so every published row holding it shows what the source no longer has.
 * Labels added (ADD VALUE) change no published value. */
static bool label_gone(json_t *was, const char *now)
{
    json_t *labels = json_loads(now, 0, NULL), *old;
    bool gone = false;
    size_t k, j;

    json_array_foreach(was, k, old)
    {
        bool found = false;
        json_t *l;
        json_array_foreach(labels, j, l)
        {
            found = found || json_equal(l, old);
        }
        gone = gone || !found;
    }
    json_decref(labels);
    return gone;
}

/*
 * The source's columns against those recorded when the version was published: a rule's
 * output type does not show every change of its input (a hash of a numeric(10,1) and of
 * a numeric(10,3) are both text, but of "1.5" and "1.500"), and a column dropped and
 * added again has new values (all NULL, or its default) with no row's watermark moved.
 * Either way the published rows are not what the rules make of the source any more.
 */
static void compare_source(const struct table_plan *plan, const char *recorded,
                           struct table_state *st)
{
    json_t *old = recorded ? json_loads(recorded, 0, NULL) : NULL;

    if (!json_is_array(old)) {
        snprintf(st->layout_change, sizeof(st->layout_change),
                 "the published version does not record the source's column types "
                 "(published by an earlier anonetl)");
        json_decref(old);
        return;
    }
    for (size_t i = 0; i < plan->n_columns && !st->layout_change[0]; i++) {
        const struct catalog_column *c = plan->columns[i].source;
        const char *type = c->declared_type ? c->declared_type : c->type;
        const char *name = NULL, *was = "";
        json_int_t attnum = 0;
        size_t k;
        json_t *item = NULL, *labels = NULL;
        json_array_foreach(old, k, item)
        {
            if (json_unpack(item, "[sIs]", &name, &attnum, &was) == 0 && strcmp(name, c->name) == 0)
                break;
            name = NULL;
        }
        if (name) /* recorded from this version on: none is no change */
            labels = json_array_get(item, 3);
        if (!name)
            snprintf(st->layout_change, sizeof(st->layout_change), "column %s is new in the source",
                     c->name);
        else if (attnum != c->attnum)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s was dropped and added again in the source: its values are new",
                     c->name);
        else if (strcmp(was, type) != 0 && !catalog_nested_unrecorded(was, type))
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s changed type in the source (was %s, now %s)", c->name, was, type);
        else if (json_is_array(labels) && c->enum_labels && label_gone(labels, c->enum_labels))
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "a label of column %s's enum %s was renamed in the source (ALTER TYPE ... "
                     "RENAME VALUE): the rows published with it show a label the source no "
                     "longer has",
                     c->name, type);
    }
    json_decref(old);
}

/* Every entry of a storage record is [oid, relfilenode, name]: one that is not cannot say
 * whether its relation was rewritten or is new, so the record is unreadable (a reload). */
static bool storage_readable(json_t *list)
{
    json_int_t oid, node;
    const char *name;
    json_t *a;
    size_t i;

    if (!json_is_array(list))
        return false;
    json_array_foreach(list, i, a)
    {
        if (json_unpack(a, "[IIs]", &oid, &node, &name) != 0)
            return false;
    }
    return true;
}

/* The relfilenode recorded in old for oid, or -1 when old does not record it. */
static json_int_t recorded_node(json_t *old, json_int_t oid)
{
    json_int_t was_oid, was_node;
    const char *name;
    json_t *b;
    size_t k;

    json_array_foreach(old, k, b)
    {
        if (json_unpack(b, "[IIs]", &was_oid, &was_node, &name) == 0 && was_oid == oid)
            return was_node;
    }
    return -1;
}

/* Whether list has an entry for oid. */
static bool lists_oid(json_t *list, json_int_t oid)
{
    return recorded_node(list, oid) >= 0;
}

/* A relation of `now` (oid, name) that is not recorded under its oid replaces one recorded
 * under its name whose oid is gone: dropped and created again (DROP and CREATE, a table
 * renamed away and a new one created in its place, a migration tool's swap). Its rows are
 * not the published ones: an empty new table merges nothing and keeps the mark, then its
 * rows come in at or below it (ids from a new sequence, rows copied with their stamps). */
static bool replaces_recorded(json_t *old, json_t *now, json_int_t oid, const char *name)
{
    json_int_t was_oid, was_node;
    const char *was_name;
    json_t *b;
    size_t k;

    json_array_foreach(old, k, b)
    {
        if (json_unpack(b, "[IIs]", &was_oid, &was_node, &was_name) == 0 && was_oid != oid &&
            strcmp(was_name, name) == 0 && !lists_oid(now, was_oid))
            return true;
    }
    return false;
}

/* Whether the record lists a sequence (versions recorded before sequences were do not). */
static bool records_sequences(json_t *old)
{
    json_t *b;
    size_t k;

    json_array_foreach(old, k, b)
    {
        if (json_array_size(b) > 3)
            return true;
    }
    return false;
}

/* The source's storage now against that recorded with the published version: a relation
 * recorded with another relfilenode was rewritten, one recorded under another oid was
 * created again, as was a sequence the record does not list (when it lists sequences):
 * a new one fills the watermark and can hand out ids at or below the mark. Other
 * relations not recorded (new partitions, children) are listed in st for
 * increment_check_new_relations. A version published before the record existed is merged
 * as before (and records it). */
static void compare_storage(const char *recorded, const char *current, struct table_state *st)
{
    json_int_t oid, node, was;
    bool sequence;
    const char *name;
    json_t *old, *now, *a;
    size_t i;

    if (!recorded)
        return;
    old = json_loads(recorded, 0, NULL);
    now = json_loads(current, 0, NULL);
    if (!storage_readable(old) || !storage_readable(now)) /* reload rather than guess */
        snprintf(st->storage_change, sizeof(st->storage_change),
                 "the source's storage recorded with the published version is unreadable");
    json_array_foreach(now, i, a)
    {
        if (st->storage_change[0] || json_unpack(a, "[IIs]", &oid, &node, &name) != 0)
            break;
        sequence = json_array_size(a) > 3;
        if ((was = recorded_node(old, oid)) >= 0 && was != node && sequence)
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "the sequence %s of the watermark was reset (ALTER SEQUENCE ... RESTART, "
                     "or another change of its parameters): it can hand out ids at or below the "
                     "last run's mark again, which no window would read",
                     name);
        else if (was >= 0 && was != node)
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "the source table %s was rewritten (ALTER TABLE ... TYPE, VACUUM FULL, "
                     "CLUSTER, TRUNCATE): values may have changed without the watermark",
                     name);
        else if (was < 0 && replaces_recorded(old, now, oid, name))
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "the source %s %s was dropped and created again (it has a new oid): %s",
                     sequence ? "sequence" : "table", name,
                     sequence ? "it can hand out ids at or below the last run's mark again"
                              : "its rows are not those published");
        else if (was < 0 && sequence && records_sequences(old))
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "the sequence %s is new to the watermark (created again, or another "
                     "sequence now fills it): it can hand out ids at or below the last run's "
                     "mark, which no window would read",
                     name);
        else if (was < 0 && sequence)
            continue; /* recorded from now on (a version recorded before sequences were) */
        else if (was < 0 && st->n_new < INCREMENT_NEW_MAX)
            st->new_oids[st->n_new++] = (unsigned int)oid;
        else if (was < 0) /* too many to check one by one */
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "more than %d relations are new in the source since the last run",
                     INCREMENT_NEW_MAX);
    }
    json_decref(old);
    json_decref(now);
}

bool increment_read_state(PGconn *target, const char *schema, const struct table_plan *plan,
                          const char *storage, struct table_state *st, struct anon_error *err)
{
    const char *params[2] = {schema, cfg_published_name(plan->cfg)};
    PGresult *res = pgconn_query(
        target,
        "SELECT p.version_table, p.table_fingerprint, p.key_fingerprint, "
        "       COALESCE(p.high_water_mark, ''), COALESCE(p.watermark_marks, ''), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
        "               WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "                 AND c.relname = COALESCE(p.base_table, p.version_table)), "
        "       COALESCE(p.base_table, ''), p.source_layout, p.source_storage "
        "FROM anonetl.published p WHERE p.target_schema = $1 AND p.table_name = $2",
        2, params, PGRES_TUPLES_OK, err);
    bool ok;

    memset(st, 0, sizeof(*st));
    if (!res)
        return false;
    if (PQntuples(res) == 1) {
        st->present = true;
        snprintf(st->version_table, sizeof(st->version_table), "%s", PQgetvalue(res, 0, 0));
        snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", PQgetvalue(res, 0, 1));
        snprintf(st->key_fingerprint, sizeof(st->key_fingerprint), "%s", PQgetvalue(res, 0, 2));
        snprintf(st->high_water_mark, sizeof(st->high_water_mark), "%s", PQgetvalue(res, 0, 3));
        snprintf(st->marks, sizeof(st->marks), "%s", PQgetvalue(res, 0, 4));
        st->version_exists = PQgetvalue(res, 0, 5)[0] == 't';
        snprintf(st->base_table, sizeof(st->base_table), "%s", PQgetvalue(res, 0, 6));
    }
    ok = !st->version_exists || compare_layout(target, plan, st, err);
    if (ok && st->version_exists && !st->layout_change[0])
        compare_source(plan, PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7), st);
    if (ok && st->version_exists && storage)
        compare_storage(PQgetisnull(res, 0, 8) ? NULL : PQgetvalue(res, 0, 8), storage, st);
    PQclear(res);
    return ok;
}

const char *increment_reload_reason(const struct table_plan *plan, const struct table_state *st,
                                    const char *fingerprint_hex, const char *key_fingerprint,
                                    bool full_refresh)
{
    if (plan->cfg->mode != CFG_MODE_INCREMENTAL)
        return "full mode";
    if (full_refresh)
        return "--full-refresh";
    if (!st->present || !st->version_exists)
        return "first run";
    if (strcmp(st->fingerprint, fingerprint_hex) != 0)
        return "the table's rules changed";
    if (strcmp(st->key_fingerprint, key_fingerprint) != 0)
        return "the hash key changed";
    if (st->layout_change[0])
        return st->layout_change;
    if (st->storage_change[0])
        return st->storage_change;
    if (st->zone_change[0])
        return st->zone_change;
    if (plan->cfg->k_anonymity && !st->base_table[0])
        return "k-anonymity now keeps the rows as the rules make them in a base table";
    if (!plan->cfg->k_anonymity && st->base_table[0])
        return "the table no longer has k-anonymity";
    if (!st->high_water_mark[0])
        return "no high-water mark";
    return NULL;
}

/* "1 hour 3 milliseconds"-free: the lag as an interval literal parameter. */
static void lag_text(long lag_ms, char *out, size_t len)
{
    snprintf(out, len, "%ld milliseconds", lag_ms);
}

bool increment_source_storage(PGconn *src, const struct table_plan *plan, char **out,
                              struct anon_error *err)
{
    PGresult *res = watermark_storage(src, plan, err);

    *out = NULL;
    if (!res)
        return false;
    /* no relation with storage (a view of foreign tables): nothing to compare */
    *out = strdup(PQgetisnull(res, 0, 0) ? "[]" : PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!*out)
        anon_error_set(err, "out of memory");
    return *out != NULL;
}

static const char new_relation_sql[] =
    "SELECT c.oid::pg_catalog.regclass::pg_catalog.text, n.nspname, c.relname, "
    "  CASE WHEN c.relispartition THEN 'partition' WHEN EXISTS (SELECT 1 "
    "    FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) THEN 'inheritance child' "
    "  ELSE 'table' END, EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
    "    WHERE a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped), "
    /* read alone it needs its own grant, and its own policies would filter it */
    "  pg_catalog.has_table_privilege(c.oid, 'SELECT') "
    "    AND NOT pg_catalog.row_security_active(c.oid) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = $1::pg_catalog.oid";

/* Does the relation of new_relation_sql's row hold a row at or below the previous mark, in
 * the run's snapshot? The mark is a parameter of the watermark's type, as in the window. */
static bool holds_old_rows(PGconn *src, const struct table_plan *plan, PGresult *rel,
                           const char *mark, bool *old_rows, struct anon_error *err)
{
    const char *params[1] = {mark};
    struct abuf sql;
    PGresult *res;

    abuf_init(&sql, 4096);
    abuf_puts(&sql, "SELECT EXISTS (SELECT 1 FROM ONLY ");
    pgconn_quote_ident(src, PQgetvalue(rel, 0, 1), &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(src, PQgetvalue(rel, 0, 2), &sql);
    abuf_puts(&sql, " WHERE ");
    pgconn_quote_ident(src, plan->cfg->watermark, &sql);
    abuf_printf(&sql, " <= $1::%s)", watermark_of(plan).type);
    res = pgconn_query_built(src, &sql, 1, params, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    *old_rows = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return true;
}

bool increment_check_new_relations(PGconn *src, const struct table_plan *plan,
                                   struct table_state *st, struct anon_error *err)
{
    for (size_t i = 0; i < st->n_new && !st->storage_change[0] && st->high_water_mark[0]; i++) {
        char oid[16];
        const char *params[2] = {oid, plan->cfg->watermark};
        bool old_rows = false;
        PGresult *rel;

        snprintf(oid, sizeof(oid), "%u", st->new_oids[i]);
        if (!(rel = pgconn_query(src, new_relation_sql, 2, params, PGRES_TUPLES_OK, err)))
            return false;
        if (PQntuples(rel) != 1 || PQgetvalue(rel, 0, 4)[0] != 't') /* cannot tell: reload */
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "relation %s is new in the source, without a column %s to compare with "
                     "the last run's mark",
                     PQntuples(rel) == 1 ? PQgetvalue(rel, 0, 0) : oid, plan->cfg->watermark);
        else if (PQgetvalue(rel, 0, 5)[0] != 't') /* cannot look: reload */
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "%s %s is new in the source, and the source role cannot read it alone "
                     "(no SELECT on it, or its own row level security) to compare its rows "
                     "with the last run's mark",
                     PQgetvalue(rel, 0, 3), PQgetvalue(rel, 0, 0));
        else if (!holds_old_rows(src, plan, rel, st->high_water_mark, &old_rows, err)) {
            PQclear(rel);
            return false;
        } else if (old_rows)
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "%s %s was attached with rows older than the last run's mark",
                     PQgetvalue(rel, 0, 3), PQgetvalue(rel, 0, 0));
        PQclear(rel);
    }
    return true;
}

bool increment_check_sequences(PGconn *src, const struct table_plan *plan, struct table_state *st,
                               struct anon_error *err)
{
    PGresult *seqs;
    bool behind = false;

    if (watermark_of(plan).kind != WATERMARK_INTEGER || !st->high_water_mark[0] ||
        st->storage_change[0])
        return true;
    if (!(seqs = watermark_readable_sequences(src, plan, err)))
        return false;
    for (int i = 0; i < PQntuples(seqs) && !behind; i++) {
        if (!watermark_sequence_behind(src, seqs, i, st->high_water_mark, &behind, err)) {
            PQclear(seqs);
            return false;
        }
        if (behind)
            snprintf(st->storage_change, sizeof(st->storage_change),
                     "the sequence %s of the watermark hands out ids at or below the last run's "
                     "mark (%s) again (moved back with setval()): no window would read their rows",
                     PQgetvalue(seqs, i, 3), st->high_water_mark);
    }
    PQclear(seqs);
    return true;
}

/* The transactions that held a write lock on one of the table's relations before the
 * snapshot (sourcesnap.h), one entry each. */
struct holders {
    const struct source_writer **w;
    size_t n;
    bool unknown_start;   /* some holder's start is not visible to the source role */
    bool prepared;        /* some holder is a prepared transaction */
    const char *oldest;   /* the oldest known start, "" when none is known */
    char foreign[256];    /* a foreign table the table reads (watermark_foreign_member), or "" */
    char replicated[256]; /* one a subscription writes (watermark_replicated_member), or "" */
};

static bool holders_of(const struct source_snapshot *snap, PGconn *src,
                       const struct table_plan *plan, struct holders *h, struct anon_error *err)
{
    size_t n_all, n_rel = 0;
    const struct source_writer *all = source_snapshot_writers(snap, &n_all);
    long long oldest_us = 0;
    unsigned long long *rel;
    PGresult *res = watermark_family(src, plan, err);
    const char *p;

    memset(h, 0, sizeof(*h));
    h->oldest = "";
    if (!res)
        return false;
    watermark_foreign_member(res, h->foreign, sizeof(h->foreign));
    watermark_replicated_member(res, h->replicated, sizeof(h->replicated));
    p = PQgetvalue(res, 0, 0);
    rel = calloc(strlen(p) / 2 + 2, sizeof(*rel));
    h->w = calloc(n_all + 1, sizeof(*h->w));
    if (!rel || !h->w) {
        free(rel);
        PQclear(res);
        anon_error_set(err, "out of memory");
        return false;
    }
    for (char *end; *p; p = *end ? end + 1 : end)
        rel[n_rel++] = strtoull(p, &end, 10);
    PQclear(res);
    for (size_t i = 0; i < n_all; i++) {
        bool watched = false, listed = false;
        for (size_t r = 0; r < n_rel && !watched; r++)
            watched = all[i].relation == rel[r];
        for (size_t k = 0; k < h->n && watched && !listed; k++)
            listed = strcmp(h->w[k]->vxid, all[i].vxid) == 0;
        if (!watched || listed)
            continue;
        h->w[h->n++] = &all[i];
        h->unknown_start = h->unknown_start || !all[i].start_us;
        h->prepared = h->prepared || !all[i].live;
        if (all[i].start_us && (!oldest_us || all[i].start_us < oldest_us)) {
            oldest_us = all[i].start_us;
            h->oldest = all[i].start;
        }
    }
    free(rel);
    return true;
}

static void holders_free(struct holders *h)
{
    free(h->w);
    h->w = NULL;
}

/*
 * Date and time watermarks: T = now() - lag on the source's clock (the snapshot
 * transaction's start), and no later than the start of the oldest transaction writing
 * the table at the snapshot (a row it stamps with now() or clock_timestamp() is not
 * older). In the watermark's own type:
 *   timestamptz      T floored to the type's precision, minus one unit: a row committed
 *                    later was stamped after T, so its value, rounded or truncated to the
 *                    precision, is above the bound (timestamp(0): the second of T is
 *                    read again by the next run, never skipped);
 *   timestamp        the same on the local time of T in the source's time zone, taking
 *                    the lowest local time of the next 3 hours (when clocks go back,
 *                    local times repeat: a row stamped in the repeated hour is not below
 *                    a bound set before the change);
 *   date             the local date of T minus one day (today's rows are read again by
 *                    every run of the day: later changes the same day are never lost).
 */
static bool time_upper(PGconn *src, const struct table_plan *plan, struct watermark w,
                       const char *oldest_writer, const char *zone, char *upper, size_t len,
                       struct anon_error *err)
{
    char lag[48];
    const char *params[3] = {lag, oldest_writer[0] ? oldest_writer : NULL, zone};
    long unit = 1;
    struct abuf sql;
    PGresult *res;

    lag_text(cfg_watermark_lag_ms(plan->cfg), lag, sizeof(lag));
    for (int i = w.precision; i < 6; i++)
        unit *= 10;
    abuf_init(&sql, 1 << 16);
    abuf_puts(&sql, "WITH t AS (SELECT LEAST(pg_catalog.now() - $1::pg_catalog.interval, "
                    "COALESCE($2::pg_catalog.timestamptz, 'infinity')) AS t), x AS (SELECT ");
    if (w.kind == WATERMARK_TIMESTAMPTZ)
        abuf_puts(&sql, "t AS x FROM t) ");
    else
        abuf_puts(&sql, "LEAST(pg_catalog.timezone($3::pg_catalog.text, t), "
                        "pg_catalog.timezone($3::pg_catalog.text, t + '3 hours') - "
                        "'3 hours'::pg_catalog.interval) AS x FROM t) ");
    /* The type text comes from format_type(): SQL syntax, not user input. */
    if (w.kind == WATERMARK_DATE)
        abuf_puts(&sql, "SELECT (x::pg_catalog.date - 1)::pg_catalog.text FROM x");
    else
        abuf_printf(
            &sql,
            "SELECT (pg_catalog.date_trunc('second', x) + "
            "(pg_catalog.floor(pg_catalog.mod(EXTRACT(MICROSECONDS FROM x), 1000000) / "
            "%ld) * %ld - %ld) * '1 microsecond'::pg_catalog.interval)::%s::pg_catalog.text "
            "FROM x",
            unit, unit, unit, w.type);
    res = pgconn_query_built(src, &sql, w.kind == WATERMARK_TIMESTAMPTZ ? 2 : 3, params,
                             PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    snprintf(upper, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

/*
 * Integer watermarks (ids from a sequence), in three reads on the source, in this order:
 *
 *   t1  the premark (increment_read_premarks): M, the largest id committed, read in
 *       autocommit, and T, the source's clock_timestamp() after it;
 *   t1' the transactions holding a write lock on the table or its sequence (sourcesnap.c);
 *   t2  the run's snapshot.
 *
 * An id x <= M was taken before the transaction that took M committed (ids increase:
 * CACHE 1, checked), so before t1. If the snapshot does not show x's row, x's transaction
 * was still open at t2, so it was open at t1' holding the lock nextval() (or its insert)
 * took (locks are released only after a transaction leaves the snapshots' list of running
 * transactions): it is a holder. So with no holder, M is an exact bound for the snapshot.
 * With holders, M is still exact when each of them began after T (its ids are above M);
 * otherwise an earlier run's premark (T_k, M_k, and the transactions V_k that held a
 * lock then) serves, when each holder began after T_k, or is a live session's transaction
 * that was not in V_k (one that took an id <= M_k and is still open held a lock at run
 * k's t1'). That needs no pg_read_all_stats: a holder whose start is hidden is judged by
 * the V_k test alone. A prepared transaction's vxid changed at PREPARE: only its start
 * could clear it, and it is not known, so the bound stays where it was until it ends.
 * The previous bound is always exact (a row a snapshot shows, a later one shows) and the
 * bound never goes below it. The ids between the bound and the newest read are read
 * again by the next run (the merge makes that harmless).
 *
 * On a standby, pg_locks shows none of the primary's transactions: a premark serves only
 * once it is watermark_lag old (default CFG_DEFAULT_WATERMARK_LAG_MS there). On a primary,
 * watermark_lag is 0 unless set; set, a premark serves once it is that old as well: it
 * also covers ids an application takes in one transaction and inserts in a later one,
 * within the lag (which no lock shows). A first run has no mark that old: it takes the
 * exact bound (a standby's, none: runs reload until a mark is old enough).
 *
 * A foreign table among the relations read (a partition, the table itself) is written on
 * its server by transactions no lock here shows, with ids maybe from their own sequence:
 * as on a standby, the lag defaults to CFG_DEFAULT_WATERMARK_LAG_MS and a first run takes
 * no exact bound. The local writers' locks are still watched (vxids kept). An explicit
 * lag of 0 trusts those alone (every write goes through this source). So for a table a
 * logical replication subscription writes (the source is a subscriber): the apply worker
 * commits each publisher transaction when it committed there, in that order, with the
 * publisher's ids, and holds no lock while it is open there.
 *
 * The premise: ids increase in the order they are taken, and each is taken while its
 * transaction holds a lock that is watched: nextval() of the column's sequence (serial,
 * identity, OWNED BY, or the column default's: watermark.h) anywhere in the inserting
 * transaction, or any id the inserting statement itself chooses (it locks the table
 * before). check --source refuses sequences that break the order and warns when no
 * sequence is watched.
 *
 * Marks are stored "T|M|V;...", T in microseconds of the source's clock, V the vxids
 * joined by ',' ("*" when there were more than MARK_VXIDS_MAX, or on a standby).
 */
#define MARK_VXIDS_MAX 16
#define INCREMENT_MARKS_KEEP 24

struct mark {
    long long time_us;
    long long max;
    const char *vxids; /* within the marks text: up to ';' or its end */
    size_t vxids_len;
};

/* One mark from p (up to ';' or the end), false when it is not one (older formats). */
static bool parse_mark(const char *p, struct mark *m, const char **next)
{
    const char *end = strchr(p, ';');
    char *q;

    if (!end)
        end = p + strlen(p);
    *next = *end ? end + 1 : end;
    m->time_us = strtoll(p, &q, 10);
    if (q == p || q >= end || *q != '|')
        return false;
    p = q + 1;
    m->max = strtoll(p, &q, 10);
    if (q == p || q >= end || *q != '|')
        return false;
    m->vxids = q + 1;
    m->vxids_len = (size_t)(end - m->vxids);
    return true;
}

static bool mark_lists(const struct mark *m, const char *vxid)
{
    size_t len = strlen(vxid);

    for (const char *p = m->vxids, *end = m->vxids + m->vxids_len; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (n == len && memcmp(p, vxid, len) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* Can the bound be the mark's id (the reasoning above)? cut: only marks that old. */
static bool mark_usable(const struct mark *m, const struct holders *h, bool cut, long long cut_us)
{
    bool all_listed = m->vxids_len == 1 && m->vxids[0] == '*';

    if (cut && m->time_us > cut_us)
        return false;
    for (size_t i = 0; i < h->n; i++) {
        const struct source_writer *w = h->w[i];
        if (w->start_us && w->start_us > m->time_us)
            continue; /* began after the mark: every id it took is above the mark's */
        if (w->live && !all_listed && !mark_lists(m, w->vxid))
            continue; /* took no id up to the mark's, or it would have held a lock then */
        return false;
    }
    return true;
}

/* This run's mark: its premark and the vxids of the holders ("*" when not all kept). */
static void own_mark(const struct increment_premark *pre, const struct holders *h, bool standby,
                     char *out, size_t len)
{
    size_t used;

    used = (size_t)snprintf(out, len, "%lld|%s|", pre->time_us, pre->max);
    if (standby || h->n > MARK_VXIDS_MAX) {
        snprintf(out + used, len - used, "*");
        return;
    }
    for (size_t i = 0; i < h->n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", h->w[i]->vxid);
}

/* The marks kept for later runs: the newest earlier ones that fit, then this run's. */
static void add_mark(const char *marks, const char *own, char *out, size_t len)
{
    const char *starts[INCREMENT_MARKS_KEEP], *p = marks, *next;
    size_t lens[INCREMENT_MARKS_KEEP], n = 0, first = 0, total = strlen(own) + 1;
    struct mark m;

    for (; *p; p = next) {
        const char *end = strchr(p, ';');
        if (!parse_mark(p, &m, &next))
            continue;                        /* an older format: dropped */
        if (n == INCREMENT_MARKS_KEEP - 1) { /* keep the newest */
            memmove(starts, starts + 1, (n - 1) * sizeof(*starts));
            memmove(lens, lens + 1, (n - 1) * sizeof(*lens));
            n--;
        }
        starts[n] = p;
        lens[n++] = end ? (size_t)(end - p) : strlen(p);
    }
    for (size_t i = 0; i < n; i++)
        total += lens[i] + 1;
    while (first < n && total > len)
        total -= lens[first++] + 1;
    out[0] = '\0';
    if (strlen(own) + 1 > len)
        return;
    for (size_t i = first, used = 0; i < n; i++)
        used += (size_t)snprintf(out + used, len - used, "%.*s;", (int)lens[i], starts[i]);
    snprintf(out + strlen(out), len - strlen(out), "%s", own);
    if (!own[0] && out[0])
        out[strlen(out) - 1] = '\0';
}

static const struct increment_premark *premark_of(const struct increment_clock *clk,
                                                  const struct table_plan *plan)
{
    for (size_t i = 0; clk->premarks && i < clk->cfg->n_tables; i++)
        if (&clk->cfg->tables[i] == plan->cfg)
            return clk->premarks[i].read ? &clk->premarks[i] : NULL;
    return NULL;
}

/* now() - lag on the source's clock, in microseconds. */
static bool source_now_us(PGconn *src, long lag_ms, long long *out, struct anon_error *err)
{
    char lag[48];
    const char *params[1] = {lag};
    PGresult *res;

    lag_text(lag_ms, lag, sizeof(lag));
    res = pgconn_query(src,
                       "SELECT (EXTRACT(EPOCH FROM pg_catalog.now() - $1::pg_catalog.interval) "
                       "* 1000000)::pg_catalog.int8",
                       1, params, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return true;
}

/* Why the bound stops below this run's premark. */
static void integer_held(const struct holders *h, bool standby, const char *foreign, long lag_ms,
                         const char *upper, char *out, size_t len)
{
    const char *from = upper[0] ? upper : "(none: the next run reloads)";

    if (standby)
        snprintf(out, len,
                 "the next run starts again after id %s: the source is a standby, whose "
                 "pg_locks shows none of the primary's transactions; ids are taken as "
                 "committed only watermark_lag (%ld s) after a run saw them",
                 from, lag_ms / 1000);
    else if (foreign[0] && h->n == 0)
        snprintf(out, len,
                 "the next run starts again after id %s: %s is a foreign table, whose "
                 "server's transactions hold no lock this source shows; ids are taken as "
                 "committed only watermark_lag (%ld s) after a run saw them",
                 from, foreign, lag_ms / 1000);
    else if (h->replicated[0] && h->n == 0)
        snprintf(out, len,
                 "the next run starts again after id %s: a logical replication subscription "
                 "writes %s, whose publisher's transactions hold no lock this source shows "
                 "(their rows arrive when they commit there, ids from the publisher); ids are "
                 "taken as committed only watermark_lag (%ld s) after a run saw them",
                 from, h->replicated, lag_ms / 1000);
    else if (h->n == 0)
        snprintf(out, len,
                 "the next run starts again after id %s, the largest id an earlier run "
                 "saw at least watermark_lag (%ld s) before this one",
                 from, lag_ms / 1000);
    else
        snprintf(out, len,
                 "the next run starts again after id %s: %zu transaction%s writing the table "
                 "or holding ids of its sequence %s open when the run started (%s%s%s%s)",
                 from, h->n, h->n == 1 ? "" : "s", h->n == 1 ? "was" : "were",
                 h->oldest[0] ? "the oldest known began at " : "", h->oldest,
                 h->unknown_start ? (h->oldest[0] ? "; some starts are not visible to the "
                                                    "source role"
                                                  : "their start is not visible to the "
                                                    "source role")
                                  : "",
                 h->prepared ? "; a prepared transaction" : "");
}

static bool integer_upper(struct increment_clock *clk, const struct table_plan *plan,
                          const struct table_state *st, struct increment_bound *out,
                          struct anon_error *err)
{
    const struct increment_premark *pre = premark_of(clk, plan);
    bool standby = source_snapshot_standby(clk->snapshot);
    long lag_ms;
    bool cut, have = st->high_water_mark[0] != '\0', own_ok = false;
    long long cut_us = 0, best = have ? strtoll(st->high_water_mark, NULL, 10) : 0;
    char own[INCREMENT_MARKS_MAX] = "";
    const char *p = st->marks, *next;
    struct holders h;
    struct mark m;

    if (!holders_of(clk->snapshot, source_snapshot_conn(clk->snapshot), plan, &h, err))
        return false;
    lag_ms = watermark_integer_lag_ms(plan->cfg, standby || h.foreign[0] || h.replicated[0]);
    cut = standby || lag_ms > 0;
    if (cut && !source_now_us(source_snapshot_conn(clk->snapshot), lag_ms, &cut_us, err)) {
        holders_free(&h);
        return false;
    }
    for (; *p; p = next)
        if (parse_mark(p, &m, &next) && mark_usable(&m, &h, cut, cut_us) && (!have || m.max > best))
            best = m.max, have = true;
    if (pre && pre->max[0]) {
        own_mark(pre, &h, standby, own, sizeof(own));
        if (parse_mark(own, &m, &next) && mark_usable(&m, &h, cut, cut_us)) {
            own_ok = true;
            if (!have || m.max > best)
                best = m.max, have = true;
        } else if (!have && !standby && !h.foreign[0] && !h.replicated[0] &&
                   mark_usable(&m, &h, false, 0)) {
            /* A first run (or a reload after one) with a lag has no mark that old yet:
             * the exact bound, rather than none (every run would reload until one is).
             * Not when a foreign table is read, or a subscription writes one: the other
             * server's writers may hold ids below it from the first run on (a standby's,
             * the primary's). */
            own_ok = true;
            best = m.max, have = true;
            snprintf(out->held, sizeof(out->held),
                     "no earlier mark is watermark_lag (%ld s) old yet: the next run starts "
                     "again after id %lld, the largest id no transaction in flight holds an "
                     "id below; the lag applies from the next run",
                     lag_ms / 1000, best);
        }
    }
    add_mark(st->marks, own, out->marks, sizeof(out->marks));
    if (have)
        snprintf(out->upper, sizeof(out->upper), "%lld", best);
    if (pre && pre->max[0] && !own_ok)
        integer_held(&h, standby, h.foreign, lag_ms, out->upper, out->held, sizeof(out->held));
    holders_free(&h);
    return true;
}

/* The type of a configured table's watermark column, no row when there is no such column;
 * a domain's innermost base type, as the plan sees it (catalog.c): a bigint domain's ids
 * need their premark too, or the bound never exists and every run reloads. */
static const char premark_type_sql[] =
    "WITH RECURSIVE chain(t) AS ("
    "  SELECT a.atttypid FROM pg_catalog.pg_attribute a "
    "  WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2 AND a.attnum > 0 "
    "    AND NOT a.attisdropped "
    "  UNION ALL SELECT y.typbasetype FROM chain JOIN pg_catalog.pg_type y ON y.oid = chain.t "
    "  WHERE y.typtype = 'd') "
    "SELECT pg_catalog.format_type(chain.t, NULL) FROM chain "
    "JOIN pg_catalog.pg_type y ON y.oid = chain.t WHERE y.typtype <> 'd'";

static void read_premark(PGconn *conn, const struct cfg_table *t, struct increment_premark *pre)
{
    struct anon_error err;
    struct abuf name, sql;
    const char *params[2];
    PGresult *res;

    abuf_init(&name, 4096);
    abuf_init(&sql, 8192);
    pgconn_quote_ident(conn, t->schema, &name);
    abuf_putc(&name, '.');
    pgconn_quote_ident(conn, t->name, &name);
    params[0] = abuf_cstr(&name);
    params[1] = t->watermark;
    res = abuf_failed(&name)
              ? NULL
              : pgconn_query(conn, premark_type_sql, 2, params, PGRES_TUPLES_OK, &err);
    if (res && PQntuples(res) == 1 &&
        watermark_kind_of_type(PQgetvalue(res, 0, 0), NULL) == WATERMARK_INTEGER) {
        abuf_puts(&sql, "SELECT pg_catalog.max(");
        pgconn_quote_ident(conn, t->watermark, &sql);
        abuf_printf(&sql,
                    ")::pg_catalog.text, (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) * "
                    "1000000)::pg_catalog.int8 FROM %s",
                    abuf_cstr(&name));
        PQclear(res);
        /* A failure (no such table any more, no privilege) leaves no premark: the bound
         * then stays at an earlier one, and planning the table says what is wrong. */
        res = abuf_failed(&sql)
                  ? NULL
                  : pgconn_query(conn, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, &err);
        if (res) {
            pre->read = true;
            snprintf(pre->max, sizeof(pre->max), "%s", PQgetvalue(res, 0, 0));
            pre->time_us = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        }
    }
    PQclear(res);
    abuf_free(&name);
    abuf_free(&sql);
}

bool increment_read_premarks(struct increment_clock *clk, PGconn *conn, const struct config *cfg,
                             struct anon_error *err)
{
    clk->cfg = cfg;
    clk->premarks = calloc(cfg->n_tables + 1, sizeof(*clk->premarks));
    if (!clk->premarks) {
        anon_error_set(err, "out of memory");
        return false;
    }
    for (size_t i = 0; i < cfg->n_tables; i++)
        if (cfg->tables[i].mode == CFG_MODE_INCREMENTAL && cfg->tables[i].watermark)
            read_premark(conn, &cfg->tables[i], &clk->premarks[i]);
    return true;
}

void increment_clock_free(struct increment_clock *clk)
{
    free(clk->premarks);
    clk->premarks = NULL;
}

/* The source's default time zone (a new session's TimeZone), read once per run. */
static bool source_zone(struct increment_clock *clk, struct anon_error *err)
{
    return clk->zone[0] ||
           pgconn_default_setting(clk->db, "source", "TimeZone", clk->zone, sizeof(clk->zone), err);
}

/* What a `timestamp` or `date` watermark's published version records in watermark_marks:
 * the zone its mark is a local time of. */
#define ZONE_RECORD "TimeZone="

bool increment_check_zone(struct increment_clock *clk, const struct table_plan *plan,
                          struct table_state *st, struct anon_error *err)
{
    const char *was = st->marks + strlen(ZONE_RECORD);

    /* a version published before the zone was recorded is merged (and records it) */
    if (!increment_needs_zone(plan) || strncmp(st->marks, ZONE_RECORD, strlen(ZONE_RECORD)) != 0)
        return true;
    if (!source_zone(clk, err))
        return false;
    if (strcmp(was, clk->zone) != 0)
        snprintf(st->zone_change, sizeof(st->zone_change),
                 "the source's default time zone changed (was %s, now %s): the last run's mark "
                 "is a local time of the old zone, and rows stamped in the new one can be "
                 "below it",
                 was, clk->zone);
    return true;
}

bool increment_upper_bound(struct increment_clock *clk, const struct table_plan *plan,
                           const struct table_state *st, struct increment_bound *out,
                           struct anon_error *err)
{
    struct watermark w = watermark_of(plan);
    PGconn *src = source_snapshot_conn(clk->snapshot);
    struct holders h;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (w.kind == WATERMARK_INTEGER)
        return integer_upper(clk, plan, st, out, err);
    if (w.kind == WATERMARK_TIMESTAMP || w.kind == WATERMARK_DATE) {
        if (!source_zone(clk, err))
            return false;
        snprintf(out->marks, sizeof(out->marks), ZONE_RECORD "%s", clk->zone);
    }
    if (!holders_of(clk->snapshot, src, plan, &h, err))
        return false;
    if (h.prepared) {
        /* A prepared transaction's start is known to no one (pg_stat_activity does not list
         * it): the rows it stamped while it ran commit at COMMIT PREPARED, maybe hours
         * later, under any older stamp. The bound stays where it was until it ends (none
         * on a first run or a reload: the next run reloads), as for integer watermarks. */
        snprintf(out->upper, sizeof(out->upper), "%s", st->high_water_mark);
        snprintf(out->held, sizeof(out->held),
                 "the next run starts again after %s: a prepared transaction writing the "
                 "table was open when the run started (its start is not known): the mark "
                 "stays until it is committed or rolled back",
                 st->high_water_mark[0] ? st->high_water_mark : "(none: the next run reloads)");
        holders_free(&h);
        return true;
    }
    if (source_snapshot_standby(clk->snapshot))
        snprintf(out->held, sizeof(out->held),
                 "the source is a standby, whose pg_locks shows none of the primary's "
                 "transactions: only watermark_lag (%ld s) keeps the window below what they "
                 "may still commit",
                 cfg_watermark_lag_ms(plan->cfg) / 1000);
    else if (h.foreign[0])
        snprintf(out->held, sizeof(out->held),
                 "%s is a foreign table, whose server's transactions hold no lock this "
                 "source shows: only watermark_lag (%ld s) keeps the window below what they "
                 "may still commit",
                 h.foreign, cfg_watermark_lag_ms(plan->cfg) / 1000);
    else if (h.replicated[0])
        snprintf(out->held, sizeof(out->held),
                 "a logical replication subscription writes %s: its publisher's transactions "
                 "hold no lock this source shows and their rows arrive when they commit there: "
                 "only watermark_lag (%ld s) keeps the window below what they may still commit",
                 h.replicated, cfg_watermark_lag_ms(plan->cfg) / 1000);
    else if (h.n > 0 && h.oldest[0])
        snprintf(out->held, sizeof(out->held),
                 "the next run starts again before %s, when the oldest transaction writing "
                 "the table when the run started began%s",
                 h.oldest,
                 h.unknown_start ? " (some writers' start is not visible to the source role)" : "");
    ok = time_upper(src, plan, w, h.oldest, clk->zone, out->upper, sizeof(out->upper), err);
    holders_free(&h);
    return ok;
}

static void append_literal(PGconn *conn, const char *value, struct abuf *out)
{
    char *lit = PQescapeLiteral(conn, value, strlen(value));

    if (!lit) {
        out->failed = true;
        return;
    }
    abuf_puts(out, lit);
    PQfreemem(lit);
}

bool increment_window_sql(PGconn *conn, const struct table_plan *plan, const char *lower,
                          const char *upper, struct abuf *out)
{
    const char *type = watermark_of(plan).type;

    if (lower && lower[0]) {
        pgconn_quote_ident(conn, plan->cfg->watermark, out);
        abuf_puts(out, " > ");
        append_literal(conn, lower, out);
        abuf_printf(out, "::%s", type);
    }
    if (upper && upper[0]) {
        if (lower && lower[0])
            abuf_puts(out, " AND ");
        pgconn_quote_ident(conn, plan->cfg->watermark, out);
        abuf_puts(out, " <= ");
        append_literal(conn, upper, out);
        abuf_printf(out, "::%s", type);
    }
    return !abuf_failed(out);
}
