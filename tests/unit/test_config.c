/*
 * test_config.c: the config loader (anonymise/config*.c, yopts.c, suggest.c).
 *
 * - every file in tests/unit/configs/bad must fail with exactly the messages listed in
 *   its trailing "# expect: LINE:COL: path: problem" lines (file name prefixed), all of
 *   them, in file order: one test per file;
 * - the contract docs/config-reference.yaml and tests/unit/configs/good load, with
 *   the values and defaults checked field by field;
 * - fingerprints: stable across formatting, changed by any rule or setting change;
 * - durations, did-you-mean distance, and that secrets are references, never read.
 * Run from the repository root.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "anonymise/config.h"
#include "anonymise/dupkeys.h"
#include "anonymise/suggest.h"

#define BAD_DIR "tests/unit/configs/bad"
#define GOOD_DIR "tests/unit/configs/good"
#define REFERENCE "docs/config-reference.yaml"

/* ------------------------------------------------------------- helpers */

static struct config *load_ok(const char *path)
{
    struct anon_error err;
    struct config *cfg = NULL;

    anon_error_clear(&err);
    if (!config_load(path, &cfg, &err)) {
        print_error("%s did not load:\n%s\n", path, err.msg);
        fail();
    }
    return cfg;
}

static struct config *load_text_ok(const char *text)
{
    struct anon_error err;
    struct config *cfg = NULL;

    anon_error_clear(&err);
    if (!config_load_buffer("inline.yaml", text, strlen(text), &cfg, &err)) {
        print_error("inline config did not load:\n%s\n", err.msg);
        fail();
    }
    return cfg;
}

static const char *rule_name(const struct cfg_table *t, const char *col)
{
    const struct cfg_column *c = config_find_column(t, col);
    return c ? c->rule.ops->name : "(none)";
}

/* ------------------------------------------------------------ bad files */

static char expected[ANON_ERROR_MAX * 2];
static struct config *leftover;

static int bad_teardown(void **state)
{
    (void)state;
    config_free(leftover);
    leftover = NULL;
    return 0;
}

static void bad_file(void **state)
{
    const char *path = *state;
    FILE *f = fopen(path, "r");
    char line[1024];
    struct anon_error err;
    size_t used = 0;
    int n = 0;

    assert_non_null(f);
    expected[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "# expect: ", 10) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s:%s", n ? "\n" : "",
                                 path, line + 10);
        n++;
    }
    fclose(f);
    assert_true(n > 0);
    anon_error_clear(&err);
    if (config_load(path, &leftover, &err)) {
        print_error("%s loaded, expected:\n%s\n", path, expected);
        fail();
    }
    assert_null(leftover);
    if (strcmp(err.msg, expected) != 0) {
        print_error("%s\n--- expected:\n%s\n--- got:\n%s\n", path, expected, err.msg);
        fail();
    }
    assert_int_equal(err.count, n);
}

/* ------------------------------------------------------------ good files */

static void reference_loads(void **state)
{
    struct config *cfg = load_ok(REFERENCE);
    const struct cfg_table *t;

    (void)state;
    assert_int_equal(cfg->version, 1);
    assert_int_equal(cfg->source.dsn.kind, CFG_SECRET_ENV);
    assert_string_equal(cfg->source.dsn.ref, "SOURCE_DATABASE_URL");
    assert_int_equal(cfg->source.dsn.line, 6);
    assert_string_equal(cfg->source.sslmode, "verify-full");
    assert_string_equal(cfg->source.sslrootcert, "/etc/ssl/rds-global-bundle.pem");
    assert_int_equal(cfg->source.statement_timeout_ms, 30 * 60 * 1000);
    assert_int_equal(cfg->target.db.dsn.kind, CFG_SECRET_ENV);
    assert_string_equal(cfg->target.db.dsn.ref, "TARGET_DATABASE_URL");
    assert_string_equal(cfg->target.schema, "anonymised");
    assert_int_equal(cfg->target.n_grant_select_to, 1);
    assert_string_equal(cfg->target.grant_select_to[0], "data_team");
    assert_int_equal(cfg->target.statistics_target, 10);
    assert_int_equal(cfg->hash_key.kind, CFG_SECRET_ENV);
    assert_string_equal(cfg->hash_key.ref, "ANONETL_HASH_KEY");
    assert_null(cfg->hash_key_id);

    assert_non_null(cfg->aws);
    assert_string_equal(cfg->aws->region, "eu-west-2");
    assert_string_equal(cfg->aws->endpoint, "https://vpce-0abc.ec2.eu-west-2.vpce.amazonaws.com");
    assert_int_equal(cfg->aws->n_peerings, 2);
    assert_string_equal(cfg->aws->peerings[0].id, "pcx-0aaa1111bbbb2222c");
    assert_int_equal(cfg->aws->peerings[0].dns_resolution, CFG_DNS_BOTH);
    assert_true(cfg->aws->peerings[0].required);
    assert_int_equal(cfg->aws->peerings[1].dns_resolution, CFG_DNS_REQUESTER);
    assert_false(cfg->aws->peerings[1].required);
    assert_int_equal(cfg->aws->peerings[1].line, 29);
    assert_int_equal(cfg->aws->n_routes, 1);
    assert_string_equal(cfg->aws->routes[0].route_table, "rtb-0123456789abcdef0");
    assert_string_equal(cfg->aws->routes[0].destination, "10.0.0.0/16");
    assert_string_equal(cfg->aws->routes[0].peering, "pcx-0ddd3333eeee4444f");
    assert_int_equal(cfg->aws->n_security_groups, 1);
    assert_string_equal(cfg->aws->security_groups[0].group, "sg-0123456789abcdef0");
    assert_int_equal(cfg->aws->security_groups[0].port, 5432);
    assert_string_equal(cfg->aws->security_groups[0].from, "10.20.0.0/16");
    assert_int_equal(cfg->aws->n_transit_gateways, 1);
    assert_string_equal(cfg->aws->transit_gateways[0], "tgw-0123456789abcdef0");
    assert_non_null(cfg->aws->job);
    assert_string_equal(cfg->aws->job->ip, "10.20.1.15");
    assert_null(cfg->aws->job->network_interface);

    assert_non_null(cfg->network);
    assert_int_equal(cfg->network->n_endpoints, 2);
    assert_string_equal(cfg->network->endpoints[0].name, "source");
    assert_string_equal(cfg->network->endpoints[0].expect_cidr, "10.10.0.0/16");
    assert_string_equal(cfg->network->endpoints[0].ip, "10.10.5.20");
    assert_null(cfg->network->endpoints[1].ip);
    assert_string_equal(cfg->network->endpoints[1].name, "target");
    assert_int_equal(cfg->network->connect_timeout_ms, 5000);
    assert_int_equal(cfg->run.jobs, 4);
    assert_int_equal(cfg->run.max_runtime_ms, 2 * 3600 * 1000);
    assert_non_null(cfg->run.audit);
    assert_int_equal(cfg->run.audit->sample, 1000);

    assert_int_equal(cfg->n_tables, 1);
    t = &cfg->tables[0];
    assert_string_equal(t->schema, "public");
    assert_string_equal(t->name, "parties");
    assert_int_equal(t->line, 59);
    assert_int_equal(t->mode, CFG_MODE_INCREMENTAL);
    assert_int_equal(t->n_key, 1);
    assert_string_equal(t->key[0], "id");
    assert_string_equal(t->watermark, "updated_at");
    assert_int_equal(t->watermark_lag_ms, 15 * 60 * 1000);
    assert_int_equal(cfg_watermark_lag_ms(t), CFG_DEFAULT_WATERMARK_LAG_MS);
    assert_int_equal(t->deletes, CFG_DELETES_KEY_SCAN);
    assert_null(t->deleted_column);
    assert_string_equal(t->where, "NOT is_test_account");
    assert_int_equal(t->n_columns, 15);
    assert_string_equal(t->columns[0].name, "id");
    assert_string_equal(t->columns[13].name, "updated_at");
    assert_string_equal(rule_name(t, "id"), "keep");
    assert_string_equal(rule_name(t, "full_name"), "suppress");
    assert_string_equal(rule_name(t, "email"), "hash");
    assert_string_equal(rule_name(t, "user_id"), "hash_int");
    assert_string_equal(rule_name(t, "phone"), "mask");
    assert_string_equal(rule_name(t, "notes"), "scrub");
    assert_string_equal(rule_name(t, "profile"), "json");
    assert_null(config_find_column(t, "nope"));
    assert_int_equal(config_find_column(t, "email")->line, 70);
    assert_int_equal(config_find_column(t, "email")->column, 7);
    assert_int_equal(config_find_column(t, "email")->rule.line, 70);
    assert_non_null(t->k_anonymity);
    assert_int_equal(t->k_anonymity->n_quasi_identifiers, 2);
    assert_string_equal(t->k_anonymity->quasi_identifiers[1], "date_of_birth");
    assert_int_equal(t->k_anonymity->k, 5);
    assert_int_equal(t->k_anonymity->on_violation, CFG_KANON_SUPPRESS);
    config_free(cfg);
}

static void minimal_defaults(void **state)
{
    struct config *cfg = load_ok(GOOD_DIR "/minimal.yaml");
    const struct cfg_table *t = &cfg->tables[0];

    (void)state;
    assert_string_equal(cfg->target.schema, "anonymised");
    assert_int_equal(cfg->target.n_grant_select_to, 0);
    assert_null(cfg->aws);
    assert_null(cfg->network);
    assert_int_equal(cfg->run.jobs, 1);
    assert_int_equal(cfg->run.max_runtime_ms, 0);
    assert_null(cfg->run.audit); /* no audit unless asked for */
    assert_int_equal(cfg->source.port, 0);
    assert_null(cfg->source.sslmode);
    assert_int_equal(cfg->source.statement_timeout_ms, 0);
    assert_string_equal(t->schema, "public");
    assert_string_equal(t->name, "users");
    assert_int_equal(t->mode, CFG_MODE_FULL);
    assert_null(t->key);
    assert_int_equal(t->deletes, CFG_DELETES_NONE);
    assert_null(t->k_anonymity);
    assert_null(t->where);
    assert_string_equal(rule_name(t, "email"), "hash");
    config_free(cfg);
}

static void parts_and_secret_forms(void **state)
{
    struct config *cfg = load_ok(GOOD_DIR "/parts.yaml");
    const struct cfg_table *t = &cfg->tables[0];

    (void)state;
    assert_int_equal(cfg->source.dsn.kind, CFG_SECRET_NONE);
    assert_string_equal(cfg->source.host, "prod-db.internal");
    assert_int_equal(cfg->source.port, 5433);
    assert_string_equal(cfg->source.dbname, "app");
    assert_string_equal(cfg->source.user, "anonetl_reader");
    assert_int_equal(cfg->source.password.kind, CFG_SECRET_AWS);
    assert_string_equal(cfg->source.password.ref,
                        "arn:aws:secretsmanager:eu-west-2:123456789012:secret:db");
    assert_string_equal(cfg->source.password.json_key, "password");
    assert_int_equal(cfg->source.statement_timeout_ms, 500);
    assert_int_equal(cfg->target.db.dsn.kind, CFG_SECRET_LITERAL);
    assert_string_equal(cfg->target.db.dsn.ref, "host=/tmp dbname=anon user=writer");
    assert_string_equal(cfg->target.schema, "published");
    assert_int_equal(cfg->target.n_grant_select_to, 1); /* a single word is a list of one */
    assert_int_equal(cfg->hash_key.kind, CFG_SECRET_FILE);
    assert_string_equal(cfg->hash_key.ref, "/run/secrets/hash_key");
    assert_string_equal(cfg->hash_key_id, "key-2024-01");
    assert_int_equal(cfg->aws->peerings[0].dns_resolution, CFG_DNS_OFF);
    assert_true(cfg->aws->peerings[0].required);
    assert_string_equal(cfg->aws->security_groups[1].from, "fd00::/8");
    assert_int_equal(cfg->aws->n_routes, 0);
    assert_int_equal(cfg->network->n_endpoints, 0);
    assert_int_equal(cfg->network->connect_timeout_ms, 30000);
    assert_int_equal(cfg->run.jobs, 1);
    assert_int_equal(cfg->run.max_runtime_ms, 90 * 60 * 1000);
    assert_string_equal(t->schema, "app");
    assert_string_equal(t->name, "events");
    assert_int_equal(t->n_key, 2);
    assert_int_equal(t->deletes, CFG_DELETES_SOFT);
    assert_string_equal(t->deleted_column, "gone");
    assert_string_equal(rule_name(t, "label"), "constant");
    config_free(cfg);
}

/* The loader keeps references: a missing file or variable is etl's problem later. */
static void secrets_are_not_read(void **state)
{
    struct config *cfg = load_text_ok("version: 1\n"
                                      "source: { dsn: { file: /nonexistent/anonetl/dsn } }\n"
                                      "target: { dsn: { env: ANONETL_TEST_UNSET_VARIABLE } }\n"
                                      "secrets: { hash_key: { file: /nonexistent/key } }\n"
                                      "tables: [{ name: t, columns: { id: keep } }]\n");

    (void)state;
    assert_int_equal(cfg->source.dsn.kind, CFG_SECRET_FILE);
    assert_string_equal(cfg->hash_key.ref, "/nonexistent/key");
    config_free(cfg);
}

/* Issue 10.9: a password in a literal DSN is found however it is written, because the DSN
 * is parsed the way libpq parses it (PQconninfoParse), not searched for "password=". The
 * message never quotes the DSN. */
static void dsn_passwords(void **state)
{
    static const char *const refused[] = {
        "host=db dbname=anon password=hunter2",
        "host=db dbname=anon password = hunter2",
        "host=db dbname=anon password  =hunter2",
        "host=db dbname=anon password= 'hunter 2'",
        "host=db\tpassword\t=\thunter2",
        "host=db sslpassword=hunter2",
        "postgresql://reader:hunter2@db.internal/app",
        "postgres://reader:hunter2@db.internal:5432/app?sslmode=verify-full",
        "postgresql://reader@db.internal/app?password=hunter2",
        "postgresql://db.internal/app?sslmode=require&password=hunter2",
        "postgresql://reader:hunter2@/app?host=/var/run/postgresql",
    };
    static const char *const accepted[] = {
        "host=db dbname=anon user=reader",
        "host=db dbname=anon user=reader passfile=/etc/anonetl/pgpass",
        "postgresql://reader@db.internal/app?sslmode=verify-full",
        "host=db dbname='my password=x'",
        "",
    };
    char text[1024];
    struct anon_error err;
    struct config *cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(
            text, sizeof(text),
            "version: 1\nsource: { dsn: \"%s\" }\ntarget: { dsn: { env: T } }\n"
            "secrets: { hash_key: { env: K } }\ntables: [{ name: t, columns: { id: keep } }]\n",
            refused[i]);
        anon_error_clear(&err);
        cfg = NULL;
        if (config_load_buffer("dsn.yaml", text, strlen(text), &cfg, &err)) {
            config_free(cfg);
            fail_msg("accepted a DSN with a password: %s", refused[i]);
        }
        if (!strstr(err.msg, "must not contain a password") || strstr(err.msg, "hunter"))
            fail_msg("%s -> %s", refused[i], err.msg);
    }
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        snprintf(
            text, sizeof(text),
            "version: 1\nsource: { dsn: \"%s\" }\ntarget: { dsn: { env: T } }\n"
            "secrets: { hash_key: { env: K } }\ntables: [{ name: t, columns: { id: keep } }]\n",
            accepted[i]);
        anon_error_clear(&err);
        cfg = NULL;
        if (!config_load_buffer("dsn.yaml", text, strlen(text), &cfg, &err))
            fail_msg("refused %s: %s", accepted[i], err.msg);
        config_free(cfg);
    }
    /* not a DSN at all: refused without quoting it */
    snprintf(text, sizeof(text),
             "version: 1\nsource: { dsn: \"host=db PASSWORD=hunter2\" }\n"
             "target: { dsn: { env: T } }\nsecrets: { hash_key: { env: K } }\n"
             "tables: [{ name: t, columns: { id: keep } }]\n");
    anon_error_clear(&err);
    cfg = NULL;
    assert_false(config_load_buffer("dsn.yaml", text, strlen(text), &cfg, &err));
    assert_non_null(strstr(err.msg, "not a connection string libpq can read"));
    assert_null(strstr(err.msg, "hunter"));
}

static void missing_file(void **state)
{
    struct anon_error err;
    struct config *cfg = (struct config *)&err; /* must be reset to NULL */

    (void)state;
    anon_error_clear(&err);
    assert_false(config_load("tests/unit/configs/no-such-file.yaml", &cfg, &err));
    assert_null(cfg);
    assert_string_equal(
        err.msg, "tests/unit/configs/no-such-file.yaml: cannot open: No such file or directory");
}

/* More problems than the error buffer holds: still a failure, every problem counted,
 * the buffer full but terminated, and no check runs on half-parsed tables (a table
 * without a name once reached the duplicate-table check: found by fuzz_config). */
static void many_errors(void **state)
{
    static char text[64 * 1024];
    struct anon_error err;
    struct config *cfg = NULL;
    const char *last;
    size_t used;

    (void)state;
    used = (size_t)snprintf(text, sizeof(text),
                            "version: 1\nsource: { dsn: { env: S } }\n"
                            "target: { dsn: { env: T } }\nsecrets: { hash_key: { env: K } }\n"
                            "tables:\n");
    for (int i = 0; i < 300; i++)
        used +=
            (size_t)snprintf(text + used, sizeof(text) - used, "  - { colums: { id: keep } }\n");
    anon_error_clear(&err);
    assert_false(config_load_buffer("many.yaml", text, used, &cfg, &err));
    assert_null(cfg);
    assert_true(err.count >= 600); /* an unknown key and a missing one per table */
    assert_true(strnlen(err.msg, sizeof(err.msg)) < sizeof(err.msg));
    assert_memory_equal(err.msg, "many.yaml:6:5: tables[0]: missing required key", 46);
    /* the last line is a whole message, not a stub cut by the buffer's end */
    last = strrchr(err.msg, '\n') + 1;
    assert_memory_equal(last, "many.yaml:", 10);
    assert_true(last[strlen(last) - 1] == '"' || last[strlen(last) - 1] == ')');
    assert_non_null(strstr(
        err.msg, "many.yaml:6:7: tables[0].colums: unknown key (did you mean \"columns\"?)"));
}

/* 400,000 nested flow lists (800 kB, under the 4 MB limit): libyaml's scanner costs grow
 * with the square of the depth (100,000 took two minutes), so the load must refuse them
 * before building the document. The alarm turns a hang into a failure. */
static void deep_nesting_refused_fast(void **state)
{
    enum { LEVELS = 400000 };
    static const char head[] = "version: 1\nsource: { dsn: { env: S } }\n"
                               "target: { dsn: { env: T } }\nsecrets: { hash_key: { env: K } }\n"
                               "tables: [ { name: t, columns: { id: ";
    size_t used = sizeof(head) - 1, cap = used + 2 * LEVELS + 16;
    char *text = malloc(cap);
    struct anon_error err;
    struct config *cfg = NULL;

    (void)state;
    assert_non_null(text);
    memcpy(text, head, used);
    memset(text + used, '[', LEVELS);
    memset(text + used + LEVELS, ']', LEVELS);
    used += 2 * LEVELS;
    memcpy(text + used, " } } ]\n", 7);
    used += 7;
    anon_error_clear(&err);
    alarm(60);
    assert_false(config_load_buffer("deep.yaml", text, used, &cfg, &err));
    alarm(0);
    assert_null(cfg);
    assert_int_equal(err.count, 1);
    assert_string_equal(err.msg, "deep.yaml:5:1033: nested deeper than 64 levels");
    free(text);
}

/* A config near the 4 MB limit, every name once but the last: the duplicate checks
 * compared each name with every earlier one (100,000 tables: most of a minute; a mapping of
 * 200,000 keys: two minutes); sorted, both load in well under a second. */
static char *big_config(size_t tables, size_t columns, size_t *len)
{
    static const char head[] = "version: 1\nsource: { dsn: { env: S } }\n"
                               "target: { dsn: { env: T } }\nsecrets: { hash_key: { env: K } }\n"
                               "tables:\n";
    size_t cap = 64 + sizeof(head) + tables * 48 + columns * 24, used = sizeof(head) - 1;
    char *text = malloc(cap);

    assert_non_null(text);
    memcpy(text, head, used);
    for (size_t t = 0; t < tables && columns == 1; t++) /* the last table is t0 again */
        used += (size_t)snprintf(text + used, cap - used, "- name: t%zu\n  columns: {c: keep}\n",
                                 t + 1 == tables ? 0 : t);
    if (columns > 1) { /* one table, its last column c0 again */
        used += (size_t)snprintf(text + used, cap - used, "- name: t\n  columns:\n");
        for (size_t c = 0; c < columns; c++)
            used += (size_t)snprintf(text + used, cap - used, "    c%zu: keep\n",
                                     c + 1 == columns ? 0 : c);
    }
    *len = used;
    return text;
}

static void many_names_checked_fast(void **state)
{
    static const struct {
        size_t tables, columns;
        const char *msg;
    } cases[] = {
        {100000, 1, "big.yaml:200004:3: tables[99999]: duplicate table public.t0 (first at line 6)"},
        {1, 200000, "big.yaml:200007:5: tables[0].columns.c0: duplicate key (first at line 8)"},
    };
    struct anon_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *text = big_config(cases[i].tables, cases[i].columns, &len);
        struct config *cfg = NULL;

        assert_in_range(len, 3L * 1024 * 1024, 4L * 1024 * 1024);
        anon_error_clear(&err);
        alarm(60);
        assert_false(config_load_buffer("big.yaml", text, len, &cfg, &err));
        alarm(0);
        assert_null(cfg);
        assert_int_equal(err.count, 1);
        assert_string_equal(err.msg, cases[i].msg);
        free(text);
    }
}

/* Two-part names compare part by part; a name that could not be read matches nothing. */
static void dupkeys_first_occurrences(void **state)
{
    static const struct dupkeys_item items[] = {
        {"a.b", "c"}, {"a", "b.c"}, {"a", "b.c"}, {NULL, "x"}, {NULL, "x"},
        {"a.b", "c"}, {"a", NULL},  {"a", ""},    {"a", "b.c"},
    };
    static const size_t want[] = {DUPKEYS_NONE, DUPKEYS_NONE, 1, DUPKEYS_NONE, DUPKEYS_NONE,
                                  0,            DUPKEYS_NONE, 6, 1};
    size_t first[sizeof(items) / sizeof(items[0])];

    (void)state;
    assert_true(dupkeys_first(items, sizeof(items) / sizeof(items[0]), first));
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        assert_int_equal(first[i], want[i]);
    assert_true(dupkeys_first(items, 1, first));
    assert_int_equal(first[0], DUPKEYS_NONE);
}

/* ----------------------------------------------------------- fingerprints */

static const char *const fp_base =
    "version: 1\nsource: { dsn: { env: S } }\ntarget: { dsn: { env: T } }\n"
    "secrets: { hash_key: { env: K } }\ntables:\n"
    "  - name: a\n    columns: { id: keep, email: { hash: { length: 16 } } }\n"
    "  - name: b\n    columns: { id: keep }\n";

static void fingerprint_of(const char *text, unsigned char cfg_fp[32], unsigned char a[32],
                           unsigned char b[32])
{
    struct config *cfg = load_text_ok(text);

    memcpy(cfg_fp, cfg->fingerprint, 32);
    memcpy(a, cfg->tables[0].fingerprint, 32);
    memcpy(b, cfg->tables[1].fingerprint, 32);
    config_free(cfg);
}

static void fingerprints(void **state)
{
    static const char *const changes[][2] = {
        {"length: 16", "length: 17"},
        {"email: { hash: { length: 16 } }", "email: { hash: { length: 16, namespace: x } }"},
        {"email: { hash: { length: 16 } }", "email: suppress"},
        {"id: keep, email", "id: suppress, email"},
        {"columns: { id: keep, email: { hash: { length: 16 } } }",
         "columns: { email: { hash: { length: 16 } }, id: keep }"}, /* column order */
        {"  - name: a\n", "  - name: a\n    where: \"x > 1\"\n"},
        {"  - name: a\n", "  - name: other.a\n"},
    };
    unsigned char c0[32], a0[32], b0[32], c1[32], a1[32], b1[32];
    char text[2048];
    unsigned char zero[32] = {0};

    (void)state;
    fingerprint_of(fp_base, c0, a0, b0);
    assert_memory_not_equal(c0, zero, 32);
    assert_memory_not_equal(a0, b0, 32);
    /* Same settings written differently: same fingerprints. */
    fingerprint_of("# a comment\nversion: 1\nsource: { dsn: { env: S } }\n"
                   "target: { dsn: { env: OTHER } }\n"
                   "secrets: { hash_key: { env: K } }\nrun: { jobs: 3 }\ntables:\n"
                   "  - name: public.a\n    mode: full\n    columns:\n      id: keep\n"
                   "      email: { hash: { length: 16, namespace: \"\", format: hex } }\n"
                   "  - name: b\n    columns: { id: keep }\n",
                   c1, a1, b1);
    assert_memory_equal(c0, c1, 32);
    assert_memory_equal(a0, a1, 32);
    /* Any change of a table's policy changes its fingerprint and the config's, and
     * leaves the other table alone. */
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        const char *at = strstr(fp_base, changes[i][0]);
        size_t pre;
        assert_non_null(at);
        pre = (size_t)(at - fp_base);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)pre, fp_base, changes[i][1],
                 at + strlen(changes[i][0]));
        fingerprint_of(text, c1, a1, b1);
        assert_memory_not_equal(c0, c1, 32);
        assert_memory_not_equal(a0, a1, 32);
        assert_memory_equal(b0, b1, 32);
    }
}

/* ------------------------------------------------------------- helpers */

static void durations(void **state)
{
    static const struct {
        const char *text;
        long ms;
    } ok[] = {{"500ms", 500},   {"5s", 5000}, {"30min", 1800000}, {"2h", 7200000},
              {"1d", 86400000}, {"0s", 0},    {"0ms", 0},         {"90min", 5400000}};
    static const char *const bad[] = {"",
                                      "5",
                                      "s",
                                      "5 s",
                                      "5m",
                                      "-5s",
                                      "5S",
                                      "5sec",
                                      "1.5h",
                                      "5s ",
                                      " 5s",
                                      "99999999999999999999d",
                                      "9223372036854775807s"};
    long ms;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ms = -1;
        assert_true(config_parse_duration(ok[i].text, &ms));
        assert_int_equal(ms, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (config_parse_duration(bad[i], &ms)) {
            print_error("\"%s\" parsed as %ld\n", bad[i], ms);
            fail();
        }
    }
}

static void suggestions(void **state)
{
    static const char *const keys[] = {"hash", "hash_int", "keep", "suppress", NULL};

    (void)state;
    assert_int_equal(suggest_distance("hsah", "hash"), 1); /* a transposition */
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    assert_int_equal(suggest_distance("", "abc"), 3);
    assert_int_equal(suggest_distance("same", "same"), 0);
    assert_string_equal(suggest_word("hsah", keys), "hash");
    assert_string_equal(suggest_word("hash_itn", keys), "hash_int");
    assert_string_equal(suggest_word("supress", keys), "suppress");
    assert_null(suggest_word("xyz", keys));
    assert_null(suggest_word("ab", keys));
}

/* ------------------------------------------------------------------ main */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(reference_loads),
        cmocka_unit_test(minimal_defaults),
        cmocka_unit_test(parts_and_secret_forms),
        cmocka_unit_test(secrets_are_not_read),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(many_errors),
        cmocka_unit_test(deep_nesting_refused_fast),
        cmocka_unit_test(many_names_checked_fast),
        cmocka_unit_test(dupkeys_first_occurrences),
        cmocka_unit_test(fingerprints),
        cmocka_unit_test(durations),
        cmocka_unit_test(suggestions),
        cmocka_unit_test(dsn_passwords),
    };
    enum { MAX_BAD = 120 };
    struct CMUnitTest tests[MAX_BAD + sizeof(fixed) / sizeof(fixed[0])];
    char *files[MAX_BAD];
    size_t n = 0, total;
    DIR *d = opendir(BAD_DIR);
    struct dirent *e;
    int rc;

    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", BAD_DIR);
        return 1;
    }
    while ((e = readdir(d)) != NULL && n < MAX_BAD) {
        size_t l = strlen(e->d_name), sz;
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
            continue;
        sz = sizeof(BAD_DIR) + l + 1;
        files[n] = malloc(sz);
        snprintf(files[n], sz, "%s/%s", BAD_DIR, e->d_name);
        n++;
    }
    closedir(d);
    qsort(files, n, sizeof(files[0]), by_name);
    memset(tests, 0, sizeof(tests));
    total = sizeof(fixed) / sizeof(fixed[0]);
    memcpy(tests, fixed, sizeof(fixed));
    for (size_t i = 0; i < n; i++) {
        tests[total].name = files[i];
        tests[total].test_func = bad_file;
        tests[total].initial_state = files[i];
        tests[total].teardown_func = bad_teardown;
        total++;
    }
    rc = _cmocka_run_group_tests("config", tests, total, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    return rc;
}
