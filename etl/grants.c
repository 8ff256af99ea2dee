/* grants.c: the published schema's grants are the config's (see grants.h). */
#include "etl/grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "etl/pgconn.h"

/* Every privilege on the object but its owner's and anonetl's own role's: role name (""
 * for PUBLIC), privilege. */
static const char relation_acl_sql[] =
    "SELECT COALESCE(r.rolname, ''), a.privilege_type FROM pg_catalog.pg_class c "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a "
    "LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee "
    "WHERE c.oid = $1::pg_catalog.regclass AND a.grantee <> c.relowner "
    "AND a.grantee <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)";

static const char schema_acl_sql[] =
    "SELECT COALESCE(r.rolname, ''), a.privilege_type FROM pg_catalog.pg_namespace n "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a "
    "LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee "
    "WHERE n.nspname = $1 AND a.grantee <> n.nspowner "
    "AND a.grantee <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)";

static bool listed(const char *role, char *const *roles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], role) == 0)
            return true;
    return false;
}

/* "GRANT|REVOKE <privilege> ON <what> TO|FROM <role or PUBLIC>": one statement. The
 * privilege is a keyword from the server's own ACL (letters and spaces only). */
static bool acl_exec(PGconn *conn, bool grant, const char *privilege, const char *what,
                     const char *role, struct anon_error *err)
{
    struct abuf sql;
    bool ok;

    if (strspn(privilege, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") != strlen(privilege)) {
        anon_error_set(err, "unexpected privilege name in an ACL");
        return false;
    }
    abuf_init(&sql, 4096);
    abuf_printf(&sql, "%s %s ON %s %s ", grant ? "GRANT" : "REVOKE", privilege, what,
                grant ? "TO" : "FROM");
    if (*role)
        pgconn_quote_ident(conn, role, &sql);
    else
        abuf_puts(&sql, "PUBLIC");
    ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&sql);
    return ok;
}

/* Revoke every privilege the config does not give: any privilege of a role that is not
 * listed (PUBLIC never is), any other than `keep` of a listed one. */
static bool revoke_unlisted(PGconn *conn, const char *acl_sql, const char *key, const char *what,
                            const char *keep, char *const *roles, size_t n, struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, acl_sql, 1, &key, PGRES_TUPLES_OK, err);
    bool ok = res != NULL;

    for (int i = 0; ok && i < PQntuples(res); i++) {
        const char *role = PQgetvalue(res, i, 0), *privilege = PQgetvalue(res, i, 1);
        if (!listed(role, roles, n) || strcmp(privilege, keep) != 0)
            ok = acl_exec(conn, false, privilege, what, role, err);
    }
    PQclear(res);
    return ok;
}

bool grants_sync_relation(PGconn *conn, const char *relation, char *const *roles, size_t n_roles,
                          struct anon_error *err)
{
    bool ok =
        revoke_unlisted(conn, relation_acl_sql, relation, relation, "SELECT", roles, n_roles, err);

    for (size_t i = 0; ok && i < n_roles; i++)
        ok = acl_exec(conn, true, "SELECT", relation, roles[i], err);
    return ok;
}

/* A non-owner's GRANT and REVOKE only warn: check the schema's ACL is the config's. */
static bool check_schema(PGconn *conn, const char *schema, char *const *roles, size_t n,
                         struct anon_error *err)
{
    const char *params[1] = {schema};
    PGresult *res = pgconn_query(conn, schema_acl_sql, 1, params, PGRES_TUPLES_OK, err);
    bool ok = res != NULL;

    for (int i = 0; ok && i < PQntuples(res); i++) {
        const char *role = PQgetvalue(res, i, 0), *privilege = PQgetvalue(res, i, 1);
        if (listed(role, roles, n) && strcmp(privilege, "USAGE") == 0)
            continue;
        anon_error_set(err,
                       "schema %s: %s still holds %s on it, which grant_select_to does not give: "
                       "only the schema's owner can revoke it; run anonetl as that owner",
                       schema, *role ? role : "PUBLIC", privilege);
        ok = false;
    }
    PQclear(res);
    for (size_t i = 0; ok && i < n; i++) {
        const char *p[2] = {roles[i], schema};
        res = pgconn_query(conn, "SELECT pg_catalog.has_schema_privilege($1, $2, 'USAGE')", 2, p,
                           PGRES_TUPLES_OK, err);
        ok = res != NULL;
        if (ok && PQgetvalue(res, 0, 0)[0] != 't') {
            anon_error_set(err,
                           "schema %s: USAGE could not be granted to %s (grant_select_to): only "
                           "the schema's owner can; run anonetl as that owner",
                           schema, roles[i]);
            ok = false;
        }
        PQclear(res);
    }
    return ok;
}

bool grants_sync_schema(PGconn *conn, const char *schema, char *const *roles, size_t n_roles,
                        struct anon_error *err)
{
    struct abuf what;
    bool ok;

    abuf_init(&what, 4096);
    abuf_puts(&what, "SCHEMA ");
    pgconn_quote_ident(conn, schema, &what);
    ok = !abuf_failed(&what) && revoke_unlisted(conn, schema_acl_sql, schema, abuf_cstr(&what),
                                                "USAGE", roles, n_roles, err);
    for (size_t i = 0; ok && i < n_roles; i++)
        ok = acl_exec(conn, true, "USAGE", abuf_cstr(&what), roles[i], err);
    ok = ok && check_schema(conn, schema, roles, n_roles, err);
    abuf_free(&what);
    return ok;
}
