/*
 * config.h: the anonetl YAML config (docs/config-reference.yaml is the contract),
 * loaded with libyaml into plain data.
 *
 * config_load validates everything that can be checked without a database: unknown
 * keys, wrong types, unknown rules, duplicates, bad values. Every problem is reported
 * as "file:line:column: key: problem" (with "did you mean ...?" where a known word is
 * near), all of them at once, one per line of err->msg. Secret values are never read
 * here: a secret is only a reference (env name, file path, ARN) resolved by etl/.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"
#include "anonymise/rule.h"

enum cfg_secret_kind {
    CFG_SECRET_NONE = 0,
    CFG_SECRET_LITERAL, /* a plain string in the file (allowed for DSNs without a password) */
    CFG_SECRET_ENV,     /* { env: NAME } */
    CFG_SECRET_FILE,    /* { file: PATH } */
    CFG_SECRET_AWS,     /* { aws_secret: ARN, json_key: K } */
};

struct cfg_secret {
    enum cfg_secret_kind kind;
    char *ref;      /* literal text, variable name, path or ARN */
    char *json_key; /* aws_secret only; NULL = the whole secret string */
    int line, column;
};

struct cfg_db {
    struct cfg_secret dsn; /* a libpq connection string or URI; kind NONE when host/... used */
    char *host;
    int port; /* 0 = libpq default */
    char *dbname;
    char *user;
    struct cfg_secret password;
    bool iam_auth;
    char *sslmode;             /* NULL = libpq default */
    char *sslrootcert;         /* NULL = none */
    long statement_timeout_ms; /* 0 = server default */
    int line, column;
};

struct cfg_target {
    struct cfg_db db;
    char *schema;           /* default "anonymised" */
    char **grant_select_to; /* role names */
    size_t n_grant_select_to;
    bool retain_unconfigured; /* keep published tables no longer configured (said each run) */
    /* ANALYZE of a freshly loaded table samples 300 x this many rows (PostgreSQL's
     * default_statistics_target for that statement); default 10 (etl/target.c). */
    int statistics_target;
};

enum cfg_mode { CFG_MODE_FULL = 0, CFG_MODE_INCREMENTAL };
enum cfg_deletes { CFG_DELETES_NONE = 0, CFG_DELETES_SOFT, CFG_DELETES_KEY_SCAN };
enum cfg_kanon_action { CFG_KANON_SUPPRESS = 0, CFG_KANON_DROP, CFG_KANON_FAIL };

struct cfg_column {
    char *name;
    struct rule rule;
    int line, column;
};

struct cfg_kanon {
    char **quasi_identifiers;
    size_t n_quasi_identifiers;
    int k;
    enum cfg_kanon_action on_violation;
    int line, column;
};

struct cfg_table {
    char *schema; /* "public" when the name has no schema */
    char *name;
    enum cfg_mode mode;
    char **key; /* NULL = the source primary key */
    size_t n_key;
    char *watermark;
    long watermark_lag_ms; /* -1 = not set: cfg_watermark_lag_ms() gives the default */
    enum cfg_deletes deletes;
    char *deleted_column;
    char *where;      /* SQL boolean expression, or NULL */
    char *publish_as; /* the published name, or NULL: the table's own name */
    struct cfg_column *columns;
    size_t n_columns;
    struct cfg_kanon *k_anonymity; /* NULL = none */
    unsigned char fingerprint[32]; /* SHA-256 of the table's canonical settings and rules */
    int line, column;
};

/*
 * The default watermark_lag: 15 minutes. A row stamped at T by a transaction that commits
 * after a run's snapshot is only read by a later run if the mark the run leaves is below
 * T (etl/increment.h): the lag is how long after its stamp a write may still commit,
 * plus the skew of stamps an application computes with its own clock. Runs also stop
 * their mark before the oldest transaction still writing the table when the source role
 * can see it (pg_read_all_stats), so the lag is the guarantee for what it cannot see.
 * The lag costs no freshness (a run publishes everything its snapshot shows) but the
 * rows changed within it are read again by the next run: 15 minutes covers ordinary
 * transactions, batch statements of several minutes and skewed application clocks, at
 * the cost of re-reading a quarter of an hour of changes.
 */
#define CFG_DEFAULT_WATERMARK_LAG_MS (15 * 60 * 1000L)

/* The table's watermark_lag in ms: the configured one, else the default. */
static inline long cfg_watermark_lag_ms(const struct cfg_table *t)
{
    return t->watermark_lag_ms >= 0 ? t->watermark_lag_ms : CFG_DEFAULT_WATERMARK_LAG_MS;
}

/* The name the table is published under in the target schema. */
static inline const char *cfg_published_name(const struct cfg_table *t)
{
    return t->publish_as ? t->publish_as : t->name;
}

struct cfg_peering {
    char *id;
    enum {
        CFG_DNS_NONE = 0,
        CFG_DNS_BOTH,
        CFG_DNS_REQUESTER,
        CFG_DNS_ACCEPTER,
        CFG_DNS_OFF
    } dns_resolution;
    bool required; /* default true */
    int line, column;
};

struct cfg_route {
    char *route_table;
    char *destination; /* CIDR */
    char *peering;
    int line, column;
};

struct cfg_security_group {
    char *group;
    int port;
    char *from; /* CIDR or sg-... */
    int line, column;
};

/* aws.job: where the job runs, when the metadata services cannot tell (ip or interface). */
struct cfg_job {
    char *ip;                /* the job's private IPv4 address */
    char *network_interface; /* eni-... */
    int line, column;
};

struct cfg_aws {
    char *region;
    char *endpoint; /* NULL = standard endpoint / AWS_ENDPOINT_URL* */
    struct cfg_peering *peerings;
    size_t n_peerings;
    struct cfg_route *routes;
    size_t n_routes;
    struct cfg_security_group *security_groups;
    size_t n_security_groups;
    struct cfg_job *job;     /* NULL = ask ECS task metadata, then IMDSv2 */
    char **transit_gateways; /* tgw-... a route to a database may use */
    size_t n_transit_gateways;
};

struct cfg_endpoint {
    char *name; /* "source" or "target" */
    char *expect_cidr;
    char *ip; /* the database's private address, pinned (NULL = resolve the DSN host) */
    int line, column;
};

struct cfg_network {
    struct cfg_endpoint *endpoints;
    size_t n_endpoints;
    long connect_timeout_ms; /* default 5000 */
};

/* run.audit: the leak audit inside every run (etl/audit.h). */
struct cfg_audit {
    int sample; /* source rows sampled per table */
    int line, column;
};

struct cfg_run {
    int jobs;                /* default 1 */
    long max_runtime_ms;     /* 0 = none */
    struct cfg_audit *audit; /* NULL = no audit */
};

struct config {
    char *path;
    int version;
    struct cfg_db source;
    struct cfg_target target;
    struct cfg_secret hash_key;
    char *hash_key_id;           /* optional label recorded with each run (secrets.hash_key_id) */
    struct cfg_aws *aws;         /* NULL = no aws: section */
    struct cfg_network *network; /* NULL = no network: section */
    struct cfg_run run;
    struct cfg_table *tables;
    size_t n_tables;
    unsigned char fingerprint[32]; /* SHA-256 over every table fingerprint, in order */
};

/* A schema of the server itself (pg_*, which PostgreSQL reserves, information_schema). */
bool config_system_schema(const char *schema);
/* Why a table there is not configured (config and init say the same). */
#define CONFIG_SYSTEM_SCHEMA_SOURCE                                                                \
    "a system schema (pg_*, information_schema): anonetl copies user tables (the catalogs "        \
    "hold the server's roles and password hashes, pg_statistic sampled values)"
bool config_load(const char *path, struct config **out, struct anon_error *err) ANON_MUST_CHECK;
/* Same, from memory; `name` is used in messages in place of a file name. */
bool config_load_buffer(const char *name, const char *text, size_t len, struct config **out,
                        struct anon_error *err) ANON_MUST_CHECK;
void config_free(struct config *cfg);

const struct cfg_column *config_find_column(const struct cfg_table *t, const char *name);
/* Parse "30min", "5s", "2h", "500ms", "1d" into milliseconds. */
bool config_parse_duration(const char *text, long *ms);

#endif
