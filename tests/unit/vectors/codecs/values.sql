-- values.sql: the server's own answers for the binary codecs (anonymise/codec*.c).
-- Run by generate.sh under anonetl's pinned session settings; one row per value:
-- "out" (the text is the value's output: both directions must match) or "in" (the text
-- is an input the server accepts: from_text must build the same binary form), the type
-- as format_type() prints it, the value's binary form (the type's send function, hex),
-- the text. Deterministic: pseudo-random values come from hashint8extended, so the file
-- only changes when the server's behaviour does.
SET DateStyle = ISO;
SET TimeZone = UTC;
SET IntervalStyle = postgres;
SET extra_float_digits = 3;
SET bytea_output = hex;

CREATE TEMP TABLE h AS
SELECT g, hashint8extended(g, 0) AS hs, hashint8extended(g, 1) & 9223372036854775807 AS h1,
       hashint8extended(g, 2) & 9223372036854775807 AS h2,
       hashint8extended(g, 3) & 9223372036854775807 AS h3,
       hashint8extended(g, 4) & 9223372036854775807 AS h4
FROM generate_series(1, 400) g;

CREATE TEMP TABLE v (n serial, t text, b bytea, x text, k text DEFAULT 'out');

-- integers
INSERT INTO v (t, b, x) SELECT 'smallint', int2send(x), x::text
FROM unnest(ARRAY[0, 1, -1, 32767, -32768, 12345]::int2[]) x;
INSERT INTO v (t, b, x) SELECT 'smallint', int2send((h1 % 65536 - 32768)::int2), (h1 % 65536 - 32768)::int2::text FROM h WHERE g <= 50;
INSERT INTO v (t, b, x) SELECT 'integer', int4send(x), x::text
FROM unnest(ARRAY[0, 1, -1, 2147483647, -2147483648]::int4[]) x;
INSERT INTO v (t, b, x) SELECT 'integer', int4send((h1 % 4294967296 - 2147483648)::int4), (h1 % 4294967296 - 2147483648)::int4::text FROM h WHERE g <= 50;
INSERT INTO v (t, b, x) SELECT 'bigint', int8send(x), x::text
FROM unnest(ARRAY[0, 1, -1, 9223372036854775807, -9223372036854775808]::int8[]) x;
INSERT INTO v (t, b, x) SELECT 'bigint', int8send(hs >> (g % 64)::int), (hs >> (g % 64)::int)::text FROM h WHERE g <= 100;

-- floats: specials, signed zeros, powers of two (lopsided rounding intervals), powers
-- of ten around the fixed/exponent switch, extremes, and pseudo-random values
CREATE TEMP TABLE f AS
SELECT x FROM unnest(ARRAY['0', '-0', 'NaN', 'Infinity', '-Infinity', '1', '-1', '0.1', '0.3',
    '1e15', '1e14', '123456789012345.6', '1e-4', '1e-5', '0.0001234', '1.5e-5',
    '1.7976931348623157e308', '2.2250738585072014e-308', '5e-324', '4.9406564584124654e-324',
    '9007199254740993', '1e22', '1e23', '5e-310', '3.14159265358979', '100', '1e16',
    '123456', '1234567', '0.000123456789']::float8[]) x
UNION ALL SELECT 2.0::float8 ^ (g - 200) FROM h
UNION ALL SELECT 2.0::float8 ^ (g * 5 - 1074) FROM h WHERE g <= 400
UNION ALL SELECT 10.0::float8 ^ (g - 50) FROM h WHERE g <= 100
UNION ALL SELECT (hs::float8 / (h2 % 1000000 + 1)) * 10.0::float8 ^ (h3 % 40 - 20) FROM h
UNION ALL SELECT (h1 % 100000)::float8 / 100 FROM h WHERE g <= 100;
INSERT INTO v (t, b, x) SELECT 'double precision', float8send(x), x::text FROM f;
INSERT INTO v (t, b, x) SELECT 'real', float4send(x::float4), x::float4::text FROM f
WHERE abs(x) < 3e38 AND (x = 0 OR abs(x) > 1.5e-45 OR x <> x);
INSERT INTO v (t, b, x) SELECT 'real', float4send(((h1 % 16777216)::float8 * 2.0::float8 ^ (h2 % 200 - 100))::float4),
       ((h1 % 16777216)::float8 * 2.0::float8 ^ (h2 % 200 - 100))::float4::text FROM h;

-- numeric: specials, zeros with scales, many digits, small and big exponents, typmods
CREATE TEMP TABLE num AS
SELECT x FROM unnest(ARRAY['0', '0.00', '-0', '-0.000', 'NaN', 'Infinity', '-Infinity', '1', '-1',
    '1.50', '10000', '9999.9999', '0.0001', '0.00001', '-0.0001', '123456789012345678901234567890.123456789',
    '1e100', '1e-100', '-12345678901234567890.000000000000000001', '1000000000000000000000000000000',
    '0.00000000000000000000000000000000001', '99999999999999999999.99999999999999999999',
    '1e-1000', '1e1000', '-5e-17']::numeric[]) x
UNION ALL SELECT (hs::numeric / 10::numeric ^ (h2 % 30)) FROM h
UNION ALL SELECT round((h1::numeric * h2::numeric) / 10::numeric ^ (h3 % 40), (h4 % 50)::int) FROM h
UNION ALL SELECT ((h1 % 10000000) / 100.0)::numeric(12, 2) FROM h WHERE g <= 50
UNION ALL SELECT (h1 % 1000)::numeric(10, 5) FROM h WHERE g <= 20;
INSERT INTO v (t, b, x) SELECT 'numeric', numeric_send(x), x::text FROM num;

-- dates and times: the whole range, BC, infinities
INSERT INTO v (t, b, x) SELECT 'date', date_send(x), x::text FROM unnest(ARRAY['infinity', '-infinity',
    '2000-01-01', '1970-01-01', '0001-01-01', '0001-12-31 BC', '4714-11-24 BC', '5874897-12-31',
    '2024-02-29', '1900-02-28', '9999-12-31', '10000-01-01', '0044-03-15 BC']::date[]) x;
INSERT INTO v (t, b, x) SELECT 'date', date_send(d), d::text
FROM (SELECT date '4714-11-24 BC' + (h1 % 2147000000)::int AS d FROM h) s;
CREATE TEMP TABLE ts AS
SELECT x FROM unnest(ARRAY['infinity', '-infinity', '2000-01-01 00:00:00', '1970-01-01 00:00:00.000001',
    '0001-01-01 00:00:00', '0001-12-31 23:59:59.999999 BC', '4714-11-24 00:00:00 BC',
    '294276-12-31 23:59:59.999999', '2024-02-29 12:30:00.5', '1999-12-31 23:59:59.123']::timestamp[]) x
UNION ALL SELECT timestamp '2000-01-01' + make_interval(days => (h1 % 100000000 - 2400000)::int)
                 + (h2 % 86400000000) * interval '1 microsecond' FROM h;
INSERT INTO v (t, b, x) SELECT 'timestamp without time zone', timestamp_send(x), x::text FROM ts;
INSERT INTO v (t, b, x) SELECT 'timestamp with time zone', timestamptz_send(x::timestamptz), x::timestamptz::text FROM ts;
INSERT INTO v (t, b, x) SELECT 'timestamp(3) with time zone', timestamptz_send(x::timestamptz(3)), x::timestamptz(3)::text FROM ts WHERE x < '200000-01-01';
INSERT INTO v (t, b, x) SELECT 'time without time zone', time_send(x), x::text FROM unnest(ARRAY['00:00:00',
    '24:00:00', '23:59:59.999999', '12:00:00.5', '00:00:00.000001']::time[]) x;
INSERT INTO v (t, b, x) SELECT 'time without time zone', time_send(time '00:00' + (h1 % 86400000000) * interval '1 microsecond'),
       (time '00:00' + (h1 % 86400000000) * interval '1 microsecond')::text FROM h WHERE g <= 100;
INSERT INTO v (t, b, x) SELECT 'time with time zone', timetz_send(z), z::text
FROM (SELECT ((time '00:00' + (h1 % 86400000000) * interval '1 microsecond')::text
              || (ARRAY['+00', '-05', '+05:30', '-03:30:15', '+14', '-15:59:59', '+01:02'])[1 + h2 % 7])::timetz AS z
      FROM h WHERE g <= 100) s;
INSERT INTO v (t, b, x) SELECT 'interval', interval_send(x), x::text FROM unnest(ARRAY['0', '1 day', '-1 day',
    '1 year 2 mons 3 days 04:05:06.5', '-1 year -2 mons +3 days -04:05:06', '1 mon -1 day', '-1 mon +1 day',
    '00:00:00.000001', '-00:00:00.000001', '2562047788:00:54.775807', '-2562047788:00:54.775807',
    '178956970 years 7 mons', '-178956970 years -8 mons', '1 year', '2 years', '-1 years', '1 day 00:00:01',
    '-1 days +00:00:01', '1 day -00:00:01']::interval[]) x;
INSERT INTO v (t, b, x) SELECT 'interval', interval_send(i), i::text
FROM (SELECT make_interval(years => (h1 % 200 - 100)::int, months => (h2 % 30 - 15)::int,
                           days => (h3 % 2000 - 1000)::int) * (g % 3 - 1)
             + (h4 % 864000000000 - 432000000000) * interval '1 microsecond' AS i FROM h) s;

-- the rest
INSERT INTO v (t, b, x) SELECT 'boolean', boolsend(x), boolout(x)::text FROM unnest(ARRAY[true, false]) x; -- boolean::text is 'true', COPY prints 't'
INSERT INTO v (t, b, x) SELECT 'uuid', uuid_send(u), u::text
FROM (SELECT md5(g::text)::uuid AS u FROM h WHERE g <= 30) s;
INSERT INTO v (t, b, x) SELECT 'uuid', uuid_send(x), x::text FROM unnest(ARRAY['00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff']::uuid[]) x;
INSERT INTO v (t, b, x) SELECT 'bytea', byteasend(x), x::text FROM unnest(ARRAY['\x', '\x00', '\xff00aa',
    '\x5c78', '\x0a0d09']::bytea[]) x;
INSERT INTO v (t, b, x) SELECT 'bytea', byteasend(decode(md5(g::text) || md5(h1::text), 'hex')),
       decode(md5(g::text) || md5(h1::text), 'hex')::text FROM h WHERE g <= 20;
INSERT INTO v (t, b, x) SELECT typ, CASE typ WHEN 'text' THEN textsend(s) WHEN 'character varying' THEN varcharsend(s::varchar)
                                          ELSE namesend(s::name) END, s
FROM unnest(ARRAY['', 'plain', E'tab\there', E'new\nline', 'back\slash', 'Zoë Ångström 李小龍', 'NULL', '\N']) s,
     unnest(ARRAY['text', 'character varying', 'name']) typ;
INSERT INTO v (t, b, x) SELECT 'character(6)', bpcharsend(s::char(6)), bpcharout(s::char(6))::text
FROM unnest(ARRAY['', 'a', 'abcdef', 'é']) s;
INSERT INTO v (t, b, x) SELECT 'json', json_send(j), j::text FROM unnest(ARRAY['{}', '[]', 'null', '1e400',
    '{"a": 1, "a": 2}', '{"k":"\u00e9\ud83d\ude00"}', '  [1, 2.50, -0, 123456789012345678901234567890]  ']::json[]) j;
INSERT INTO v (t, b, x) SELECT 'jsonb', jsonb_send(j), j::text FROM unnest(ARRAY['{}', '[]', 'null', 'true', '"s"',
    '{"b": [1, 2.50, -0, 123456789012345678901234567890, 1e-20], "a": {"x": null}}',
    '{"k":"\u00e9\ud83d\ude00x"}', '{"n": 1e400}', '{"esc": "tab\tnew\nquote\"back\\"}']::jsonb[]) j;

-- arrays: NULLs, several dimensions, lower bounds, quoting
INSERT INTO v (t, b, x) SELECT 'integer[]', array_send(a), a::text FROM unnest(ARRAY[
    '{}', '{1}', '{1,NULL,3}', '{{1,2},{3,NULL}}', '[0:1]={5,6}', '[-2:-1][3:4]={{1,2},{3,4}}',
    '{{{1},{2}},{{3},{4}}}', '{NULL}']::text[]) s, LATERAL (SELECT s::int[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'text[]', array_send(a), a::text FROM unnest(ARRAY[
    '{}', '{a,b}', '{"a b","NULL",null,"","x\"y","back\\slash","{br}","c,d"}', E'{"tab\\there"}', '[2:3]={Zoë,Łukasz}',
    '{{a,b},{c,d}}']::text[]) s, LATERAL (SELECT s::text[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'date[]', array_send(a), a::text FROM unnest(ARRAY[
    '{2024-01-02,NULL,infinity,"0044-03-15 BC"}', '[0:0]={2000-01-01}']::text[]) s, LATERAL (SELECT s::date[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'timestamp with time zone[]', array_send(a), a::text FROM unnest(ARRAY[
    '{"2024-01-02 03:04:05.5+00",NULL,-infinity}']::text[]) s, LATERAL (SELECT s::timestamptz[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'numeric[]', array_send(a), a::text FROM unnest(ARRAY[
    '{1.50,NaN,-Infinity,NULL,1e-20}']::text[]) s, LATERAL (SELECT s::numeric[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'bytea[]', array_send(a), a::text FROM unnest(ARRAY[
    '{"\\x00ff",NULL}']::text[]) s, LATERAL (SELECT s::bytea[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'jsonb[]', array_send(a), a::text FROM unnest(ARRAY[
    E'{"{\\"a\\": 1}",null}']::text[]) s, LATERAL (SELECT s::jsonb[] AS a) l;
INSERT INTO v (t, b, x) SELECT 'double precision[]', array_send(a), a::text FROM unnest(ARRAY[
    '{0.1,-0,NaN,1e300}']::text[]) s, LATERAL (SELECT s::float8[] AS a) l;

-- inputs other than the output form, as rules and constants write them
INSERT INTO v (k, t, b, x) SELECT 'in', 'numeric', numeric_send(s::numeric), s FROM unnest(ARRAY['1.5e3', ' 12 ',
    '+1.0', '-0.0e5', '.5', '5.', '1E-3', '-123.4500', '00012.3400', '1e+2', 'nan', 'inf', '-INFINITY',
    '12345678901234567890123456789012345678901234567890']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'double precision', float8send(s::float8), s FROM unnest(ARRAY[' 1.5 ',
    'inf', '-INFINITY', '1e-310', '0.1000000000000000055511151231257827', '-nan', '1E5']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'real', float4send(s::float4), s FROM unnest(ARRAY['0.1', '1e-40',
    '3.4028235e38', '16777217']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'integer', int4send(s::int4), s FROM unnest(ARRAY[' +12 ', '-0', '007']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'boolean', boolsend(s::bool), s FROM unnest(ARRAY['yes', 'Of', '1', ' TRUE ',
    'n', 'on', 'fal']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'uuid', uuid_send(s::uuid), s FROM unnest(ARRAY[
    '{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'bytea', byteasend(s::bytea), s FROM unnest(ARRAY['abc\000',
    'x\\y', '\x0A 0b']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'timestamp with time zone', timestamptz_send(s::timestamptz), s
FROM unnest(ARRAY['2024-01-02 03:04:05+05:30', '2024-01-02 03:04:05', '2024-01-02', '2024-01-02 03:04:05-03:30:15']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'timestamp without time zone', timestamp_send(s::timestamp), s
FROM unnest(ARRAY['2024-01-02 03:04:05+05:30', '2024-01-02']) s;
INSERT INTO v (k, t, b, x) SELECT 'in', 'date', date_send(s::date), s FROM unnest(ARRAY['2024-01-02 10:00:00',
    '2024-01-02 23:00:00-05']) s;

COPY (SELECT k, t, encode(b, 'hex'), x FROM v ORDER BY n) TO STDOUT;
