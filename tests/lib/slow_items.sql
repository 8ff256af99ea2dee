-- tests/lib/slow_items.sql: a view whose rows come as slowly as the test says, for the
-- stop suites (stop_signal.sh, stop_partition.sh). `items` holds 20,000 rows (v = 1);
-- `slow_items` reads them through paced(), which sleeps pace.ms milliseconds a row
-- (UPDATE pace SET ms = 1: a copy of the view takes about 20 s; 0: full speed).
CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO items SELECT g, 1 FROM generate_series(1, 20000) g;
CREATE TABLE pace (ms float8 NOT NULL);
INSERT INTO pace VALUES (0);
CREATE FUNCTION paced(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE d float8;
BEGIN
    SELECT ms INTO d FROM public.pace;
    IF d > 0 THEN PERFORM pg_sleep(d / 1000); END IF;
    RETURN x;
END $$;
CREATE VIEW slow_items AS SELECT paced(id) AS id, v FROM items;
