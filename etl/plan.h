/*
 * plan.h: a configured table matched against its source catalog: per column, the rule,
 * the source type and the target type and nullability the rule produces. Built before
 * any row moves, so an uncovered column stops the run (fail closed) and `explain` and
 * `check --source` show exactly what `run` would do.
 */
#ifndef PLAN_H
#define PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/codec.h"
#include "anonymise/config.h"
#include "etl/catalog.h"

#include <libpq-fe.h>

struct plan_column {
    const struct catalog_column *source;
    const struct rule *rule;
    struct rule_output output; /* target type and whether NULLs can appear */
    bool target_not_null;
    bool per_element;    /* an array column whose rule applies to each element */
    char rule_type[128]; /* the type the rule sees: the source type, or its element type */
    /* Binary COPY (bincol.h), when the table uses it: */
    enum plan_bin {
        PLAN_BIN_COPY,    /* the source bytes are the target's: passed as they are */
        PLAN_BIN_NULL,    /* always NULL (suppress): nothing is read */
        PLAN_BIN_FIXED,   /* the same bytes for every row (constant): bin_fixed */
        PLAN_BIN_CONVERT, /* source bytes -> the rule's form -> rule -> target bytes */
    } bin;
    const struct codec *bin_in;  /* the source's wire type (element type for arrays) */
    const struct codec *bin_out; /* the target type (element type for arrays) */
    bool bin_array;              /* both are arrays: the rule applies to each element */
    bool bin_time;               /* the rule reads the direct date/time form (pgtime.h) */
    char *bin_fixed;             /* PLAN_BIN_FIXED: the target's binary form (owned) */
    size_t bin_fixed_len;
};

struct table_plan {
    const struct cfg_table *cfg;
    struct catalog_table *catalog; /* owned */
    struct plan_column *columns;   /* in source order */
    size_t n_columns;
    bool all_passthrough; /* every column is `keep` and rows go through untouched */
    bool binary;          /* COPY in binary format on both sides (see copybin.h) */
    /* Why not binary: "column X: type Y" (for explain), "" when binary. */
    char text_reason[192];
    /* The key of the published table, as column indexes: the config's `key`, else the
     * source primary key (in key order). Empty: no key (no primary key published). */
    size_t *key_columns;
    size_t n_key;
    /* Incremental tables whose key goes through a rule that can map two source keys to
     * one (hash, ...): their tables carry one more column, PLAN_KEY_DIGEST_COLUMN, a
     * keyed digest of the source key (of the key rules' inputs), never published (the
     * view does not select it). A merge compares it to tell a changed row (same source
     * key) from a collision (another source key, the same published key). */
    bool key_digest;
    bool owns_catalog;   /* false for a projection (plan_project) */
    char qualified[130]; /* "schema.table", for messages */
};

#define PLAN_KEY_DIGEST_COLUMN "_anonetl_key_digest"

enum plan_status {
    PLAN_OK = 0,
    PLAN_POLICY,  /* uncovered or missing columns: `violations` has the text */
    PLAN_INVALID, /* a rule cannot handle its column's type */
};

/* Build the plan; takes ownership of catalog in every case. On PLAN_POLICY/INVALID the
 * report (YAML to add, missing columns, type problems) is appended to `report`. */
enum plan_status plan_build(const struct cfg_table *cfg, const char *config_path,
                            struct catalog_table *catalog, struct table_plan **out,
                            struct abuf *report);
void plan_free(struct table_plan *p);
/* Plan every table of cfg against the source catalog (read through conn): plans[i] for
 * cfg->tables[i], NULL where it failed; every problem is appended to report. Returns
 * PLAN_POLICY if any table has one (uncovered/missing columns, missing table), else
 * PLAN_INVALID if any has one (a rule that cannot handle its type, a bad incremental
 * setting), else PLAN_OK. */
enum plan_status plan_all(PGconn *conn, const struct config *cfg, struct table_plan **plans,
                          struct abuf *report);
/* The exit code of a plan status: 0, 6 (policy) or 2 (config). */
int plan_exit_code(enum plan_status st);
/* A plan over a subset of the columns of p (by index), sharing its catalog and rules:
 * used to stream the key columns only (key_scan deletes). */
struct table_plan *plan_project(const struct table_plan *p, const size_t *columns, size_t n);
/* One line per column whose rule withheld values so far (rule_ops.withheld), appended to
 * out as "FILE:LINE:COLUMN: tables[I].columns.NAME: N values published as NULL: ...";
 * returns how many columns. The table is the config's table_index-th. */
size_t plan_withheld_report(const struct table_plan *p, const char *config_path, size_t table_index,
                            struct abuf *out);
/* Index of a column by name, or (size_t)-1. */
size_t plan_column_index(const struct table_plan *p, const char *name);

#endif
