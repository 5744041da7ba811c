/* gtm_clarity--1.0.0--1.1.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gtm_clarity UPDATE TO '1.1.0'" to load this file. \quit

-- A pin value fixed for the whole statement.  The check wraps a stable
-- built-in value compared with a tenant column (current_setting(...),
-- for instance) in gtm_pin() before planning, so the value compared when
-- the statement starts is the value every row is filtered with: the first
-- evaluation in a top-level statement fixes the statement's tenant, and any
-- other value raises 42501.  PARALLEL RESTRICTED: it is evaluated in the
-- leader, which holds the statement's tenant.
CREATE FUNCTION @extschema@.gtm_pin(value anyelement) RETURNS anyelement
	AS 'MODULE_PATHNAME', 'gtm_pin'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.gtm_pin(anyelement) IS
	'The value, checked to be the one tenant of the running top-level statement';

--------------------------------------------------------------------------
-- Issue 12: the settings schema, the defaults kept per backend, and the
-- setup checklist       (src/settings_schema.c, src/settings_schema_meta.c,
--                        src/settings_defaults.c, src/setup_checklist.c;
--                        doc/settings-schema.md, doc/setup-checklist.md)
--------------------------------------------------------------------------

-- The schema that holds overrides to the rules of 1.0.0 for given defaults.
CREATE FUNCTION @extschema@.gtm_settings_schema_from(defaults jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_settings_schema_from'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gtm_settings_schema_from(jsonb) IS
	'The settings schema equivalent to the 1.0.0 rules for the defaults given';

-- Every version of the defaults carries its schema.  A row written without
-- one (a row of a dump taken at 1.0.0) gets the schema equivalent to the
-- 1.0.0 rules for its defaults; the row trigger refuses an invalid schema
-- and defaults that do not pass it.  The statement trigger makes every
-- backend forget the defaults it keeps.
ALTER TABLE @extschema@.settings_defaults ADD COLUMN schema jsonb;
COMMENT ON COLUMN @extschema@.settings_defaults.schema IS
	'The settings schema of this version (doc/settings-schema.md)';

CREATE FUNCTION @extschema@.gtm_settings_defaults_row() RETURNS trigger
	AS 'MODULE_PATHNAME', 'gtm_settings_defaults_row'
	LANGUAGE C;
CREATE TRIGGER settings_defaults_check
	BEFORE INSERT OR UPDATE ON @extschema@.settings_defaults
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_settings_defaults_row();
CREATE FUNCTION @extschema@.gtm_settings_defaults_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'gtm_settings_defaults_changed'
	LANGUAGE C;
CREATE TRIGGER settings_defaults_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.settings_defaults
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.gtm_settings_defaults_changed();

-- Existing versions: the schema equivalent to what 1.0.0 checked.
UPDATE @extschema@.settings_defaults
   SET schema = @extschema@.gtm_settings_schema_from(settings);
ALTER TABLE @extschema@.settings_defaults ALTER COLUMN schema SET NOT NULL;
ALTER TABLE @extschema@.settings_defaults ADD CONSTRAINT settings_defaults_schema_check
	CHECK (pg_catalog.jsonb_typeof(schema) OPERATOR(pg_catalog.=) 'object');

-- The factory defaults and schema (version 0, never dumped): the product
-- page's example and the sections of the setup checklist.  They keep every
-- key, type and rule of the 1.0.0 factory defaults, so overrides stored
-- under 1.0.0 still pass.
UPDATE @extschema@.settings_defaults SET
	settings = '{
		"timezone": "UTC",
		"defaultScoringVersion": 1,
		"features": {"buyingGroups": false, "writeback": false},
		"scoring": {
			"versions": [],
			"fit": {"industries": [], "companySize": {"minEmployees": 1, "maxEmployees": 1000000},
					"regions": [], "jobTitles": []},
			"engagement": {"halfLifeDays": 30, "lookbackDays": 180, "signalWeights": {}}
		},
		"connectors": {},
		"fieldMappings": {},
		"buyingGroups": {"roleTemplates": []}
	}',
	schema = '{
		"description": "Tenant settings of GTM Clarity: these defaults deep-merged with the overrides of each tenant",
		"type": "object",
		"additionalProperties": false,
		"required": ["timezone", "defaultScoringVersion", "features", "scoring", "connectors",
					 "fieldMappings", "buyingGroups"],
		"properties": {
			"timezone": {"type": "string", "format": "iana-time-zone", "default": "UTC",
						 "description": "IANA time zone of the tenant: dates, schedules, digests"},
			"defaultScoringVersion": {"type": "integer", "minimum": 1, "maximum": 2147483647, "default": 1,
									  "description": "Scoring version used when a request names none"},
			"features": {
				"type": "object", "additionalProperties": false,
				"required": ["buyingGroups", "writeback"],
				"description": "Feature flags (gtm_feature_enabled)",
				"properties": {
					"buyingGroups": {"type": "boolean", "description": "Buying-group detection"},
					"writeback": {"type": "boolean", "description": "Scores written back to the CRM"}
				}
			},
			"scoring": {
				"type": "object", "additionalProperties": false,
				"required": ["versions", "fit", "engagement"],
				"description": "Settings > Scoring",
				"properties": {
					"versions": {
						"type": "array", "maxItems": 50,
						"description": "Scoring configurations, one per version",
						"items": {
							"type": "object", "additionalProperties": false,
							"required": ["version", "name", "weights"],
							"properties": {
								"version": {"type": "integer", "minimum": 1, "maximum": 2147483647},
								"name": {"type": "string", "minLength": 1, "maxLength": 100},
								"weights": {
									"type": "object", "additionalProperties": false,
									"required": ["fit", "engagement"],
									"properties": {
										"fit": {"type": "number", "minimum": 0, "maximum": 1},
										"engagement": {"type": "number", "minimum": 0, "maximum": 1}
									}
								},
								"mqlThreshold": {"type": "number", "minimum": 0, "maximum": 100}
							}
						}
					},
					"fit": {
						"type": "object", "additionalProperties": false,
						"description": "Settings > Scoring > Fit: the ideal customer profile",
						"properties": {
							"industries": {"type": "array", "uniqueItems": true, "maxItems": 100,
										   "items": {"type": "string", "minLength": 1, "maxLength": 100}},
							"companySize": {
								"type": "object", "additionalProperties": false,
								"properties": {
									"minEmployees": {"type": "integer", "minimum": 1},
									"maxEmployees": {"type": "integer", "minimum": 1}
								}
							},
							"regions": {"type": "array", "uniqueItems": true,
										"items": {"type": "string", "pattern": "^[A-Z]{2}$",
												  "description": "ISO 3166-1 alpha-2 country code"}},
							"jobTitles": {"type": "array", "uniqueItems": true, "maxItems": 200,
										  "items": {"type": "string", "minLength": 1, "maxLength": 200}}
						}
					},
					"engagement": {
						"type": "object", "additionalProperties": false,
						"description": "Settings > Scoring > Engagement: decay of engagement signals",
						"properties": {
							"halfLifeDays": {"type": "number", "exclusiveMinimum": 0, "maximum": 3650},
							"lookbackDays": {"type": "integer", "minimum": 1, "maximum": 3650},
							"signalWeights": {"type": "object",
											  "additionalProperties": {"type": "number", "minimum": 0, "maximum": 100}}
						}
					}
				}
			},
			"connectors": {
				"type": "object",
				"description": "Settings > Connectors: one entry per connected data source, by a name the tenant chooses",
				"additionalProperties": {
					"type": "object", "additionalProperties": false, "required": ["type"],
					"properties": {
						"type": {"enum": ["hubspot", "salesforce", "pipedrive", "segment", "csv"]},
						"enabled": {"type": "boolean"},
						"syncIntervalMinutes": {"type": "integer", "minimum": 5, "maximum": 1440}
					}
				}
			},
			"fieldMappings": {
				"type": "object",
				"description": "Settings > Connectors > Mappings: per connector, source field to GTM Clarity field",
				"additionalProperties": {
					"type": "object",
					"additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200}
				}
			},
			"buyingGroups": {
				"type": "object", "additionalProperties": false,
				"description": "Settings > Buying Groups",
				"properties": {
					"roleTemplates": {
						"type": "array", "maxItems": 50,
						"items": {
							"type": "object", "additionalProperties": false,
							"required": ["role", "titlePatterns"],
							"properties": {
								"role": {"enum": ["economic_buyer", "decision_maker", "champion",
												  "influencer", "user", "blocker"]},
								"titlePatterns": {"type": "array", "minItems": 1, "uniqueItems": true,
												  "items": {"type": "string", "minLength": 1, "maxLength": 200}},
								"required": {"type": "boolean"}
							}
						}
					}
				}
			}
		}
	}'
 WHERE version = 0;

CREATE FUNCTION @extschema@.gtm_settings_schema() RETURNS jsonb
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN (SELECT d.schema FROM @extschema@.settings_defaults d
			ORDER BY d.version DESC LIMIT 1);
COMMENT ON FUNCTION @extschema@.gtm_settings_schema() IS
	'The settings schema in force (that of the defaults in force)';

-- gtm_set_default_settings gains the schema (NULL: the one equivalent to the
-- 1.0.0 rules for the defaults given, gtm_settings_schema_from).
DROP FUNCTION @extschema@.gtm_set_default_settings(jsonb);
CREATE FUNCTION @extschema@.gtm_set_default_settings(settings jsonb, schema jsonb DEFAULT NULL)
RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_set_default_settings'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_set_default_settings(jsonb, jsonb) IS
	'Replace the system default tenant settings and their schema (writes a new version)';

CREATE FUNCTION @extschema@.gtm_check_settings(overrides jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_check_settings'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_check_settings(jsonb) IS
	'The overrides given if a tenant could store them, else the error such a write raises';

REVOKE ALL ON FUNCTION
	@extschema@.gtm_set_default_settings(jsonb, jsonb),
	@extschema@.gtm_settings_defaults_row(),
	@extschema@.gtm_settings_defaults_changed()
FROM PUBLIC;

-- The setup checklist: the tasks (seven of the product page, built in, and
-- the operator's), and the tasks each tenant marked done.
CREATE TYPE @extschema@.gtm_setup_level AS ENUM ('required', 'recommended', 'optional');
COMMENT ON TYPE @extschema@.gtm_setup_level IS
	'Level of a setup task: a tenant is ready when every required task is done';
CREATE TYPE @extschema@.gtm_setup_condition AS ENUM
	('marked', 'settings_path', 'member_count', 'function');
COMMENT ON TYPE @extschema@.gtm_setup_condition IS
	'What makes a setup task done besides a mark: a settings path, a member count, a function';

CREATE TABLE @extschema@.setup_tasks (
	key					text COLLATE "C" NOT NULL,
	title				text NOT NULL,
	ui_location			text NOT NULL,
	level				@extschema@.gtm_setup_level NOT NULL,
	position			integer NOT NULL DEFAULT 1000,
	condition			@extschema@.gtm_setup_condition NOT NULL DEFAULT 'marked',
	settings_path		text[],
	min_members			integer,
	condition_function	pg_catalog.regprocedure,
	built_in			boolean NOT NULL DEFAULT false,
	CONSTRAINT setup_tasks_pkey PRIMARY KEY (key),
	CONSTRAINT setup_tasks_key_check
		CHECK (key OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,62}$'),
	CONSTRAINT setup_tasks_title_check
		CHECK (pg_catalog.length(title) OPERATOR(pg_catalog.<=) 200
			   AND title OPERATOR(pg_catalog.~) '[^[:space:]]'),
	CONSTRAINT setup_tasks_ui_location_check
		CHECK (pg_catalog.length(ui_location) OPERATOR(pg_catalog.<=) 200
			   AND ui_location OPERATOR(pg_catalog.~) '[^[:space:]]'),
	CONSTRAINT setup_tasks_condition_check CHECK (
		(condition OPERATOR(pg_catalog.=) 'settings_path') OPERATOR(pg_catalog.=)
			(settings_path IS NOT NULL)
		AND (condition OPERATOR(pg_catalog.=) 'member_count') OPERATOR(pg_catalog.=)
			(min_members IS NOT NULL)
		AND (condition OPERATOR(pg_catalog.=) 'function') OPERATOR(pg_catalog.=)
			(condition_function IS NOT NULL)
		AND coalesce(pg_catalog.cardinality(settings_path), 1) OPERATOR(pg_catalog.>=) 1
		AND coalesce(min_members, 1) OPERATOR(pg_catalog.>=) 1)
);
COMMENT ON TABLE @extschema@.setup_tasks IS
	'Tasks of the initial-configuration checklist of every tenant (gtm_register_setup_task)';
INSERT INTO @extschema@.setup_tasks
	(key, title, ui_location, level, position, condition, settings_path, min_members, built_in)
VALUES
	('scoring_configuration', 'Set up scoring configuration', 'Settings > Scoring',
	 'required', 10, 'settings_path', '{scoring,versions}', NULL, true),
	('data_source', 'Connect at least one data source', 'Settings > Connectors',
	 'required', 20, 'settings_path', '{connectors}', NULL, true),
	('icp_profile', 'Configure ICP profile', 'Settings > Scoring > Fit',
	 'required', 30, 'settings_path', '{scoring,fit}', NULL, true),
	('engagement_decay', 'Set engagement decay parameters', 'Settings > Scoring > Engagement',
	 'recommended', 40, 'settings_path', '{scoring,engagement}', NULL, true),
	('team_members', 'Invite team members', 'Settings > Team',
	 'recommended', 50, 'member_count', NULL, 2, true),
	('field_mappings', 'Configure field mappings', 'Settings > Connectors > Mappings',
	 'optional', 60, 'settings_path', '{fieldMappings}', NULL, true),
	('buying_group_roles', 'Set up buying group role templates', 'Settings > Buying Groups',
	 'optional', 70, 'settings_path', '{buyingGroups,roleTemplates}', NULL, true);
-- The built-in tasks come from CREATE EXTENSION; pg_dump keeps the others.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.setup_tasks', 'WHERE NOT built_in');
-- Configuration, not tenant data: anyone may read the tasks.
GRANT SELECT ON @extschema@.setup_tasks TO PUBLIC;

CREATE TABLE @extschema@.tenant_setup_progress (
	tenant_id		text NOT NULL,
	task_key		text COLLATE "C" NOT NULL,
	completed_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	completed_by	text NOT NULL,
	CONSTRAINT tenant_setup_progress_pkey PRIMARY KEY (tenant_id, task_key),
	CONSTRAINT tenant_setup_progress_tenant_id_fkey FOREIGN KEY (tenant_id)
		REFERENCES @extschema@.tenants (id) ON DELETE CASCADE,
	CONSTRAINT tenant_setup_progress_task_key_fkey FOREIGN KEY (task_key)
		REFERENCES @extschema@.setup_tasks (key) ON DELETE CASCADE
);
CREATE INDEX tenant_setup_progress_task_key_idx
	ON @extschema@.tenant_setup_progress (task_key);
COMMENT ON TABLE @extschema@.tenant_setup_progress IS
	'Setup tasks a tenant marked done (gtm_complete_setup_task), when and by whom';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tenant_setup_progress', '');

CREATE FUNCTION @extschema@.gtm_register_setup_task(
	key text,
	title text,
	ui_location text,
	level @extschema@.gtm_setup_level,
	condition @extschema@.gtm_setup_condition DEFAULT 'marked',
	settings_path text[] DEFAULT NULL,
	min_members integer DEFAULT NULL,
	condition_function pg_catalog.regprocedure DEFAULT NULL,
	"position" integer DEFAULT 1000)
RETURNS @extschema@.setup_tasks
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.setup_tasks;
	what text := CASE condition
		WHEN 'settings_path' THEN 'settings_path'
		WHEN 'member_count' THEN 'min_members'
		WHEN 'function' THEN 'condition_function' END;
BEGIN
	IF key IS NULL OR title IS NULL OR ui_location IS NULL OR level IS NULL
	   OR condition IS NULL OR "position" IS NULL THEN
		RAISE EXCEPTION 'key, title, ui_location, level, condition and position must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF (settings_path IS NOT NULL AND condition <> 'settings_path')
	   OR (min_members IS NOT NULL AND condition <> 'member_count')
	   OR (condition_function IS NOT NULL AND condition <> 'function') THEN
		RAISE EXCEPTION 'a setup task with condition "%" takes no %', condition,
			CASE WHEN settings_path IS NOT NULL AND condition <> 'settings_path' THEN 'settings_path'
				 WHEN min_members IS NOT NULL AND condition <> 'member_count' THEN 'min_members'
				 ELSE 'condition_function' END
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'settings_path goes with condition ''settings_path'', min_members with ''member_count'', condition_function with ''function''.';
	END IF;
	IF what IS NOT NULL AND ((what = 'settings_path' AND coalesce(cardinality(settings_path), 0) = 0)
	   OR (what = 'min_members' AND coalesce(min_members, 0) < 1)
	   OR (what = 'condition_function' AND condition_function IS NULL)) THEN
		RAISE EXCEPTION 'a setup task with condition "%" needs %', condition,
			CASE what WHEN 'settings_path' THEN 'a non-empty settings_path'
					  WHEN 'min_members' THEN 'min_members of 1 or more'
					  ELSE 'a condition_function' END
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF condition_function IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM pg_catalog.pg_proc p
		 WHERE p.oid = condition_function AND p.prorettype = 'pg_catalog.bool'::pg_catalog.regtype
		   AND p.proargtypes = '25'::pg_catalog.oidvector AND p.prokind = 'f') THEN
		RAISE EXCEPTION 'condition function % must take one text argument and return boolean',
			condition_function
			USING ERRCODE = 'invalid_function_definition',
				  DETAIL = 'It is called with the tenant id and says whether the task is done.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.setup_tasks t
				WHERE t.key = gtm_register_setup_task.key AND t.built_in) THEN
		RAISE EXCEPTION 'setup task "%" is built in', key
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Register your task under a key of its own.';
	END IF;
	INSERT INTO @extschema@.setup_tasks AS t
		(key, title, ui_location, level, position, condition, settings_path, min_members,
		 condition_function)
	VALUES (key, title, ui_location, level, "position", condition, settings_path, min_members,
			condition_function)
	ON CONFLICT ON CONSTRAINT setup_tasks_pkey DO UPDATE SET
		title = EXCLUDED.title, ui_location = EXCLUDED.ui_location, level = EXCLUDED.level,
		position = EXCLUDED.position, condition = EXCLUDED.condition,
		settings_path = EXCLUDED.settings_path, min_members = EXCLUDED.min_members,
		condition_function = EXCLUDED.condition_function
	RETURNING t.* INTO r;
	RETURN r;
END
$$;
COMMENT ON FUNCTION @extschema@.gtm_register_setup_task(text, text, text,
	@extschema@.gtm_setup_level, @extschema@.gtm_setup_condition, text[], integer,
	pg_catalog.regprocedure, integer) IS
	'Add (or change) an operator''s task of the setup checklist';

CREATE FUNCTION @extschema@.gtm_setup_checklist(tenant_id text)
RETURNS TABLE (task_key text, title text, ui_location text,
			   level @extschema@.gtm_setup_level, done boolean,
			   completed_at timestamptz, completed_by text, done_by text)
	AS 'MODULE_PATHNAME', 'gtm_setup_checklist'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_setup_checklist(text) IS
	'The setup checklist of a tenant: every task with its level, whether it is done, when and by whom';

CREATE FUNCTION @extschema@.gtm_tenant_ready(tenant_id text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_tenant_ready'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_tenant_ready(text) IS
	'Whether every required task of the tenant''s setup checklist is done';

CREATE FUNCTION @extschema@.gtm_complete_setup_task(
	tenant_id text,
	task_key text,
	done boolean DEFAULT true,
	clerk_user_id text DEFAULT NULL)
RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_complete_setup_task'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_complete_setup_task(text, text, boolean, text) IS
	'Mark a setup task done for a tenant (false removes the mark); returns whether it is marked';

REVOKE ALL ON FUNCTION
	@extschema@.gtm_register_setup_task(text, text, text, @extschema@.gtm_setup_level,
		@extschema@.gtm_setup_condition, text[], integer, pg_catalog.regprocedure, integer),
	@extschema@.gtm_complete_setup_task(text, text, boolean, text)
FROM PUBLIC;
