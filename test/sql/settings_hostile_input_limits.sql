--
-- Settings under hostile input (issue 17): size and depth limits with a
-- clear error, no JSON null anywhere in the defaults (arrays included),
-- time-zone checks that load nothing for a rejected name, errors that quote
-- long values cut, and the SQLSTATEs the README documents.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\i test/lib/expect_error.sql
\pset null '<null>'

SELECT id AS t FROM gtm_provision_tenant('org_limits1', 'Limits One', 'limits-one') \gset
CREATE TEMP TABLE versions_before AS SELECT count(*) AS n FROM settings_defaults;

-- nested objects {"k": {"k": ... {"k": 1}}}: depth levels, key of keylen characters
CREATE FUNCTION pg_temp.nested(depth int, keylen int) RETURNS jsonb LANGUAGE sql AS $$
	SELECT (repeat('{"' || repeat('k', keylen) || '": ', depth) || '1' || repeat('}', depth))::jsonb
$$;

-- (tenants left by other tests may no longer pass: no WARNING about them)
SET client_min_messages = error;

-- Depth: at most 32 levels, the top-level object being level 1.
SELECT gtm_set_default_settings(pg_temp.nested(32, 1)) IS NOT NULL AS level_32_accepted;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(pg_temp.nested(33, 1))$$);
-- arrays count as levels too
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(('{"a": ' || repeat('[', 32) || repeat(']', 32) || '}')::jsonb)$$);
-- the shape of the issue: 3,000 levels of 1,000-character keys (2.9 MB);
-- refused by its size before anything else is looked at
SELECT state, message, detail, hint
FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(pg_temp.nested(3000, 1000))$$);
-- 3,000 levels of short keys: refused at level 33, the path quoted cut
SELECT state, message, detail
FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(pg_temp.nested(3000, 1))$$);
-- 33 levels of 1,000-character keys: the path is quoted cut, with its length
SELECT state, message, detail, length(detail) AS detail_length
FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(pg_temp.nested(33, 1000))$$);
-- a document too deep for PostgreSQL's own JSON parser fails on input,
-- before any gtm function runs: 54001 (stack depth limit exceeded)
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(repeat('[', 1000000)::jsonb)$$);

-- Size: at most 1 MB (1,048,576 bytes) as jsonb.
SELECT gtm_set_default_settings(jsonb_build_object('timezone', 'UTC', 'blob', repeat('x', 1048000)))
		->> 'timezone' AS one_mb_accepted;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings(jsonb_build_object('blob', repeat('x', 1048576)))$$);

-- No JSON null anywhere in the defaults, not even inside an array.
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings('{"tags": ["a", null]}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings('{"tags": [["a"], [1, [null]]]}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings('{"rules": [{"when": "x", "then": null}]}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_default_settings('{"a": {"b": {"c": null}}}')$$);
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "tags": ["a", ["b", {"c": 1}]], "features": {"buyingGroups": false, "writeback": false}}') -> 'tags' AS tags;
SELECT count(*) - (SELECT n FROM versions_before) AS versions_written FROM settings_defaults;
RESET client_min_messages;

-- Overrides: the same limits (arrays are not checked against the defaults,
-- but they count for the depth).
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"tags": %s}')$$,
		:'t', repeat('[', 32) || repeat(']', 32)));
SELECT gtm_update_tenant_settings(:'t', ('{"tags": ' || repeat('[', 30) || '"deep"' || repeat(']', 30) || '}')::jsonb) #>> '{tags,0,0}' AS level_32_override;
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, jsonb_build_object('tags', jsonb_build_array(repeat('x', 1048576))))$$, :'t'));
-- an override array may hold a null (only stored values themselves may not be null)
SELECT gtm_update_tenant_settings(:'t', '{"tags": [null, "b"]}') -> 'tags' AS tags;
-- a row that bypassed the trigger (a restore) is listed with the error a
-- write of it would raise
INSERT INTO tenants (clerk_org_id, name, slug, settings, created_at, updated_at)
VALUES ('org_limits2', 'Limits Two', 'limits-two',
        jsonb_build_object('tags', jsonb_build_array(repeat('y', 1100000))),
        now() - interval '1 day', now() - interval '1 day');
SELECT message, detail, hint FROM gtm_invalid_tenant_settings()
WHERE tenant_id = (SELECT id FROM tenants WHERE clerk_org_id = 'org_limits2');
DELETE FROM tenants WHERE clerk_org_id = 'org_limits2';

-- Time zones: a rejected name is never loaded into PostgreSQL's time-zone
-- cache (pg_tzset keeps every zone it loads, POSIX specifications
-- included); before, each distinct string below stayed there, about 24 kB.
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "America/New_York"}') ->> 'timezone' AS tz;
SELECT total_bytes AS tz_cache_before FROM pg_backend_memory_contexts
WHERE name = 'Timezones' \gset
DO $$
DECLARE
	t text := (SELECT id FROM tenants WHERE clerk_org_id = 'org_limits1');
	rejected int := 0;
	z text;
BEGIN
	FOR i IN 1..100 LOOP
		FOREACH z IN ARRAY ARRAY['XYZ' || i, 'Utc+' || i, '<+0' || i || '>-' || i, 'est' || i || 'edt',
		                         '+' || i || ':00', 'Etc/GMT+' || (i + 20),
		                         'Nowhere/' || repeat(chr(97 + i % 26), 1 + i / 26)] LOOP
			BEGIN
				PERFORM gtm_update_tenant_settings(t, jsonb_build_object('timezone', z));
			EXCEPTION WHEN invalid_parameter_value THEN
				rejected := rejected + 1;
			END;
		END LOOP;
	END LOOP;
	RAISE NOTICE 'rejected % of 700', rejected;
END $$;
SELECT total_bytes = :tz_cache_before AS tz_cache_did_not_grow FROM pg_backend_memory_contexts
WHERE name = 'Timezones';
-- zone names with a digit are accepted or corrected from the list of zone files
SELECT z, gtm_update_tenant_settings(:'t', jsonb_build_object('timezone', z)) ->> 'timezone' AS stored
FROM unnest(ARRAY['Etc/GMT+5', 'EST5EDT', 'Etc/GMT-14', 'GMT0']) z;
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"timezone": "etc/gmt+5"}')$$, :'t'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"timezone": "EST5edt"}')$$, :'t'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"timezone": "Etc/GMT+15"}')$$, :'t'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"timezone": "europe/paris"}')$$, :'t'));

-- Long values in errors are quoted cut, with their length.
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_tenant_settings(repeat('t', 1048576))$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_tenant_setting(repeat('t', 1048576), '{timezone}')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_feature_enabled(repeat('t', 1048576), 'writeback')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error($$SELECT gtm_update_tenant_settings(repeat('t', 1048576), '{}')$$);
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error(format($$SELECT gtm_feature_enabled(%L, repeat('f', 1048576))$$, :'t'));
SELECT state, message, length(message) AS message_length, hint
FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, jsonb_build_object(repeat('k', 100000), 1))$$, :'t'));
SELECT state, message, length(message) AS message_length, detail
FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, jsonb_build_object('timezone', repeat('Z', 1048576)))$$, :'t'));
SELECT state, message, length(message) AS message_length, detail
FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, jsonb_build_object('features', jsonb_build_object(repeat('w', 1000), true)))$$, :'t'));
-- a path of 1,000 keys of 1,000 characters: the error quotes it cut, and
-- building it costs one pass (it used to be rebuilt for every element)
SELECT state, message, length(message) AS message_length
FROM pg_temp.expect_error(format($$SELECT gtm_tenant_setting(%L, array_fill(repeat('p', 1000), ARRAY[1000]))$$, :'t'));
SELECT state, message, detail
FROM pg_temp.expect_error(format($$SELECT gtm_tenant_setting(%L, ARRAY['timezone', repeat('p', 1000)])$$, :'t'));

-- The SQLSTATE of a multi-dimensional path array: 2202E (array subscript
-- error, as PostgreSQL's own jsonb_set gives), documented.
SELECT state, message FROM pg_temp.expect_error(format($$SELECT gtm_tenant_setting(%L, '{{features},{writeback}}')$$, :'t'));
SELECT state, message FROM pg_temp.expect_error($$SELECT jsonb_set('{"a": 1}', '{{a},{b}}', '2')$$);

-- clean up: the factory defaults back in force
DELETE FROM settings_defaults WHERE version > 0;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_limits%';
SELECT gtm_default_settings();
