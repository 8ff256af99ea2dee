-- sql/roles/data_team_reader.sql: the data team's access to the TARGET database.
--
--   data_team          NOLOGIN group role: CONNECT, USAGE on the published schema, and
--                      SELECT on each published view, granted by anonetl itself at
--                      every publish (config: target.grant_select_to: [data_team];
--                      anonetl also revokes there what that list does not give);
--                      CREATE and USAGE on its own sandbox schema, data_team_sandbox,
--                      for its own views (a publish never breaks them).
--   data_analyst       a LOGIN member of data_team (optional, see member_role).
-- Explicitly nothing on the private schemas anonetl and anonetl_data: they are revoked
-- from PUBLIC and from the group (a grant there would be a leak path; anonetl
-- preflight reports it as FAIL). Idempotent. Run as a superuser connected to the target
-- database AFTER sql/roles/target_writer.sql (which creates the schemas):
--
--   psql -X -v ON_ERROR_STOP=1 -d odr_anon -v member_password="$PW" \
--        -f sql/roles/data_team_reader.sql
--
-- Variables (all optional):
--   team_role         group role (default data_team)
--   member_role       login member (default data_analyst; set to '' for none)
--   member_password   its password for scram logins; unset: left as it is
--   published_schema  the config's target.schema (default anonymised)
--   sandbox_schema    the team's own schema (default data_team_sandbox)

\set QUIET on
\if :{?team_role}
\else
\set team_role data_team
\endif
\if :{?member_role}
\else
\set member_role data_analyst
\endif
\if :{?published_schema}
\else
\set published_schema anonymised
\endif
\if :{?sandbox_schema}
\else
\set sandbox_schema data_team_sandbox
\endif

SET client_min_messages = warning;
BEGIN;

-- The published schema comes from target_writer.sql: fail clearly when it is missing.
SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :'published_schema')
       AS schema_missing \gset
\if :schema_missing
SELECT pg_catalog.set_config('anonetl.missing_schema', :'published_schema', true) \g /dev/null
DO $$ BEGIN
    RAISE EXCEPTION 'schema "%" does not exist', current_setting('anonetl.missing_schema')
        USING HINT = 'run sql/roles/target_writer.sql first';
END $$;
\endif

SELECT format('CREATE ROLE %I', :'team_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'team_role') \gexec
SELECT format('ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS', :'team_role') \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(),
              :'team_role') \gexec
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', :'published_schema', :'team_role') \gexec

-- No access at all to the private schemas, whatever was granted before.
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC, %I', s, :'team_role'),
       format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC, %I', s, :'team_role'),
       format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM PUBLIC, %I', s, :'team_role')
  FROM pg_catalog.unnest(ARRAY['anonetl', 'anonetl_data']) AS s
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = s) \gexec

-- The team's sandbox: owned by the group, so every member can create and replace views
-- in it (objects belong to the member who creates them).
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'sandbox_schema',
              :'team_role'),
       format('ALTER SCHEMA %I OWNER TO %I', :'sandbox_schema', :'team_role'),
       format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'sandbox_schema'),
       format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', :'sandbox_schema', :'team_role') \gexec

-- The login member.
SELECT :'member_role' <> '' AS has_member \gset
\if :has_member
SELECT format('CREATE ROLE %I', :'member_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'member_role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS INHERIT', :'member_role') \gexec
SELECT format('GRANT %I TO %I', :'team_role', :'member_role') \gexec
\if :{?member_password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'member_role', :'member_password') \gexec
\endif
\endif

COMMIT;
