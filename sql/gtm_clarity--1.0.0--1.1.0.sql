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
-- Issue 10: Clerk lifecycle -- webhook events, the role map, organization
-- updates, offboarding and export, the acting member
--   (src/provision_lifecycle.c, src/member_session.c; doc/clerk-lifecycle.md)
--------------------------------------------------------------------------

-- The role map: Clerk role keys and the role each gives.  The extension's
-- own keys are builtin (written by this script, so not dumped, and not
-- changed: a trigger refuses); an operator adds keys for custom Clerk roles,
-- and pg_dump keeps those.
CREATE TABLE @extschema@.clerk_role_map (
	clerk_role		text COLLATE "C" NOT NULL,
	role			@extschema@.gtm_role NOT NULL,
	builtin			boolean NOT NULL DEFAULT false,
	added_by		name NOT NULL DEFAULT CURRENT_USER,
	added_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT clerk_role_map_pkey PRIMARY KEY (clerk_role) INCLUDE (role),
	CONSTRAINT clerk_role_map_clerk_role_check
		CHECK (pg_catalog.length(clerk_role) OPERATOR(pg_catalog.>=) 1
			   AND pg_catalog.length(clerk_role) OPERATOR(pg_catalog.<=) 128)
);
COMMENT ON TABLE @extschema@.clerk_role_map IS
	'Clerk role keys and the gtm_role each gives; add rows for custom Clerk roles';
INSERT INTO @extschema@.clerk_role_map (clerk_role, role, builtin, added_by, added_at) VALUES
	('org:admin', 'admin', true, 'gtm_clarity', '-infinity'),
	('admin', 'admin', true, 'gtm_clarity', '-infinity'),
	('org:manager', 'manager', true, 'gtm_clarity', '-infinity'),
	('manager', 'manager', true, 'gtm_clarity', '-infinity'),
	('org:member', 'viewer', true, 'gtm_clarity', '-infinity'),
	('basic_member', 'viewer', true, 'gtm_clarity', '-infinity'),
	('org:viewer', 'viewer', true, 'gtm_clarity', '-infinity'),
	('viewer', 'viewer', true, 'gtm_clarity', '-infinity');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.clerk_role_map',
	'WHERE NOT builtin');
-- Configuration, not tenant data: anyone may read it.
GRANT SELECT ON @extschema@.clerk_role_map TO PUBLIC;

CREATE FUNCTION @extschema@.gtm_guard_builtin_role_keys() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF (TG_OP = 'INSERT' AND NEW.builtin)
	   OR (TG_OP <> 'INSERT' AND OLD.builtin)
	   OR (TG_OP = 'UPDATE' AND NEW.builtin) THEN
		RAISE EXCEPTION 'role key % is built into gtm_clarity',
			pg_catalog.quote_literal(CASE WHEN TG_OP = 'INSERT' THEN NEW.clerk_role ELSE OLD.clerk_role END)
			USING ERRCODE = '42501',
			      DETAIL = 'The built-in keys are written by the extension script and are not dumped.',
			      HINT = 'Add a key of your own (builtin false) for a custom Clerk role.';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$fn$;
-- the rows this script inserted are not checked (the trigger comes after)
CREATE TRIGGER clerk_role_map_guard_builtin
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.clerk_role_map
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_guard_builtin_role_keys();

-- gtm_role_from_clerk reads the role map now.
ALTER FUNCTION @extschema@.gtm_role_from_clerk(text) STABLE;
COMMENT ON FUNCTION @extschema@.gtm_role_from_clerk(text) IS
	'The gtm_role of a Clerk role key, from clerk_role_map; 22023 for a key not in it';

-- What gtm_apply_clerk_event has applied, per organization (clerk_user_id
-- '') and per membership: the version (Clerk's updated_at, or the event
-- timestamp of a deletion, in milliseconds) and whether it is deleted.  An
-- event older than the version applied changes nothing; a deleted
-- organization stays deleted.
CREATE TABLE @extschema@.clerk_sync_state (
	clerk_org_id	text COLLATE "C" NOT NULL,
	clerk_user_id	text COLLATE "C" NOT NULL DEFAULT '',
	version			bigint NOT NULL,
	deleted			boolean NOT NULL DEFAULT false,
	svix_id			text,
	applied_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT clerk_sync_state_pkey PRIMARY KEY (clerk_org_id, clerk_user_id),
	CONSTRAINT clerk_sync_state_clerk_org_id_check
		CHECK (@extschema@.gtm_is_valid_clerk_org_id(clerk_org_id)),
	CONSTRAINT clerk_sync_state_clerk_user_id_check
		CHECK (clerk_user_id OPERATOR(pg_catalog.=) ''
			   OR @extschema@.gtm_is_valid_clerk_user_id(clerk_user_id))
);
COMMENT ON TABLE @extschema@.clerk_sync_state IS
	'Versions of the Clerk organizations and memberships applied by gtm_apply_clerk_event';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.clerk_sync_state', '');
REVOKE ALL ON @extschema@.clerk_sync_state FROM PUBLIC;

CREATE FUNCTION @extschema@.gtm_update_tenant(
	tenant_id text,
	name text DEFAULT NULL,
	slug text DEFAULT NULL)
RETURNS @extschema@.tenants
	AS 'MODULE_PATHNAME', 'gtm_update_tenant'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_update_tenant(text, text, text) IS
	'Rename a tenant or change its slug (NULL keeps a value), with the checks of provisioning';

-- Internal to gtm_apply_clerk_event: the tenant of an organization created
-- or brought to Clerk's name and (normalised) slug.
CREATE FUNCTION @extschema@.gtm_clerk_tenant(clerk_org_id text, name text, clerk_slug text)
RETURNS @extschema@.tenants
	AS 'MODULE_PATHNAME', 'gtm_clerk_tenant'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_clerk_tenant(text, text, text) IS
	'Internal: create or update the tenant of a Clerk organization (gtm_apply_clerk_event)';

-- Tenant-scoped tables (by the column gtm.tenant_column), the tables
-- referencing another first: the order in which a tenant's rows can be
-- deleted whatever the foreign keys do.  Partitions and inheritance
-- children are reached through their parent; the tenants table is not
-- listed (it is deleted last).
CREATE FUNCTION @extschema@.gtm_tenant_tables(
	OUT table_name pg_catalog.regclass,
	OUT tenant_column name,
	OUT column_type text,
	OUT delete_order integer)
RETURNS SETOF record
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH RECURSIVE t AS (
		SELECT c.oid AS relid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS coltype
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
		 WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
		   AND NOT c.relispartition
		   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
						   WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid)
		   AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}'::name[])
		   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_)'
		   AND a.attname OPERATOR(pg_catalog.=) pg_catalog.current_setting('gtm.tenant_column')::name
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		   AND c.oid OPERATOR(pg_catalog.<>) '@extschema@.tenants'::pg_catalog.regclass
	),
	edge AS (	-- referencing -> referenced, both tenant tables, no self-reference
		SELECT DISTINCT co.conrelid AS child, co.confrelid AS parent
		  FROM pg_catalog.pg_constraint co
		 WHERE co.contype OPERATOR(pg_catalog.=) 'f'
		   AND co.conrelid OPERATOR(pg_catalog.<>) co.confrelid
		   AND co.conrelid IN (SELECT relid FROM t)
		   AND co.confrelid IN (SELECT relid FROM t)
	),
	depth (relid, d) AS (	-- d: length of a chain of tables referencing relid
		SELECT relid, 0 FROM t
		UNION ALL
		SELECT e.parent, depth.d OPERATOR(pg_catalog.+) 1
		  FROM depth JOIN edge e ON e.child OPERATOR(pg_catalog.=) depth.relid
		 WHERE depth.d OPERATOR(pg_catalog.<) (SELECT pg_catalog.count(*) FROM t)
	)
	SELECT s.relid::pg_catalog.regclass, s.attname, s.coltype, s.d
	  FROM (SELECT t.relid, t.attname, t.coltype,
				   (SELECT pg_catalog.max(depth.d) FROM depth
					 WHERE depth.relid OPERATOR(pg_catalog.=) t.relid)::integer AS d
			  FROM t) s
	 ORDER BY s.d, s.relid::pg_catalog.regclass::text;
END;
COMMENT ON FUNCTION @extschema@.gtm_tenant_tables() IS
	'Tenant-scoped tables in the order their rows can be deleted (referencing tables first)';

CREATE FUNCTION @extschema@.gtm_delete_tenant(
	tenant_id text,
	batch_size integer DEFAULT 10000,
	max_rows bigint DEFAULT NULL)
RETURNS TABLE (table_name pg_catalog.regclass, rows_deleted bigint)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET gtm.clerk_sync = on
AS $fn$
DECLARE
	t record;
	n bigint;
	total bigint := 0;
	done bigint;
	lim bigint;
BEGIN
	IF tenant_id IS NULL THEN
		RAISE EXCEPTION 'tenant_id must not be null' USING ERRCODE = '22004';
	END IF;
	IF batch_size IS NULL OR batch_size < 1 THEN
		RAISE EXCEPTION 'batch_size must be a positive integer' USING ERRCODE = '22023',
			DETAIL = format('It is %s.', coalesce(batch_size::text, 'NULL'));
	END IF;
	IF max_rows IS NOT NULL AND max_rows < 1 THEN
		RAISE EXCEPTION 'max_rows must be positive or NULL' USING ERRCODE = '22023',
			DETAIL = format('It is %s.', max_rows);
	END IF;
	FOR t IN SELECT * FROM @extschema@.gtm_tenant_tables() LOOP
		done := 0;
		LOOP
			lim := CASE WHEN max_rows IS NULL THEN batch_size
						ELSE least(batch_size::bigint, max_rows - total) END;
			-- a parent's rows include its partitions' and children's
			EXECUTE format('DELETE FROM %1$s WHERE %2$I OPERATOR(pg_catalog.=) CAST($1 AS %3$s) '
						   'AND ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ctid FROM %1$s '
						   'WHERE %2$I OPERATOR(pg_catalog.=) CAST($1 AS %3$s) LIMIT $2))',
						   t.table_name, t.tenant_column, t.column_type)
				USING tenant_id, lim;
			GET DIAGNOSTICS n = ROW_COUNT;
			done := done + n;
			total := total + n;
			-- fewer rows than asked for: none is left (a parent's DELETE
			-- may remove more rows than its ctids, never fewer)
			EXIT WHEN n < lim OR (max_rows IS NOT NULL AND total >= max_rows);
		END LOOP;
		IF done > 0 THEN
			table_name := t.table_name;
			rows_deleted := done;
			RETURN NEXT;
		END IF;
		IF max_rows IS NOT NULL AND total >= max_rows THEN
			RETURN;				-- the rest, and the tenant, on the next call
		END IF;
	END LOOP;
	DELETE FROM @extschema@.tenants WHERE id = tenant_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		table_name := '@extschema@.tenants'::pg_catalog.regclass;
		rows_deleted := n;
		RETURN NEXT;
	END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_delete_tenant(text, integer, bigint) IS
	'Delete a tenant and its rows from every tenant-scoped table, in batches; returns rows deleted per table';

CREATE FUNCTION @extschema@.gtm_export_tenant(
	tenant_id text,
	rows_per_document integer DEFAULT NULL)
RETURNS TABLE (table_name pg_catalog.regclass, part integer, document jsonb)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	t record;
	r jsonb;
	acc jsonb[];
	k integer;
BEGIN
	IF tenant_id IS NULL THEN
		RAISE EXCEPTION 'tenant_id must not be null' USING ERRCODE = '22004';
	END IF;
	IF rows_per_document IS NOT NULL AND rows_per_document < 1 THEN
		RAISE EXCEPTION 'rows_per_document must be positive or NULL' USING ERRCODE = '22023',
			DETAIL = format('It is %s.', rows_per_document);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.tenants WHERE id = tenant_id) THEN
		RAISE EXCEPTION 'tenant % does not exist', pg_catalog.quote_ident(tenant_id)
			USING ERRCODE = '22023',
				  HINT = 'Pass the id of a row of tenants (gtm_sign_in returns it).';
	END IF;
	FOR t IN SELECT '@extschema@.tenants'::pg_catalog.regclass AS table_name,
					'id'::name AS tenant_column, 'text' AS column_type
			 UNION ALL
			 SELECT g.table_name, g.tenant_column, g.column_type
			   FROM @extschema@.gtm_tenant_tables() g
	LOOP
		acc := '{}';
		k := 0;
		FOR r IN EXECUTE format('SELECT pg_catalog.to_jsonb(x) FROM %s x '
								'WHERE %I OPERATOR(pg_catalog.=) CAST($1 AS %s)',
								t.table_name, t.tenant_column, t.column_type)
			USING tenant_id
		LOOP
			acc := acc || r;
			IF rows_per_document IS NOT NULL AND pg_catalog.cardinality(acc) >= rows_per_document THEN
				k := k + 1;
				table_name := t.table_name;
				part := k;
				document := jsonb_build_object('table', t.table_name::text, 'part', k,
											   'rows', pg_catalog.to_jsonb(acc));
				RETURN NEXT;
				acc := '{}';
			END IF;
		END LOOP;
		IF pg_catalog.cardinality(acc) > 0 THEN
			k := k + 1;
			table_name := t.table_name;
			part := k;
			document := jsonb_build_object('table', t.table_name::text, 'part', k,
										   'rows', pg_catalog.to_jsonb(acc));
			RETURN NEXT;
		END IF;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_export_tenant(text, integer) IS
	'Every row of a tenant from every tenant-scoped table: one JSON document per table (or per rows_per_document rows)';

-- The four internal helpers below run only inside gtm_apply_clerk_event
-- (EXECUTE is revoked from PUBLIC), whose search_path is pinned: they
-- inherit it rather than set their own, which would cost a GUC save and
-- restore on each of the dozen calls an event makes.
--
-- Internal to gtm_apply_clerk_event: the value at path in a Clerk event,
-- of the JSON type kind ('string', 'number', 'object'; with nullable, JSON
-- null or a missing key gives NULL), else 22023 naming the path.
CREATE FUNCTION @extschema@.gtm_clerk_event_field(
	event jsonb, path text[], kind text, nullable boolean DEFAULT false)
RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
	v jsonb := event #> path;
	got text := coalesce(jsonb_typeof(v), 'missing');
BEGIN
	IF got = kind THEN
		RETURN v;
	END IF;
	IF nullable AND got IN ('missing', 'null') THEN
		RETURN NULL;
	END IF;
	RAISE EXCEPTION 'malformed Clerk event'
		USING ERRCODE = '22023',
			  DETAIL = format('%s is %s, not a JSON %s.', array_to_string(path, '.'),
							  CASE got WHEN 'missing' THEN 'missing' ELSE 'a JSON ' || got END, kind),
			  HINT = 'Pass the verified webhook payload as Clerk sends it: {"type": ..., "data": {...}, "timestamp": ...}.';
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_event_field(jsonb, text[], text, boolean) IS
	'Internal: a field of a Clerk event of the given JSON type, else 22023 (gtm_apply_clerk_event)';

-- Internal: a Clerk id of the event, checked by the rule of its kind.
CREATE FUNCTION @extschema@.gtm_clerk_event_id(event jsonb, path text[], prefix text)
RETURNS text
	LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
	v text := @extschema@.gtm_clerk_event_field(event, path, 'string') #>> '{}';
BEGIN
	IF (prefix = 'org_' AND NOT @extschema@.gtm_is_valid_clerk_org_id(v))
	   OR (prefix = 'user_' AND NOT @extschema@.gtm_is_valid_clerk_user_id(v)) THEN
		RAISE EXCEPTION 'malformed Clerk event'
			USING ERRCODE = '22023',
				  DETAIL = format('%s is %s, not a Clerk id "%s..." of letters and digits.',
								  array_to_string(path, '.'), left(quote_literal(v), 64), prefix);
	END IF;
	RETURN v;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_event_id(jsonb, text[], text) IS
	'Internal: a Clerk id of a Clerk event, else 22023 (gtm_apply_clerk_event)';

-- Internal: a Clerk timestamp (milliseconds since 1970) at path.
CREATE FUNCTION @extschema@.gtm_clerk_event_ms(event jsonb, path text[])
RETURNS bigint
	LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
	v numeric := (@extschema@.gtm_clerk_event_field(event, path, 'number') #>> '{}')::numeric;
BEGIN
	IF v < 0 OR v > 9007199254740991 OR v <> trunc(v) THEN
		RAISE EXCEPTION 'malformed Clerk event'
			USING ERRCODE = '22023',
				  DETAIL = format('%s is %s, not a time in milliseconds since 1970.',
								  array_to_string(path, '.'), v);
	END IF;
	RETURN v::bigint;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_event_ms(jsonb, text[]) IS
	'Internal: a timestamp in milliseconds of a Clerk event, else 22023 (gtm_apply_clerk_event)';

-- Internal: apply the organization snapshot org (Clerk's organization
-- object: id, name, slug, updated_at) when it is newer than what was
-- applied; returns the changes.  The caller holds the organization's lock
-- and has checked it is not deleted.
CREATE FUNCTION @extschema@.gtm_clerk_apply_org(
	org_id text, org jsonb, prefix text[], svix text)
RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
	ver bigint := @extschema@.gtm_clerk_event_ms(org, prefix || '{updated_at}');
	oname text := @extschema@.gtm_clerk_event_field(org, prefix || '{name}', 'string') #>> '{}';
	oslug text := @extschema@.gtm_clerk_event_field(org, prefix || '{slug}', 'string', true) #>> '{}';
	applied bigint;
	old @extschema@.tenants;
	new @extschema@.tenants;
BEGIN
	SELECT s.version INTO applied FROM @extschema@.clerk_sync_state s
	 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = '';
	IF applied >= ver THEN
		RETURN '[]';
	END IF;
	SELECT * INTO old FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id;
	new := @extschema@.gtm_clerk_tenant(org_id, oname, oslug);
	INSERT INTO @extschema@.clerk_sync_state AS s (clerk_org_id, clerk_user_id, version, svix_id)
	VALUES (org_id, '', ver, svix)
	ON CONFLICT (clerk_org_id, clerk_user_id) DO UPDATE
	   SET version = EXCLUDED.version, svix_id = EXCLUDED.svix_id, applied_at = now();
	IF old.id IS NULL THEN
		RETURN jsonb_build_array(jsonb_build_object('change', 'tenant_created',
			'tenant_id', new.id, 'name', new.name, 'slug', new.slug));
	ELSIF (old.name, old.slug) IS DISTINCT FROM (new.name, new.slug) THEN
		RETURN jsonb_build_array(jsonb_build_object('change', 'tenant_updated',
			'tenant_id', new.id, 'name', new.name, 'slug', new.slug,
			'old_name', old.name, 'old_slug', old.slug));
	END IF;
	RETURN '[]';
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_apply_org(text, jsonb, text[], text) IS
	'Internal: apply a Clerk organization snapshot when newer (gtm_apply_clerk_event)';

CREATE FUNCTION @extschema@.gtm_apply_clerk_event(event jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET gtm.clerk_sync = on
AS $fn$
DECLARE
	etype text;
	svix text;
	ts bigint;
	org_id text;
	user_id text;
	ver bigint;
	is_del boolean;
	st @extschema@.clerk_sync_state;
	tid text;
	old_role @extschema@.gtm_role;
	new_role @extschema@.gtm_role;
	changes jsonb := '[]';
	outcome text := 'applied';
	reason text;
	d record;
BEGIN
	IF event IS NULL OR jsonb_typeof(event) <> 'object' THEN
		RAISE EXCEPTION 'malformed Clerk event'
			USING ERRCODE = '22023',
				  DETAIL = format('The event is %s, not a JSON object.',
								  coalesce('a JSON ' || jsonb_typeof(event), 'NULL')),
				  HINT = 'Pass the verified webhook payload as Clerk sends it: {"type": ..., "data": {...}, "timestamp": ...}.';
	END IF;
	etype := @extschema@.gtm_clerk_event_field(event, '{type}', 'string') #>> '{}';
	svix := @extschema@.gtm_clerk_event_field(event, '{svix_id}', 'string', true) #>> '{}';
	IF etype NOT IN ('organization.created', 'organization.updated', 'organization.deleted',
					 'organizationMembership.created', 'organizationMembership.updated',
					 'organizationMembership.deleted') THEN
		RETURN jsonb_build_object('type', etype, 'svix_id', svix, 'outcome', 'ignored',
								  'reason', 'event type not handled', 'changes', '[]'::jsonb);
	END IF;
	PERFORM @extschema@.gtm_clerk_event_field(event, '{data}', 'object');
	ts := @extschema@.gtm_clerk_event_ms(event, '{timestamp}');
	is_del := etype LIKE '%.deleted';

	IF etype LIKE 'organization.%' THEN
		org_id := @extschema@.gtm_clerk_event_id(event, '{data,id}', 'org_');
	ELSE
		org_id := @extschema@.gtm_clerk_event_id(event, '{data,organization,id}', 'org_');
		user_id := @extschema@.gtm_clerk_event_id(event, '{data,public_user_data,user_id}', 'user_');
		IF is_del THEN
			ver := ts;
		ELSE
			ver := @extschema@.gtm_clerk_event_ms(event, '{data,updated_at}');
			-- the role key is checked now: an unknown key writes nothing
			new_role := @extschema@.gtm_role_from_clerk(
				@extschema@.gtm_clerk_event_field(event, '{data,role}', 'string') #>> '{}');
		END IF;
	END IF;
	IF NOT is_del AND etype LIKE 'organization.%' THEN
		PERFORM @extschema@.gtm_clerk_event_ms(event, '{data,updated_at}');
		PERFORM @extschema@.gtm_clerk_event_field(event, '{data,name}', 'string');
	END IF;

	-- One organization's events are applied one at a time.
	PERFORM pg_advisory_xact_lock(1735549292, hashtext(org_id));

	SELECT * INTO st FROM @extschema@.clerk_sync_state s
	 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = '';
	IF st.deleted THEN
		RETURN jsonb_build_object('type', etype, 'svix_id', svix, 'clerk_org_id', org_id,
								  'clerk_user_id', user_id,
								  'outcome', CASE WHEN etype = 'organization.deleted' THEN 'unchanged' ELSE 'ignored' END,
								  'reason', 'organization deleted', 'changes', '[]'::jsonb);
	END IF;

	IF etype = 'organization.deleted' THEN
		SELECT t.id INTO tid FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id;
		IF tid IS NOT NULL THEN
			FOR d IN SELECT * FROM @extschema@.gtm_delete_tenant(tid) LOOP
				changes := changes || jsonb_build_object('change', 'rows_deleted', 'tenant_id', tid,
														 'table', d.table_name::text, 'rows', d.rows_deleted);
			END LOOP;
		END IF;
		DELETE FROM @extschema@.clerk_sync_state s WHERE s.clerk_org_id = org_id;
		INSERT INTO @extschema@.clerk_sync_state (clerk_org_id, clerk_user_id, version, deleted, svix_id)
		VALUES (org_id, '', ts, true, svix);
	ELSIF etype LIKE 'organization.%' THEN
		changes := @extschema@.gtm_clerk_apply_org(org_id, event, '{data}', svix);
		IF changes = '[]' AND st.version >= @extschema@.gtm_clerk_event_ms(event, '{data,updated_at}') THEN
			outcome := CASE WHEN st.version = @extschema@.gtm_clerk_event_ms(event, '{data,updated_at}')
							THEN 'unchanged' ELSE 'stale' END;
		END IF;
	ELSE
		-- A membership: the organization it carries first (it may come
		-- before organization.created).
		IF jsonb_typeof(event #> '{data,organization,name}') = 'string'
		   AND jsonb_typeof(event #> '{data,organization,updated_at}') = 'number'
		   AND NOT coalesce(st.version >= (event #>> '{data,organization,updated_at}')::numeric, false) THEN
			changes := @extschema@.gtm_clerk_apply_org(org_id, event, '{data,organization}', svix);
		END IF;
		SELECT t.id INTO tid FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id;
		SELECT * INTO st FROM @extschema@.clerk_sync_state s
		 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = user_id;
		IF st.version IS NOT NULL AND (st.version, st.deleted) >= (ver, is_del) THEN
			outcome := CASE WHEN (st.version, st.deleted) = (ver, is_del) THEN 'unchanged' ELSE 'stale' END;
		ELSIF tid IS NULL AND NOT is_del THEN
			RAISE EXCEPTION 'malformed Clerk event'
				USING ERRCODE = '22023',
					  DETAIL = format('Organization %s has no tenant yet and data.organization carries no name and updated_at.', org_id),
					  HINT = 'Apply organization.created first, or pass the membership payload as Clerk sends it.';
		ELSE
			IF tid IS NOT NULL THEN
				SELECT m.role INTO old_role FROM @extschema@.tenant_members m
				 WHERE m.tenant_id = tid AND m.clerk_user_id = user_id;
				IF is_del AND old_role IS NOT NULL THEN
					DELETE FROM @extschema@.tenant_members m
					 WHERE m.tenant_id = tid AND m.clerk_user_id = user_id;
					changes := changes || jsonb_build_object('change', 'member_removed', 'tenant_id', tid,
						'clerk_user_id', user_id, 'old_role', old_role);
				ELSIF NOT is_del AND old_role IS NULL THEN
					-- a sign-in may be adding the same member at this moment
					INSERT INTO @extschema@.tenant_members (tenant_id, clerk_user_id, role)
					VALUES (tid, user_id, new_role)
					ON CONFLICT (tenant_id, clerk_user_id) DO NOTHING;
					IF FOUND THEN
						changes := changes || jsonb_build_object('change', 'member_added', 'tenant_id', tid,
							'clerk_user_id', user_id, 'role', new_role);
					ELSE
						-- the row the sign-in committed (FOR UPDATE reads the latest)
						SELECT m.role INTO old_role FROM @extschema@.tenant_members m
						 WHERE m.tenant_id = tid AND m.clerk_user_id = user_id FOR UPDATE;
						IF old_role <> new_role THEN
							UPDATE @extschema@.tenant_members m SET role = new_role
							 WHERE m.tenant_id = tid AND m.clerk_user_id = user_id;
							changes := changes || jsonb_build_object('change', 'role_changed', 'tenant_id', tid,
								'clerk_user_id', user_id, 'role', new_role, 'old_role', old_role);
						END IF;
					END IF;
				ELSIF NOT is_del AND old_role <> new_role THEN
					UPDATE @extschema@.tenant_members m SET role = new_role
					 WHERE m.tenant_id = tid AND m.clerk_user_id = user_id;
					changes := changes || jsonb_build_object('change', 'role_changed', 'tenant_id', tid,
						'clerk_user_id', user_id, 'role', new_role, 'old_role', old_role);
				END IF;
			END IF;
			INSERT INTO @extschema@.clerk_sync_state AS s (clerk_org_id, clerk_user_id, version, deleted, svix_id)
			VALUES (org_id, user_id, ver, is_del, svix)
			ON CONFLICT (clerk_org_id, clerk_user_id) DO UPDATE
			   SET version = EXCLUDED.version, deleted = EXCLUDED.deleted,
				   svix_id = EXCLUDED.svix_id, applied_at = now();
		END IF;
	END IF;
	RETURN jsonb_build_object('type', etype, 'svix_id', svix, 'clerk_org_id', org_id,
							  'clerk_user_id', user_id, 'outcome', outcome, 'changes', changes);
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_apply_clerk_event(jsonb) IS
	'Apply a verified Clerk webhook event (organization.*, organizationMembership.*) exactly, idempotently and in any order; returns what changed';

-- The acting member (src/member_session.c).  No defaults, so the
-- two-argument gtm_set_tenant is never ambiguous with it.
CREATE FUNCTION @extschema@.gtm_set_tenant(tenant text, is_local boolean, clerk_user_id text)
RETURNS text
	AS 'MODULE_PATHNAME', 'gtm_set_tenant_member'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_set_tenant(text, boolean, text) IS
	'Set the session (or, with is_local, transaction) tenant and its acting member, who must be a member';

CREATE FUNCTION @extschema@.gtm_current_member_role() RETURNS @extschema@.gtm_role
	AS 'MODULE_PATHNAME', 'gtm_current_member_role'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.gtm_current_member_role() IS
	'Role of the acting member in the session tenant; NULL when none is set or it is no longer a member';

CREATE FUNCTION @extschema@.gtm_require_role(role @extschema@.gtm_role) RETURNS @extschema@.gtm_role
	AS 'MODULE_PATHNAME', 'gtm_require_role'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.gtm_require_role(@extschema@.gtm_role) IS
	'The acting member''s role when it is role or above (admin > manager > viewer); 42501 otherwise';

REVOKE ALL ON FUNCTION
	@extschema@.gtm_update_tenant(text, text, text),
	@extschema@.gtm_clerk_tenant(text, text, text),
	@extschema@.gtm_delete_tenant(text, integer, bigint),
	@extschema@.gtm_export_tenant(text, integer),
	@extschema@.gtm_apply_clerk_event(jsonb),
	@extschema@.gtm_clerk_apply_org(text, jsonb, text[], text),
	@extschema@.gtm_clerk_event_field(jsonb, text[], text, boolean),
	@extschema@.gtm_clerk_event_id(jsonb, text[], text),
	@extschema@.gtm_clerk_event_ms(jsonb, text[]),
	@extschema@.gtm_guard_builtin_role_keys(),
	@extschema@.gtm_tenant_tables()
FROM PUBLIC;
