-- sql/roles/source_reader.sql: the role anonetl reads the SOURCE (production) database as.
--
-- Least privilege: LOGIN, not superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS,
-- read-only by default (default_transaction_read_only), CONNECT on this database, USAGE
-- on the schemas of the configured tables and SELECT on exactly those tables. SELECT it
-- holds on any other table is revoked, so re-running with a shorter list narrows it.
-- Idempotent. Run as a superuser (or a role that owns the tables and may create roles),
-- connected to the source database:
--
--   psql -X -v ON_ERROR_STOP=1 -d odr \
--        -v reader_role=anonetl_reader -v reader_password="$PW" \
--        -v tables=public.cases,public.parties,public.messages,public.payments \
--        -f sql/roles/source_reader.sql
--
-- Variables (all optional):
--   reader_role      role name (default anonetl_reader)
--   reader_password  password for password (scram) logins; unset: the password is left
--                    as it is (a new role has none: only trust/peer/IAM logins work)
--   tables           comma-separated schema-qualified tables (default: the demo tables)
-- The password is sent to the server in an ALTER ROLE: do not run this with statement
-- logging on (log_statement = ddl/all) if the server log is shared.

\set QUIET on
\if :{?reader_role}
\else
\set reader_role anonetl_reader
\endif
\if :{?tables}
\else
\set tables public.cases,public.parties,public.messages,public.payments
\endif

SET client_min_messages = warning;
BEGIN;

SELECT format('CREATE ROLE %I', :'reader_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'reader_role') \gexec

SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS INHERIT', :'reader_role') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'reader_role') \gexec

\if :{?reader_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'reader_role', :'reader_password') \gexec
\endif

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(),
              :'reader_role') \gexec

-- The configured tables, resolved (an unknown table fails the script here).
CREATE TEMP TABLE anonetl_reader_tables ON COMMIT DROP AS
SELECT DISTINCT pg_catalog.btrim(t)::regclass AS rel
  FROM pg_catalog.unnest(pg_catalog.string_to_array(:'tables', ',')) AS t
 WHERE pg_catalog.btrim(t) <> '';

-- Narrow first: revoke SELECT on every table not in the list.
SELECT format('REVOKE ALL ON TABLE %s FROM %I', c.oid::regclass, :'reader_role')
  FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
 WHERE a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :'reader_role')
   AND c.oid NOT IN (SELECT rel FROM anonetl_reader_tables)
 GROUP BY c.oid \gexec

SELECT format('GRANT USAGE ON SCHEMA %I TO %I', n.nspname, :'reader_role')
  FROM anonetl_reader_tables AS t
  JOIN pg_catalog.pg_class AS c ON c.oid = t.rel
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 GROUP BY n.nspname \gexec

-- Only SELECT on the listed tables: revoke whatever else was granted before.
SELECT format('REVOKE ALL ON TABLE %s FROM %I', rel, :'reader_role') FROM anonetl_reader_tables \gexec
SELECT format('GRANT SELECT ON TABLE %s TO %I', rel, :'reader_role') FROM anonetl_reader_tables \gexec

COMMIT;
