-- The settings schema (issue 12): every keyword, for maps, arrays and
-- nested objects, on every write path, with the exact message; the schema
-- itself checked when it is set; gtm_invalid_tenant_settings() after a
-- schema change.  The data is checked after each refused write.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- the factory schema is in force and the factory defaults pass it
SELECT gtm_settings_schema() = (SELECT schema FROM settings_defaults WHERE version = 0) AS factory,
       gtm_check_settings('{}') AS empty_ok,
       jsonb_object_keys(gtm_settings_schema() -> 'properties') AS section
ORDER BY section;

SELECT id AS t FROM gtm_provision_tenant('org_schemaS1', 'Schema One', 'schema-s1') \gset

-- accepted: the issue's map, the product page's example, each section
SELECT gtm_update_tenant_settings(:'t', '{"fieldMappings": {"hubspot": {"company.domain": "website"}}}')
	-> 'fieldMappings' AS mappings;
SELECT gtm_update_tenant_settings(:'t',
	'{"timezone": "America/New_York", "defaultScoringVersion": 1, "features": {"buyingGroups": true, "writeback": false}}')
	- 'scoring' - 'connectors' - 'fieldMappings' - 'buyingGroups' AS page_example;
SELECT gtm_update_tenant_settings(:'t', '{
	"scoring": {"versions": [{"version": 1, "name": "Default", "weights": {"fit": 0.6, "engagement": 0.4}, "mqlThreshold": 70}],
				"fit": {"industries": ["Software", "Fintech"], "companySize": {"minEmployees": 50}, "regions": ["US", "FR"]},
				"engagement": {"halfLifeDays": 14.5, "signalWeights": {"webinar": 5, "pricing_page": 20}}},
	"connectors": {"crm": {"type": "hubspot", "enabled": true, "syncIntervalMinutes": 60}},
	"buyingGroups": {"roleTemplates": [{"role": "champion", "titlePatterns": ["^VP", "Head of"], "required": true}]}}')
	-> 'scoring' -> 'engagement' AS engagement;
SELECT settings -> 'scoring' -> 'fit' AS stored_fit FROM tenants WHERE id = :'t';

-- every refused write leaves the stored overrides as they were
SELECT md5(settings::text) AS before FROM tenants WHERE id = :'t' \gset

-- type: scalars, objects, arrays, maps; "integer"; several types
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": "14"}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"industries": "Software"}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"industries": ["Software", 3]}}}');
SELECT gtm_update_tenant_settings(:'t', '{"fieldMappings": {"salesforce": ["Website"]}}');
SELECT gtm_update_tenant_settings(:'t', '{"fieldMappings": {"salesforce": {"Website": true}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"lookbackDays": 30.5}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"versions": [{"version": 2.5, "name": "x", "weights": {"fit": 1, "engagement": 0}}]}}');
\echo :LAST_ERROR_SQLSTATE

-- null: a stored override is never null; an array element is held to "items"
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"industries": ["Software", null]}}}');
UPDATE tenants SET settings = settings || '{"connectors": {"crm": null}}' WHERE id = :'t';
\echo :LAST_ERROR_SQLSTATE

-- minimum, maximum, exclusiveMinimum (the issue's halfLifeDays -5)
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": -5}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 0}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 3650.01}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"signalWeights": {"webinar": -1}}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"companySize": {"minEmployees": 0}}}}');
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": 0}');
SELECT gtm_update_tenant_settings(:'t', '{"defaultScoringVersion": 2147483648}');
\echo :LAST_ERROR_SQLSTATE
-- the bounds themselves pass
SELECT gtm_check_settings('{"scoring": {"engagement": {"halfLifeDays": 0.0001, "lookbackDays": 3650}}}') IS NOT NULL AS bounds_ok;
-- numbers as the application reads them, as doubles (round AW F2): 1e-400
-- is 0 there, below "exclusiveMinimum": 0; 1e400 is Infinity; a whole
-- number beyond 2^53 - 1 is read as another one.  Refused, nothing stored.
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 1e-400}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"companySize": {"minEmployees": 1e400, "maxEmployees": 1e400}}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"companySize": {"maxEmployees": 9007199254740992}}}}');
\echo :LAST_ERROR_SQLSTATE
SELECT settings #> '{scoring,engagement,halfLifeDays}' AS half_life_kept,
       settings #> '{scoring,fit,companySize}' AS company_size_kept
  FROM tenants WHERE id = :'t';
SELECT gtm_check_settings('{"scoring": {"fit": {"companySize": {"maxEmployees": 9007199254740991}},
                                        "engagement": {"halfLifeDays": 2.2250738585072014e-308}}}') IS NOT NULL AS double_bounds_ok;

-- minLength, maxLength (characters, not bytes), pattern
SELECT gtm_update_tenant_settings(:'t', '{"fieldMappings": {"hubspot": {"company.domain": ""}}}');
SELECT gtm_update_tenant_settings(:'t', jsonb_build_object('scoring', jsonb_build_object('versions',
	jsonb_build_array(jsonb_build_object('version', 1, 'name', repeat('é', 101), 'weights', '{"fit": 1, "engagement": 0}'::jsonb)))));
SELECT gtm_check_settings(jsonb_build_object('scoring', jsonb_build_object('versions',
	jsonb_build_array(jsonb_build_object('version', 1, 'name', repeat('é', 100), 'weights', '{"fit": 1, "engagement": 0}'::jsonb)))))
	IS NOT NULL AS hundred_chars_ok;
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"regions": ["US", "fr"]}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"regions": ["USA"]}}}');

-- enum, with "did you mean"; const
SELECT gtm_update_tenant_settings(:'t', '{"connectors": {"crm": {"type": "hubspt"}}}');
SELECT gtm_update_tenant_settings(:'t', '{"buyingGroups": {"roleTemplates": [{"role": "ceo", "titlePatterns": ["CEO"]}]}}');

-- minItems, maxItems, uniqueItems (numbers by value, objects by content)
SELECT gtm_update_tenant_settings(:'t', '{"buyingGroups": {"roleTemplates": [{"role": "user", "titlePatterns": []}]}}');
SELECT gtm_update_tenant_settings(:'t', jsonb_build_object('scoring', jsonb_build_object('fit',
	jsonb_build_object('industries', (SELECT jsonb_agg('industry ' || i) FROM generate_series(1, 101) i)))));
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"industries": ["Software", "Fintech", "Software"]}}}');
SELECT gtm_update_tenant_settings(:'t', '{"buyingGroups": {"roleTemplates": [{"role": "user", "titlePatterns": ["a", "b", "a"]}]}}');

-- required: in a new map entry and an array item; satisfied by the defaults
SELECT gtm_update_tenant_settings(:'t', '{"connectors": {"warehouse": {"enabled": true}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"versions": [{"version": 3, "name": "x"}]}}');
SELECT gtm_update_tenant_settings(:'t', '{"buyingGroups": {"roleTemplates": [{"role": "user"}]}}');
SELECT gtm_check_settings('{"features": {"writeback": true}}') AS required_from_defaults;

-- additionalProperties false: unknown keys, with "did you mean"
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDay": 7}}}');
SELECT gtm_update_tenant_settings(:'t', '{"features": {"writebak": true}}');
SELECT gtm_update_tenant_settings(:'t', '{"timzone": "UTC"}');
SELECT gtm_update_tenant_settings(:'t', '{"connectors": {"crm": {"type": "csv", "syncInterval": 10}}}');
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"versions": [{"version": 1, "name": "x", "weights": {"fit": 1, "engagement": 0, "intent": 0}}]}}');

-- format "iana-time-zone": the time-zone check of 1.0.0
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "america/new_york"}');
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "Mars/Olympus"}');
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "EST5"}');

-- every write path: UPDATE, INSERT, gtm_provision_tenant, gtm_check_settings
UPDATE tenants SET settings = '{"scoring": {"engagement": {"halfLifeDays": -5}}}' WHERE id = :'t';
INSERT INTO tenants (clerk_org_id, name, slug, settings)
VALUES ('org_schemaS2', 'Schema Two', 'schema-s2', '{"fieldMappings": {"hubspot": {"a": 1}}}');
SELECT gtm_provision_tenant('org_schemaS3', 'Schema Three', NULL, '{"connectors": {"crm": {"type": "excel"}}}');
SELECT gtm_check_settings('{"scoring": {"fit": {"regions": ["us"]}}}');
SELECT md5(settings::text) = :'before' AS unchanged, count(*) OVER () AS tenants
FROM tenants WHERE clerk_org_id LIKE 'org_schemaS%';

-- the schema itself, refused when it is set (defaults unchanged after each)
SELECT max(version) AS v0 FROM settings_defaults \gset
SELECT gtm_set_default_settings(gtm_default_settings(), '[]');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"type": "object", "propertees": {}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"type": "obj"}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"type": ["object", 1]}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"type": []}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"enum": {}}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"timezone": 3}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": []}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"additionalProperties": "no"}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"items": {"minimum": "1"}}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"minLength": -1}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"maxItems": 1.5}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"uniqueItems": 1}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"enum": []}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"required": ["x", 1]}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"format": "date-time"}}}');
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"description": 1}}}');
\set SHOW_CONTEXT errors
SELECT gtm_set_default_settings(gtm_default_settings(), '{"properties": {"a": {"items": {"pattern": "(("}}}}');
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT never
-- defaults must pass their schema
SELECT gtm_set_default_settings(gtm_default_settings() || '{"timezone": "Nowhere/City"}', gtm_settings_schema());
SELECT gtm_set_default_settings(gtm_default_settings(), gtm_settings_schema() || '{"required": ["timezone", "locale"]}');
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}}',
	gtm_settings_schema());
-- the same rules for a superuser writing the table directly
INSERT INTO settings_defaults (version, settings, schema)
VALUES (:v0 + 1, gtm_default_settings(), '{"type": "object", "maxProperties": 3}');
SELECT max(version) = :v0 AS defaults_unchanged FROM settings_defaults;

-- after a schema change: existing overrides listed, still merged
SELECT gtm_set_default_settings(jsonb_set(gtm_default_settings(), '{scoring,engagement,halfLifeDays}', '7'),
	jsonb_set(gtm_settings_schema(), '{properties,scoring,properties,engagement,properties,halfLifeDays,maximum}', '10'))
	-> 'scoring' -> 'engagement' AS engagement;
SELECT tenant_id = :'t' AS is_t, message, detail FROM gtm_invalid_tenant_settings();
SELECT gtm_tenant_setting(:'t', '{scoring,engagement,halfLifeDays}') AS still_merged;
SELECT gtm_update_tenant_settings(:'t', '{"timezone": "UTC"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 7}}}') -> 'timezone' AS fixed;
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 10.5}}}');
SELECT count(*) AS invalid FROM gtm_invalid_tenant_settings();
-- a new section with its default; a map of maps of arrays, nested objects
SELECT gtm_set_default_settings(gtm_default_settings() || '{"digest": {"hours": [9]}}',
	jsonb_set(gtm_settings_schema(), '{properties,digest}',
		'{"type": "object", "properties": {"hours": {"type": "array", "uniqueItems": true, "minItems": 1, "maxItems": 3, "items": {"type": "integer", "minimum": 0, "maximum": 23}}}, "additionalProperties": {"type": "object", "additionalProperties": {"type": "array", "items": {"const": "on"}}}}'))
	-> 'digest' AS digest;
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"hours": [8, 17]}}') -> 'digest' AS hours;
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"hours": [8, 24]}}');
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"hours": []}}');
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"hours": [1, 2, 3, 4]}}');
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"hours": [8, 8.0]}}');
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"teams": {"sales": ["on", "off"]}}}');
SELECT gtm_update_tenant_settings(:'t', '{"digest": {"teams": {"sales": ["on"]}}}') -> 'digest' AS teams;
-- round CG: a bound that excludes its value, and uniqueItems, hold for a
-- JSON reader's doubles too: 1.00000000000000000001 is 1 to the reader,
-- which "exclusiveMinimum": 1 forbids, and [1, 1.00000000000000000001] is
-- [1, 1] (also inside objects); the next double after 1 passes
SELECT gtm_set_default_settings(gtm_default_settings() || '{"limits": {"minScore": 2}}',
	jsonb_set(gtm_settings_schema(), '{properties,limits}',
		'{"type": "object", "properties": {"minScore": {"type": "number", "exclusiveMinimum": 1}, "tiers": {"type": "array", "uniqueItems": true, "items": {"type": "number"}}, "shapes": {"type": "array", "uniqueItems": true}}}'))
	-> 'limits' AS limits;
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"minScore": 1.00000000000000000001}}');
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"tiers": [2, 1, 1.00000000000000000001]}}');
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"shapes": [{"a": [1]}, {"a": [1.00000000000000000001]}]}}');
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"minScore": 1.0000000000000003, "tiers": [1, 1.0000000000000003]}}') -> 'limits' AS limits;
SELECT settings -> 'limits' AS stored FROM tenants WHERE id = :'t';
-- round CJ: a number the schema says nothing about (a key of an object
-- schema without additionalProperties, an array without items) is still
-- a number a JSON reader holds as a double
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"shapes": [{"cap": 1e400}]}}');
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"extra": {"eps": 1e-400}}}');
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"extra": {"eps": 0.5, "n": [3]}}}') -> 'limits' -> 'extra' AS extra;
SELECT settings -> 'limits' AS stored FROM tenants WHERE id = :'t';
-- (round CM) "type": ["integer"] admits whole numbers only: those a JSON
-- reader holds exactly; ["integer", "number"] admits any number
SELECT gtm_set_default_settings(gtm_default_settings(),
	jsonb_set(gtm_settings_schema(), '{properties,limits,properties,count}', '{"type": ["integer"]}'))
	-> 'limits' AS limits;
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"count": 9007199254740993}}');
SELECT gtm_set_default_settings(gtm_default_settings(),
	jsonb_set(gtm_settings_schema(), '{properties,limits,properties,count}', '{"type": ["integer", "number"]}'))
	-> 'limits' AS limits;
SELECT gtm_update_tenant_settings(:'t', '{"limits": {"count": 9007199254740993}}') -> 'limits' -> 'count' AS count;
SELECT gtm_update_tenant_settings(:'t', '{"limits": null}') -> 'limits' AS limits_default;
SELECT gtm_set_default_settings(gtm_default_settings() - 'limits', gtm_settings_schema() #- '{properties,limits}') ? 'limits' AS has_limits;
-- false as a schema
SELECT gtm_set_default_settings(gtm_default_settings(),
	jsonb_set(gtm_settings_schema(), '{properties,digest,additionalProperties}', 'false'));
SELECT tenant_id = :'t' AS is_t, message, detail, hint FROM gtm_invalid_tenant_settings();
SELECT gtm_set_default_settings(gtm_default_settings(),
	jsonb_set(gtm_settings_schema(), '{properties,digest,properties,teams}', 'false'));
SELECT message FROM gtm_invalid_tenant_settings();

-- the read at request speed (one probe of tenants_pkey, the last merge
-- kept) reads what the query would: after a change of the overrides, of
-- the defaults, for another tenant; and not at all where privileges or
-- row-level security decide (then the query runs)
\set t2 44444444-4444-4444-8444-444444444444
INSERT INTO tenants (id, clerk_org_id, name, slug, settings)
VALUES (:'t2', 'org_schemaS4', 'Schema Four', 'schema-s4', '{"timezone": "Asia/Tokyo"}');
SELECT gtm_tenant_settings(:'t') ->> 'timezone' AS t_tz, gtm_tenant_settings(:'t') ->> 'timezone' AS again;
SELECT gtm_tenant_settings(:'t2') ->> 'timezone' AS t2_tz;
UPDATE tenants SET settings = settings || '{"timezone": "Europe/Rome"}' WHERE id = :'t2';
SELECT gtm_tenant_settings(:'t2') ->> 'timezone' AS t2_changed;
SELECT gtm_set_default_settings(gtm_default_settings() || '{"defaultScoringVersion": 4}', gtm_settings_schema())
	-> 'defaultScoringVersion' AS new_default;
SELECT gtm_tenant_settings(:'t2') -> 'defaultScoringVersion' AS t2_new_default;
BEGIN;
UPDATE tenants SET settings = '{}' WHERE id = :'t2';
SELECT gtm_tenant_settings(:'t2') ->> 'timezone' AS in_transaction;
ROLLBACK;
SELECT gtm_tenant_settings(:'t2') ->> 'timezone' AS after_rollback;
SELECT gtm_tenant_settings('00000000-0000-0000-0000-000000000000');
CREATE ROLE schema_reader;
GRANT SELECT (id) ON tenants TO schema_reader;
SET ROLE schema_reader;
SELECT gtm_tenant_settings(:'t2');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT SELECT ON tenants TO schema_reader;
-- (tenants is under row-level security with the extension's policy passing
-- every row, gtm_every_row: a policy that narrows it is RESTRICTIVE)
SELECT relrowsecurity FROM pg_class WHERE oid = 'tenants'::regclass;
CREATE POLICY schema_reader_sees_t ON tenants AS RESTRICTIVE FOR SELECT TO schema_reader
  USING (id = :'t');
SET ROLE schema_reader;
SELECT gtm_tenant_settings(:'t') ->> 'timezone' AS visible_row;
-- refused: the policy hides t2's row (P0002, the tenant does not exist for
-- this role), or, where the planner keeps both conditions, the statement
-- is pinned to t by the policy and to t2 by the call (42501, two tenants)
DO $$
BEGIN
  PERFORM gtm_tenant_settings('44444444-4444-4444-8444-444444444444');
  RAISE NOTICE 'read';
EXCEPTION WHEN no_data_found OR insufficient_privilege THEN
  RAISE NOTICE 'refused';
END $$;
RESET ROLE;
DROP POLICY schema_reader_sees_t ON tenants;
REVOKE ALL ON tenants FROM schema_reader;
DROP ROLE schema_reader;

-- gtm_settings_schema_from: the 1.0.0 rules as a schema; bad input
SELECT jsonb_pretty(gtm_settings_schema_from('{"timezone": "UTC", "defaultScoringVersion": 1, "tags": ["a"], "features": {"x": true}}'));
SELECT gtm_settings_schema_from(NULL);
SELECT gtm_settings_schema_from('[]');
SELECT gtm_settings_schema_from('{"a": null}');
SELECT gtm_settings_schema_from(('{"a": ' || repeat('{"a": ', 32) || '1' || repeat('}', 32) || '}')::jsonb);

-- "enum" and "const" on an object compare what the tenant's settings hold
-- there: the override merged with the default at the same path (the
-- override alone passed a value whose merge is not in the enum, and
-- refused one whose merge is); nulls anywhere in an override's objects
-- are refused also where the schema says nothing (they would remove
-- defaults)
SELECT gtm_set_default_settings('{"plan": {"tier": "free", "seats": 5}, "ui": {"theme": "dark"}, "extra": {"y": 1}}',
  '{"type": "object", "properties": {"plan": {"enum": [{"tier": "free", "seats": 5}, {"tier": "pro"}]},
    "badge": {"const": {"shape": "round", "size": 1}}, "ui": {"type": "object"}, "extra": true}}') IS NOT NULL AS set;
SELECT id AS t9 FROM gtm_provision_tenant('org_schemaS9', 'Schema Nine') \gset
SELECT gtm_update_tenant_settings(:'t9', '{"plan": {"tier": "pro"}}');
SELECT gtm_update_tenant_settings(:'t9', '{"plan": {"tier": "free"}}') -> 'plan' AS plan_merged_in_enum;
-- (a null in the patch removes an override, never the default: "pro"
-- merges with the default's seats whatever the patch)
SELECT gtm_update_tenant_settings(:'t9', '{"plan": {"tier": "pro", "seats": null}}') -> 'plan' AS plan;
SELECT gtm_check_settings('{"badge": {"shape": "round", "size": 1}}') IS NOT NULL AS const_whole_ok;
SELECT gtm_check_settings('{"badge": {"shape": "round"}}');
SELECT gtm_update_tenant_settings(:'t9', '{"extra": {"y": null}}') -> 'extra' AS extra_default_kept;
SELECT gtm_provision_tenant('org_schemaS10', 'Schema Ten', NULL, '{"extra": {"y": null}}');
SELECT gtm_provision_tenant('org_schemaS10', 'Schema Ten', NULL, '{"ui": {"a": {"b": null}}}');
SELECT clerk_org_id, settings FROM tenants WHERE clerk_org_id IN ('org_schemaS9', 'org_schemaS10') ORDER BY 1;
SELECT * FROM gtm_invalid_tenant_settings();

-- "x-gtm-rules": "1.0.0", the root keyword of the schema that the update
-- from 1.0.0 gives the versions written under it (round FR): a number need
-- not fit a JSON reader's double there, as under 1.0.0; elsewhere it must.
-- The keyword belongs to the root, with that value only.
\set d10 '{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}, "limits": {"x": 1}}'
SELECT gtm_settings_schema_from(:'d10') ->> 'x-gtm-rules' AS rules_of_equivalent_schema;
SELECT gtm_set_default_settings(:'d10', gtm_settings_schema_from(:'d10')) IS NOT NULL AS set_under_1_0_0_rules;
SELECT gtm_check_settings('{"limits": {"x": 1e400}}') #>> '{limits,x}' = '1' || repeat('0', 400) AS big_number_passes;
SELECT gtm_check_settings('{"limits": {"x": -1e-400}}') IS NOT NULL AS tiny_number_passes;
SELECT gtm_set_default_settings(:'d10', gtm_settings_schema_from(:'d10') - 'x-gtm-rules') IS NOT NULL AS set_without;
SELECT gtm_check_settings('{"limits": {"x": 1e400}}');
SELECT gtm_set_default_settings(:'d10', jsonb_set(gtm_settings_schema_from(:'d10'), '{properties,limits,x-gtm-rules}', '"1.0.0"'));
SELECT gtm_set_default_settings(:'d10', jsonb_set(gtm_settings_schema_from(:'d10'), '{x-gtm-rules}', '"1.1.0"'));
SELECT gtm_set_default_settings(:'d10', jsonb_set(gtm_settings_schema_from(:'d10'), '{x-gtm-rules}', 'true'));

-- clean up
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_schemaS%';
DELETE FROM settings_defaults WHERE version > 0;
SELECT gtm_settings_schema() = (SELECT schema FROM settings_defaults WHERE version = 0) AS factory_again;
