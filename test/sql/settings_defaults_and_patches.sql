-- Defaults, effective settings, patches, stale overrides, privileges.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- the factory defaults, version 0
SELECT gtm_default_settings();
SELECT version, settings, set_by FROM settings_defaults ORDER BY version;

SELECT id AS t1 FROM gtm_provision_tenant('org_settingsA1', 'Settings A1', 'settings-a1') \gset
SELECT id AS t2 FROM gtm_provision_tenant('org_settingsA2', 'Settings A2', 'settings-a2',
	'{"timezone": "America/New_York", "features": {"buyingGroups": true}}') \gset

-- no overrides: the defaults; overrides: merged over them
SELECT gtm_tenant_settings(:'t1');
SELECT gtm_tenant_settings(:'t2');
SELECT gtm_tenant_setting(:'t2', '{timezone}') AS tz,
	   gtm_tenant_setting(:'t2', '{features}') AS features,
	   gtm_tenant_setting(:'t2', '{features,writeback}') AS writeback,
	   gtm_tenant_setting(:'t2', '{}') = gtm_tenant_settings(:'t2') AS empty_path_is_all;
SELECT gtm_feature_enabled(:'t1', 'buyingGroups') AS t1_bg,
	   gtm_feature_enabled(:'t2', 'buyingGroups') AS t2_bg,
	   gtm_feature_enabled(:'t2', 'writeback') AS t2_wb;

-- lookups that fail
SELECT gtm_tenant_setting(:'t2', '{timzone}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_tenant_setting(:'t2', '{features,writebak}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_tenant_setting(:'t2', '{timezone,region}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_tenant_setting(:'t2', '{features,NULL}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_feature_enabled(:'t2', 'buyinggroups');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_feature_enabled(:'t2', 'payroll');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_tenant_settings('00000000-0000-0000-0000-000000000000');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings('00000000-0000-0000-0000-000000000000', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_tenant_settings(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_feature_enabled(:'t2', NULL);
\echo :LAST_ERROR_SQLSTATE

-- patches merge into the stored overrides; null means "back to the default";
-- updated_at moves
UPDATE tenants SET updated_at = '2020-01-01' WHERE id = :'t2';
SELECT gtm_update_tenant_settings(:'t2', '{"features": {"writeback": true}, "defaultScoringVersion": 3}');
SELECT settings, updated_at > '2020-01-01' AS touched FROM tenants WHERE id = :'t2';
SELECT gtm_update_tenant_settings(:'t2', '{"timezone": null, "features": {"buyingGroups": null}}');
SELECT settings FROM tenants WHERE id = :'t2';
SELECT gtm_update_tenant_settings(:'t2', '{}') = gtm_tenant_settings(:'t2') AS empty_patch_no_change;

-- new defaults: a version is added; effective settings follow; tenants whose
-- overrides no longer pass are counted, listed, and still readable
SELECT gtm_update_tenant_settings(:'t1', '{"features": {"buyingGroups": true}}') -> 'features';
SELECT gtm_set_default_settings(
	'{"timezone": "Europe/London", "defaultScoringVersion": 2, "features": {"buyingGroups": false, "intentSignals": true}, "locale": "en-GB"}');
SELECT version, set_by FROM settings_defaults ORDER BY version;
SELECT gtm_default_settings();
SELECT gtm_tenant_settings(:'t1');
SELECT gtm_tenant_settings(:'t2');
SELECT gtm_feature_enabled(:'t2', 'writeback') AS stale_flag_still_answers;
SELECT t.clerk_org_id, i.message, i.detail, i.hint
FROM gtm_invalid_tenant_settings() i JOIN tenants t ON t.id = i.tenant_id
WHERE t.clerk_org_id LIKE 'org_settingsA%' ORDER BY 1;

-- a stale row: other columns can still change, its settings cannot until fixed
UPDATE tenants SET name = 'Settings A2 renamed' WHERE id = :'t2';
UPDATE tenants SET settings = settings WHERE id = :'t2';
SELECT gtm_update_tenant_settings(:'t2', '{"locale": "fr-FR"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t2', '{"locale": "fr-FR", "features": {"writeback": null}}');
SELECT count(*) AS still_invalid FROM gtm_invalid_tenant_settings() i
JOIN tenants t ON t.id = i.tenant_id WHERE t.clerk_org_id LIKE 'org_settingsA%';

-- a new key in the defaults is usable at once
SELECT gtm_update_tenant_settings(:'t1', '{"features": {"intentSignals": false}}') -> 'features';

-- what pg_restore does: a superuser inserts a row with its old updated_at;
-- it is taken as it is (it passed when written) and listed if stale
INSERT INTO tenants (clerk_org_id, name, slug, settings, created_at, updated_at)
VALUES ('org_settingsA3', 'Settings A3', 'settings-a3', '{"features": {"writeback": true}}',
		'2024-01-01', '2024-01-01');
SELECT t.clerk_org_id, i.message FROM gtm_invalid_tenant_settings() i
JOIN tenants t ON t.id = i.tenant_id WHERE t.clerk_org_id = 'org_settingsA3';
-- an ordinary insert (updated_at now) is checked
INSERT INTO tenants (clerk_org_id, name, slug, settings)
VALUES ('org_settingsA4', 'Settings A4', 'settings-a4', '{"features": {"writeback": true}}');
\echo :LAST_ERROR_SQLSTATE

-- going back: delete the newest version and the previous one is in force
DELETE FROM settings_defaults WHERE version = (SELECT max(version) FROM settings_defaults);
SELECT gtm_default_settings() = (SELECT settings FROM settings_defaults WHERE version = 0) AS factory_again;
SELECT t.clerk_org_id, i.message FROM gtm_invalid_tenant_settings() i
JOIN tenants t ON t.id = i.tenant_id WHERE t.clerk_org_id LIKE 'org_settingsA%' ORDER BY 1;
SELECT gtm_update_tenant_settings(:'t1', '{"features": {"intentSignals": null}}') -> 'features';
SELECT gtm_update_tenant_settings(:'t2', '{"locale": null}') ->> 'timezone';
DELETE FROM tenants WHERE clerk_org_id = 'org_settingsA3';
SELECT count(*) AS invalid_left FROM gtm_invalid_tenant_settings() i
JOIN tenants t ON t.id = i.tenant_id WHERE t.clerk_org_id LIKE 'org_settingsA%';

-- privileges: writers are not executable by PUBLIC; readers run with the
-- caller's rights; every write path is validated for a non-superuser too
CREATE ROLE settings_app;
CREATE ROLE settings_admin;
GRANT SELECT ON tenants TO settings_app;
GRANT UPDATE, INSERT ON tenants TO settings_admin;
GRANT SELECT ON tenants TO settings_admin;
SET ROLE settings_app;
SELECT gtm_default_settings() ->> 'timezone' AS app_reads_defaults;
SELECT gtm_feature_enabled(:'t1', 'buyingGroups') AS app_reads_flag;
SELECT gtm_update_tenant_settings(:'t1', '{"timezone": "Asia/Tokyo"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_default_settings('{}');
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '{}' WHERE id = :'t1';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO settings_defaults (version, settings) VALUES (99, '{}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION gtm_update_tenant_settings(text, jsonb) TO settings_app;
SET ROLE settings_app;
SELECT gtm_update_tenant_settings(:'t1', '{"timezone": "Asia/Tokyo"}') ->> 'timezone' AS granted;
SELECT gtm_update_tenant_settings(:'t1', '{"timezone": "Asia/Tokio"}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE settings_admin;
UPDATE tenants SET settings = '{"timezone": "UTC+1"}' WHERE id = :'t1';
\echo :LAST_ERROR_SQLSTATE
-- a non-superuser cannot use the restore path to skip validation
INSERT INTO tenants (id, clerk_org_id, name, slug, settings, updated_at)
VALUES ('00000000-0000-4000-8000-0000000000a5', 'org_settingsA5', 'Settings A5', 'settings-a5',
        '{"sandbox": true}', '2000-01-01');
\echo :LAST_ERROR_SQLSTATE
UPDATE tenants SET settings = '{"timezone": "Europe/Oslo"}' WHERE id = :'t1';
RESET ROLE;
SELECT settings FROM tenants WHERE id = :'t1';

-- clean up
REVOKE ALL ON tenants FROM settings_app, settings_admin;
REVOKE ALL ON FUNCTION gtm_update_tenant_settings(text, jsonb) FROM settings_app;
DROP ROLE settings_app;
DROP ROLE settings_admin;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_settingsA%';
DELETE FROM settings_defaults WHERE version > 0;
