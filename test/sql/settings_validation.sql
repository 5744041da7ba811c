-- Validation of tenants.settings on every write path, and of the defaults.
-- Each rule: the exact message and SQLSTATE.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT gtm_default_settings();
SELECT id AS t FROM gtm_provision_tenant('org_settingsV1', 'Validation One', 'settings-v1') \gset

-- accepted: the product page's example, and other real zone names
SELECT gtm_update_tenant_settings(:'t',
	'{"timezone": "America/New_York", "defaultScoringVersion": 1, "features": {"buyingGroups": true, "writeback": false}}');
SELECT z, gtm_update_tenant_settings(:'t', jsonb_build_object('timezone', z)) ->> 'timezone' AS stored
FROM unnest(ARRAY['UTC', 'Europe/Paris', 'Etc/GMT+5', 'EST5EDT', 'GMT0', 'Asia/Kathmandu']) z;
SELECT v, gtm_update_tenant_settings(:'t', jsonb_build_object('defaultScoringVersion', v::jsonb))
		-> 'defaultScoringVersion' AS stored
FROM unnest(ARRAY['1', '2.0', '1e2', '2147483647']) v;

-- rule: overrides are an object; constraint tenants_settings_check says so
-- (the trigger leaves it to the constraint; terse: DETAIL shows the row)
\set VERBOSITY terse
UPDATE tenants SET settings = '[1, 2]' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '"UTC"' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = 'null' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

-- rule: keys exist in the defaults; the nearest known key is suggested
SELECT gtm_update_tenant_settings(:'t', '{"timzone": "UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"TimeZone": "UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"colour": "blue"}');
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '{"features": {"buyingGroup": true}}' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '{"features": {"writeback": true, "sandbox": true}}' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE

-- rule: a stored override is not null
UPDATE tenants SET settings = '{"timezone": null}' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '{"features": {"writeback": null}}' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE

-- rule: same JSON type as the default
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": "2"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": 5}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"features": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"features": {"writeback": "yes"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"features": {"writeback": [true]}}');
\echo :LAST_ERROR_SQLSTATE

-- rule: timezone is an IANA zone name PostgreSQL loads (not an offset, not POSIX)
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "Mars/Olympus_Mons"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": ""}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "UTC+5"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "+05:00"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "<+0530>-5:30"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "EST5"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "america/new_york"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "utc"}');
\echo :LAST_ERROR_SQLSTATE
-- files of the server's time-zone directory that are no IANA zone
-- (JavaScript's Intl.DateTimeFormat rejects them): refused, nothing stored
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "localtime"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "posixrules"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "Factory"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "posix/Europe/Paris"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "posix/UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "right/UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "LOCALTIME"}');
\echo :LAST_ERROR_SQLSTATE
SELECT settings->>'timezone' AS still_stored FROM tenants WHERE id = :'t';

-- rule: defaultScoringVersion is a positive integer
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": -3}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": 1.5}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": 3000000000}');
\echo :LAST_ERROR_SQLSTATE

-- the same rules on the other write paths: gtm_provision_tenant and INSERT
SELECT id FROM gtm_provision_tenant('org_settingsV2', 'Validation Two', 'settings-v2', '{"timzone": "UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM gtm_provision_tenant('org_settingsV2', 'Validation Two', 'settings-v2', '{"timezone": "UTC+5"}');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO tenants (clerk_org_id, name, slug, settings)
VALUES ('org_settingsV3', 'Validation Three', 'settings-v3', '{"defaultScoringVersion": 0}');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO tenants (clerk_org_id, name, slug, settings)
VALUES ('org_settingsV3', 'Validation Three', 'settings-v3', '{"features": {"writeback": true}}')
RETURNING settings;
SELECT count(*) AS rejected_rows_absent FROM tenants
WHERE clerk_org_id = 'org_settingsV2';

-- the row kept its last good value through all of the above
SELECT settings FROM tenants WHERE id = :'t';

-- the patch itself must be an object
SELECT gtm_update_tenant_settings(:'t', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', NULL);
\echo :LAST_ERROR_SQLSTATE

-- defaults: the same value rules, no nulls, feature flags are booleans
SELECT gtm_set_default_settings('[]');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"timezone": "UTC", "locale": null}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"timezone": "Mars/Olympus_Mons"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"timezone": "UTC-3"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"timezone": ["UTC"]}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"defaultScoringVersion": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"defaultScoringVersion": "1"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"features": ["writeback"]}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{"features": {"writeback": "off"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS default_versions FROM settings_defaults;

-- the check sees the row as stored: a BEFORE trigger of the table's owner
-- that writes settings after it (its name sorts later), also on an UPDATE
-- that does not name settings, stores nothing the check refuses
CREATE FUNCTION seed_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.settings := NEW.settings || '{"timezone": "Mars/Olympus"}'; RETURN NEW; END $$;
CREATE TRIGGER tenants_zz_seed BEFORE INSERT OR UPDATE ON tenants
  FOR EACH ROW EXECUTE FUNCTION seed_settings();
SELECT gtm_provision_tenant('org_settingsV9', 'Validation Nine');
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET name = 'Validation One renamed' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER tenants_zz_seed ON tenants;
DROP FUNCTION seed_settings();
SELECT clerk_org_id, name, settings ->> 'timezone' AS timezone FROM tenants
 WHERE clerk_org_id LIKE 'org_settingsV%' ORDER BY 1;
SELECT * FROM gtm_invalid_tenant_settings();

-- clean up
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_settingsV%';

-- a key is never empty (round FN F2): a connector, a source field or a
-- signal named "" was stored, and the setup checklist counted the ""
-- connector as a connected data source; refused (22023) on every path,
-- and nothing is stored
\i test/lib/expect_error.sql
SELECT gtm_provision_tenant('org_settingsV10', 'Validation Ten') IS NOT NULL AS provisioned;
SELECT id AS t10 FROM tenants WHERE clerk_org_id = 'org_settingsV10' \gset
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"connectors": {"": {"type": "csv"}}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"fieldMappings": {"hubspot": {"": "website"}}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"scoring": {"engagement": {"signalWeights": {"": 5}}}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"": 1}')$$);
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"connectors": {"": {"type": "csv"}}}')$$, :'t10'));
SELECT * FROM pg_temp.expect_error(format($$UPDATE tenants SET settings = '{"fieldMappings": {"": {"x": "website"}}}' WHERE id = %L$$, :'t10'));
SELECT settings FROM tenants WHERE id = :'t10';
SELECT gtm_check_settings('{"connectors": {"crm": {"type": "csv"}}, "fieldMappings": {"crm": {"domain": "website"}}}') AS named_keys_pass;
-- ... nor white space alone, and whatever the spelling of the schema that
-- leaves the keys to the tenant (round FR: only "additionalProperties"
-- refused "", and " " passed everywhere): a map's keys, a free object's
-- (no "additionalProperties", or a true schema), at any depth
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"connectors": {" ": {"type": "csv"}}}')$$);
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant_settings(%L, '{"fieldMappings": {"crm": {"\t\n": "website"}}}')$$, :'t10'));
SELECT settings FROM tenants WHERE id = :'t10';
SELECT coalesce(max(version), 0) AS versions_before FROM settings_defaults \gset
SELECT gtm_set_default_settings('{"a": {}, "b": {}, "c": {}, "d": {"x": 1}}',
  '{"type": "object", "additionalProperties": false, "properties": {
     "a": {"type": "object"}, "b": true, "c": {"type": "object", "additionalProperties": true},
     "d": {"type": "object", "properties": {"x": {"type": "number"}, "": {"type": "number"}}, "additionalProperties": false}}}') IS NOT NULL AS open_objects_set;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"a": {"": 1}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"b": {"": 1}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"c": {" ": 1}}')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_check_settings('{"b": {"deep": [{"k": {"  ": 1}}]}}')$$);
SELECT gtm_check_settings('{"a": {"x y": 1}, "b": {" z": {"w": 2}}, "c": {"k": 3}, "d": {"": 4}}') IS NOT NULL AS named_or_declared_keys_pass;
DELETE FROM settings_defaults WHERE version > :versions_before;
-- Unicode's white space and invisible characters too (round FS: U+00A0,
-- U+3000, U+2028, U+0085, U+200B, U+FEFF were stored)
SELECT name AS blank_key, (SELECT message FROM pg_temp.expect_error(format($$SELECT gtm_check_settings(jsonb_build_object('connectors', jsonb_build_object(%L, '{"type": "csv"}'::jsonb)))$$, k))) AS refused
  FROM unnest(ARRAY[U&'\00A0', U&'\3000', U&'\2028', U&'\0085', U&'\200B', U&'\FEFF', U&' \00A0\2060'],
              ARRAY['U+00A0', 'U+3000', 'U+2028', 'U+0085', 'U+200B', 'U+FEFF', 'U+0020 U+00A0 U+2060']) AS b(k, name);
SELECT gtm_check_settings(jsonb_build_object('connectors', jsonb_build_object(U&'crm\00A0eu', '{"type": "csv"}'::jsonb))) IS NOT NULL AS visible_with_blank_inside_passes;
DELETE FROM tenants WHERE clerk_org_id = 'org_settingsV10';
