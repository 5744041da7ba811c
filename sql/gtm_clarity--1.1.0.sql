/* gtm_clarity--1.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION gtm_clarity" to load this file. \quit

--------------------------------------------------------------------------
-- Provisioning: tenants, members, first sign-in                (src/provision.c)
--------------------------------------------------------------------------

-- Validators shared by the table constraints and the functions, so a row is
-- held to the same rule whatever path writes it.
CREATE FUNCTION @extschema@.gtm_is_valid_clerk_org_id(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_is_valid_clerk_org_id'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gtm_is_valid_clerk_user_id(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_is_valid_clerk_user_id'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gtm_is_valid_tenant_name(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_is_valid_tenant_name'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gtm_is_valid_slug(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_is_valid_slug'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gtm_slugify(text) RETURNS text
	AS 'MODULE_PATHNAME', 'gtm_slugify'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.gtm_role AS ENUM ('admin', 'manager', 'viewer');
COMMENT ON TYPE @extschema@.gtm_role IS
	'Role of a user inside one tenant: admin > manager > viewer';

CREATE FUNCTION @extschema@.gtm_role_from_clerk(text) RETURNS @extschema@.gtm_role
	AS 'MODULE_PATHNAME', 'gtm_role_from_clerk'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TABLE @extschema@.tenants (
	id				text NOT NULL DEFAULT (pg_catalog.gen_random_uuid())::text,
	clerk_org_id	text COLLATE "C" NOT NULL,
	name			text NOT NULL,
	slug			text COLLATE "C" NOT NULL,
	settings		jsonb NOT NULL DEFAULT '{}'::jsonb,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT tenants_pkey PRIMARY KEY (id),
	CONSTRAINT tenants_clerk_org_id_key UNIQUE (clerk_org_id) INCLUDE (id),
	CONSTRAINT tenants_slug_key UNIQUE (slug),
	CONSTRAINT tenants_id_check
		CHECK (id OPERATOR(pg_catalog.~) '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
	CONSTRAINT tenants_clerk_org_id_check
		CHECK (@extschema@.gtm_is_valid_clerk_org_id(clerk_org_id)),
	CONSTRAINT tenants_name_check
		CHECK (@extschema@.gtm_is_valid_tenant_name(name)),
	CONSTRAINT tenants_slug_check
		CHECK (@extschema@.gtm_is_valid_slug(slug)),
	CONSTRAINT tenants_settings_check
		CHECK (pg_catalog.jsonb_typeof(settings) OPERATOR(pg_catalog.=) 'object')
);
COMMENT ON TABLE @extschema@.tenants IS
	'One row per Clerk organization: the root isolation boundary';

CREATE TABLE @extschema@.tenant_members (
	tenant_id		text NOT NULL,
	clerk_user_id	text COLLATE "C" NOT NULL,
	role			@extschema@.gtm_role NOT NULL DEFAULT 'viewer',
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT tenant_members_pkey PRIMARY KEY (tenant_id, clerk_user_id) INCLUDE (role),
	CONSTRAINT tenant_members_tenant_id_fkey FOREIGN KEY (tenant_id)
		REFERENCES @extschema@.tenants (id) ON DELETE CASCADE,
	CONSTRAINT tenant_members_clerk_user_id_check
		CHECK (@extschema@.gtm_is_valid_clerk_user_id(clerk_user_id))
);
CREATE INDEX tenant_members_clerk_user_id_idx
	ON @extschema@.tenant_members (clerk_user_id);
COMMENT ON TABLE @extschema@.tenant_members IS
	'Users of a tenant with their role; one row per user per tenant';

-- pg_dump keeps the rows (the tables themselves come from CREATE EXTENSION).
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tenant_members', '');

-- updated_at maintained on every UPDATE, whatever path writes the row.
CREATE FUNCTION @extschema@.gtm_touch_updated_at() RETURNS trigger
	AS 'MODULE_PATHNAME', 'gtm_touch_updated_at'
	LANGUAGE C;
CREATE TRIGGER tenants_touch_updated_at
	BEFORE UPDATE ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_touch_updated_at();
CREATE TRIGGER tenant_members_touch_updated_at
	BEFORE UPDATE ON @extschema@.tenant_members
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_touch_updated_at();

-- A tenant never loses its last admin, whatever path writes the rows.
CREATE FUNCTION @extschema@.gtm_guard_last_admin() RETURNS trigger
	AS 'MODULE_PATHNAME', 'gtm_guard_last_admin'
	LANGUAGE C SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
CREATE TRIGGER tenant_members_guard_last_admin
	AFTER UPDATE OR DELETE ON @extschema@.tenant_members
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_guard_last_admin();

CREATE FUNCTION @extschema@.gtm_provision_tenant(
	clerk_org_id text,
	name text,
	slug text DEFAULT NULL,
	settings jsonb DEFAULT '{}'::jsonb)
RETURNS @extschema@.tenants
	AS 'MODULE_PATHNAME', 'gtm_provision_tenant'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

-- A named row type (rather than OUT parameters): the executor finds its
-- descriptor in the type cache instead of rebuilding it on every call.
CREATE TYPE @extschema@.gtm_sign_in_result AS (
	tenant_id		text,
	role			@extschema@.gtm_role,
	tenant_created	boolean,
	member_created	boolean
);

-- gtm_sign_in runs with the caller's rights: a repeat sign-in is answered
-- from two index probes.  What it has to create, it leaves to
-- gtm_sign_in_write (SECURITY DEFINER), which it calls directly.
CREATE FUNCTION @extschema@.gtm_sign_in(
	clerk_org_id text,
	clerk_user_id text,
	org_name text,
	org_slug text DEFAULT NULL,
	clerk_role text DEFAULT NULL)
RETURNS @extschema@.gtm_sign_in_result
	AS 'MODULE_PATHNAME', 'gtm_sign_in'
	LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.gtm_sign_in_write(
	clerk_org_id text,
	clerk_user_id text,
	org_name text,
	org_slug text DEFAULT NULL,
	clerk_role text DEFAULT NULL)
RETURNS @extschema@.gtm_sign_in_result
	AS 'MODULE_PATHNAME', 'gtm_sign_in_write'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gtm_set_member_role(
	tenant_id text,
	clerk_user_id text,
	role @extschema@.gtm_role)
RETURNS @extschema@.tenant_members
	AS 'MODULE_PATHNAME', 'gtm_set_member_role'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gtm_remove_member(
	tenant_id text,
	clerk_user_id text)
RETURNS @extschema@.tenant_members
	AS 'MODULE_PATHNAME', 'gtm_remove_member'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
	@extschema@.gtm_provision_tenant(text, text, text, jsonb),
	@extschema@.gtm_sign_in(text, text, text, text, text),
	@extschema@.gtm_sign_in_write(text, text, text, text, text),
	@extschema@.gtm_set_member_role(text, text, @extschema@.gtm_role),
	@extschema@.gtm_remove_member(text, text),
	@extschema@.gtm_touch_updated_at(),
	@extschema@.gtm_guard_last_admin()
FROM PUBLIC;

--------------------------------------------------------------------------
-- Settings: defaults, deep merge, validation                    (src/settings.c)
--------------------------------------------------------------------------

-- RFC 7396 JSON Merge Patch: objects merge key by key, null removes a key,
-- anything else in the patch replaces.
CREATE FUNCTION @extschema@.gtm_jsonb_merge(base jsonb, patch jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_jsonb_merge'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gtm_jsonb_merge(jsonb, jsonb) IS
	'RFC 7396 JSON Merge Patch of base by patch; a SQL NULL patch returns base';

-- System defaults, one row per version; the highest version is in force.
-- Version 0 is written here; pg_dump keeps only the later ones, so a
-- restore (which runs this script again) ends with the same rows.
CREATE TABLE @extschema@.settings_defaults (
	version			integer NOT NULL,
	settings		jsonb NOT NULL,
	set_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	set_by			text NOT NULL DEFAULT SESSION_USER,
	CONSTRAINT settings_defaults_pkey PRIMARY KEY (version),
	CONSTRAINT settings_defaults_version_check
		CHECK (version OPERATOR(pg_catalog.>=) 0),
	CONSTRAINT settings_defaults_settings_check
		CHECK (pg_catalog.jsonb_typeof(settings) OPERATOR(pg_catalog.=) 'object')
);
COMMENT ON TABLE @extschema@.settings_defaults IS
	'System default tenant settings, one row per version; the highest version is in force';
INSERT INTO @extschema@.settings_defaults (version, settings, set_at, set_by) VALUES (0,
	'{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}}',
	'-infinity', 'gtm_clarity');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settings_defaults',
	'WHERE version OPERATOR(pg_catalog.>) 0');
-- Defaults are configuration, not tenant data: anyone may read them.
GRANT SELECT ON @extschema@.settings_defaults TO PUBLIC;

CREATE FUNCTION @extschema@.gtm_default_settings() RETURNS jsonb
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN (SELECT d.settings FROM @extschema@.settings_defaults d
			ORDER BY d.version DESC LIMIT 1);
COMMENT ON FUNCTION @extschema@.gtm_default_settings() IS
	'The system default tenant settings in force';

CREATE FUNCTION @extschema@.gtm_set_default_settings(settings jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_set_default_settings'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_set_default_settings(jsonb) IS
	'Replace the system default tenant settings (writes a new version)';

-- Every write of tenants.settings is checked against the defaults.
CREATE FUNCTION @extschema@.gtm_validate_tenant_settings() RETURNS trigger
	AS 'MODULE_PATHNAME', 'gtm_validate_tenant_settings'
	LANGUAGE C;
CREATE TRIGGER tenants_settings_validate
	BEFORE INSERT OR UPDATE OF settings ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_validate_tenant_settings();

CREATE FUNCTION @extschema@.gtm_tenant_settings(tenant_id text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_tenant_settings'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_tenant_settings(text) IS
	'Effective settings of a tenant: the defaults merged with its overrides';

CREATE FUNCTION @extschema@.gtm_tenant_setting(tenant_id text, path text[]) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_tenant_setting'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_tenant_setting(text, text[]) IS
	'One value of the effective settings of a tenant, by key path';

CREATE FUNCTION @extschema@.gtm_feature_enabled(tenant_id text, feature text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_feature_enabled'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_feature_enabled(text, text) IS
	'Whether a feature flag is on for a tenant';

CREATE FUNCTION @extschema@.gtm_update_tenant_settings(tenant_id text, patch jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'gtm_update_tenant_settings'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_update_tenant_settings(text, jsonb) IS
	'Merge-patch the overrides of a tenant (null restores a default); returns the effective settings';

CREATE FUNCTION @extschema@.gtm_invalid_tenant_settings(
	OUT tenant_id text,
	OUT message text,
	OUT detail text,
	OUT hint text)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'gtm_invalid_tenant_settings'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.gtm_invalid_tenant_settings() IS
	'Tenants whose stored overrides do not pass against the defaults in force';

REVOKE ALL ON FUNCTION
	@extschema@.gtm_set_default_settings(jsonb),
	@extschema@.gtm_update_tenant_settings(text, jsonb),
	@extschema@.gtm_validate_tenant_settings()
FROM PUBLIC;



--------------------------------------------------------------------------
-- Enforcement: tenant-scope check, session tenant, checker      (src/enforce.c)
--------------------------------------------------------------------------


-- Deliberate exceptions to the tenant-scope rule.  Written only through
-- gtm_exempt_table / gtm_unexempt_table, which also invalidate the cached
-- facts and plans of the table in every session.
CREATE TABLE @extschema@.tenant_scope_exemptions (
	relid			pg_catalog.regclass NOT NULL,
	exempted_by		name NOT NULL DEFAULT CURRENT_USER,
	exempted_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT tenant_scope_exemptions_pkey PRIMARY KEY (relid)
);
COMMENT ON TABLE @extschema@.tenant_scope_exemptions IS
	'Tables exempted from the tenant-scope check (use gtm_exempt_table)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tenant_scope_exemptions', '');
REVOKE ALL ON @extschema@.tenant_scope_exemptions FROM PUBLIC;

CREATE VIEW @extschema@.gtm_exempt_tables AS
	SELECT e.relid AS "table",
		   n.nspname AS schema_name,
		   c.relname AS table_name,
		   e.exempted_by,
		   e.exempted_at
	  FROM @extschema@.tenant_scope_exemptions e
	  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) e.relid
	  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace;
COMMENT ON VIEW @extschema@.gtm_exempt_tables IS
	'Tenant-scoped tables exempted from enforcement';
GRANT SELECT ON @extschema@.gtm_exempt_tables TO PUBLIC;

CREATE FUNCTION @extschema@.gtm_exempt_table(pg_catalog.regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'gtm_exempt_table'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION @extschema@.gtm_unexempt_table(pg_catalog.regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'gtm_unexempt_table'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION
	@extschema@.gtm_exempt_table(pg_catalog.regclass),
	@extschema@.gtm_unexempt_table(pg_catalog.regclass)
FROM PUBLIC;

-- Session tenant: gtm_set_tenant checks the tenant exists and sets
-- gtm.tenant (superuser-only to SET directly) for the session or, with
-- is_local, the transaction.  gtm_current_tenant() is stable, so
-- "WHERE tenant_id = gtm_current_tenant()" pins a statement.
CREATE FUNCTION @extschema@.gtm_set_tenant(tenant_id text, is_local boolean DEFAULT false)
RETURNS text
	AS 'MODULE_PATHNAME', 'gtm_set_tenant'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION @extschema@.gtm_current_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'gtm_current_tenant'
	LANGUAGE C STABLE PARALLEL SAFE;

-- Checker for application CI: plans without executing, same verdicts.
CREATE FUNCTION @extschema@.gtm_check_statement(sql text)
RETURNS TABLE ("table" pg_catalog.regclass, alias text, pinned boolean, reason text)
	AS 'MODULE_PATHNAME', 'gtm_check_statement'
	LANGUAGE C VOLATILE;

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
