-- target-bootstrap.sql: anonetl's private state in the target database.
--
-- anonetl runs this itself at the start of every run (it is compiled into the binary),
-- so it must stay idempotent. It needs a role that can create schemas in the database
-- (sql/roles/target_writer.sql). The data team never gets access to these schemas:
--   anonetl       run history, published versions, watermarks (state)
--   anonetl_data  the versioned tables behind the published views, and staging
-- Published names (schema `anonymised` by default) are views over anonetl_data tables,
-- switched with CREATE OR REPLACE VIEW at publish time (see etl/publish.c).

CREATE SCHEMA IF NOT EXISTS anonetl;
CREATE SCHEMA IF NOT EXISTS anonetl_data;
REVOKE ALL ON SCHEMA anonetl FROM PUBLIC;
REVOKE ALL ON SCHEMA anonetl_data FROM PUBLIC;

CREATE TABLE IF NOT EXISTS anonetl.runs (
    run_id              bigserial PRIMARY KEY,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    status              text NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
    exit_code           integer,
    error               text,
    target_schema       text NOT NULL,
    config_fingerprint  text NOT NULL,
    key_fingerprint     text NOT NULL,   -- first 16 hex of SHA-256(key): shows a rotation
    key_id              text,
    source_snapshot     text,
    anonetl_version     text NOT NULL,
    host                text
);

-- The leak audit (run.audit): distinct source values searched, and published values
-- found holding one (the run then failed with exit 6). NULL: no audit in that run.
ALTER TABLE anonetl.runs ADD COLUMN IF NOT EXISTS audit_sampled bigint;
ALTER TABLE anonetl.runs ADD COLUMN IF NOT EXISTS audit_hits bigint;

CREATE TABLE IF NOT EXISTS anonetl.run_tables (
    run_id          bigint NOT NULL REFERENCES anonetl.runs ON DELETE CASCADE,
    table_name      text NOT NULL,       -- source schema.table
    mode            text NOT NULL,       -- full | incremental
    rows_read       bigint NOT NULL DEFAULT 0,
    rows_written    bigint NOT NULL DEFAULT 0,
    rows_filtered   bigint NOT NULL DEFAULT 0,
    rows_suppressed bigint NOT NULL DEFAULT 0,
    rows_dropped    bigint NOT NULL DEFAULT 0,
    rows_deleted    bigint NOT NULL DEFAULT 0,
    elapsed_ms      bigint NOT NULL DEFAULT 0,
    high_water_mark text,
    PRIMARY KEY (run_id, table_name)
);
-- Where a table's time went (added in place: the bootstrap runs on existing targets too):
-- the copy, the primary key build, ANALYZE, and its part of the publish transaction.
-- elapsed_ms is copy_ms (kept for readers of older runs).
ALTER TABLE anonetl.run_tables
    ADD COLUMN IF NOT EXISTS copy_ms bigint,
    ADD COLUMN IF NOT EXISTS index_ms bigint,
    ADD COLUMN IF NOT EXISTS analyze_ms bigint,
    ADD COLUMN IF NOT EXISTS publish_ms bigint;

-- Columns published as they are although they look like personal data: the reason the
-- config records for each (`keep: { reviewed: "..." }`), per run. In a json column, the
-- keep at a path (json_path: the path as written) and `others: { keep: { reviewed: } }`
-- (json_path: others) are reviewed too; json_path is '' for the column's own keep.
CREATE TABLE IF NOT EXISTS anonetl.run_reviews (
    run_id       bigint NOT NULL REFERENCES anonetl.runs ON DELETE CASCADE,
    table_name   text NOT NULL,          -- source schema.table
    column_name  text NOT NULL,
    json_path    text NOT NULL DEFAULT '',
    reviewed     text NOT NULL,          -- the reason written in the config
    PRIMARY KEY (run_id, table_name, column_name, json_path)
);
-- targets bootstrapped before json reviews were recorded
ALTER TABLE anonetl.run_reviews ADD COLUMN IF NOT EXISTS json_path text NOT NULL DEFAULT '';
-- The column's source type when the review was recorded (what it covered: a column
-- retyped to another kind of values needs a new review); NULL before types were recorded.
ALTER TABLE anonetl.run_reviews ADD COLUMN IF NOT EXISTS source_type text;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                   WHERE conrelid = 'anonetl.run_reviews'::regclass AND contype = 'p'
                     AND pg_catalog.array_length(conkey, 1) = 4) THEN
        ALTER TABLE anonetl.run_reviews DROP CONSTRAINT IF EXISTS run_reviews_pkey;
        ALTER TABLE anonetl.run_reviews ADD PRIMARY KEY (run_id, table_name, column_name, json_path);
    END IF;
END $$;

-- One row per published table: which versioned table the view points at.
CREATE TABLE IF NOT EXISTS anonetl.published (
    target_schema      text NOT NULL,
    table_name         text NOT NULL,    -- published (view) name
    source_table       text NOT NULL,    -- source schema.table
    version_table      text NOT NULL,    -- table name in anonetl_data
    run_id             bigint NOT NULL,
    table_fingerprint  text NOT NULL,
    key_fingerprint    text NOT NULL,
    high_water_mark    text,             -- incremental: last watermark value copied
    published_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, table_name)
);
-- integer watermarks: "time=largest id;..." seen by earlier runs (etl/increment.h)
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS watermark_marks text;
-- incremental tables with k-anonymity: the table changes are merged into, every row as
-- the rules made it; each publish writes version_table from it (etl/kanon_apply.h)
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS base_table text;
-- the source's columns the version was published from, JSON [[name, attnum, type], ...]:
-- an incremental table whose source columns changed is reloaded (etl/increment.h)
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS source_layout text;
-- incremental tables: the source's storage the version was published from, JSON
-- [[oid, relfilenode, name], ...]: a source relation rewritten since (ALTER TABLE ... TYPE,
-- VACUUM FULL, CLUSTER, TRUNCATE) reloads the table (etl/increment.h)
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS source_storage text;
-- the config that published the table last (its absolute path or s3:// URL): a run does
-- not unpublish another config's table (etl/publish.c, unpublish)
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS config_source text;
-- the grant_select_to of the config that published the table last: the schema's USAGE
-- is the union of the lists of the configs with tables in it (etl/publish.c,
-- schema_readers); NULL (published before it was recorded): no one, until that config's
-- next run records it
ALTER TABLE anonetl.published ADD COLUMN IF NOT EXISTS grant_select_to text[];
-- Where the config came from: its path, or "s3://bucket/key version_id=... etag=...".
ALTER TABLE anonetl.runs ADD COLUMN IF NOT EXISTS config_source text;
