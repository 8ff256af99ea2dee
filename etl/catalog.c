/* catalog.c: source catalog introspection (see catalog.h). Values go as parameters. */
#include "etl/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

static const char table_sql[] =
    "SELECT c.oid, c.relkind, c.reltuples, "
    "       CASE WHEN c.relkind IN ('r','m','p') THEN pg_catalog.pg_total_relation_size(c.oid) "
    "            ELSE 0 END, "
    /* The relation itself when its row level security applies to this role
     * (row_security_active: not a superuser nor BYPASSRLS, not the owner unless FORCE),
     * or NULL: see rls_relation in catalog.h. Only the queried table's policies filter
     * a query: a partition's or an inheritance child's own apply when it is read alone. */
    "       CASE WHEN pg_catalog.row_security_active(c.oid) "
    "            THEN c.oid::pg_catalog.regclass::pg_catalog.text END, "
    /* this role may read it: the table, or each of its columns (column grants) */
    "       pg_catalog.has_table_privilege(c.oid, 'SELECT') OR NOT EXISTS ("
    "         SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
    "           AND NOT a.attisdropped "
    "           AND NOT pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')), "
    "       pg_catalog.quote_ident(current_user), c.oid::pg_catalog.regclass::pg_catalog.text "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f')";

/* The type as the target can create it: built-in types as they are; a domain as its base
 * type, an array of such domains as an array of it; enums, composites and extension types
 * (which the target may not have) as text, whose COPY text form is the same bytes.
 * The wire type: the built-in type whose binary form the source sends for the column,
 * when there is one (binary COPY, codec.h): the type itself for built-ins and domains
 * over them, text for enums (their label) and citext (whose send function is text's),
 * and for arrays of those or of domains over built-ins an array of text or of the base
 * type, whose element OIDs differ from the target's (so not `exact`: the engine rewrites
 * the array header). A domain over a domain is its innermost base type (with the typmod
 * the innermost domain declares): an integer for `age AS posint`, `posint AS integer`. */
#define BASE_OF_DOMAIN(type, alias)                                                                \
    "LEFT JOIN LATERAL (WITH RECURSIVE chain(base, mod, depth) AS ("                               \
    "  SELECT " type ".typbasetype, " type ".typtypmod, 1 WHERE " type ".typtype = 'd' "           \
    "  UNION ALL SELECT b.typbasetype, CASE WHEN c.mod = -1 THEN b.typtypmod ELSE c.mod END, "     \
    "    c.depth + 1 FROM chain c JOIN pg_catalog.pg_type b ON b.oid = c.base "                    \
    "    WHERE b.typtype = 'd') "                                                                  \
    "  SELECT c.base, c.mod FROM chain c ORDER BY c.depth DESC LIMIT 1) " alias " ON true "
/* An array of a domain over a built-in type (posint[], age[] with age AS posint): published
 * as an array of the innermost base type, as the domain itself is (integer[]). */
#define ARRAY_OF_BUILTIN_DOMAIN                                                                    \
    "(et.typtype = 'd' AND ebt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace)"
/* The column's composite type (or its array's element) as nest's first row, path {}, then
 * every composite an attribute of one of them holds (itself or as an array's element):
 * its pg_class (relid), its type (typ) and the attribute numbers that lead to it (path).
 * Composite types cannot contain themselves; the depth is capped all the same. */
#define NESTED_COMPOSITES                                                                          \
    "WITH RECURSIVE nest(relid, typ, path) AS ("                                                   \
    "  SELECT COALESCE(NULLIF(t.typrelid, 0), NULLIF(et.typrelid, 0)), "                           \
    "         COALESCE(et.oid, t.oid), '{}'::pg_catalog.int2[] "                                   \
    "  UNION ALL SELECT COALESCE(NULLIF(nt.typrelid, 0), NULLIF(ne.typrelid, 0)), "                \
    "         COALESCE(ne.oid, nt.oid), n.path || na.attnum "                                      \
    "  FROM nest n JOIN pg_catalog.pg_attribute na ON na.attrelid = n.relid "                      \
    "    AND na.attnum > 0 AND NOT na.attisdropped "                                               \
    "  JOIN pg_catalog.pg_type nt ON nt.oid = na.atttypid "                                        \
    "  LEFT JOIN pg_catalog.pg_type ne ON ne.oid = nt.typelem AND nt.typcategory = 'A' "           \
    "  WHERE COALESCE(NULLIF(nt.typrelid, 0), NULLIF(ne.typrelid, 0)) IS NOT NULL "                \
    "    AND pg_catalog.cardinality(n.path) < 32)"
static const char columns_sql[] =
    "SELECT a.attname, "
    "       CASE WHEN t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace "
    "              THEN pg_catalog.format_type(a.atttypid, a.atttypmod) "
    "            WHEN t.typtype = 'd' AND bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace "
    "              THEN pg_catalog.format_type(dom.base, dom.mod) "
    "            WHEN " ARRAY_OF_BUILTIN_DOMAIN
    "              THEN pg_catalog.format_type(edom.base, edom.mod) || '[]' "
    "            WHEN t.typcategory = 'A' THEN 'text[]' ELSE 'text' END, "
    "       a.attnotnull, "
    "       NOT (t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace OR "
    "            (t.typtype = 'd' AND bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace) OR "
    "            " ARRAY_OF_BUILTIN_DOMAIN "), "
    "       COALESCE((SELECT k.n FROM pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
    "                 WHERE k.attnum = a.attnum), 0), "
    "       CASE WHEN t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace "
    "              THEN pg_catalog.format_type(a.atttypid, a.atttypmod) "
    "            WHEN t.typtype = 'd' AND bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace "
    "              THEN pg_catalog.format_type(dom.base, dom.mod) "
    "            WHEN t.typtype = 'e' OR (t.typtype = 'd' AND bt.typtype = 'e') OR "
    "                 t.typsend::pg_catalog.text ~ '(^|[.])citextsend$' THEN 'text' "
    "            WHEN et.typtype = 'e' OR "
    "                 et.typsend::pg_catalog.text ~ '(^|[.])citextsend$' THEN 'text[]' "
    "            WHEN " ARRAY_OF_BUILTIN_DOMAIN
    "              THEN pg_catalog.format_type(edom.base, edom.mod) || '[]' END, "
    "       t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace OR t.typtype = 'e' OR "
    "       t.typsend::pg_catalog.text ~ '(^|[.])citextsend$' OR "
    "       (t.typtype = 'd' AND (bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace OR "
    "                             bt.typtype = 'e')), "
    /* a composite's (or an array of composites') attributes with its name: one added
     * changes what a keep publishes (catalog_same_kind) and every value (increment.h) */
    "       pg_catalog.format_type(a.atttypid, a.atttypmod) || COALESCE((SELECT ' {' || "
    "         pg_catalog.string_agg(pg_catalog.quote_ident(ca.attname::pg_catalog.text) || ' ' || "
    "           pg_catalog.format_type(ca.atttypid, ca.atttypmod), ', ' ORDER BY ca.attnum) || '}' "
    "         FROM pg_catalog.pg_attribute ca "
    "         WHERE ca.attrelid = COALESCE(NULLIF(t.typrelid, 0), et.typrelid) "
    "           AND ca.attnum > 0 AND NOT ca.attisdropped), '') || "
    /* then each composite nested in it (an attribute, an array attribute, at any depth),
     * with its attributes, depth first: one added there is published by a keep as well */
    "       COALESCE((" NESTED_COMPOSITES " SELECT pg_catalog.string_agg(' ' || "
    "         pg_catalog.format_type(n.typ, NULL) || ' {' || (SELECT pg_catalog.string_agg("
    "           pg_catalog.quote_ident(ca.attname::pg_catalog.text) || ' ' || "
    "           pg_catalog.format_type(ca.atttypid, ca.atttypmod), ', ' ORDER BY ca.attnum) "
    "           FROM pg_catalog.pg_attribute ca WHERE ca.attrelid = n.relid AND ca.attnum > 0 "
    "           AND NOT ca.attisdropped) || '}', '' ORDER BY n.path) "
    "         FROM nest n WHERE pg_catalog.cardinality(n.path) > 0), ''), a.attnum, "
    "       CASE WHEN t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace THEN a.atttypmod "
    "            WHEN t.typtype = 'd' AND bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace "
    "              THEN dom.mod "
    "            WHEN " ARRAY_OF_BUILTIN_DOMAIN " THEN edom.mod ELSE -1 END, "
    /* binary I/O exists for the type and its elements (aclitem has none) */
    "       t.typsend::pg_catalog.oid <> 0 AND t.typreceive::pg_catalog.oid <> 0 AND "
    "       (et.oid IS NULL OR (et.typsend::pg_catalog.oid <> 0 AND "
    "                           et.typreceive::pg_catalog.oid <> 0)), "
    "       COALESCE((SELECT pg_catalog.json_agg(e.enumlabel ORDER BY e.enumsortorder) "
    "        FROM pg_catalog.pg_enum e WHERE e.enumtypid = CASE WHEN t.typtype = 'e' THEN t.oid "
    "          WHEN bt.typtype = 'e' THEN bt.oid WHEN et.typtype = 'e' THEN et.oid "
    "          WHEN ebt.typtype = 'e' THEN ebt.oid END), "
    /* a composite's (or an array of composites') enum attributes, theirs in attribute
     * order, then those of the composites nested in it, depth first */
    "        (" NESTED_COMPOSITES " SELECT pg_catalog.json_agg(e.enumlabel "
    "           ORDER BY n.path, ca.attnum, e.enumsortorder) "
    "         FROM nest n JOIN pg_catalog.pg_attribute ca ON ca.attrelid = n.relid "
    "           AND ca.attnum > 0 AND NOT ca.attisdropped "
    "         JOIN pg_catalog.pg_type at ON at.oid = ca.atttypid "
    "         LEFT JOIN pg_catalog.pg_type aet ON aet.oid = at.typelem AND at.typcategory = 'A' "
    "         JOIN pg_catalog.pg_enum e ON e.enumtypid = CASE WHEN at.typtype = 'e' THEN at.oid "
    "           WHEN aet.typtype = 'e' THEN aet.oid END))::pg_catalog.text "
    "FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid " BASE_OF_DOMAIN(
        "t", "dom") "LEFT JOIN pg_catalog.pg_type bt ON bt.oid = dom.base "
                    "LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND t.typcategory = "
                    "'A' " BASE_OF_DOMAIN(
                        "et", "edom") "LEFT JOIN pg_catalog.pg_type ebt ON ebt.oid = edom.base "
                                      "LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid "
                                      "AND i.indisprimary "
                                      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND "
                                      "NOT a.attisdropped "
                                      "ORDER BY a.attnum";

void catalog_free(struct catalog_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_columns; i++) {
        free(t->columns[i].name);
        free(t->columns[i].type);
        free(t->columns[i].wire_type);
        free(t->columns[i].declared_type);
        free(t->columns[i].enum_labels);
    }
    free(t->columns);
    free(t->schema);
    free(t->name);
    free(t->rls_relation);
    free(t);
}

const struct catalog_column *catalog_find(const struct catalog_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_columns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}

/* The types whose value is a reference into the source's catalog (an OID): their binary
 * form is that OID, which names nothing, or another object, on the target; their text
 * is the object's name (schema-qualified under the pinned search_path). */
static const char *const catalog_refs[] = {
    "regclass",    "regcollation", "regconfig",    "regdictionary", "regnamespace", "regoper",
    "regoperator", "regproc",      "regprocedure", "regrole",       "regtype",      NULL,
};

/* A column of a catalog reference type (a domain over one, an array of either) is
 * published as text: its name, on both COPY paths (no binary form carries it). */
static bool publish_reference_as_text(struct catalog_column *c)
{
    size_t len = strlen(c->type);
    bool array = len > 2 && strcmp(c->type + len - 2, "[]") == 0;
    char *text;

    for (const char *const *r = catalog_refs; *r; r++) {
        if (strlen(*r) != len - (array ? 2 : 0) || strncmp(c->type, *r, strlen(*r)) != 0)
            continue;
        if (!(text = strdup(array ? "text[]" : "text")))
            return false;
        free(c->type);
        free(c->wire_type);
        c->type = text;
        c->wire_type = NULL;
        c->wire_exact = false;
        c->remapped = true;
        c->typmod = -1;
        return true;
    }
    return true;
}

/*
 * A `name` column (a domain over one, an array of either) is published as text. A name
 * holds at most 63 bytes in the source's encoding, which are more in UTF-8 (60 "é" of a
 * LATIN1 source are 120 bytes): the target's name input cut such a value silently on
 * the text COPY path (31 characters published) and refused it on the binary one. Its
 * binary form is its text's, so it still travels in binary (wire type name, converted).
 */
static bool publish_name_as_text(struct catalog_column *c)
{
    bool array = strcmp(c->type, "name[]") == 0;
    char *text;

    if (!array && strcmp(c->type, "name") != 0)
        return true;
    if (!(text = strdup(array ? "text[]" : "text")))
        return false;
    free(c->type);
    c->type = text;
    c->wire_exact = false;
    c->remapped = true;
    return true;
}

static bool read_columns(PGconn *conn, const char *oid, struct catalog_table *t,
                         struct anon_error *err)
{
    const char *params[1] = {oid};
    PGresult *res = pgconn_query(conn, columns_sql, 1, params, PGRES_TUPLES_OK, err);
    int n;

    if (!res)
        return false;
    n = PQntuples(res);
    t->columns = calloc((size_t)n + 1, sizeof(*t->columns));
    if (!t->columns) {
        PQclear(res);
        anon_error_set(err, "out of memory");
        return false;
    }
    for (int i = 0; i < n; i++) {
        struct catalog_column *c = &t->columns[i];
        c->name = strdup(PQgetvalue(res, i, 0));
        c->type = strdup(PQgetvalue(res, i, 1));
        c->not_null = PQgetvalue(res, i, 2)[0] == 't';
        c->remapped = PQgetvalue(res, i, 3)[0] == 't';
        c->pk_position = (int)strtol(PQgetvalue(res, i, 4), NULL, 10);
        c->wire_type = PQgetisnull(res, i, 5) ? NULL : strdup(PQgetvalue(res, i, 5));
        c->wire_exact = PQgetvalue(res, i, 6)[0] == 't';
        c->declared_type = strdup(PQgetvalue(res, i, 7));
        c->attnum = (int)strtol(PQgetvalue(res, i, 8), NULL, 10);
        c->typmod = (int)strtol(PQgetvalue(res, i, 9), NULL, 10);
        c->enum_labels = PQgetisnull(res, i, 11) ? NULL : strdup(PQgetvalue(res, i, 11));
        if (c->pk_position > 0)
            t->n_pk++;
        t->n_columns++;
        if (!c->name || !c->type || !c->declared_type ||
            (!PQgetisnull(res, i, 11) && !c->enum_labels) ||
            (!PQgetisnull(res, i, 5) && !c->wire_type) || !publish_reference_as_text(c) ||
            !publish_name_as_text(c)) {
            PQclear(res);
            anon_error_set(err, "out of memory");
            return false;
        }
        if (PQgetvalue(res, i, 10)[0] != 't') { /* no binary form: text COPY (plan.c) */
            free(c->wire_type);
            c->wire_type = NULL;
            c->wire_exact = false;
        }
    }
    PQclear(res);
    return true;
}

bool catalog_read(PGconn *conn, const char *schema, const char *name, struct catalog_table **out,
                  struct anon_error *err)
{
    const char *params[2] = {schema, name};
    struct catalog_table *t;
    PGresult *res;
    bool ok;

    *out = NULL;
    res = pgconn_query(conn, table_sql, 2, params, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    if (PQntuples(res) != 1) {
        PQclear(res);
        anon_error_set(
            err, "table %s.%s does not exist in the source (or the source role cannot see it)",
            schema, name);
        return false;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        PQclear(res);
        anon_error_set(err, "out of memory");
        return false;
    }
    t->schema = strdup(schema);
    t->name = strdup(name);
    t->oid = (unsigned int)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    t->relkind = PQgetvalue(res, 0, 1)[0];
    t->est_rows = strtod(PQgetvalue(res, 0, 2), NULL);
    t->est_bytes = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    if (!PQgetisnull(res, 0, 4))
        t->rls_relation = strdup(PQgetvalue(res, 0, 4));
    t->readable = PQgetvalue(res, 0, 5)[0] == 't';
    snprintf(t->role, sizeof(t->role), "%s", PQgetvalue(res, 0, 6));
    snprintf(t->relation, sizeof(t->relation), "%s", PQgetvalue(res, 0, 7));
    ok = t->schema && t->name && (PQgetisnull(res, 0, 4) || t->rls_relation) &&
         read_columns(conn, PQgetvalue(res, 0, 0), t, err);
    PQclear(res);
    if (!ok) {
        if (!err->msg[0])
            anon_error_set(err, "out of memory");
        catalog_free(t);
        return false;
    }
    *out = t;
    return true;
}

const char *catalog_column_type(const struct catalog_column *c)
{
    return c->declared_type ? c->declared_type : c->type;
}

/* The kind of a type name: its category, an array's followed by its elements'. */
#define TYPE_KIND(name)                                                                            \
    "(SELECT t.typcategory::text || COALESCE(e.typcategory::text, '') FROM pg_catalog.pg_type t "  \
    "LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' "                 \
    "WHERE t.oid = pg_catalog.to_regtype(" name "))"

/* The length of a type name without a composite's attributes (" {...}"). */
static size_t type_name_len(const char *type)
{
    const char *attributes = strstr(type, " {");

    return attributes ? (size_t)(attributes - type) : strlen(type);
}

bool catalog_nested_unrecorded(const char *was, const char *now)
{
    size_t n = strlen(was);

    return n > 0 && was[n - 1] == '}' && strstr(was, " {") && strncmp(was, now, n) == 0 &&
           strncmp(now + n, " ", 1) == 0 && strchr(was + type_name_len(was) + 2, '{') == NULL;
}

int catalog_same_kind(PGconn *conn, const char *a, const char *b, struct anon_error *err)
{
    const char *params[2] = {a, b};
    size_t na = type_name_len(a), nb = type_name_len(b);
    PGresult *res;
    int same;

    if (strcmp(a, b) == 0 || catalog_nested_unrecorded(a, b))
        return 1;
    /* Composites: attributes changed (both list theirs), or one was recorded before they
     * were (an earlier anonetl) and the name decides. */
    if (a[na] || b[nb])
        return !(a[na] && b[nb]) && na == nb && strncmp(a, b, na) == 0;
    res = pgconn_query(conn,
                       "SELECT " TYPE_KIND("$1") " IS NOT DISTINCT FROM " TYPE_KIND(
                           "$2") " AND pg_catalog.to_regtype($1) IS NOT NULL",
                       2, params, PGRES_TUPLES_OK, err);
    if (!res)
        return -1;
    same = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return same;
}
