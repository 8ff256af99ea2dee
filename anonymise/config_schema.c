/*
 * config_schema.c: the anonetl config file as data (see config_schema.h): one table of
 * fields per section of docs/config-reference.yaml, the value checks (ids, CIDRs,
 * regions) and the few rules that span several fields (dsn or host/..., incremental
 * needs key and watermark, names that must be columns, duplicate tables).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anonymise/config_schema.h"
#include "anonymise/dupkeys.h"
#include "anonymise/sqlexpr.h"
#include "anonymise/suggest.h"
#include "anonymise/utf8.h"

#define FIELD_END                                                                                  \
    {                                                                                              \
        .key = NULL                                                                                \
    }
#define POS(type)                                                                                  \
    .has_pos = true, .line_off = offsetof(type, line), .col_off = offsetof(type, column)
#define DAY_MS 86400000L

/* ---------------------------------------------------------- value checks */

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* AWS resource ids: prefix, then 8 or 17 lowercase hex digits. */
static bool aws_id_ok(const char *s, const char *prefix)
{
    size_t p = strlen(prefix), n = strlen(s);

    return strncmp(s, prefix, p) == 0 && (n - p == 8 || n - p == 17) && all_hex(s + p);
}

static const char *check_pcx(const char *s)
{
    return aws_id_ok(s, "pcx-") ? NULL : "expected a peering id such as pcx-0123456789abcdef0";
}

static const char *check_rtb(const char *s)
{
    return aws_id_ok(s, "rtb-") ? NULL : "expected a route table id such as rtb-0123456789abcdef0";
}

static const char *check_eni(const char *s)
{
    return aws_id_ok(s, "eni-") ? NULL
                                : "expected a network interface id such as eni-0123456789abcdef0";
}

static const char *check_tgw(const char *s)
{
    return aws_id_ok(s, "tgw-") ? NULL
                                : "expected a transit gateway id such as tgw-0123456789abcdef0";
}

/* A bare IPv4 address (the path analysis judges IPv4 paths). */
static const char *check_ipv4(const char *s)
{
    unsigned char addr[4];

    return inet_pton(AF_INET, s, addr) == 1 ? NULL : "expected an IPv4 address such as 10.10.5.20";
}

static const char *check_sg(const char *s)
{
    return aws_id_ok(s, "sg-") ? NULL : "expected a security group id such as sg-0123456789abcdef0";
}

/* "10.0.0.0/16" or "fd00::/8": an address, a prefix length in range, no host bits. */
static const char *check_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    unsigned char addr[16];
    char host[64];
    int family, bits, max, prefix = 0;
    size_t hl;

    if (!slash || (hl = (size_t)(slash - s)) == 0 || hl >= sizeof(host))
        return "expected a CIDR block such as 10.0.0.0/16";
    memcpy(host, s, hl);
    host[hl] = '\0';
    family = strchr(host, ':') ? AF_INET6 : AF_INET;
    max = family == AF_INET ? 32 : 128;
    if (inet_pton(family, host, addr) != 1)
        return "expected a CIDR block such as 10.0.0.0/16";
    if (!slash[1] || strlen(slash + 1) > 3)
        return "expected a CIDR block such as 10.0.0.0/16";
    for (const char *p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return "expected a CIDR block such as 10.0.0.0/16";
        prefix = prefix * 10 + (*p - '0');
    }
    if (prefix > max)
        return family == AF_INET ? "prefix length must be 0..32" : "prefix length must be 0..128";
    bits = max / 8;
    for (int i = 0; i < bits; i++) {
        int keep = prefix - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        if (addr[i] & (unsigned char)~mask)
            return "host bits are set after the prefix length";
    }
    return NULL;
}

static const char *check_cidr_or_sg(const char *s)
{
    if (strncmp(s, "sg-", 3) == 0)
        return check_sg(s);
    return check_cidr(s) ? "expected a CIDR block (10.0.0.0/16) or a security group id (sg-...)"
                         : NULL;
}

/* "eu-west-2", "us-gov-west-1": lowercase words joined by '-', ending in a number. */
static const char *check_region(const char *s)
{
    size_t n = strlen(s), dashes = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            dashes++;
        else if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            dashes = 0, n = 0;
    }
    if (n < 6 || dashes < 2 || s[n - 1] < '0' || s[n - 1] > '9' || s[0] == '-' || strstr(s, "--"))
        return "expected an AWS region such as eu-west-2";
    return NULL;
}

static const char *check_url(const char *s)
{
    if ((strncmp(s, "https://", 8) == 0 && s[8]) || (strncmp(s, "http://", 7) == 0 && s[7]))
        return NULL;
    return "expected an https:// URL";
}

static const char *check_not_empty(const char *s)
{
    return *s ? NULL : "must not be empty";
}

/* where: one expression that cannot leave its parentheses (sqlexpr.h); the server
 * checks later that it is a boolean expression over the table (etl/plan.c). */
static const char *check_where(const char *s)
{
    static __thread char why[200];
    const char *problem;
    size_t at = 0;

    if (!*s)
        return "must not be empty";
    problem = sqlexpr_check(s, strlen(s), &at);
    if (!problem)
        return NULL;
    snprintf(why, sizeof(why), "%s (at character %zu)", problem, utf8_count(s, at) + 1);
    return why;
}

/* PostgreSQL cuts a longer name to its first 63 bytes without an error: two configs
 * publishing into "…_a" and "…_b" would share one schema, and overwrite each other's
 * views; a role named so would be another role. */
#define NAME_MAX_BYTES 63
#define NAME_TOO_LONG "longer than PostgreSQL's 63 bytes for a name (the server would cut it)"
/* A source name: 63 bytes in the source's encoding, so at most 63 characters whatever it
 * is (a LATIN1 "é" is one byte there, two here: bytes cannot be counted here). */
#define SOURCE_NAME_TOO_LONG                                                                       \
    "longer than 63 characters: no PostgreSQL name is (the server cut it to 63 bytes when "        \
    "it was created: write it as the catalog has it)"

static bool source_name_too_long(const char *s)
{
    return utf8_count(s, strlen(s)) > NAME_MAX_BYTES;
}

static const char *check_target_schema(const char *s)
{
    if (!*s)
        return "must not be empty";
    if (strlen(s) > NAME_MAX_BYTES)
        return NAME_TOO_LONG;
    if (strcmp(s, "anonetl") == 0 || strcmp(s, "anonetl_data") == 0)
        return "anonetl and anonetl_data are anonetl's private schemas: publish into another "
               "schema";
    if (config_system_schema(s))
        return "a system schema (pg_*, information_schema): publish into another schema";
    return NULL;
}

/* A published name: one PostgreSQL identifier (quoted when used). */
static const char *check_published_name(const char *s)
{
    if (!*s)
        return "must not be empty";
    if (strlen(s) > NAME_MAX_BYTES)
        return NAME_TOO_LONG;
    return NULL;
}

static const char *check_role(const char *s)
{
    if (strlen(s) > NAME_MAX_BYTES)
        return NAME_TOO_LONG;
    if (strcasecmp(s, "public") == 0)
        return "granting to PUBLIC would let every role read the data: name the roles";
    return NULL;
}

/* ------------------------------------------------------------- databases */

static const char *const sslmodes[] = {"disable",   "allow",       "prefer", "require",
                                       "verify-ca", "verify-full", NULL};

static void db_check(struct load *L, const struct yopts *o, void *obj)
{
    struct cfg_db *db = obj;
    bool parts =
        db->host || db->port || db->dbname || db->user || db->password.kind != CFG_SECRET_NONE;

    if (db->dsn.kind != CFG_SECRET_NONE && parts)
        yopts_error(o, "dsn", L->err, "use either dsn or host/port/dbname/user/password, not both");
    else if (db->dsn.kind == CFG_SECRET_NONE && !db->host)
        yopts_error(o, NULL, L->err, "missing required key \"dsn\" (or host, dbname, user)");
    if (db->iam_auth && db->password.kind != CFG_SECRET_NONE)
        yopts_error(o, "password", L->err, "not used with iam_auth: true (remove one)");
}

static const struct field db_fields[] = {
    {.key = "dsn", .type = F_SECRET, .off = offsetof(struct cfg_db, dsn), .flags = F_LITERAL_OK},
    {.key = "host", .type = F_STR, .off = offsetof(struct cfg_db, host), .check = check_not_empty},
    {.key = "port", .type = F_INT, .off = offsetof(struct cfg_db, port), .min = 1, .max = 65535},
    {.key = "dbname",
     .type = F_STR,
     .off = offsetof(struct cfg_db, dbname),
     .check = check_not_empty},
    {.key = "user", .type = F_STR, .off = offsetof(struct cfg_db, user), .check = check_not_empty},
    {.key = "password", .type = F_SECRET, .off = offsetof(struct cfg_db, password)},
    {.key = "iam_auth", .type = F_BOOL, .off = offsetof(struct cfg_db, iam_auth)},
    {.key = "sslmode", .type = F_STR, .off = offsetof(struct cfg_db, sslmode), .choices = sslmodes},
    {.key = "sslrootcert",
     .type = F_STR,
     .off = offsetof(struct cfg_db, sslrootcert),
     .check = check_not_empty},
    {.key = "statement_timeout",
     .type = F_DURATION,
     .off = offsetof(struct cfg_db, statement_timeout_ms),
     .min = 0,
     .max = INT_MAX},
    FIELD_END,
};

static const struct section db_section = {
    .fields = db_fields,
    POS(struct cfg_db),
    .check = db_check,
};

static void target_check(struct load *L, const struct yopts *o, void *obj)
{
    db_check(L, o, &((struct cfg_target *)obj)->db);
}

static const struct field target_fields[] = {
    {.key = "schema",
     .type = F_STR,
     .off = offsetof(struct cfg_target, schema),
     .def_str = "anonymised",
     .check = check_target_schema},
    {.key = "grant_select_to",
     .type = F_STRLIST,
     .off = offsetof(struct cfg_target, grant_select_to),
     .count_off = offsetof(struct cfg_target, n_grant_select_to),
     .check = check_role},
    {.key = "retain_unconfigured",
     .type = F_BOOL,
     .off = offsetof(struct cfg_target, retain_unconfigured)},
    {.key = "statistics_target",
     .type = F_INT,
     .off = offsetof(struct cfg_target, statistics_target),
     .def = 10,
     .min = 1,
     .max = 10000},
    FIELD_END,
};

static const struct section target_section = {
    .fields = target_fields,
    .base = &db_section,
    .base_off = offsetof(struct cfg_target, db),
    .has_pos = true,
    .line_off = offsetof(struct cfg_target, db) + offsetof(struct cfg_db, line),
    .col_off = offsetof(struct cfg_target, db) + offsetof(struct cfg_db, column),
    .check = target_check,
};

/* Fields of struct config itself, written under `secrets:`. */
static const struct field secrets_fields[] = {
    {.key = "hash_key",
     .type = F_SECRET,
     .off = offsetof(struct config, hash_key),
     .flags = F_REQUIRED},
    {.key = "hash_key_id",
     .type = F_STR,
     .off = offsetof(struct config, hash_key_id),
     .check = check_not_empty},
    FIELD_END,
};

static const struct section secrets_section = {.fields = secrets_fields};

/* ------------------------------------------------------------------- aws */

static const struct enum_word dns_words[] = {
    {"true", CFG_DNS_BOTH},
    {"false", CFG_DNS_OFF},
    {"requester", CFG_DNS_REQUESTER},
    {"accepter", CFG_DNS_ACCEPTER},
    {NULL, 0},
};

static const struct field peering_fields[] = {
    {.key = "id",
     .type = F_STR,
     .off = offsetof(struct cfg_peering, id),
     .flags = F_REQUIRED,
     .check = check_pcx},
    {.key = "dns_resolution",
     .type = F_ENUM,
     .off = offsetof(struct cfg_peering, dns_resolution),
     .def = CFG_DNS_NONE,
     .words = dns_words},
    {.key = "required", .type = F_BOOL, .off = offsetof(struct cfg_peering, required), .def = 1},
    FIELD_END,
};

static const struct section peering_section = {
    .fields = peering_fields, .size = sizeof(struct cfg_peering), POS(struct cfg_peering)};

static const struct field route_fields[] = {
    {.key = "route_table",
     .type = F_STR,
     .off = offsetof(struct cfg_route, route_table),
     .flags = F_REQUIRED,
     .check = check_rtb},
    {.key = "destination",
     .type = F_STR,
     .off = offsetof(struct cfg_route, destination),
     .flags = F_REQUIRED,
     .check = check_cidr},
    {.key = "peering",
     .type = F_STR,
     .off = offsetof(struct cfg_route, peering),
     .flags = F_REQUIRED,
     .check = check_pcx},
    FIELD_END,
};

static const struct section route_section = {
    .fields = route_fields, .size = sizeof(struct cfg_route), POS(struct cfg_route)};

static const struct field sg_fields[] = {
    {.key = "group",
     .type = F_STR,
     .off = offsetof(struct cfg_security_group, group),
     .flags = F_REQUIRED,
     .check = check_sg},
    {.key = "port",
     .type = F_INT,
     .off = offsetof(struct cfg_security_group, port),
     .flags = F_REQUIRED,
     .min = 1,
     .max = 65535},
    {.key = "from",
     .type = F_STR,
     .off = offsetof(struct cfg_security_group, from),
     .flags = F_REQUIRED,
     .check = check_cidr_or_sg},
    FIELD_END,
};

static const struct section sg_section = {
    .fields = sg_fields, .size = sizeof(struct cfg_security_group), POS(struct cfg_security_group)};

static void job_check(struct load *L, const struct yopts *o, void *obj)
{
    const struct cfg_job *j = obj;

    if (!j->ip && !j->network_interface)
        yopts_error(o, NULL, L->err, "missing required key \"ip\" (or network_interface)");
}

static const struct field job_fields[] = {
    {.key = "ip", .type = F_STR, .off = offsetof(struct cfg_job, ip), .check = check_ipv4},
    {.key = "network_interface",
     .type = F_STR,
     .off = offsetof(struct cfg_job, network_interface),
     .check = check_eni},
    FIELD_END,
};

static const struct section job_section = {
    .fields = job_fields, .size = sizeof(struct cfg_job), POS(struct cfg_job), .check = job_check};

static const struct field aws_fields[] = {
    {.key = "region",
     .type = F_STR,
     .off = offsetof(struct cfg_aws, region),
     .check = check_region},
    {.key = "endpoint",
     .type = F_STR,
     .off = offsetof(struct cfg_aws, endpoint),
     .check = check_url},
    {.key = "peerings",
     .type = F_LIST,
     .off = offsetof(struct cfg_aws, peerings),
     .count_off = offsetof(struct cfg_aws, n_peerings),
     .sub = &peering_section},
    {.key = "routes",
     .type = F_LIST,
     .off = offsetof(struct cfg_aws, routes),
     .count_off = offsetof(struct cfg_aws, n_routes),
     .sub = &route_section},
    {.key = "security_groups",
     .type = F_LIST,
     .off = offsetof(struct cfg_aws, security_groups),
     .count_off = offsetof(struct cfg_aws, n_security_groups),
     .sub = &sg_section},
    {.key = "job",
     .type = F_SECTION,
     .off = offsetof(struct cfg_aws, job),
     .flags = F_ALLOC,
     .sub = &job_section},
    {.key = "transit_gateways",
     .type = F_STRLIST,
     .off = offsetof(struct cfg_aws, transit_gateways),
     .count_off = offsetof(struct cfg_aws, n_transit_gateways),
     .check = check_tgw},
    FIELD_END,
};

static const struct section aws_section = {.fields = aws_fields, .size = sizeof(struct cfg_aws)};

/* --------------------------------------------------------------- network */

static const char *const endpoint_names[] = {"source", "target", NULL};

static const struct field endpoint_fields[] = {
    {.key = "name",
     .type = F_STR,
     .off = offsetof(struct cfg_endpoint, name),
     .flags = F_REQUIRED,
     .choices = endpoint_names},
    {.key = "expect_cidr",
     .type = F_STR,
     .off = offsetof(struct cfg_endpoint, expect_cidr),
     .flags = F_REQUIRED,
     .check = check_cidr},
    {.key = "ip", .type = F_STR, .off = offsetof(struct cfg_endpoint, ip), .check = check_ipv4},
    FIELD_END,
};

static const struct section endpoint_section = {
    .fields = endpoint_fields, .size = sizeof(struct cfg_endpoint), POS(struct cfg_endpoint)};

static const struct field network_fields[] = {
    {.key = "endpoints",
     .type = F_LIST,
     .off = offsetof(struct cfg_network, endpoints),
     .count_off = offsetof(struct cfg_network, n_endpoints),
     .sub = &endpoint_section},
    {.key = "connect_timeout",
     .type = F_DURATION,
     .off = offsetof(struct cfg_network, connect_timeout_ms),
     .def = 5000,
     .min = 1,
     .max = 600000},
    FIELD_END,
};

static const struct section network_section = {.fields = network_fields,
                                               .size = sizeof(struct cfg_network)};

/* ------------------------------------------------------------------- run */

static const struct field audit_fields[] = {
    {.key = "sample",
     .type = F_INT,
     .off = offsetof(struct cfg_audit, sample),
     .def = 1000,
     .min = 1,
     .max = 1000000},
    FIELD_END,
};

static const struct section audit_section = {
    .fields = audit_fields, .size = sizeof(struct cfg_audit), POS(struct cfg_audit)};

static const struct field run_fields[] = {
    {.key = "jobs",
     .type = F_INT,
     .off = offsetof(struct cfg_run, jobs),
     .def = 1,
     .min = 1,
     .max = 64},
    {.key = "max_runtime",
     .type = F_DURATION,
     .off = offsetof(struct cfg_run, max_runtime_ms),
     .min = 1000,
     .max = 30 * DAY_MS},
    {.key = "audit",
     .type = F_SECTION,
     .off = offsetof(struct cfg_run, audit),
     .flags = F_ALLOC,
     .sub = &audit_section},
    FIELD_END,
};

static const struct section run_section = {.fields = run_fields};

/* ---------------------------------------------------------------- tables */

static const struct enum_word mode_words[] = {
    {"full", CFG_MODE_FULL}, {"incremental", CFG_MODE_INCREMENTAL}, {NULL, 0}};
static const struct enum_word deletes_words[] = {{"none", CFG_DELETES_NONE},
                                                 {"soft", CFG_DELETES_SOFT},
                                                 {"key_scan", CFG_DELETES_KEY_SCAN},
                                                 {NULL, 0}};
static const struct enum_word kanon_words[] = {{"suppress", CFG_KANON_SUPPRESS},
                                               {"drop", CFG_KANON_DROP},
                                               {"fail", CFG_KANON_FAIL},
                                               {NULL, 0}};

static const struct field kanon_fields[] = {
    {.key = "quasi_identifiers",
     .type = F_STRLIST,
     .off = offsetof(struct cfg_kanon, quasi_identifiers),
     .count_off = offsetof(struct cfg_kanon, n_quasi_identifiers),
     .flags = F_REQUIRED | F_NONEMPTY},
    {.key = "k",
     .type = F_INT,
     .off = offsetof(struct cfg_kanon, k),
     .flags = F_REQUIRED,
     .min = 2,
     .max = 1000000},
    {.key = "on_violation",
     .type = F_ENUM,
     .off = offsetof(struct cfg_kanon, on_violation),
     .def = CFG_KANON_SUPPRESS,
     .words = kanon_words},
    FIELD_END,
};

static const struct section kanon_section = {
    .fields = kanon_fields, .size = sizeof(struct cfg_kanon), POS(struct cfg_kanon)};

/* name: "schema.table" or "table" (schema public). */
static bool table_name(struct load *L, const struct yopts *v, void *obj)
{
    struct cfg_table *t = obj;
    const char *s = yopts_scalar(v), *dot;

    if (!s || !*s) {
        yopts_error(v, NULL, L->err, "expected a table name such as public.parties");
        return false;
    }
    dot = strchr(s, '.');
    if (dot && (dot == s || !dot[1] || strchr(dot + 1, '.'))) {
        yopts_error(v, NULL, L->err, "expected schema.table or table");
        return false;
    }
    t->schema = dot ? strndup(s, (size_t)(dot - s)) : strdup("public");
    t->name = strdup(dot ? dot + 1 : s);
    if (!t->schema || !t->name) {
        yopts_error(v, NULL, L->err, "out of memory");
        return false;
    }
    if (source_name_too_long(t->schema) || source_name_too_long(t->name)) {
        yopts_error(v, NULL, L->err, "%s", SOURCE_NAME_TOO_LONG);
        return false;
    }
    if (config_system_schema(t->schema)) {
        /* init --schema pg_catalog wrote such a config; its run failed at the target
         * (pg_statistic's anyarray columns), and a keep there publishes source values */
        yopts_error(v, NULL, L->err, "%s", CONFIG_SYSTEM_SCHEMA_SOURCE);
        return false;
    }
    return true;
}

static void table_name_free(void *obj)
{
    struct cfg_table *t = obj;

    free(t->schema);
    free(t->name);
}

/* columns: a mapping column -> rule, in config order. */
static bool table_columns(struct load *L, const struct yopts *v, void *obj)
{
    struct cfg_table *t = obj;
    size_t n = yopts_count(v);

    if (yopts_kind(v) != YOPTS_MAPPING) {
        yopts_error(v, NULL, L->err, "expected a mapping of column: rule");
        return false;
    }
    t->columns = calloc(n ? n : 1, sizeof(*t->columns));
    if (!t->columns) {
        yopts_error(v, NULL, L->err, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        struct cfg_column *c = &t->columns[t->n_columns];
        const char *name = yopts_key_at(v, i);
        struct yopts *value;

        if (!name)
            continue; /* a non-scalar key: reported when the document was loaded */
        value = yopts_item(v, i);
        if (!value || !(c->name = strdup(name))) {
            yopts_error(v, NULL, L->err, "out of memory");
            yopts_free(value);
            return false;
        }
        yopts_key_pos(v, i, &c->line, &c->column);
        t->n_columns++;
        if (source_name_too_long(name))
            yopts_error_key_at(v, i, L->err, "%s", SOURCE_NAME_TOO_LONG);
        if (!rule_parse(value, &c->rule, L->err)) {
            /* reported; keep going to report the other columns too */
        }
        yopts_free(value);
    }
    return true;
}

static void table_columns_free(void *obj)
{
    struct cfg_table *t = obj;

    for (size_t i = 0; i < t->n_columns; i++) {
        rule_free(&t->columns[i].rule);
        free(t->columns[i].name);
    }
    free(t->columns);
}

/* Every name in list (at key in o, or the scalar key itself) must be a column. */
static void must_be_columns(struct load *L, const struct yopts *o, const char *key,
                            const struct cfg_table *t, char **names, size_t n)
{
    const char *cols[257];
    size_t nc = 0;

    for (; nc < t->n_columns && nc < 256; nc++)
        cols[nc] = t->columns[nc].name;
    cols[nc] = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *near;
        char shown[64];
        if (config_find_column(t, names[i]))
            continue;
        near = suggest_word(names[i], cols);
        yopts_shown(shown, sizeof(shown), names[i]);
        if (near)
            config_error_item(L, o, key, i,
                              "\"%s\" is not a column of this table (did you mean \"%s\"?)", shown,
                              near);
        else
            config_error_item(L, o, key, i, "\"%s\" is not a column of this table", shown);
    }
}

static void not_a_column(struct load *L, const struct yopts *o, int line, int column,
                         const char *key, const struct cfg_table *t, const char *name)
{
    const char *cols[257], *near;
    char shown[64];
    size_t nc = 0;

    for (; nc < t->n_columns && nc < 256; nc++)
        cols[nc] = t->columns[nc].name;
    cols[nc] = NULL;
    near = suggest_word(name, cols);
    yopts_shown(shown, sizeof(shown), name);
    if (strchr(name, '.'))
        yopts_error_pos(o, line, column, key, L->err,
                        "\"%s\" is not a column of this table (a rule reads the columns of its "
                        "own row only)",
                        shown);
    else if (near)
        yopts_error_pos(o, line, column, key, L->err,
                        "\"%s\" is not a column of this table (did you mean \"%s\"?)", shown, near);
    else
        yopts_error_pos(o, line, column, key, L->err, "\"%s\" is not a column of this table",
                        shown);
}

/* Columns a rule reads from the row (date_shift `by:`, scrub `row_values:`): other columns
 * of this table, named as they are under `columns:`. */
static void check_rule_columns(struct load *L, const struct yopts *o, const struct cfg_table *t,
                               const struct cfg_column *c)
{
    const struct rule_column_ref *refs;
    size_t n = 0;
    char key[300], shown[64];

    if (!c->rule.ops || !c->rule.ops->columns || !(refs = c->rule.ops->columns(c->rule.state, &n)))
        return;
    for (size_t i = 0; i < n; i++) {
        const char *name = refs[i].name;
        snprintf(key, sizeof(key), "columns.%s.%s", c->name, refs[i].key);
        yopts_shown(shown, sizeof(shown), name);
        if (strcmp(name, c->name) == 0)
            yopts_error_pos(o, refs[i].line, refs[i].column, key, L->err,
                            "\"%s\" is this column itself: name another column of the row", shown);
        else if (!config_find_column(t, name))
            not_a_column(L, o, refs[i].line, refs[i].column, key, t, name);
    }
}

static void table_check_mode(struct load *L, const struct yopts *o, struct cfg_table *t)
{
    if (t->mode == CFG_MODE_INCREMENTAL) {
        if (!t->n_key)
            yopts_error(o, "mode", L->err, "incremental needs key: [column, ...]");
        if (!t->watermark)
            yopts_error(o, "mode", L->err, "incremental needs watermark: column");
        return;
    }
    if (t->watermark)
        yopts_error(o, "watermark", L->err, "only used with mode: incremental");
    if (t->watermark_lag_ms >= 0)
        yopts_error(o, "watermark_lag", L->err, "only used with mode: incremental");
    if (t->deletes != CFG_DELETES_NONE)
        yopts_error(o, "deletes", L->err,
                    "only used with mode: incremental (a full refresh replaces the table)");
}

static void table_check(struct load *L, const struct yopts *o, void *obj)
{
    struct cfg_table *t = obj;

    if (t->n_columns == 0) {
        yopts_error(o, "columns", L->err, "no columns: every source column needs a rule");
        return;
    }
    table_check_mode(L, o, t);
    if (t->deletes == CFG_DELETES_SOFT && !t->deleted_column)
        yopts_error(o, "deletes", L->err, "soft needs deleted_column: column");
    if (t->deleted_column && t->deletes != CFG_DELETES_SOFT)
        yopts_error(o, "deleted_column", L->err, "only used with deletes: soft");
    for (size_t i = 0; i < t->n_columns; i++)
        check_rule_columns(L, o, t, &t->columns[i]);
    must_be_columns(L, o, "key", t, t->key, t->n_key);
    if (t->watermark)
        must_be_columns(L, o, "watermark", t, &t->watermark, 1);
    if (t->deleted_column)
        must_be_columns(L, o, "deleted_column", t, &t->deleted_column, 1);
    if (t->k_anonymity) {
        struct yopts *k = yopts_get(o, "k_anonymity");
        if (k)
            must_be_columns(L, k, "quasi_identifiers", t, t->k_anonymity->quasi_identifiers,
                            t->k_anonymity->n_quasi_identifiers);
        yopts_free(k);
    }
}

static const struct field table_fields[] = {
    {.key = "name",
     .type = F_CUSTOM,
     .flags = F_REQUIRED,
     .custom = table_name,
     .release = table_name_free},
    {.key = "mode",
     .type = F_ENUM,
     .off = offsetof(struct cfg_table, mode),
     .def = CFG_MODE_FULL,
     .words = mode_words},
    {.key = "key",
     .type = F_STRLIST,
     .off = offsetof(struct cfg_table, key),
     .count_off = offsetof(struct cfg_table, n_key),
     .flags = F_NONEMPTY},
    {.key = "watermark",
     .type = F_STR,
     .off = offsetof(struct cfg_table, watermark),
     .check = check_not_empty},
    {.key = "watermark_lag",
     .type = F_DURATION,
     .off = offsetof(struct cfg_table, watermark_lag_ms),
     .def = -1, /* not set: CFG_DEFAULT_WATERMARK_LAG_MS */
     .min = 0,
     .max = 30 * DAY_MS},
    {.key = "deletes",
     .type = F_ENUM,
     .off = offsetof(struct cfg_table, deletes),
     .def = CFG_DELETES_NONE,
     .words = deletes_words},
    {.key = "deleted_column",
     .type = F_STR,
     .off = offsetof(struct cfg_table, deleted_column),
     .check = check_not_empty},
    {.key = "where", .type = F_STR, .off = offsetof(struct cfg_table, where), .check = check_where},
    {.key = "publish_as",
     .type = F_STR,
     .off = offsetof(struct cfg_table, publish_as),
     .check = check_published_name},
    {.key = "columns",
     .type = F_CUSTOM,
     .flags = F_REQUIRED,
     .custom = table_columns,
     .release = table_columns_free},
    {.key = "k_anonymity",
     .type = F_SECTION,
     .off = offsetof(struct cfg_table, k_anonymity),
     .flags = F_ALLOC,
     .sub = &kanon_section},
    FIELD_END,
};

static const struct section table_section = {.fields = table_fields,
                                             .size = sizeof(struct cfg_table),
                                             POS(struct cfg_table),
                                             .check = table_check};

/* ------------------------------------------------------------------ root */

/* Two tables, the same published name: one would overwrite the other in the target. */
static void published_clash(struct load *L, const struct yopts *o, const struct config *cfg,
                            size_t i, const struct cfg_table *u)
{
    const struct cfg_table *t = &cfg->tables[i];
    char a[160], b[160], shown_a[64], shown_b[64], name[64];

    snprintf(a, sizeof(a), "%s.%s", t->schema, t->name);
    snprintf(b, sizeof(b), "%s.%s", u->schema, u->name);
    yopts_shown(shown_a, sizeof(shown_a), a);
    yopts_shown(shown_b, sizeof(shown_b), b);
    yopts_shown(name, sizeof(name), cfg_published_name(t));
    config_error_item(L, o, "tables", i,
                      "%s and %s (line %d:%d) would both publish as %s.%s: give one of them "
                      "`publish_as: <another name>`",
                      shown_a, shown_b, u->line, u->column,
                      cfg->target.schema ? cfg->target.schema : "anonymised", name);
}

/* Each table's first earlier namesake (same schema and name) and first earlier table
 * published under its name: found by sorting (dupkeys.h), not by comparing every pair (a
 * config of 80,000 tables took 31 s). */
static bool table_namesakes(const struct config *cfg, size_t *same_table, size_t *same_published)
{
    size_t n = cfg->n_tables;
    struct dupkeys_item *items = calloc(n ? n : 1, sizeof(*items));
    bool ok = items != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        items[i] = (struct dupkeys_item){t->name ? t->schema : NULL, t->name};
    }
    ok = ok && dupkeys_first(items, n, same_table);
    for (size_t i = 0; ok && i < n; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        items[i] = (struct dupkeys_item){t->name ? cfg_published_name(t) : NULL, NULL};
    }
    ok = ok && dupkeys_first(items, n, same_published);
    free(items);
    return ok;
}

static void root_check(struct load *L, const struct yopts *o, void *obj)
{
    struct config *cfg = obj;
    size_t n = cfg->n_tables;
    size_t *same_table = calloc(n ? n : 1, sizeof(size_t));
    size_t *same_published = calloc(n ? n : 1, sizeof(size_t));

    if (!same_table || !same_published || !table_namesakes(cfg, same_table, same_published)) {
        anon_error_add(L->err, "%s: out of memory", cfg->path ? cfg->path : "config");
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        size_t j = same_table[i], k = same_published[i];
        char shown[64], full[160];

        /* the earlier of the two, a namesake first at the same table (as a scan would) */
        if (j != DUPKEYS_NONE && (k == DUPKEYS_NONE || j <= k)) {
            snprintf(full, sizeof(full), "%s.%s", t->schema, t->name);
            yopts_shown(shown, sizeof(shown), full);
            config_error_item(L, o, "tables", i, "duplicate table %s (first at line %d)", shown,
                              cfg->tables[j].line);
        } else if (k != DUPKEYS_NONE) {
            published_clash(L, o, cfg, i, &cfg->tables[k]);
        }
    }
out:
    free(same_table);
    free(same_published);
}

static const struct field root_fields[] = {
    {.key = "version",
     .type = F_INT,
     .off = offsetof(struct config, version),
     .flags = F_REQUIRED,
     .min = 1,
     .max = 1},
    {.key = "source",
     .type = F_SECTION,
     .off = offsetof(struct config, source),
     .flags = F_REQUIRED,
     .sub = &db_section},
    {.key = "target",
     .type = F_SECTION,
     .off = offsetof(struct config, target),
     .flags = F_REQUIRED,
     .sub = &target_section},
    {.key = "secrets", .type = F_SECTION, .off = 0, .flags = F_REQUIRED, .sub = &secrets_section},
    {.key = "aws",
     .type = F_SECTION,
     .off = offsetof(struct config, aws),
     .flags = F_ALLOC,
     .sub = &aws_section},
    {.key = "network",
     .type = F_SECTION,
     .off = offsetof(struct config, network),
     .flags = F_ALLOC,
     .sub = &network_section},
    {.key = "run", .type = F_SECTION, .off = offsetof(struct config, run), .sub = &run_section},
    {.key = "tables",
     .type = F_LIST,
     .off = offsetof(struct config, tables),
     .count_off = offsetof(struct config, n_tables),
     .flags = F_REQUIRED | F_NONEMPTY,
     .sub = &table_section},
    FIELD_END,
};

const struct section config_root = {.fields = root_fields, .check = root_check};
