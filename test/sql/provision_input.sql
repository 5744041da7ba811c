--
-- Provisioning input rules stated in the README and held by the code
-- (issue 17): Latin-1 letters in slugs, visible tenant names without
-- bidirectional controls, and errors that quote long values cut.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;

\i test/lib/expect_error.sql
\pset null '<null>'

-- Every Latin-1 letter is folded, including the three outside U+00C0..U+00FF
-- (ª U+00AA, µ U+00B5, º U+00BA); other Latin-1 characters separate words.
SELECT name, gtm_slugify(name) AS slug
FROM (VALUES ('ªµº'), ('Nº 1 Señora'), ('5 µm Labs'), ('Ære Øst Þing ß'),
             ('a¹b²c³'), ('a×b÷c'), ('«Acme»'), ('a·b¿c¡d')) AS t(name);
-- every letter of U+00AA..U+00FF, one by one
SELECT string_agg(chr(c) || '=' || coalesce(gtm_slugify(chr(c)), '-'), ' ' ORDER BY c)
FROM generate_series(170, 255) c WHERE chr(c) ~ '^[[:alpha:]]$';

-- Names made only of characters drawn as nothing are invalid, as are names
-- of white space; the detail names the first invisible character.
SELECT to_hex(c) AS code_point, gtm_is_valid_tenant_name(repeat(chr(c), 3)) AS valid_alone,
       gtm_is_valid_tenant_name('Acme' || chr(c) || 'Inc') AS valid_inside
FROM unnest(ARRAY[x'2800', x'3164', x'200D', x'200B', x'2060', x'FEFF', x'00AD', x'034F',
                  x'115F', x'1160', x'FFA0', x'FE0F', x'180E', x'E0020', x'E0100', x'1D173']::int[]) c;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_inv1', U&'\2800\2800\2800')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_inv1', U&'\3164')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_inv1', 'user_1', U&' \200D \2060 ')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_inv1', U&'\00A0\3000\2003')$$);
-- visible characters with invisible ones are fine: an emoji sequence joined
-- by U+200D, a combining accent, a soft hyphen inside a word
-- (unaligned: psql 17 and 18 measure the width of these characters
-- differently from psql 15, so aligned columns would be padded differently)
\pset format unaligned
SELECT name, gtm_is_valid_tenant_name(name) AS valid
FROM (VALUES (U&'\+01F468\200D\+01F469\200D\+01F467 Family'), (U&'e\0301'), (U&'Ac\00ADme'),
             (U&'\2800x'), (U&'\05E9\05DC\05D5\05DD Ltd')) AS t(name);
\pset format aligned

-- Bidirectional controls (Bidi_Control: U+061C, U+200E, U+200F,
-- U+202A..U+202E, U+2066..U+2069) are refused anywhere in a name.
SELECT to_hex(c) AS code_point, gtm_is_valid_tenant_name('Acme ' || chr(c) || 'cnI') AS valid
FROM unnest(ARRAY[x'061C', x'200E', x'200F', x'202A', x'202B', x'202C', x'202D', x'202E',
                  x'2066', x'2067', x'2068', x'2069']::int[]) c;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_bidi1', U&'Acme \202Etxt.exe')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_bidi1', 'user_1', U&'\2067Acme\2069')$$);
-- the table constraint holds the same rules for direct writes
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('org_bidi1', U&'Acme \202E', 'bidi1')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('org_inv1', U&'\3164\3164', 'inv1')$$);
SELECT count(*) AS written FROM tenants WHERE clerk_org_id IN ('org_inv1', 'org_bidi1');

-- Errors quote a rejected value of more than 64 characters cut to its
-- first 60, with its length, whatever its size (here 1 MB).
SELECT state, message, length(message) AS message_length, detail
FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_' || repeat('a', 1048576), 'user_1', 'X')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_x', 'user_' || repeat('ü', 1048576), 'X')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_x', 'X', repeat('Slug', 262144))$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_role_from_clerk(repeat('org:owner ', 104858))$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_x', 'user_1', 'X', NULL, repeat('r', 1048576))$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_set_member_role(repeat('t', 1048576), 'user_1', 'viewer')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_remove_member(repeat('t', 1048576), 'user_1')$$);
-- 64 characters are quoted whole; 65 are cut
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_x', 'X', repeat('s', 59) || '_5678')$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_x', 'X', repeat('s', 60) || '_5678')$$);
-- a long name is not echoed at all
SELECT state, message, detail FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_x', repeat('n', 1048576))$$);
