-- sql/demo/data.sql: deterministic demo data for sql/demo/schema.sql, generated in SQL.
--
-- 10,000 cases, 25,000 parties, 50,000 messages, 15,000 payments (100,000 rows) plus
-- 500 internal staff notes. setseed() and a serial plan make every load identical, so
-- hashes in the anonymised copy are reproducible for a given key. One transaction: the
-- plans, and so the order random() is called in, must not depend on when autovacuum
-- analyzes a table loaded a moment before (two loads at once differed that way). Names, streets and
-- postcodes look real but are invented; phone numbers use Ofcom's drama ranges
-- (07700 900xxx, 020 7946 0xxx), e-mail domains are the reserved example.* ones, IPs
-- are TEST-NET-1. A few nasty values (apostrophes, non-ASCII letters, an emoji, tab,
-- newline, backslash, empty strings, NULLs) are set at the end for robustness.

SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0; -- one process evaluates random(): deterministic
SET TimeZone = 'UTC';
BEGIN;
SELECT setseed(0.20240701) \g /dev/null

TRUNCATE public.staff_notes, public.payments, public.messages, public.parties, public.cases
    RESTART IDENTITY;

-- One element of an array, uniformly.
CREATE FUNCTION pg_temp.pick(a text[]) RETURNS text
    LANGUAGE sql VOLATILE
    AS $$ SELECT a[1 + floor(random() * cardinality(a))::int] $$;

-- ASCII lower-case letters only, for e-mail local parts: "Zoë O'Brien" -> "zoeobrien".
CREATE FUNCTION pg_temp.slug(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT regexp_replace(lower(translate(t, 'ëéèêáàâäíïîóöôøúüûñçłŁśźżćńŚŻŹĆŃÓÉÁÍÚễ',
                                                   'eeeeaaaaiiioooouuunclLszzcnSZZCNOEAIUe')),
                                '[^a-z]', '', 'g') $$;

-- Random digits, zero padded: pg_temp.digits(3) -> '042'.
CREATE FUNCTION pg_temp.digits(n int) RETURNS text
    LANGUAGE sql VOLATILE
    AS $$ SELECT lpad(floor(random() * (10 ^ n))::bigint::text, n, '0') $$;

-- Word lists: one row, one text[] column per list (cross joined below). A view, not a
-- table: its arrays are plan constants, where a table row would be detoasted per pick.
CREATE TEMP VIEW w AS
SELECT
  ARRAY['Oliver','Amelia','George','Isla','Harry','Ava','Jack','Mia','Jacob','Ivy',
  'Noah','Lily','Charlie','Freya','Muhammad','Emily','Thomas','Grace','Oscar','Sophie',
  'William','Evie','James','Poppy','Leo','Ella','Alfie','Chloé','Arthur','Ruby','Henry',
  'Daisy','Zoë','Siân','Seán','Łukasz','Aoife','Rhys','Niamh','Dafydd','Priya','Aarav',
  'Fatima','Olumide','Chidi','Wei','Mei','Björn','Renée','José','Agnieszka','Tomás',
  'Eilidh','Callum','Hamish','Mairéad','Gareth','Bethan','Kemi','Yusuf'] AS first,
  ARRAY['Smith','Jones','Taylor','Brown','Williams','Wilson','Johnson','Davies',
  'Robinson','Wright','Thompson','Evans','Walker','White','Roberts','Green','Hall','Wood',
  'Jackson','Clarke','Patel','Khan','Lewis','James','Phillips','Mason','Mitchell','Rose',
  'Davis','Rodriguez','O''Brien','O''Connor','D''Souza','McDonald','MacLeod','Ó Súilleabháin',
  'Llewellyn','ap Rhys','Nguyễn','Kowalski','Wiśniewski','Nowak','Müller','Øvergaard',
  'Okafor','Adeyemi','Chen','Singh','Ahmed','Hussain','Campbell','Stewart','Murray',
  'Fraser','Hughes','Edwards','Price','Morgan','Lloyd','Owen'] AS last,
  ARRAY['Northwind Energy Ltd','Brightline Telecom plc','Harbour Travel Ltd',
  'Greenfield Motors Ltd','Castle Home Improvements Ltd','Meridian Bank plc',
  'Oakwood Furniture Ltd','Swift Parcels Ltd','Pennine Water plc','Lakeside Holidays Ltd',
  'Apex Broadband Ltd','Crown Insurance Services Ltd','Thistle Energy Ltd',
  'Riverside Kitchens Ltd','Beacon Mobile Ltd','Summit Loans Ltd','Willow & Co. Builders',
  'Marks, Hale & Partners LLP','Café Lumière Ltd','St. Ives Glazing Ltd'] AS company,
  ARRAY['High Street','Station Road','Main Street','Park Road','Church Road',
  'Church Street','London Road','Victoria Road','Green Lane','Manor Road','Church Lane',
  'Park Avenue','The Avenue','The Crescent','Queens Road','New Road','Grange Road',
  'Kings Road','Kingsway','Windsor Road','Highfield Road','Mill Lane','Alexander Road',
  'York Road','St. John''s Road','Main Road','Broadway','King Street','The Green',
  'Springfield Road','Heol y Frenhines','Ffordd yr Orsaf','Sráid na hEaglaise'] AS street,
  ARRAY['SW1A','M1','B33','EC1A','W1A','CR2','DN55','LS1','G2','EH1','CF10',
  'BS1','L1','NE1','OX1','CB2','BT1','N1','E14','SE1','NW3','M14','B15','LS6','S10','NG7',
  'LE1','BN1','PL1','EX4','AB10','IV1','KY16','SA1','LL57','TR1','YO1','HU1','NR1','CT1'] AS outward,
  ARRAY['example.com','example.org','example.net','example.co.uk','mail.example.com'] AS domain,
  ARRAY['consumer goods','consumer goods','consumer goods','travel','energy',
  'energy','telecoms','telecoms','financial services','home improvement','motor',
  'employment','housing'] AS category,
  ARRAY['open','open','awaiting_response','awaiting_response','in_mediation',
  'resolved','resolved','resolved','closed','closed','closed','withdrawn'] AS status,
  ARRAY['washing machine','sofa','laptop','mobile phone contract','package holiday',
  'flight','boiler repair','kitchen installation','used car','broadband service',
  'energy bill','car insurance claim','wedding dress','television','bicycle',
  'roof repair','hotel booking','gym membership'] AS product,
  ARRAY['stopped working after two weeks','was never delivered',
  'arrived damaged','was not as described','was cancelled without notice',
  'was charged twice','was left unfinished','broke down on the first day',
  'was mis-sold to me','did not match the quote'] AS problem,
  ARRAY['Thank you for your message.','I am writing about my claim.',
  'Following our call yesterday,','As requested, here is an update.',
  'Dear mediator,','Hello,','We have reviewed the customer''s complaint.',
  'I still have not received a response.','Please see my comments below.',
  'Our position remains unchanged.'] AS opener,
  ARRAY['The item was returned within the 30 day period and we are still waiting for the refund.',
  'We offered a partial refund as a goodwill gesture, which was declined.',
  'I have attached the receipt and photographs of the damage.',
  'The engineer attended on the agreed date but could not complete the work.',
  'We believe the charges were applied correctly under the terms of the contract.',
  'I would accept a full refund or a replacement of the same model.',
  'The delay was caused by our supplier and we apologise for the inconvenience.',
  'I have been without heating for three weeks now.',
  'Our records show the payment was taken on the date stated.',
  'I am happy to go to mediation if that helps resolve this quickly.'] AS middle,
  ARRAY['Kind regards.','Many thanks.','I look forward to hearing from you.',
  'Best wishes.','Regards, the customer relations team.','Thanks in advance.',''] AS closer,
  ARRAY['Update on my claim','Response to the claim','Evidence attached',
  'Request for mediation','Settlement offer','Re: settlement offer','Chasing a reply',
  'Question about the process','Payment confirmation','Complaint escalation'] AS subject,
  ARRAY['receipt.pdf','invoice.pdf','photo_1.jpg','photo_2.jpg','contract.pdf',
  'bank_statement.pdf','quote.docx','email_thread.eml','delivery_note.png','video.mp4'] AS file,
  ARRAY['NWBK','BARC','LOYD','HBUK','MIDL','NAIA','ABBY','CPBK'] AS bank;

-- Cases --------------------------------------------------------------------------------
INSERT INTO public.cases (id, reference, status, category, opened_at, closed_at, claim_amount,
                          description)
SELECT id,
       format('ODR-%s-%s', extract(year FROM opened_at)::int, lpad(id::text, 6, '0')),
       status, category, opened_at,
       CASE WHEN status IN ('resolved', 'closed', 'withdrawn')
            THEN opened_at + close_days * interval '1 day' END,
       claim_amount,
       CASE WHEN desc_kind < 0.03 THEN NULL
            ELSE format('I bought a %s and it %s. I am claiming £%s.%s', product, problem,
                        to_char(claim_amount, 'FM999,990.00'),
                        CASE WHEN desc_kind < 0.5 THEN ' The trader has not replied to my letters.'
                             ELSE '' END)
       END
FROM (SELECT g AS id,
             pg_temp.pick(w.status) AS status,
             pg_temp.pick(w.category) AS category,
             timestamptz '2021-01-01 00:00:00+00' + random() * interval '1247 days' AS opened_at,
             1 + floor(random() * 180) AS close_days,
             round((30 + exp(random() * 6.5) * 6)::numeric, 2) AS claim_amount,
             pg_temp.pick(w.product) AS product,
             pg_temp.pick(w.problem) AS problem,
             random() AS desc_kind
      FROM generate_series(1, 10000) AS g CROSS JOIN pg_temp.w) AS s
ORDER BY id;

-- Parties: a claimant (odd id) and a respondent (even id) per case, then 5,000
-- representatives. Respondents are a company 60% of the time. ------------------------
INSERT INTO public.parties (id, case_id, role, full_name, email, phone, postcode, date_of_birth,
                            address_line, created_at, updated_at, is_test_account)
SELECT id, case_id, role,
       CASE WHEN is_company THEN company ELSE first || ' ' || last END,
       CASE WHEN r_email < 0.05 THEN NULL
            WHEN is_company THEN 'disputes@' || pg_temp.slug(company) || '.example.com'
            WHEN r_email < 0.55 THEN pg_temp.slug(first) || '.' || pg_temp.slug(last) || '@' || domain
            WHEN r_email < 0.80 THEN pg_temp.slug(first) || pg_temp.slug(last) || num || '@' || domain
            ELSE left(pg_temp.slug(first), 1) || pg_temp.slug(last) || '@' || domain
       END,
       CASE WHEN r_phone < 0.07 THEN NULL
            WHEN is_company OR r_phone < 0.25 THEN '020 7946 0' || num
            WHEN r_phone < 0.70 THEN '07700 900' || num
            ELSE '+44 7700 900' || num
       END,
       CASE WHEN r_post < 0.03 THEN NULL
            WHEN r_post < 0.08 THEN lower(outward || ' ' || inward)
            WHEN r_post < 0.14 THEN outward || inward
            WHEN r_post < 0.16 THEN outward || '  ' || inward
            ELSE outward || ' ' || inward
       END,
       CASE WHEN is_company OR r_dob < 0.02 THEN NULL
            ELSE date '1940-01-01' + floor(r_dob * 23000)::int END,
       CASE WHEN r_addr < 0.12 THEN format('Flat %s, %s %s', 1 + floor(r_addr * 100)::int, house, street)
            ELSE format('%s %s', house, street) END,
       created_at,
       greatest(created_at, least(created_at + r_upd * interval '400 days',
                                  timestamptz '2024-07-01 00:00:00+00')),
       r_test < 0.01
FROM (SELECT g AS id,
             c.case_id, c.role,
             c.role = 'respondent' AND random() < 0.6 AS is_company,
             pg_temp.pick(w.first) AS first,
             pg_temp.pick(w.last) AS last,
             pg_temp.pick(w.company) AS company,
             pg_temp.pick(w.domain) AS domain,
             pg_temp.digits(3) AS num,
             pg_temp.pick(w.outward) AS outward,
             floor(random() * 10)::int || pg_temp.pick('{A,B,D,E,F,G,H,J,L,N,P,Q,R,S,T,U,W,X,Y,Z}')
                 || pg_temp.pick('{A,B,D,E,F,G,H,J,L,N,P,Q,R,S,T,U,W,X,Y,Z}') AS inward,
             1 + floor(random() * 180)::int AS house,
             pg_temp.pick(w.street) AS street,
             (SELECT opened_at FROM public.cases WHERE id = c.case_id)
                 + random() * interval '72 hours' AS created_at,
             random() AS r_email, random() AS r_phone, random() AS r_post, random() AS r_dob,
             random() AS r_addr, random() AS r_upd, random() AS r_test
      FROM pg_temp.w, generate_series(1, 25000) AS g,
           LATERAL (SELECT CASE WHEN g <= 20000 THEN (g + 1) / 2
                                ELSE 1 + (g * 7919) % 10000 END AS case_id,
                           CASE WHEN g > 20000 THEN 'representative'
                                WHEN g % 2 = 1 THEN 'claimant'
                                ELSE 'respondent' END AS role) AS c) AS s
ORDER BY id;

-- Messages: mostly from the claimant or the respondent; 5% from the service (NULL
-- sender). About a quarter of the bodies quote the sender's own phone or e-mail. ------
INSERT INTO public.messages (id, case_id, sender_party_id, sent_at, subject, body, attachments)
SELECT id, case_id, sender,
       opened_at + r_sent * interval '120 days',
       subject || ' (' || reference || ')',
       left(concat_ws(' ', opener, middle, CASE WHEN r_long < 0.35 THEN middle2 END,
                      CASE WHEN sender IS NULL OR r_contact >= 0.25 THEN NULL
                           WHEN r_contact < 0.08 AND phone IS NOT NULL AND email IS NOT NULL
                               THEN format('Please call me on %s or write to %s.', phone, email)
                           WHEN r_contact < 0.16 AND phone IS NOT NULL
                               THEN format('My number is %s if you need it.', phone)
                           WHEN email IS NOT NULL
                               THEN format('You can reach me at %s.', email)
                      END,
                      nullif(closer, '')), 400),
       CASE WHEN r_att < 0.60 THEN NULL
            WHEN r_att < 0.70 THEN '{}'::text[]
            WHEN r_att < 0.90 THEN ARRAY[file1]
            ELSE ARRAY[file1, file2]
       END
FROM (SELECT m.*, c.opened_at, c.reference, p.phone, p.email
      FROM (SELECT g AS id, case_id,
                   CASE WHEN r_who < 0.05 THEN NULL
                        WHEN r_who < 0.55 THEN 2 * case_id - 1
                        ELSE 2 * case_id END AS sender,
                   r_sent, r_contact, r_att, r_long, subject, opener, middle, middle2, closer,
                   file1, file2
            FROM (SELECT g, 1 + floor(random() * 10000)::bigint AS case_id,
                         random() AS r_who, random() AS r_sent, random() AS r_contact,
                         random() AS r_att, random() AS r_long,
                         pg_temp.pick(w.subject) AS subject, pg_temp.pick(w.opener) AS opener,
                         pg_temp.pick(w.middle) AS middle, pg_temp.pick(w.middle) AS middle2,
                         pg_temp.pick(w.closer) AS closer,
                         pg_temp.pick(w.file) AS file1, pg_temp.pick(w.file) AS file2
                  FROM generate_series(1, 50000) AS g CROSS JOIN pg_temp.w
                  OFFSET 0) AS r) AS m
      JOIN public.cases AS c ON c.id = m.case_id
      LEFT JOIN public.parties AS p ON p.id = m.sender) AS s
ORDER BY id;

-- Payments: by the respondent (settlements) or the claimant (fees). ------------------
INSERT INTO public.payments (id, case_id, payer_party_id, amount, currency, paid_at, card_last4,
                             iban, status, metadata)
SELECT id, case_id, payer, amount, currency,
       CASE WHEN status = 'pending' THEN NULL ELSE opened_at + r_paid * interval '150 days' END,
       CASE WHEN by_card THEN last4 END,
       CASE WHEN NOT by_card
            THEN format('GB%s %s %s %s %s %s', check2, bank, left(acct, 4), substr(acct, 5, 4),
                        substr(acct, 9, 4), right(acct, 2)) END,
       status,
       jsonb_build_object('method', CASE WHEN by_card THEN 'card' ELSE 'bank_transfer' END,
                          'provider', CASE WHEN by_card THEN 'stripe' ELSE 'gocardless' END,
                          'attempt', attempt,
                          'ip', '192.0.2.' || (1 + floor(r_paid * 250)::int),
                          'fee', status = 'completed' AND payer_is_claimant)
FROM (SELECT r.*, c.opened_at,
             CASE WHEN payer_is_claimant THEN 2 * r.case_id - 1 ELSE 2 * r.case_id END AS payer
      FROM (SELECT g AS id, 1 + floor(random() * 10000)::bigint AS case_id,
                   random() < 0.2 AS payer_is_claimant,
                   round((10 + random() * random() * 4000)::numeric, 2) AS amount,
                   pg_temp.pick('{GBP,GBP,GBP,GBP,GBP,GBP,GBP,GBP,GBP,GBP,GBP,GBP,EUR,USD}') AS currency,
                   random() AS r_paid,
                   random() < 0.7 AS by_card,
                   pg_temp.digits(4) AS last4,
                   pg_temp.digits(2) AS check2,
                   pg_temp.pick(w.bank) AS bank,
                   pg_temp.digits(14) AS acct,
                   pg_temp.pick('{completed,completed,completed,completed,completed,completed,pending,failed,refunded}') AS status,
                   1 + floor(random() * random() * 3)::int AS attempt
            FROM generate_series(1, 15000) AS g CROSS JOIN pg_temp.w
            OFFSET 0) AS r
      JOIN public.cases AS c ON c.id = r.case_id) AS s
ORDER BY id;

-- Internal notes (the source reader is not granted this table). ---------------------
INSERT INTO public.staff_notes (id, case_id, note)
SELECT g, 1 + (g * 37) % 10000, 'Internal: ' || pg_temp.pick(w.middle)
FROM generate_series(1, 500) AS g CROSS JOIN pg_temp.w;

-- Nasty values. ---------------------------------------------------------------------
UPDATE public.parties SET full_name = 'Zoë O''Brien', email = 'zoe.obrien@example.com' WHERE id = 1;
UPDATE public.parties SET full_name = 'Siân Llewellyn-Jones' WHERE id = 3;
UPDATE public.parties SET full_name = 'Łukasz Wiśniewski', postcode = 'b33 8th' WHERE id = 5;
UPDATE public.parties SET full_name = 'Seán Ó Súilleabháin', postcode = 'SW1A1AA' WHERE id = 7;
UPDATE public.parties SET full_name = 'Renée 🙂 D''Souza', address_line = '' WHERE id = 9;
UPDATE public.parties SET full_name = '  padded  name  ', email = NULL, phone = NULL,
                          postcode = NULL, date_of_birth = NULL, address_line = NULL WHERE id = 11;
UPDATE public.parties SET email = '', phone = '', postcode = '' WHERE id = 13;
UPDATE public.parties SET address_line = E'Flat 2\\B, 10 Back\\Slash Lane' WHERE id = 15;
UPDATE public.messages
   SET body = E'Line one\twith a tab\nLine two with a backslash \\ and quotes '' " - call 07700 900123 or write to jane.doe@example.com',
       subject = ''
 WHERE id = 1;
UPDATE public.messages SET attachments = ARRAY['file, with comma.pdf', 'quote"d.pdf', 'back\slash.txt', '', NULL]
 WHERE id = 2;
UPDATE public.messages SET body = E'\\N is not NULL, \\. is not the end of COPY data' WHERE id = 3;
UPDATE public.cases SET description = '' WHERE id = 2;
UPDATE public.cases SET description = E'Multi-line\r\ndescription with a carriage return' WHERE id = 3;
UPDATE public.payments SET metadata = metadata || jsonb_build_object('note', E'tab\there', 'name', 'Zoë')
 WHERE id = 1;

-- Identity sequences continue after the generated ids.
SELECT setval(pg_get_serial_sequence('public.' || t, 'id'), n)
FROM (VALUES ('cases', 10000), ('parties', 25000), ('messages', 50000), ('payments', 15000),
             ('staff_notes', 500)) AS v(t, n) \g /dev/null

ANALYZE public.cases, public.parties, public.messages, public.payments, public.staff_notes;
COMMIT;
