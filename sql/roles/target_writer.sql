-- sql/roles/target_writer.sql: the role anonetl writes the TARGET (anonymised) database as.
--
-- LOGIN, not superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS. It owns the three
-- schemas anonetl uses and has CREATE on the database (CONNECT too):
--   anonymised    the published views the data team reads (name: published_schema)
--   anonetl       private state: watermarks, run history (sql/target-bootstrap.sql)
--   anonetl_data  private versioned tables and staging behind the published views
-- Nobody else gets anything on anonetl and anonetl_data (REVOKE ALL FROM PUBLIC); the
-- data team's access to the published schema is sql/roles/data_team_reader.sql.
-- Idempotent. Run as a superuser connected to the target database, BEFORE
-- data_team_reader.sql:
--
--   psql -X -v ON_ERROR_STOP=1 -d odr_anon -v writer_password="$PW" \
--        -f sql/roles/target_writer.sql
--
-- Variables (all optional):
--   writer_role       role name (default anonetl_writer)
--   writer_password   password for password (scram) logins; unset: left as it is
--   published_schema  the config's target.schema (default anonymised)

\set QUIET on
\if :{?writer_role}
\else
\set writer_role anonetl_writer
\endif
\if :{?published_schema}
\else
\set published_schema anonymised
\endif

SET client_min_messages = warning;
BEGIN;

SELECT format('CREATE ROLE %I', :'writer_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'writer_role') \gexec

SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS INHERIT', :'writer_role') \gexec
-- A run must never be read-only by accident (e.g. a database-wide default).
SELECT format('ALTER ROLE %I SET default_transaction_read_only = off', :'writer_role') \gexec

\if :{?writer_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'writer_role', :'writer_password') \gexec
\endif

SELECT format('GRANT CONNECT, CREATE ON DATABASE %I TO %I', pg_catalog.current_database(),
              :'writer_role') \gexec

-- The three schemas, created or handed over to the writer.
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', s, :'writer_role'),
       format('ALTER SCHEMA %I OWNER TO %I', s, :'writer_role')
  FROM pg_catalog.unnest(ARRAY[:'published_schema', 'anonetl', 'anonetl_data']) AS s \gexec

-- Private schemas: nobody but the owner (and superusers).
REVOKE ALL ON SCHEMA anonetl FROM PUBLIC;
REVOKE ALL ON SCHEMA anonetl_data FROM PUBLIC;
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'published_schema') \gexec

COMMIT;
