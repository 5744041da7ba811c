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
-- timestamp of a deletion, in milliseconds), whether it is deleted, and (a
-- membership's) the timestamp of the event applied, which orders two events
-- of one version.  An event older than the version applied changes nothing;
-- a deleted organization stays deleted.  An organization's slug has a
-- version of its own (slug_version, slug_event_ms): a membership's copy of
-- its organization may lack the slug, so the newest snapshot that had one
-- tells Clerk's slug (clerk_slug, NULL for "no slug"), whatever the order
-- of delivery (round FR).  applied_slug is the tenant's slug as the last
-- event that set it left it (Clerk's, or one derived from it while
-- another tenant held Clerk's): a tenant slug that differs from it was set
-- since by an operator (gtm_update_tenant).
CREATE TABLE @extschema@.clerk_sync_state (
	clerk_org_id	text COLLATE "C" NOT NULL,
	clerk_user_id	text COLLATE "C" NOT NULL DEFAULT '',
	version			bigint NOT NULL,
	deleted			boolean NOT NULL DEFAULT false,
	event_ms		bigint NOT NULL DEFAULT 0,
	slug_version	bigint,
	slug_event_ms	bigint,
	clerk_slug		text,
	applied_slug	text,
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
-- Internal to gtm_apply_clerk_event: an event reaches the tenant of its
-- organization for the running top-level statement, as a pinned statement
-- would (one statement cannot apply events of two tenants, or read one
-- tenant and change another); exempt callers are not checked.
CREATE FUNCTION @extschema@.gtm_clerk_reach(tenant_id text) RETURNS void
	AS 'MODULE_PATHNAME', 'gtm_clerk_reach'
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.gtm_clerk_reach(text) IS
	'Internal: the running statement reaches the tenant of a Clerk event (gtm_apply_clerk_event)';

-- Internal to gtm_apply_clerk_event, which runs as the extension's owner:
-- the tables (other than the extension's own) that deleting rows of rel
-- would reach through foreign keys and that would run code written by
-- someone else with the owner's rights: reached by a cascade and having
-- DELETE triggers or rules of their own, or reached by SET NULL or SET
-- DEFAULT (defaults, checks and index expressions evaluated).  NULL when
-- there is none.  (A NO ACTION or RESTRICT key runs no code: the deletion
-- fails where rows reference the ones deleted, which the caller catches.)
CREATE FUNCTION @extschema@.gtm_clerk_guarded(rel pg_catalog.regclass) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	WITH RECURSIVE reach (rel, action) AS (
		SELECT co.conrelid, co.confdeltype FROM pg_catalog.pg_constraint co
		 WHERE co.contype OPERATOR(pg_catalog.=) 'f'
		   AND co.confrelid OPERATOR(pg_catalog.=) rel
		UNION
		SELECT co.conrelid, co.confdeltype FROM reach
		  JOIN pg_catalog.pg_constraint co ON co.confrelid OPERATOR(pg_catalog.=) reach.rel
		 WHERE co.contype OPERATOR(pg_catalog.=) 'f'
		   AND reach.action OPERATOR(pg_catalog.=) 'c'
	)
	SELECT pg_catalog.string_agg(DISTINCT g.name, ', ') FROM (
	SELECT r.rel::pg_catalog.regclass::text AS name
	  FROM reach r
	 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
						WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
						  AND dep.objid OPERATOR(pg_catalog.=) r.rel
						  AND dep.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
						  AND dep.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
																	 WHERE e.extname OPERATOR(pg_catalog.=) 'gtm_clarity')
						  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
	   AND (r.action IN ('n', 'd')
			OR (r.action OPERATOR(pg_catalog.=) 'c'
				AND (EXISTS (SELECT FROM pg_catalog.pg_trigger tg
							  WHERE tg.tgrelid OPERATOR(pg_catalog.=) r.rel AND NOT tg.tgisinternal
								AND (tg.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0)
					 OR EXISTS (SELECT FROM pg_catalog.pg_rewrite rw
								 WHERE rw.ev_class OPERATOR(pg_catalog.=) r.rel
								   AND rw.rulename OPERATOR(pg_catalog.<>) '_RETURN'))))
	-- another deferrable constraint named like a deferrable key the deletion
	-- reaches (a constraint trigger, a UNIQUE or EXCLUDE recheck): SET
	-- CONSTRAINTS by that name (gtm_clerk_check_keys_now) would fire it
	UNION
	SELECT ct.conrelid::pg_catalog.regclass::text
	  FROM pg_catalog.pg_constraint fk
	  JOIN pg_catalog.pg_constraint ct
		ON ct.connamespace OPERATOR(pg_catalog.=) fk.connamespace
	   AND ct.conname OPERATOR(pg_catalog.=) fk.conname
	   AND ct.oid OPERATOR(pg_catalog.<>) fk.oid
	   AND ct.condeferrable
	 WHERE fk.contype OPERATOR(pg_catalog.=) 'f' AND fk.condeferrable
	   AND (fk.confrelid OPERATOR(pg_catalog.=) rel
			OR fk.confrelid IN (SELECT r.rel FROM reach r WHERE r.action OPERATOR(pg_catalog.=) 'c'))
	) g
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_guarded(pg_catalog.regclass) IS
	'Internal: the tables a deletion from rel reaches that would run others'' code with the extension owner''s rights, or fail (gtm_apply_clerk_event)';

-- Internal to gtm_apply_clerk_event: lock rel and the tables a deletion
-- from it reaches through foreign-key actions in ROW EXCLUSIVE mode (the
-- deletion's own), before gtm_clerk_guarded reads their triggers: a
-- trigger or foreign key created meanwhile (its DDL holds a lock that
-- conflicts) is committed and seen, never fired unseen.
CREATE FUNCTION @extschema@.gtm_clerk_lock_reach(rel pg_catalog.regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r pg_catalog.regclass;
BEGIN
	EXECUTE pg_catalog.format('LOCK TABLE %s IN ROW EXCLUSIVE MODE', rel);
	FOR r IN
		WITH RECURSIVE reach (rel) AS (
			SELECT co.conrelid FROM pg_catalog.pg_constraint co
			 WHERE co.contype OPERATOR(pg_catalog.=) 'f'
			   AND co.confrelid OPERATOR(pg_catalog.=) rel
			   AND co.confdeltype IN ('c', 'n', 'd')
			UNION
			SELECT co.conrelid FROM reach
			  JOIN pg_catalog.pg_constraint co ON co.confrelid OPERATOR(pg_catalog.=) reach.rel
			 WHERE co.contype OPERATOR(pg_catalog.=) 'f' AND co.confdeltype IN ('c', 'n', 'd'))
		SELECT reach.rel::pg_catalog.regclass FROM reach
	LOOP
		EXECUTE pg_catalog.format('LOCK TABLE %s IN ROW EXCLUSIVE MODE', r);
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_lock_reach(pg_catalog.regclass) IS
	'Internal: lock the tables a deletion from a table reaches before their triggers are read (gtm_apply_clerk_event)';

-- Internal to gtm_apply_clerk_event: check now the DEFERRABLE foreign keys
-- that reference rel or a table a deletion from rel cascades to, so that a
-- deletion they refuse fails here, where the caller catches it, not at the
-- commit (where it failed at every retry).  Only those keys' own checks
-- fire (SET CONSTRAINTS by name), no trigger of anyone else's: a
-- constraint trigger of the same name (which SET CONSTRAINTS would fire
-- too) makes gtm_clerk_guarded name its table, so that this is not called.
CREATE FUNCTION @extschema@.gtm_clerk_check_keys_now(rel pg_catalog.regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	names text;
BEGIN
	WITH RECURSIVE reach (rel) AS (
		SELECT rel::pg_catalog.oid
		UNION
		SELECT co.conrelid FROM reach
		  JOIN pg_catalog.pg_constraint co ON co.confrelid OPERATOR(pg_catalog.=) reach.rel
		 WHERE co.contype OPERATOR(pg_catalog.=) 'f' AND co.confdeltype OPERATOR(pg_catalog.=) 'c'
	)
	SELECT pg_catalog.string_agg(pg_catalog.format('%I.%I', n.nspname, co.conname), ', ')
	  INTO names
	  FROM pg_catalog.pg_constraint co
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) co.connamespace
	 WHERE co.contype OPERATOR(pg_catalog.=) 'f' AND co.condeferrable
	   AND co.confrelid IN (SELECT reach.rel FROM reach);
	IF names IS NOT NULL THEN
		EXECUTE 'SET CONSTRAINTS ' OPERATOR(pg_catalog.||) names OPERATOR(pg_catalog.||) ' IMMEDIATE';
	END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_check_keys_now(pg_catalog.regclass) IS
	'Internal: check the deferrable foreign keys a deletion from a table reaches now (gtm_apply_clerk_event)';

-- Internal to gtm_apply_clerk_event: delete the members of tenant tid
-- (user_id NULL: all of them) of organization org_id, or refuse (55000,
-- nothing applied, Clerk retries) when that would run others' code with
-- the extension owner's rights (gtm_clerk_guarded) or fails on a NO ACTION
-- or RESTRICT key: a member's stale session token must not keep working
-- because the removal failed with a foreign-key error.  Returns the number
-- of members deleted.
CREATE FUNCTION @extschema@.gtm_clerk_remove_members(org_id text, tid text, user_id text)
RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	guarded text;
	n bigint;
	tab text;
BEGIN
	PERFORM @extschema@.gtm_clerk_lock_reach('@extschema@.tenant_members'::pg_catalog.regclass);
	guarded := @extschema@.gtm_clerk_guarded('@extschema@.tenant_members'::pg_catalog.regclass);
	IF guarded IS NULL THEN
		BEGIN
			DELETE FROM @extschema@.tenant_members m
			 WHERE m.tenant_id = tid AND (user_id IS NULL OR m.clerk_user_id = user_id);
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM @extschema@.gtm_clerk_check_keys_now('@extschema@.tenant_members'::pg_catalog.regclass);
			RETURN n;
		EXCEPTION WHEN foreign_key_violation OR restrict_violation THEN
			GET STACKED DIAGNOSTICS tab = TABLE_NAME;
			guarded := pg_catalog.quote_ident(tab);
		END;
	END IF;
	RAISE EXCEPTION 'the members of organization % cannot be removed', org_id
		USING ERRCODE = '55000',
			  DETAIL = pg_catalog.format('Removing rows of %s would run the triggers, rules or foreign-key actions of %s with the rights of the extension''s owner, or fail on their rows.',
										 '@extschema@.tenant_members'::pg_catalog.regclass, guarded),
			  HINT = 'Make the foreign keys that reference tenant_members ON DELETE CASCADE, on tables without DELETE triggers or rules, or delete the rows that reference the members; Clerk retries the event.';
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_clerk_remove_members(text, text, text) IS
	'Internal: remove members of an organization''s tenant, 55000 when that would run others'' code or fail (gtm_apply_clerk_event)';

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
		   -- a child's rows are its tenant-scoped parent's (a child of a
		   -- parent without the column stands on its own)
		   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
							 JOIN pg_catalog.pg_attribute pa
							   ON pa.attrelid OPERATOR(pg_catalog.=) i.inhparent
							  AND pa.attname OPERATOR(pg_catalog.=) a.attname
							  AND NOT pa.attisdropped
						   WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid)
		   -- a column that can hold a tenant id (a string or uuid type):
		   -- another (integer, ...) is no tenant of tenants
		   AND EXISTS (SELECT FROM pg_catalog.pg_type ty
						WHERE ty.oid OPERATOR(pg_catalog.=) a.atttypid
						  AND (ty.typcategory OPERATOR(pg_catalog.=) 'S'
							   OR ty.oid OPERATOR(pg_catalog.=) 'pg_catalog.uuid'::pg_catalog.regtype))
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
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	SET gtm.clerk_sync = on
AS $fn$
DECLARE
	t record;
	n bigint;
	total bigint := 0;
	done bigint;
	lim bigint;
	org text;
	swept bigint;
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
	-- As Clerk's events: what an event or sign-in commits while the
	-- deletion waits for the lock below must be seen after it (an older
	-- snapshot would keep the state rows of an event committed meanwhile,
	-- and a tenant created again would answer Clerk's redelivery
	-- "unchanged"; round GE).
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION 'gtm_delete_tenant must run in a READ COMMITTED transaction'
			USING ERRCODE = '25000',
				  DETAIL = pg_catalog.format('The transaction is %s: its snapshot may predate a Clerk event or sign-in of the tenant''s organization committed while the deletion waits for the organization''s lock, whose rows it would then leave.',
											 pg_catalog.upper(pg_catalog.current_setting('transaction_isolation'))),
				  HINT = 'Run it in a transaction of its own at the default isolation level: SET TRANSACTION ISOLATION LEVEL READ COMMITTED.';
	END IF;
	-- The organization's event lock first, as Clerk's events and sign-ins
	-- take it before the rows they change: taken only at the end, after
	-- the members' rows were deleted, an event waiting for one of them
	-- while it held the lock deadlocked the deletion, which rolled back.
	SELECT tn.clerk_org_id INTO org FROM @extschema@.tenants tn WHERE tn.id = tenant_id;
	IF org IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock(1735549292, hashtext(org));
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
	-- Then, in the call that deletes the tenant row, the tables once more,
	-- whole, until a pass finds nothing (at most 8): rows a trigger of a
	-- table emptied before wrote into another meanwhile (an audit of the
	-- members), and rows another transaction updated while a batch deleted
	-- them (a batch deletes by ctid, and the new version has another; round
	-- GF)
	FOR pass IN 1..8 LOOP
		swept := 0;
		FOR t IN SELECT * FROM @extschema@.gtm_tenant_tables() LOOP
			EXECUTE format('DELETE FROM %1$s WHERE %2$I OPERATOR(pg_catalog.=) CAST($1 AS %3$s)',
						   t.table_name, t.tenant_column, t.column_type)
				USING tenant_id;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n > 0 THEN
				swept := swept + n;
				table_name := t.table_name;
				rows_deleted := n;
				RETURN NEXT;
			END IF;
		END LOOP;
		EXIT WHEN swept = 0;
	END LOOP;
	IF swept > 0 THEN
		-- a trigger writes a row of the tenant for each one deleted: never
		-- report the tenant deleted with its rows still there (round GH)
		RAISE EXCEPTION 'rows of tenant % are written again as fast as they are deleted', tenant_id
			USING ERRCODE = '55000',
				  DETAIL = pg_catalog.format('Table %s still had rows of the tenant after 8 passes; nothing is deleted.', table_name),
				  HINT = 'Disable the trigger that writes them (on that table or one emptied before it), then call gtm_delete_tenant again.';
	END IF;
	-- What Clerk's events said of the organization goes with its tenant
	-- (under the organization's event lock, taken above): a sign-in that
	-- creates the tenant again starts from Clerk's next events, which then
	-- apply, where recorded versions would answer "unchanged" and keep the
	-- re-created tenant's roles as the sign-in made them.  A tombstone
	-- (organization.deleted applied) stays: the organization is gone in
	-- Clerk.
	IF org IS NOT NULL THEN
		IF has_table_privilege('@extschema@.clerk_sync_state', 'DELETE') THEN
			DELETE FROM @extschema@.clerk_sync_state s
			 WHERE s.clerk_org_id = org AND NOT s.deleted;
		ELSIF EXISTS (SELECT 1 FROM @extschema@.tenants tn WHERE tn.id = tenant_id) THEN
			RAISE WARNING 'what Clerk''s events said of organization % is kept', org
				USING DETAIL = 'The role running gtm_delete_tenant may not delete from clerk_sync_state.',
					  HINT = pg_catalog.format('As the extension''s owner: DELETE FROM clerk_sync_state WHERE clerk_org_id = %L AND NOT deleted; else Clerk''s redelivered events of the organization are answered "unchanged".', org);
		END IF;
	END IF;
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
	LANGUAGE plpgsql STABLE
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
-- and has checked it is not deleted.  One version (updated_at) seen by two
-- events (created and updated in the same millisecond, or a membership
-- event's copy) is the later event's (its timestamp), in either order of
-- delivery.  A snapshot without a slug key (a membership's copy, or an
-- organization event without one) says nothing of the slug: the slug is
-- Clerk's as of the newest snapshot that had one (a null slug is Clerk's
-- "no slug": the slug follows the name), tracked apart from the name
-- (clerk_sync_state.slug_version), so that an older snapshot with a slug
-- still applies it after a newer one without (round FR: the copy first,
-- then the organization's own older event, ended on the slug derived from
-- the name instead of Clerk's).  Until a snapshot with a slug comes, a
-- tenant keeps the slug it has (a sign-in's), and a new one takes the
-- slug derived from the name.  An event with nothing newer (stale, or the
-- same again) still brings a slug derived from Clerk's (base-N) to Clerk's
-- when that came free.
CREATE FUNCTION @extschema@.gtm_clerk_apply_org(
	org_id text, org jsonb, prefix text[], svix text)
RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
	ver bigint := @extschema@.gtm_clerk_event_ms(org, prefix || '{updated_at}');
	oname text := @extschema@.gtm_clerk_event_field(org, prefix || '{name}', 'string') #>> '{}';
	oslug text := @extschema@.gtm_clerk_event_field(org, prefix || '{slug}', 'string', true) #>> '{}';
	has_slug boolean := (org #> prefix) ? 'slug';
	-- a membership's copy without a slug key is partial: recorded with no
	-- timestamp, so that the organization's own event of the same version
	-- still applies (an organization event without one claims its timestamp)
	partial boolean := prefix = '{data,organization}' AND NOT has_slug;
	ts bigint := CASE WHEN partial THEN 0
				 ELSE @extschema@.gtm_clerk_event_ms(org, '{timestamp}') END;
	st @extschema@.clerk_sync_state;
	newer boolean;
	newer_slug boolean;
	locked boolean := false;
	old @extschema@.tenants;
	new @extschema@.tenants;
BEGIN
	SELECT * INTO st FROM @extschema@.clerk_sync_state s
	 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = '';
	newer := st.version IS NULL OR (st.version, st.event_ms) < (ver, ts);
	newer_slug := has_slug AND (st.slug_version IS NULL OR
								(st.slug_version, st.slug_event_ms) < (ver, ts));
	SELECT * INTO old FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id;
	IF NOT newer AND NOT newer_slug THEN
		-- Nothing newer: a tenant whose slug is one derived from Clerk's
		-- (base-N, taken when Clerk's was another tenant's) still gets
		-- Clerk's, or a lower derived one, when that came free since
		-- (round FR: an organization whose slug went to another's tenant
		-- while that one's rename away from it was on its way kept a
		-- derived slug through every redelivery).  Any other slug stays:
		-- an operator's (gtm_update_tenant) is replaced only by a newer
		-- snapshot (round FS: a redelivery, or any membership's copy,
		-- undid it).  Which is which the state tells: the slug an event
		-- applied (round FV: told by its form, base-N, an operator's
		-- "acme-7" was undone, and the base of a Clerk slug over 90
		-- characters, which is the first derived slug, was not recovered).
		LOOP
			IF old.id IS NULL OR st.clerk_slug IS NULL OR
			   old.slug OPERATOR(pg_catalog.=) st.clerk_slug OR
			   st.applied_slug IS NULL OR
			   old.slug OPERATOR(pg_catalog.<>) st.applied_slug THEN
				RETURN '[]';
			END IF;
			EXIT WHEN locked;
			-- About to move it: the tenant row locked, then both read
			-- again, so that an operator's gtm_update_tenant that changed
			-- the slug (and cleared applied_slug) and was committing is
			-- seen (round FX: that call takes no lock of the events, which
			-- deadlocked with a caller holding the tenant row already;
			-- round FZ: locked for every event, a redelivery that changes
			-- nothing deadlocked with a gtm_delete_tenant holding the row)
			SELECT * INTO old FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id
			   FOR NO KEY UPDATE;
			SELECT * INTO st FROM @extschema@.clerk_sync_state s
			 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = '';
			locked := true;
		END LOOP;
		new := @extschema@.gtm_clerk_tenant(org_id, old.name, st.clerk_slug);
		IF new.slug OPERATOR(pg_catalog.<>) old.slug THEN
			UPDATE @extschema@.clerk_sync_state s SET applied_slug = new.slug
			 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = '';
		END IF;
	ELSE
		IF NOT newer AND old.id IS NOT NULL THEN
			oname := old.name;		-- a newer snapshot named it
		END IF;
		IF NOT newer_slug THEN
			-- Clerk's slug as of the newest snapshot with one, else the
			-- tenant's own (none yet: the slug derived from the name)
			oslug := CASE WHEN st.slug_version IS NOT NULL THEN st.clerk_slug ELSE old.slug END;
		END IF;
		new := @extschema@.gtm_clerk_tenant(org_id, oname, oslug);
		INSERT INTO @extschema@.clerk_sync_state AS s
		(clerk_org_id, clerk_user_id, version, event_ms, svix_id,
		 slug_version, slug_event_ms, clerk_slug, applied_slug)
		VALUES (org_id, '', greatest(ver, st.version),
				CASE WHEN newer THEN ts ELSE st.event_ms END, svix,
				CASE WHEN newer_slug THEN ver ELSE st.slug_version END,
				CASE WHEN newer_slug THEN ts ELSE st.slug_event_ms END,
				CASE WHEN newer_slug THEN oslug ELSE st.clerk_slug END,
				new.slug)
		ON CONFLICT (clerk_org_id, clerk_user_id) DO UPDATE
		   SET version = EXCLUDED.version, event_ms = EXCLUDED.event_ms,
			   slug_version = EXCLUDED.slug_version, slug_event_ms = EXCLUDED.slug_event_ms,
			   clerk_slug = EXCLUDED.clerk_slug, applied_slug = EXCLUDED.applied_slug,
			   svix_id = EXCLUDED.svix_id, applied_at = now();
	END IF;
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
	n bigint;
	guarded text;
	err_msg text;
	err_detail text;
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

	-- One organization's events are applied one at a time, and each sees
	-- what the previous one, or a sign-in (which takes the same lock),
	-- committed: in READ COMMITTED each statement below takes a new
	-- snapshot after the lock; an older snapshot (REPEATABLE READ,
	-- SERIALIZABLE) would miss a tenant or a member a sign-in just wrote.
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION 'Clerk events must be applied in a READ COMMITTED transaction'
			USING ERRCODE = '25000',
				  DETAIL = pg_catalog.format('The transaction is %s: its snapshot may predate a sign-in of organization %s committed meanwhile, whose rows the event would then miss.',
											 pg_catalog.upper(pg_catalog.current_setting('transaction_isolation')), org_id),
				  HINT = 'Apply each event in a transaction of its own at the default isolation level: SET TRANSACTION ISOLATION LEVEL READ COMMITTED.';
	END IF;
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
			PERFORM @extschema@.gtm_clerk_reach(tid);
			-- only the tenant's row: its members and the rows of tables whose
			-- foreign keys cascade go with it, each deleted by PostgreSQL as
			-- the owner of its table (never as this function's owner, whose
			-- rights would run the triggers of tables anyone may create);
			-- the rest is gtm_delete_tenant's, run by an operator
			--
			-- A foreign-key action fires the triggers and rules of the
			-- tables it reaches, and this function runs as the extension's
			-- owner: when a table the deletion would reach (other than the
			-- extension's own) has DELETE triggers or rules of its own, or
			-- is reached by SET NULL or SET DEFAULT (gtm_clerk_guarded), or
			-- when a NO ACTION or RESTRICT key keeps the deletion from
			-- happening (an error Clerk would retry for ever), the tenant's
			-- row is kept for an operator's gtm_delete_tenant.  Its members
			-- go in any case (gtm_clerk_remove_members), or nothing is
			-- applied when removing them would run such code or fails.
			PERFORM @extschema@.gtm_clerk_lock_reach('@extschema@.tenants'::pg_catalog.regclass);
			guarded := @extschema@.gtm_clerk_guarded('@extschema@.tenants'::pg_catalog.regclass);
			IF guarded IS NULL THEN
				SELECT pg_catalog.count(*) INTO n FROM @extschema@.tenant_members m
				 WHERE m.tenant_id = tid;
				BEGIN
					-- (its members' removal checked the same way first)
					IF n > 0 AND @extschema@.gtm_clerk_guarded('@extschema@.tenant_members'::pg_catalog.regclass) IS NOT NULL THEN
						PERFORM @extschema@.gtm_clerk_remove_members(org_id, tid, NULL);
					END IF;
					DELETE FROM @extschema@.tenants t WHERE t.id = tid;
					PERFORM @extschema@.gtm_clerk_check_keys_now('@extschema@.tenants'::pg_catalog.regclass);
				EXCEPTION WHEN foreign_key_violation OR restrict_violation THEN
					GET STACKED DIAGNOSTICS err_msg = TABLE_NAME;
					guarded := pg_catalog.quote_ident(err_msg);
				END;
			END IF;
			IF guarded IS NOT NULL THEN
				n := @extschema@.gtm_clerk_remove_members(org_id, tid, NULL);
			END IF;
			IF n > 0 THEN
				changes := changes || jsonb_build_object('change', 'rows_deleted', 'tenant_id', tid,
														 'table', '@extschema@.tenant_members'::pg_catalog.regclass::text,
														 'rows', n);
			END IF;
			IF guarded IS NULL THEN
				changes := changes || jsonb_build_object('change', 'rows_deleted', 'tenant_id', tid,
														 'table', '@extschema@.tenants'::pg_catalog.regclass::text,
														 'rows', 1);
			ELSE
				changes := changes || jsonb_build_object('change', 'tenant_kept', 'tenant_id', tid,
														 'reason', 'tables with DELETE triggers, rules, SET NULL/DEFAULT actions, NO ACTION/RESTRICT keys or deferrable constraints named like a deferrable key: ' OPERATOR(pg_catalog.||) guarded);
				RAISE WARNING 'the rows of deleted organization % are kept', org_id
					USING DETAIL = pg_catalog.format('Deleting tenant %s would run the triggers, rules or foreign-key actions of %s with the rights of the extension''s owner, or fail on their rows.', tid, guarded),
						  HINT = pg_catalog.format('Run SELECT * FROM gtm_delete_tenant(%L) as a role that may run them.', tid);
			END IF;
		END IF;
		DELETE FROM @extschema@.clerk_sync_state s WHERE s.clerk_org_id = org_id;
		INSERT INTO @extschema@.clerk_sync_state (clerk_org_id, clerk_user_id, version, deleted, svix_id)
		VALUES (org_id, '', ts, true, svix);
	ELSIF etype LIKE 'organization.%' THEN
		changes := @extschema@.gtm_clerk_apply_org(org_id, event, '{data}', svix);
		ver := @extschema@.gtm_clerk_event_ms(event, '{data,updated_at}');
		IF changes = '[]' AND (st.version, st.event_ms) >= (ver, ts) THEN
			outcome := CASE WHEN st.version = ver THEN 'unchanged' ELSE 'stale' END;
		END IF;
	ELSE
		-- A membership: the organization it carries first (it may come
		-- before organization.created).
		-- (gtm_clerk_apply_org checks its updated_at, newer or not, when it
		-- is given: 22023 unless a whole number >= 0)
		IF jsonb_typeof(event #> '{data,organization,name}') = 'string'
		   AND coalesce(jsonb_typeof(event #> '{data,organization,updated_at}'), 'null') <> 'null' THEN
			BEGIN
				changes := @extschema@.gtm_clerk_apply_org(org_id, event, '{data,organization}', svix);
			EXCEPTION WHEN invalid_parameter_value THEN
				-- An organization name our rule refuses (Clerk allows it): the
				-- membership is applied all the same where it needs no new
				-- tenant, so that a removal never waits for a rename in Clerk.
				GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
				IF err_msg <> 'invalid tenant name'
				   OR NOT (is_del OR EXISTS (SELECT 1 FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id)) THEN
					RAISE;
				END IF;
				changes := jsonb_build_array(jsonb_build_object('change', 'organization_not_applied',
					'reason', err_msg || ': ' || err_detail));
			END;
		END IF;
		SELECT t.id INTO tid FROM @extschema@.tenants t WHERE t.clerk_org_id = org_id;
		IF tid IS NOT NULL THEN
			PERFORM @extschema@.gtm_clerk_reach(tid);
		END IF;
		SELECT * INTO st FROM @extschema@.clerk_sync_state s
		 WHERE s.clerk_org_id = org_id AND s.clerk_user_id = user_id;
		-- two events of one version (created and updated in the same
		-- millisecond) are ordered by their own timestamps
		IF st.version IS NOT NULL AND (st.version, st.deleted, st.event_ms) >= (ver, is_del, ts) THEN
			outcome := CASE WHEN (st.version, st.deleted, st.event_ms) = (ver, is_del, ts) THEN 'unchanged' ELSE 'stale' END;
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
					PERFORM @extschema@.gtm_clerk_remove_members(org_id, tid, user_id);
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
			INSERT INTO @extschema@.clerk_sync_state AS s (clerk_org_id, clerk_user_id, version, deleted, event_ms, svix_id)
			VALUES (org_id, user_id, ver, is_del, ts, svix)
			ON CONFLICT (clerk_org_id, clerk_user_id) DO UPDATE
			   SET version = EXCLUDED.version, deleted = EXCLUDED.deleted, event_ms = EXCLUDED.event_ms,
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
	@extschema@.gtm_clerk_reach(text),
	@extschema@.gtm_clerk_guarded(pg_catalog.regclass),
	@extschema@.gtm_clerk_remove_members(text, text, text),
	@extschema@.gtm_clerk_check_keys_now(pg_catalog.regclass),
	@extschema@.gtm_clerk_lock_reach(pg_catalog.regclass),
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

--------------------------------------------------------------------------
-- Issue 11: application toolkit                    (src/enforce_copy.c, ...)
--------------------------------------------------------------------------

-- COPY table FROM into a tenant table, by a role that is not exempt, while
-- the session has a tenant: the check gives the COPY this first WHERE
-- condition, evaluated on every row read (after column defaults, before
-- triggers and the insert).  True for a row of tenant, else 42501 naming
-- the line.  STABLE, so COPY keeps its multi-insert buffers.  Harmless to
-- call directly (it reads and writes nothing), so PUBLIC keeps EXECUTE:
-- every role that may COPY needs it.  In pg_catalog, where only a superuser
-- can create functions: the COPY names it there, so no role can place an
-- overload the call would resolve to instead (a function of the extension's
-- schema could be shadowed by any role with CREATE on that schema).
CREATE FUNCTION pg_catalog.gtm_copy_check_row(value anyelement, tenant text)
RETURNS boolean
	AS 'MODULE_PATHNAME', 'gtm_copy_check_row'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION pg_catalog.gtm_copy_check_row(anyelement, text) IS
	'Row check of COPY FROM into a tenant table: true when value is tenant, else 42501 naming the line';

-- The touch trigger is usable by application tables (gtm_make_tenant_table
-- attaches it): it only sets the row's updated_at (or the column named by
-- its argument) to now() in a BEFORE UPDATE row trigger; CREATE TRIGGER
-- needs EXECUTE on it.
GRANT EXECUTE ON FUNCTION @extschema@.gtm_touch_updated_at() TO PUBLIC;
COMMENT ON FUNCTION @extschema@.gtm_touch_updated_at() IS
	'BEFORE UPDATE row trigger: sets updated_at (or the column named by its argument) to now()';

-- gtm_make_tenant_table: the tenant columns of a table, added or checked
-- and completed; returns the statements it ran (none when the table is
-- already complete).  doc/app-toolkit.md.
CREATE FUNCTION @extschema@.gtm_make_tenant_table(
	tbl pg_catalog.regclass,
	lead_keys boolean DEFAULT false,
	backfill_tenant text DEFAULT NULL)
RETURNS SETOF text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	col name := pg_catalog.current_setting('gtm.tenant_column');
	tenants_rel pg_catalog.regclass := '@extschema@.tenants'::pg_catalog.regclass;
	touch_fn pg_catalog.regprocedure := '@extschema@.gtm_touch_updated_at()'::pg_catalog.regprocedure;
	current_fn pg_catalog.regprocedure := '@extschema@.gtm_current_tenant()'::pg_catalog.regprocedure;
	id_att record;
	att record;
	kind "char";
	coll text;
	has_rows boolean;
	stmt text;
	k record;
	def text;
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'table must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl;
	IF kind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '"%" is not a table', tbl
			USING ERRCODE = '42809',
				  HINT = 'Pass an ordinary or partitioned table.';
	END IF;
	SELECT a.attnum, a.atttypid, a.attcollation INTO id_att
	  FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid OPERATOR(pg_catalog.=) tenants_rel AND a.attname OPERATOR(pg_catalog.=) 'id';
	SELECT pg_catalog.format('%I.%I', n.nspname, c.collname) INTO coll
	  FROM pg_catalog.pg_collation c
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.collnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) id_att.attcollation;
	SELECT a.attnum, a.atttypid, a.attcollation, a.attnotnull, a.attgenerated,
		   d.adbin::text AS def
	  INTO att
	  FROM pg_catalog.pg_attribute a
	  LEFT JOIN pg_catalog.pg_attrdef d
		ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum
	 WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) col
	   AND NOT a.attisdropped;

	-- the tenant column
	IF NOT FOUND THEN
		EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %s)', tbl) INTO has_rows;
		IF has_rows AND backfill_tenant IS NULL THEN
			RAISE EXCEPTION 'table "%" has rows and no column %', tbl, pg_catalog.quote_ident(col)
				USING ERRCODE = '55000',
					  DETAIL = 'The existing rows need a tenant.',
					  HINT = 'Pass backfill_tenant => the id of the tenant the existing rows belong to.';
		END IF;
		IF has_rows AND NOT EXISTS (SELECT FROM @extschema@.tenants t
									 WHERE t.id OPERATOR(pg_catalog.=) backfill_tenant) THEN
			RAISE EXCEPTION 'tenant "%" does not exist', backfill_tenant
				USING ERRCODE = '22023',
					  HINT = 'Pass the id of a row of tenants.';
		END IF;
		-- with rows: the backfill tenant as a constant default (no rewrite:
		-- PostgreSQL keeps it as the value of the existing rows), then the
		-- session tenant as the default of new rows
		stmt := pg_catalog.format('ALTER TABLE %s ADD COLUMN %I %s COLLATE %s NOT NULL%s',
				tbl, col, pg_catalog.format_type(id_att.atttypid, NULL), coll,
				CASE WHEN has_rows THEN pg_catalog.format(' DEFAULT %L', backfill_tenant) ELSE '' END);
		EXECUTE stmt;
		RETURN NEXT stmt;
		def := NULL;
	ELSE
		def := att.def;
		IF att.attgenerated <> '' THEN
			RAISE EXCEPTION 'column % of table "%" is a generated column', pg_catalog.quote_ident(col), tbl
				USING ERRCODE = '42P16',
					  DETAIL = 'A generated tenant column is computed, not set per tenant.',
					  HINT = pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP EXPRESSION', tbl, col);
		END IF;
		IF att.atttypid OPERATOR(pg_catalog.<>) id_att.atttypid
		   OR att.attcollation OPERATOR(pg_catalog.<>) id_att.attcollation THEN
			RAISE EXCEPTION 'column % of table "%" is of another type or collation than tenants.id', pg_catalog.quote_ident(col), tbl
				USING ERRCODE = '42804',
					  DETAIL = pg_catalog.format('It is %s, tenants.id is %s COLLATE %s: a pin does not carry across the equality.',
							pg_catalog.format_type(att.atttypid, NULL), pg_catalog.format_type(id_att.atttypid, NULL), coll),
					  HINT = pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I TYPE %s COLLATE %s',
							tbl, col, pg_catalog.format_type(id_att.atttypid, NULL), coll);
		END IF;
		IF NOT att.attnotnull THEN
			stmt := pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', tbl, col);
			EXECUTE stmt;
			RETURN NEXT stmt;
		END IF;
	END IF;
	IF def IS NULL OR def NOT LIKE ('{FUNCEXPR :funcid ' || current_fn::oid || ' %') THEN
		stmt := pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', tbl, col, current_fn::oid::pg_catalog.regproc);
		stmt := stmt || '()';
		EXECUTE stmt;
		RETURN NEXT stmt;
	END IF;

	-- the foreign key to tenants
	IF NOT EXISTS (
		SELECT FROM pg_catalog.pg_constraint c
		 WHERE c.conrelid OPERATOR(pg_catalog.=) tbl AND c.contype OPERATOR(pg_catalog.=) 'f'
		   AND c.confrelid OPERATOR(pg_catalog.=) tenants_rel
		   AND c.conkey OPERATOR(pg_catalog.=) ARRAY[(SELECT a.attnum FROM pg_catalog.pg_attribute a
												WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
												  AND a.attname OPERATOR(pg_catalog.=) col)]
		   AND c.confkey OPERATOR(pg_catalog.=) ARRAY[id_att.attnum]) THEN
		stmt := pg_catalog.format('ALTER TABLE %s ADD FOREIGN KEY (%I) REFERENCES %s (id) ON DELETE CASCADE',
				tbl, col, tenants_rel);
		EXECUTE stmt;
		RETURN NEXT stmt;
	END IF;

	-- created_at, updated_at and the touch trigger
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
				   AND a.attname OPERATOR(pg_catalog.=) 'created_at' AND NOT a.attisdropped) THEN
		stmt := pg_catalog.format('ALTER TABLE %s ADD COLUMN created_at timestamptz NOT NULL DEFAULT pg_catalog.now()', tbl);
		EXECUTE stmt;
		RETURN NEXT stmt;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
				   AND a.attname OPERATOR(pg_catalog.=) 'updated_at' AND NOT a.attisdropped) THEN
		stmt := pg_catalog.format('ALTER TABLE %s ADD COLUMN updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()', tbl);
		EXECUTE stmt;
		RETURN NEXT stmt;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl
				   AND t.tgfoid OPERATOR(pg_catalog.=) touch_fn AND NOT t.tgisinternal) THEN
		stmt := pg_catalog.format('CREATE TRIGGER %I BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s()',
				pg_catalog.left((SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl), 48) || '_touch_updated_at',
				tbl, touch_fn::oid::pg_catalog.regproc);
		EXECUTE stmt;
		RETURN NEXT stmt;
	END IF;

	-- primary key and unique constraints leading with the tenant column
	IF lead_keys THEN
		FOR k IN
			SELECT c.conname, c.contype, c.conkey,
				   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
					  FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY u(attnum, ord)
					  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) tbl
						AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS cols
			  FROM pg_catalog.pg_constraint c
			 WHERE c.conrelid OPERATOR(pg_catalog.=) tbl AND c.contype IN ('p', 'u')
			   AND NOT (SELECT a.attnum FROM pg_catalog.pg_attribute a
						 WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) col)
				   OPERATOR(pg_catalog.=) ANY (c.conkey)
			 ORDER BY c.contype, c.conname
		LOOP
			IF EXISTS (SELECT FROM pg_catalog.pg_constraint f
						WHERE f.contype OPERATOR(pg_catalog.=) 'f'
						  AND f.confrelid OPERATOR(pg_catalog.=) tbl
						  AND f.conindid OPERATOR(pg_catalog.=) (SELECT c2.conindid FROM pg_catalog.pg_constraint c2
															 WHERE c2.conrelid OPERATOR(pg_catalog.=) tbl
															   AND c2.conname OPERATOR(pg_catalog.=) k.conname)) THEN
				RAISE EXCEPTION 'constraint "%" of table "%" is referenced by a foreign key', k.conname, tbl
					USING ERRCODE = '2BP01',
						  DETAIL = 'Leading it with the tenant column drops it, and the foreign keys that reference it.',
						  HINT = pg_catalog.format('Make the referencing foreign keys (%I, ...) REFERENCES %s (%I, %s) first, or call with lead_keys => false.',
								col, tbl, col, k.cols);
			END IF;
			stmt := pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s)',
					tbl, k.conname, k.conname,
					CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, col, k.cols);
			EXECUTE stmt;
			RETURN NEXT stmt;
		END LOOP;
	END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_make_tenant_table(pg_catalog.regclass, boolean, text) IS
	'Adds or completes the tenant columns of a table (tenant_id, foreign key, created_at/updated_at, touch trigger); returns the statements run';

-- gtm_lint_schema: one row per problem of the tenant tables of the
-- database (ordinary and partitioned tables with the tenant column, outside
-- the system schemas and not members of an extension; partitions are
-- reported through their root).  app_roles: the roles that serve requests,
-- checked for privileges that change what the check sees.
-- doc/app-toolkit.md lists the problems.
CREATE FUNCTION @extschema@.gtm_lint_schema(
	app_roles pg_catalog.regrole[] DEFAULT '{}',
	schemas name[] DEFAULT NULL)
RETURNS TABLE ("table" pg_catalog.regclass, problem text, detail text, fix text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
WITH setting AS (
	SELECT pg_catalog.current_setting('gtm.tenant_column')::name AS col,
		   '@extschema@.tenants'::pg_catalog.regclass AS tenants_rel,
		   '@extschema@.gtm_current_tenant()'::pg_catalog.regprocedure::oid AS current_fn
), id_att AS (
	SELECT a.attnum, a.atttypid, a.attcollation,
		   (SELECT pg_catalog.format('%I.%I', n.nspname, c.collname)
			  FROM pg_catalog.pg_collation c
			  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.collnamespace
			 WHERE c.oid OPERATOR(pg_catalog.=) a.attcollation) AS coll
	  FROM pg_catalog.pg_attribute a, setting s
	 WHERE a.attrelid OPERATOR(pg_catalog.=) s.tenants_rel AND a.attname OPERATOR(pg_catalog.=) 'id'
), tt AS (			-- the tenant tables, with their tenant column
	SELECT c.oid::pg_catalog.regclass AS rel, c.relowner, a.attnum, a.atttypid, a.attcollation,
		   -- NOT NULL ... NOT VALID (PostgreSQL 18) sets attnotnull while
		   -- NULL rows may remain
		   a.attnotnull AND NOT EXISTS (
			 SELECT FROM pg_catalog.pg_constraint nn
			  WHERE nn.conrelid OPERATOR(pg_catalog.=) c.oid
				AND nn.contype OPERATOR(pg_catalog.=) 'n' AND NOT nn.convalidated
				AND nn.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]) AS attnotnull,
		   a.attgenerated, d.adbin::text AS def, s.col
	  FROM pg_catalog.pg_class c
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	  CROSS JOIN setting s
	  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
		AND a.attname OPERATOR(pg_catalog.=) s.col AND NOT a.attisdropped
	  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) c.oid
		AND d.adnum OPERATOR(pg_catalog.=) a.attnum
	 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
	   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
	   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
	   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
						WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
						  AND dep.objid OPERATOR(pg_catalog.=) c.oid
						  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
), owned AS (		-- every tenant table, partitions included (who owns, who may change it)
	SELECT c.oid::pg_catalog.regclass AS rel, c.relowner
	  FROM pg_catalog.pg_class c
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	  CROSS JOIN setting s
	  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
		AND a.attname OPERATOR(pg_catalog.=) s.col AND NOT a.attisdropped
	 WHERE c.relkind IN ('r', 'p')
	   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
	   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
	   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
						WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
						  AND dep.objid OPERATOR(pg_catalog.=) c.oid
						  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
), keys AS (		-- constraints and unique indexes, with their column lists
	SELECT tt.rel, tt.col, tt.attnum AS tattnum, con.conname, con.contype, con.conkey,
		   con.confrelid, con.confkey, con.confdeltype, con.confupdtype,
		   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
			  FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY u(attnum, ord)
			  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) tt.rel
				AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS cols,
		   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
			  FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY u(attnum, ord)
			  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) con.confrelid
				AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS refcols
	  FROM tt
	  JOIN pg_catalog.pg_constraint con ON con.conrelid OPERATOR(pg_catalog.=) tt.rel
)
-- 1. a foreign key between tenant tables without the tenant column
SELECT k.rel, 'foreign key without tenant column',
	   pg_catalog.format('Foreign key %I references tenant table %s by (%s) alone: a row of one tenant can reference a row of another, and a join on it carries no pin.',
			k.conname, k.confrelid::pg_catalog.regclass, k.refcols),
	   pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%I, %s) REFERENCES %s (%I, %s);',
			k.rel, k.conname, k.conname, k.col, k.cols, k.confrelid::pg_catalog.regclass, k.col, k.refcols)
  FROM keys k
 WHERE k.contype OPERATOR(pg_catalog.=) 'f'
   AND k.confrelid IN (SELECT tt.rel FROM tt)
   AND NOT k.tattnum OPERATOR(pg_catalog.=) ANY (k.conkey)
UNION ALL
-- 1b. a table without the tenant column that references a tenant table
-- (or a partition of one): its rows are outside the rule, and the check of
-- each row it writes reads and locks a row of any tenant (round DH)
SELECT c.oid::pg_catalog.regclass, 'foreign key into a tenant table from a table without tenant column',
	   pg_catalog.format('Foreign key %I references tenant table %s, but %s has no %I column: its rows are outside the rule (a role that may read it reads every tenant''s), and the check of each row written into it reads and locks (FOR KEY SHARE) the referenced row, of any tenant.',
			con.conname, con.confrelid::pg_catalog.regclass, c.oid::pg_catalog.regclass, s.col),
	   CASE WHEN r.attname IS NOT NULL THEN
			pg_catalog.format('ALTER TABLE %s RENAME COLUMN %I TO %I;', c.oid::pg_catalog.regclass, r.attname, s.col)
	   ELSE pg_catalog.translate(pg_catalog.format('-- give %s a column %I and reference %s by (%I, ...)',
				c.oid::pg_catalog.regclass, s.col, con.confrelid::pg_catalog.regclass, s.col), E'\n\r', '  ') END
  FROM pg_catalog.pg_constraint con
  JOIN owned o ON o.rel OPERATOR(pg_catalog.=) con.confrelid
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) con.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  CROSS JOIN setting s
  JOIN pg_catalog.pg_attribute pa ON pa.attrelid OPERATOR(pg_catalog.=) con.confrelid
	AND pa.attname OPERATOR(pg_catalog.=) s.col
  LEFT JOIN LATERAL (
	SELECT a.attname
	  FROM ROWS FROM (pg_catalog.unnest(con.confkey), pg_catalog.unnest(con.conkey)) AS u(pk, fk)
	  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) con.conrelid
		AND a.attnum OPERATOR(pg_catalog.=) u.fk
	 WHERE u.pk OPERATOR(pg_catalog.=) pa.attnum) r ON true
 WHERE con.contype OPERATOR(pg_catalog.=) 'f'
   AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
					WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
					  AND a.attname OPERATOR(pg_catalog.=) s.col AND NOT a.attisdropped)
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
					WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
					  AND dep.objid OPERATOR(pg_catalog.=) c.oid
					  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
UNION ALL
-- 2. a unique or exclusion constraint without the tenant column
SELECT k.rel, 'unique constraint without tenant column',
	   pg_catalog.format('%s %I on (%s) is unique across tenants: one tenant''s value blocks another''s, and the violation message shows the other tenant''s values.',
			CASE k.contype WHEN 'p' THEN 'Primary key' WHEN 'u' THEN 'Unique constraint' ELSE 'Exclusion constraint' END,
			k.conname, k.cols),
	   CASE WHEN k.contype IN ('p', 'u') THEN
			pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s);',
				k.rel, k.conname, k.conname, CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, k.col, k.cols)
	   -- a comment: no line break of a name may end it (the fix is run as SQL)
	   ELSE pg_catalog.translate(pg_catalog.format('-- recreate exclusion constraint %I with (%I WITH =) added',
													k.conname, k.col), E'\n\r', '  ') END
  FROM keys k
 WHERE k.contype IN ('p', 'u', 'x')
   AND NOT k.tattnum OPERATOR(pg_catalog.=) ANY (k.conkey)
UNION ALL
SELECT tt.rel, 'unique index without tenant column',
	   pg_catalog.format('Unique index %I is unique across tenants.', ic.relname),
	   -- each key column and the predicate deparsed by PostgreSQL, quoted as
	   -- SQL (never cut out of the index's text: a name or a literal may
	   -- hold parentheses)
	   pg_catalog.format('DROP INDEX %s; CREATE UNIQUE INDEX %I ON %s (%I, %s)%s;',
			ic.oid::pg_catalog.regclass, ic.relname, tt.rel, tt.col,
			(SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, n, false), ', ' ORDER BY n)
			   FROM pg_catalog.generate_series(1, i.indnkeyatts::integer) AS n),
			CASE WHEN i.indpred IS NULL THEN ''
				 ELSE ' WHERE ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(i.indpred, i.indrelid) END)
  FROM tt
  JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) tt.rel AND i.indisunique
  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid
 WHERE NOT tt.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::int2[])
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint con
					WHERE con.conindid OPERATOR(pg_catalog.=) i.indexrelid
					  AND con.conrelid OPERATOR(pg_catalog.=) tt.rel)
UNION ALL
-- 3. the tenant column nullable, without a foreign key to tenants, of another type or collation
SELECT tt.rel, 'tenant column nullable',
	   pg_catalog.format('%I admits NULL: a row without a tenant.', tt.col),
	   pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL;', tt.rel, tt.col)
  FROM tt WHERE NOT tt.attnotnull
UNION ALL
SELECT tt.rel, 'tenant column without foreign key to tenants',
	   pg_catalog.format('No foreign key makes %I a tenant of %s.', tt.col, s.tenants_rel),
	   pg_catalog.format('ALTER TABLE %s ADD FOREIGN KEY (%I) REFERENCES %s (id) ON DELETE CASCADE;', tt.rel, tt.col, s.tenants_rel)
  FROM tt, setting s
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint con, id_att
					WHERE con.conrelid OPERATOR(pg_catalog.=) tt.rel
					  AND con.contype OPERATOR(pg_catalog.=) 'f'
					  AND con.confrelid OPERATOR(pg_catalog.=) s.tenants_rel
					  AND con.convalidated	-- NOT VALID: old rows of no tenant may stay
					  AND con.conkey OPERATOR(pg_catalog.=) ARRAY[tt.attnum]
					  AND con.confkey OPERATOR(pg_catalog.=) ARRAY[id_att.attnum])
UNION ALL
SELECT tt.rel, 'tenant column type differs from tenants.id',
	   pg_catalog.format('%I is %s%s, tenants.id is %s COLLATE %s: a pin does not carry across an equality of two types or collations.',
			tt.col, pg_catalog.format_type(tt.atttypid, NULL),
			CASE WHEN tt.attcollation OPERATOR(pg_catalog.<>) 0 THEN
				(SELECT ' COLLATE ' || pg_catalog.quote_ident(c.collname) FROM pg_catalog.pg_collation c
				  WHERE c.oid OPERATOR(pg_catalog.=) tt.attcollation) ELSE '' END,
			pg_catalog.format_type(id_att.atttypid, NULL), id_att.coll),
	   pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I TYPE %s COLLATE %s;',
			tt.rel, tt.col, pg_catalog.format_type(id_att.atttypid, NULL), id_att.coll)
  FROM tt, id_att
 WHERE tt.atttypid OPERATOR(pg_catalog.<>) id_att.atttypid
	OR tt.attcollation OPERATOR(pg_catalog.<>) id_att.attcollation
UNION ALL
-- 4. the tenant column generated, or with a non-constant default other than gtm_current_tenant()
SELECT tt.rel, 'tenant column generated',
	   pg_catalog.format('%I is computed from other columns, not set to one tenant.', tt.col),
	   pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP EXPRESSION;', tt.rel, tt.col)
  FROM tt WHERE tt.attgenerated OPERATOR(pg_catalog.<>) ''
UNION ALL
SELECT tt.rel, 'tenant column default',
	   pg_catalog.format('The default of %I is %s, which is not pinned to the session tenant.',
			tt.col, pg_catalog.pg_get_expr(d.adbin, d.adrelid)),
	   pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s();', tt.rel, tt.col, s.current_fn::pg_catalog.regproc)
  FROM tt, setting s, pg_catalog.pg_attrdef d
 WHERE tt.attgenerated OPERATOR(pg_catalog.=) '' AND tt.def IS NOT NULL
   AND d.adrelid OPERATOR(pg_catalog.=) tt.rel AND d.adnum OPERATOR(pg_catalog.=) tt.attnum
   AND tt.def NOT LIKE '{CONST %'
   AND tt.def NOT LIKE ('{FUNCEXPR :funcid ' || s.current_fn || ' %')
UNION ALL
-- 5. an application role that can change what the check sees (also on a
-- partition: its owner's DDL reads every tenant's rows of it); MEMBER,
-- not USAGE: a NOINHERIT member may still SET ROLE to the owner
SELECT tt.rel, 'application role may change the table',
	   pg_catalog.format('Role %s %s.', r.role,
			pg_catalog.concat_ws(', ',
				CASE WHEN pg_catalog.pg_has_role(r.role::oid, tt.relowner, 'MEMBER') THEN 'owns the table (or may act as its owner): it can alter it, disable triggers, drop constraints' END,
				CASE WHEN pg_catalog.has_table_privilege(r.role::oid, tt.rel::oid, 'TRIGGER') THEN 'may create triggers on it (code that runs on every tenant''s rows)' END,
				CASE WHEN pg_catalog.has_table_privilege(r.role::oid, tt.rel::oid, 'TRUNCATE') THEN 'may TRUNCATE it (every tenant''s rows)' END)),
	   CASE WHEN pg_catalog.pg_has_role(r.role::oid, tt.relowner, 'MEMBER')
			THEN pg_catalog.format('ALTER TABLE %s OWNER TO <migration role>; REVOKE TRIGGER, TRUNCATE ON %s FROM %s;', tt.rel, tt.rel, r.role)
			ELSE pg_catalog.format('REVOKE TRIGGER, TRUNCATE ON %s FROM %s;', tt.rel, r.role) END
  FROM owned tt, pg_catalog.unnest(app_roles) r(role)
 WHERE pg_catalog.pg_has_role(r.role::oid, tt.relowner, 'MEMBER')
	OR pg_catalog.has_table_privilege(r.role::oid, tt.rel::oid, 'TRIGGER')
	OR pg_catalog.has_table_privilege(r.role::oid, tt.rel::oid, 'TRUNCATE')
UNION ALL
-- 5b. any other table or view an application role may put a trigger on:
-- the trigger's WHEN clause and function are the role's code, and run as
-- whoever writes the table, an exempt migration role or SECURITY DEFINER
-- function included (built-ins such as query_to_xml() run SQL text)
SELECT c.oid::pg_catalog.regclass, 'application role may create triggers',
	   pg_catalog.format('Role %s may create triggers on %s: their WHEN clause and function run as whoever writes it, an exempt role included, and can read every tenant''s rows.',
			r.role, c.oid::pg_catalog.regclass),
	   pg_catalog.format('REVOKE TRIGGER ON %s FROM %s;', c.oid::pg_catalog.regclass, r.role)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace,
	   pg_catalog.unnest(app_roles) r(role)
 WHERE c.relkind IN ('r', 'p', 'v', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
   AND NOT EXISTS (SELECT FROM owned o WHERE o.rel OPERATOR(pg_catalog.=) c.oid::pg_catalog.regclass)
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
					WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
					  AND dep.objid OPERATOR(pg_catalog.=) c.oid
					  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
   AND pg_catalog.has_table_privilege(r.role::oid, c.oid, 'TRIGGER')
UNION ALL
-- 5c. a SECURITY DEFINER function of an exempt role that an application
-- role may call and that can be led to the caller's code: its search_path
-- does not end with pg_temp (a temporary view, table or domain of the
-- caller's shadows its names), or it takes a cursor, a record, a
-- polymorphic value or an object name from the caller
SELECT NULL::pg_catalog.regclass, 'exempt definer callable by application role',
	   pg_catalog.format('Function %s runs as its owner, who is exempt from the check, and %s may call it; %s: the caller''s code (a temporary view, domain or trigger, a cursor) would run with its rights.',
			p.oid::pg_catalog.regprocedure, r.role,
			pg_catalog.concat_ws(' and ',
				CASE WHEN NOT coalesce((SELECT c ~ '^search_path=(.*, ?)?"?pg_temp"?$' FROM pg_catalog.unnest(p.proconfig) c
										 WHERE c LIKE 'search_path=%'), false)
					 THEN 'its search_path does not end with pg_temp' END,
				CASE WHEN EXISTS (SELECT FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) t(oid)
								   WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY['refcursor', 'record', 'regclass', 'regproc',
									   'regprocedure', 'regtype', 'regoper', 'regoperator', 'regnamespace', 'regrole',
									   'anyelement', 'anyarray', 'anynonarray', 'anyrange', 'anymultirange',
									   'anycompatible', 'anycompatiblearray', 'anycompatiblenonarray',
									   'anycompatiblerange', 'anycompatiblemultirange']::pg_catalog.regtype[]::pg_catalog.oid[]))
					 THEN 'it takes a cursor, record, polymorphic value or object name' END)),
	   pg_catalog.format('ALTER FUNCTION %s SET search_path = <schema>, pg_temp; or ALTER FUNCTION %s OWNER TO <a role that is not exempt>; or REVOKE EXECUTE ON FUNCTION %s FROM %s;',
			p.oid::pg_catalog.regprocedure, p.oid::pg_catalog.regprocedure, p.oid::pg_catalog.regprocedure, r.role)
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
  JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) p.proowner,
	   pg_catalog.unnest(app_roles) r(role)
 WHERE p.prosecdef AND (o.rolsuper OR o.rolbypassrls)
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
					WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
					  AND dep.objid OPERATOR(pg_catalog.=) p.oid
					  AND dep.deptype OPERATOR(pg_catalog.=) 'e')
   AND pg_catalog.has_function_privilege(r.role::oid, p.oid, 'EXECUTE')
   AND (NOT coalesce((SELECT c ~ '^search_path=(.*, ?)?"?pg_temp"?$' FROM pg_catalog.unnest(p.proconfig) c
					   WHERE c LIKE 'search_path=%'), false)
		OR EXISTS (SELECT FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) t(oid)
					WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY['refcursor', 'record', 'regclass', 'regproc',
						'regprocedure', 'regtype', 'regoper', 'regoperator', 'regnamespace', 'regrole',
						'anyelement', 'anyarray', 'anynonarray', 'anyrange', 'anymultirange',
						'anycompatible', 'anycompatiblearray', 'anycompatiblenonarray',
						'anycompatiblerange', 'anycompatiblemultirange']::pg_catalog.regtype[]::pg_catalog.oid[])))
UNION ALL
-- an application role that may become a role exempt from the check
SELECT NULL::pg_catalog.regclass, 'application role may become an exempt role',
	   pg_catalog.format('Role %s is a member of %s, which is %s: after SET ROLE its statements are not checked.',
			r.role, x.rolname::pg_catalog.regrole,
			CASE WHEN x.rolsuper THEN 'a superuser' ELSE 'BYPASSRLS' END),
	   pg_catalog.format('REVOKE %I FROM %s;', x.rolname, r.role)
  FROM pg_catalog.unnest(app_roles) r(role), pg_catalog.pg_roles x
 WHERE (x.rolsuper OR x.rolbypassrls) AND x.oid OPERATOR(pg_catalog.<>) r.role::oid
   AND pg_catalog.pg_has_role(r.role::oid, x.oid, 'MEMBER')
UNION ALL
-- an application role that may create objects in a schema: a view named
-- like an application table, or a function named like one of the
-- extension's, put there by one request and found first through a
-- search_path it set (SET, or ALTER ROLE ... SET, which DISCARD ALL keeps)
-- would serve a later request another tenant's rows
SELECT NULL::pg_catalog.regclass, 'application role may create objects in a schema',
	   pg_catalog.format('Role %s may create objects in schema %I: put first in a search_path, they hide the application''s tables and the extension''s functions from later requests on the connection.',
			r.role, n.nspname),
	   pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM %s;  -- and have the migration role own it', n.nspname, r.role)
  FROM pg_catalog.unnest(app_roles) r(role), pg_catalog.pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND pg_catalog.has_schema_privilege(r.role::oid, n.oid, 'CREATE')
UNION ALL
SELECT NULL::pg_catalog.regclass, 'application role may become an exempt role',
	   pg_catalog.format('Role %s has CREATEROLE: it may grant itself an exempt role (the migration role) and SET ROLE to it.', r.role),
	   pg_catalog.format('ALTER ROLE %s NOCREATEROLE;', r.role)
  FROM pg_catalog.unnest(app_roles) r(role), pg_catalog.pg_roles x
 WHERE x.oid OPERATOR(pg_catalog.=) r.role::oid AND x.rolcreaterole
UNION ALL
-- an application role that owns objects outside the temporary schemas:
-- functions, types, operators, relations.  It may not change or drop them
-- (rounds EY, EZ), and an exempt role refuses to run their code (a
-- migration's trigger writing its table, ANALYZE of an index calling its
-- function: round FA)
SELECT CASE WHEN x.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
			THEN x.objid::pg_catalog.regclass END,
	   'application role owns objects',
	   pg_catalog.format('Role %s owns %s %s: it may not change or drop it, and roles exempt from the check (the migration role, a superuser) refuse to run its code.',
			r.role, o.type, o.identity),
	   pg_catalog.format('ALTER %s %s OWNER TO <migration role>;',
			CASE WHEN x.domain THEN 'DOMAIN' ELSE pg_catalog.upper(o.type) END, o.identity)
  FROM pg_catalog.unnest(app_roles) r(role),
	   (SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass AS classid, p.oid AS objid,
			   p.proowner AS owner, p.pronamespace AS nsp, false AS domain
		  FROM pg_catalog.pg_proc p
		UNION ALL
		SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, t.typowner, t.typnamespace,
			   t.typtype OPERATOR(pg_catalog.=) 'd'
		  FROM pg_catalog.pg_type t
		 WHERE (t.typtype IN ('b', 'd', 'e', 'r', 'm') OR
				(t.typtype OPERATOR(pg_catalog.=) 'c' AND
				 (SELECT c.relkind FROM pg_catalog.pg_class c
				   WHERE c.oid OPERATOR(pg_catalog.=) t.typrelid) OPERATOR(pg_catalog.=) 'c'))
		   AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e
							WHERE e.typarray OPERATOR(pg_catalog.=) t.oid)
		   AND NOT EXISTS (SELECT FROM pg_catalog.pg_range m
							WHERE m.rngmultitypid OPERATOR(pg_catalog.=) t.oid)
		UNION ALL
		SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, o.oprowner, o.oprnamespace, false
		  FROM pg_catalog.pg_operator o
		UNION ALL
		SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, c.relowner, c.relnamespace, false
		  FROM pg_catalog.pg_class c
		 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')) x
	   JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.nsp,
	   LATERAL pg_catalog.pg_identify_object(x.classid, x.objid, 0) o
 WHERE pg_catalog.pg_has_role(r.role::oid, x.owner, 'MEMBER')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND (schemas IS NULL OR n.nspname OPERATOR(pg_catalog.=) ANY (schemas))
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dep
					WHERE dep.classid OPERATOR(pg_catalog.=) x.classid
					  AND dep.objid OPERATOR(pg_catalog.=) x.objid
					  AND dep.deptype IN ('e', 'i'))
UNION ALL
-- 7. a foreign key to a table of no tenant whose action changes the
-- referencing rows: a change of one global row reaches every tenant's
SELECT k.rel, 'foreign key action from a global table',
	   pg_catalog.format('Foreign key %I references %s, a table of no tenant, ON %s: a change of one of its rows changes the rows of every tenant that reference it.',
			k.conname, k.confrelid::pg_catalog.regclass,
			CASE WHEN k.confdeltype IN ('c', 'n', 'd') THEN 'DELETE ' ||
				CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
				 ELSE 'UPDATE ' ||
				CASE k.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END END),
	   pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s);',
			k.rel, k.conname, k.conname, k.cols, k.confrelid::pg_catalog.regclass, k.refcols)
  FROM (SELECT o.rel, con.conname, con.confrelid, con.confdeltype, con.confupdtype,
			   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
				  FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY u(attnum, ord)
				  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) o.rel
					AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS cols,
			   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
				  FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY u(attnum, ord)
				  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) con.confrelid
					AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS refcols
		  FROM owned o
		  JOIN pg_catalog.pg_constraint con ON con.conrelid OPERATOR(pg_catalog.=) o.rel
		 WHERE con.contype OPERATOR(pg_catalog.=) 'f' AND con.conparentid OPERATOR(pg_catalog.=) 0) k,
	   setting s
 WHERE k.confrelid OPERATOR(pg_catalog.<>) s.tenants_rel
   AND k.confrelid NOT IN (SELECT o.rel FROM owned o)
   AND (k.confdeltype IN ('c', 'n', 'd') OR k.confupdtype IN ('c', 'n', 'd'))
UNION ALL
-- a foreign key to tenants by another column than the tenant column: a row
-- of one tenant may reference another tenant's row, whose changes reach it
SELECT k.rel, 'foreign key to tenants by another column',
	   pg_catalog.format('Foreign key %I references %s by (%s) from (%s), not from %I: a row may reference another tenant''s row, and its actions reach the rows that do.',
			k.conname, k.confrelid::pg_catalog.regclass, k.refcols, k.cols, k.col),
	   pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I;', k.rel, k.conname)
  FROM keys k, setting s
 WHERE k.contype OPERATOR(pg_catalog.=) 'f'
   AND k.confrelid OPERATOR(pg_catalog.=) s.tenants_rel
   AND k.conkey OPERATOR(pg_catalog.<>) ARRAY[k.tattnum]
UNION ALL
-- 6. no ON CONFLICT target an upsert needs: no unique index with the tenant column
SELECT tt.rel, 'no ON CONFLICT target with tenant column',
	   pg_catalog.format('No unique index includes %I, so INSERT ... ON CONFLICT (%I, ...) DO UPDATE has no arbiter (and one without %I is rejected).',
			tt.col, tt.col, tt.col),
	   COALESCE((SELECT pg_catalog.format('CREATE UNIQUE INDEX ON %s (%I, %s);', tt.rel, tt.col, k.cols)
				   FROM keys k WHERE k.rel OPERATOR(pg_catalog.=) tt.rel AND k.contype IN ('p', 'u')
				  ORDER BY k.contype LIMIT 1),
				pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%I, <key column>);', tt.rel, tt.col))
  FROM tt
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_index i
					WHERE i.indrelid OPERATOR(pg_catalog.=) tt.rel AND i.indisunique AND i.indisvalid
					  AND i.indpred IS NULL
					  AND tt.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::int2[]))
ORDER BY 1, 2, 3
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_lint_schema(pg_catalog.regrole[], name[]) IS
	'Problems of the tenant tables of the database, one row each: table, problem, detail, fix (SQL)';

CREATE FUNCTION @extschema@.gtm_schema_is_clean(
	app_roles pg_catalog.regrole[] DEFAULT '{}',
	schemas name[] DEFAULT NULL)
RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	RETURN NOT EXISTS (SELECT FROM @extschema@.gtm_lint_schema(app_roles, schemas));
COMMENT ON FUNCTION @extschema@.gtm_schema_is_clean(pg_catalog.regrole[], name[]) IS
	'True when gtm_lint_schema(app_roles, schemas) finds no problem (for a test suite)';

-- Roles for an application and its migrations (doc/roles.md).
-- gtm_grant_app: what a role serving requests needs, and nothing that lets
-- it change what the check sees.  Refused for a role that is exempt from
-- the check (superuser, BYPASSRLS): requests must be checked.
CREATE FUNCTION @extschema@.gtm_grant_app(role pg_catalog.regrole) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	r record;
BEGIN
	IF role IS NULL THEN
		RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT a.rolsuper, a.rolbypassrls, a.rolcreaterole INTO r FROM pg_catalog.pg_authid a
	 WHERE a.oid OPERATOR(pg_catalog.=) role::oid;
	IF r.rolcreaterole AND NOT (r.rolsuper OR r.rolbypassrls) THEN
		RAISE EXCEPTION 'role % has CREATEROLE', role
			USING ERRCODE = '42501',
				  DETAIL = 'It may grant itself a role exempt from the tenant-scope check (the migration role) and SET ROLE to it.',
				  HINT = pg_catalog.format('ALTER ROLE %s NOCREATEROLE;', role);
	END IF;
	IF r.rolsuper OR r.rolbypassrls THEN
		RAISE EXCEPTION 'role % is exempt from the tenant-scope check', role
			USING ERRCODE = '42501',
				  DETAIL = 'Superusers and BYPASSRLS roles are not checked: a request served by it could touch any tenant.',
				  HINT = 'Serve requests with a role without SUPERUSER and BYPASSRLS; migrate with another (gtm_grant_migrator).';
	END IF;
	-- nor a member of such a role: SET ROLE (also without INHERIT) makes
	-- its statements unchecked
	SELECT x.rolname INTO r FROM pg_catalog.pg_authid x
	 WHERE (x.rolsuper OR x.rolbypassrls) AND x.oid OPERATOR(pg_catalog.<>) role::oid
	   AND pg_catalog.pg_has_role(role::oid, x.oid, 'MEMBER')
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'role % may become role %, which is exempt from the tenant-scope check', role, r.rolname
			USING ERRCODE = '42501',
				  DETAIL = 'After SET ROLE its statements would not be checked.',
				  HINT = pg_catalog.format('REVOKE %I FROM %s;', r.rolname, role);
	END IF;
	-- temporary functions and domains of its own: code it runs where a
	-- statement is parsed or bound, apart from the statement, and behind a
	-- pool in a later request (doc/enforcement.md, doc/tenant-context.md)
	IF pg_catalog.has_database_privilege(role::oid, pg_catalog.current_database(), 'TEMPORARY') THEN
		RAISE WARNING 'role % may create temporary objects', role
			USING DETAIL = 'Its temporary functions and domains run its own code while a statement is parsed or bound, a client message apart from the statement''s execution, and in later requests behind a connection pool.',
				  HINT = pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC; (and from %s, if it was granted)',
										   pg_catalog.current_database(), role);
	END IF;
	EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA @extschema@ TO %s', role);
	EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s',
		'@extschema@.gtm_set_tenant(text, boolean), @extschema@.gtm_current_tenant(), '
		'@extschema@.gtm_pin(anyelement), pg_catalog.gtm_copy_check_row(anyelement, text), '
		'@extschema@.gtm_sign_in(text, text, text, text, text), '
		'@extschema@.gtm_tenant_settings(text), @extschema@.gtm_tenant_setting(text, text[]), '
		'@extschema@.gtm_feature_enabled(text, text), @extschema@.gtm_default_settings(), '
		'@extschema@.gtm_check_statement(text)', role);
	-- the columns of tenants an application reads, settings among them:
	-- gtm_tenant_settings and the other settings reads run with the
	-- caller's rights (a read of tenants is pinned to one tenant like any)
	EXECUTE pg_catalog.format('GRANT SELECT (id, clerk_org_id, name, slug, settings, created_at, updated_at) ON %s TO %s',
		'@extschema@.tenants', role);
	EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %s', '@extschema@.tenant_members', role);
	-- gtm_setup_checklist and gtm_tenant_ready read the marks with the
	-- caller's rights (a tenant table: pinned like any)
	EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %s', '@extschema@.tenant_setup_progress', role);
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_grant_app(pg_catalog.regrole) IS
	'Grants a role serving requests what it needs of the extension (functions, the readable columns of tenants)';

-- gtm_grant_migrator: what a role that owns the application's tables and
-- runs migrations needs: REFERENCES on tenants(id) for the foreign keys,
-- the toolkit functions, and (bypass => true) BYPASSRLS, which exempts it
-- from the check for backfills that touch every tenant.  Refused while
-- another role is a member of it (a request role could SET ROLE to it).
CREATE FUNCTION @extschema@.gtm_grant_migrator(role pg_catalog.regrole, bypass boolean DEFAULT true)
RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	member pg_catalog.regrole;
BEGIN
	IF role IS NULL OR bypass IS NULL THEN
		RAISE EXCEPTION 'role and bypass must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT m.member::pg_catalog.regrole INTO member FROM pg_catalog.pg_auth_members m
	 WHERE m.roleid OPERATOR(pg_catalog.=) role::oid ORDER BY m.member LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'role % has member %', role, member
			USING ERRCODE = '42501',
				  DETAIL = 'A member can act as the migration role, which is exempt from the tenant-scope check.',
				  HINT = pg_catalog.format('REVOKE %s FROM %s, and log in as the migration role itself (only in CI/deploys).', role, member);
	END IF;
	EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA @extschema@ TO %s', role);
	EXECUTE pg_catalog.format('GRANT SELECT (id), REFERENCES (id) ON %s TO %s', '@extschema@.tenants', role);
	EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s',
		'@extschema@.gtm_current_tenant(), @extschema@.gtm_set_tenant(text, boolean), '
		'pg_catalog.gtm_copy_check_row(anyelement, text), @extschema@.gtm_touch_updated_at(), '
		'@extschema@.gtm_make_tenant_table(pg_catalog.regclass, boolean, text), '
		'@extschema@.gtm_lint_schema(pg_catalog.regrole[], name[]), @extschema@.gtm_schema_is_clean(pg_catalog.regrole[], name[]), '
		'@extschema@.gtm_check_statement(text)', role);
	IF bypass THEN
		EXECUTE pg_catalog.format('ALTER ROLE %s BYPASSRLS', role);
	END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.gtm_grant_migrator(pg_catalog.regrole, boolean) IS
	'Grants a migration role what it needs to create tenant tables and backfill (REFERENCES on tenants(id), BYPASSRLS)';
REVOKE ALL ON FUNCTION
	@extschema@.gtm_grant_app(pg_catalog.regrole),
	@extschema@.gtm_grant_migrator(pg_catalog.regrole, boolean),
	@extschema@.gtm_make_tenant_table(pg_catalog.regclass, boolean, text)
FROM PUBLIC;

--------------------------------------------------------------------------
-- Issue 12: the settings schema, the defaults kept per backend, and the
-- setup checklist       (src/settings_schema.c, src/settings_schema_meta.c,
--                        src/settings_defaults.c, src/setup_checklist.c;
--                        doc/settings-schema.md, doc/setup-checklist.md)
--------------------------------------------------------------------------

-- Settings are checked after the row's BEFORE triggers: fired BEFORE ...
-- OF settings, the check came before a trigger of the table's owner that
-- writes settings itself (one firing later, or on an UPDATE that does not
-- name settings) and stored what it wrote unchecked.  An AFTER row trigger
-- sees the row as stored (unchanged settings cost one comparison).
DROP TRIGGER tenants_settings_validate ON @extschema@.tenants;
CREATE TRIGGER tenants_settings_validate
	AFTER INSERT OR UPDATE ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@.gtm_validate_tenant_settings();

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

-- ---------------------------------------------------------------------
-- Issue 8: the tenant context under connection pools.
-- gtm_set_tenant is transaction-scoped by default (is_local => true): a
-- connection pool hands the connection to the next request, and a session
-- tenant would go with it.  Session scope (is_local => false) is refused
-- unless a superuser sets gtm.allow_session_tenant.  The argument is named
-- "tenant" (was tenant_id), so the function is created anew.
-- ---------------------------------------------------------------------
DROP FUNCTION @extschema@.gtm_set_tenant(text, boolean);
CREATE FUNCTION @extschema@.gtm_set_tenant(tenant text, is_local boolean DEFAULT true)
RETURNS text
	AS 'MODULE_PATHNAME', 'gtm_set_tenant'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gtm_set_tenant(text, boolean) IS
	'Sets the tenant of the transaction (is_local, the default) or, when gtm.allow_session_tenant is on, of the session; returns it';

-- Unique and exclusion constraints whose violation DETAIL can show another
-- tenant's key: on a tenant-scoped table, a unique or exclusion index whose
-- key columns do not include the tenant column compares rows of every
-- tenant, and PostgreSQL prints the conflicting row's key in the DETAIL
-- ("Key (code)=(T2-secret) already exists.").  PostgreSQL itself omits the
-- key for a role that is subject to row-level security on the table, so a
-- listed index stops leaking when the tenant column is added to it or when
-- the table has row-level security enabled and forced (protected = true;
-- not forced, the table's owner still sees them).
CREATE VIEW @extschema@.gtm_key_detail_leaks AS
SELECT c.oid::pg_catalog.regclass AS "table",
	   i.indexrelid::pg_catalog.regclass AS "index",
	   co.conname AS "constraint",
	   CASE WHEN i.indisexclusion THEN 'exclusion' ELSE 'unique' END AS kind,
	   pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
	   (c.relrowsecurity AND c.relforcerowsecurity) AS protected
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
	   AND a.attname OPERATOR(pg_catalog.=) pg_catalog.current_setting('gtm.tenant_column')
	   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
  LEFT JOIN pg_catalog.pg_constraint co ON co.conindid OPERATOR(pg_catalog.=) i.indexrelid
	   AND co.conrelid OPERATOR(pg_catalog.=) c.oid
 WHERE (i.indisunique OR i.indisexclusion)
   AND n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema'])
   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) k
					WHERE i.indkey[k] OPERATOR(pg_catalog.=) a.attnum
					  -- an exclusion constraint compares the tenant column by "="
					  -- (not "tenant_id WITH <>", which conflicts across tenants)
					  AND (NOT i.indisexclusion OR
						   (SELECT o.oprname FROM pg_catalog.pg_operator o
							 WHERE o.oid OPERATOR(pg_catalog.=)
								   co.conexclop[k OPERATOR(pg_catalog.+) 1]) OPERATOR(pg_catalog.=) '='));
COMMENT ON VIEW @extschema@.gtm_key_detail_leaks IS
	'Unique and exclusion indexes of tenant-scoped tables without the tenant column: their violation DETAIL can show another tenant''s key unless row-level security is enabled and forced (protected)';
GRANT SELECT ON @extschema@.gtm_key_detail_leaks TO PUBLIC;

-- Statistics and key details of other tenants.  pg_stats, pg_stats_ext and
-- pg_stats_ext_exprs show the most common values and histograms of every
-- tenant's rows; PostgreSQL leaves out the rows of a table on which
-- row-level security is active for the reader, and omits the keys from a
-- unique or exclusion violation's DETAIL, while the planner keeps using the
-- statistics.  gtm_protect_table enables and forces row-level security on
-- a tenant-scoped table (and its partitions) with one permissive policy
-- that passes every row, so that the rows an ordinary role (the owner
-- included) reaches stay what tenant-scope enforcement allows.  SECURITY INVOKER: the caller must own
-- the tables (ALTER TABLE checks it).
CREATE FUNCTION @extschema@.gtm_protect_table(tbl pg_catalog.regclass)
RETURNS SETOF pg_catalog.regclass
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	col pg_catalog.text := pg_catalog.current_setting('gtm.tenant_column');
	part pg_catalog.regclass;
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'table must not be NULL'
			USING ERRCODE = '22004', HINT = 'Pass a tenant-scoped table.';
	END IF;
	-- (the extension's tenants table is tenant-scoped by its id)
	IF tbl OPERATOR(pg_catalog.=) '@extschema@.tenants'::pg_catalog.regclass THEN
		col := 'id';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				    WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
				      AND a.attname OPERATOR(pg_catalog.=) col
				      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'table % is not tenant-scoped', tbl
			USING ERRCODE = '22023',
				  DETAIL = pg_catalog.format('It has no column %I.', col),
				  HINT = 'Pass a table with the tenant column (gtm.tenant_column).';
	END IF;
	-- the table, its partitions and its inheritance children, at any depth
	FOR part IN
		WITH RECURSIVE tree (relid) AS (
			SELECT tbl::pg_catalog.oid
			UNION
			SELECT i.inhrelid FROM tree JOIN pg_catalog.pg_inherits i
			    ON i.inhparent OPERATOR(pg_catalog.=) tree.relid)
		SELECT tree.relid::pg_catalog.regclass FROM tree
	LOOP
		-- a foreign table (a postgres_fdw shard) cannot take a policy; its
		-- statistics are shown to roles with a privilege on it only, and the
		-- application reaches it through its parent
		CONTINUE WHEN (SELECT c.relkind FROM pg_catalog.pg_class c
						WHERE c.oid OPERATOR(pg_catalog.=) part)
					  NOT IN ('r', 'p');
		IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
			 WHERE c.oid OPERATOR(pg_catalog.=) part) THEN
			-- already under row-level security: its policies stand, and it
			-- is forced (else its owner would still see the statistics)
			IF NOT (SELECT c.relforcerowsecurity FROM pg_catalog.pg_class c
					 WHERE c.oid OPERATOR(pg_catalog.=) part) THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part);
				RETURN NEXT part;
			END IF;
			CONTINUE;
		END IF;
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
					WHERE p.polrelid OPERATOR(pg_catalog.=) part) THEN
			RAISE EXCEPTION 'table % has row-level security policies, but row-level security is disabled', part
				USING ERRCODE = '55000',
					  DETAIL = 'Enabling it would apply those policies as well.',
					  HINT = pg_catalog.format('Review them, then run ALTER TABLE %s ENABLE ROW LEVEL SECURITY yourself.', part);
		END IF;
		EXECUTE pg_catalog.format('CREATE POLICY gtm_every_row ON %s USING (true) WITH CHECK (true)', part);
		-- FORCE: an application role that owns its tables is covered too
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
		RETURN NEXT part;
	END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION @extschema@.gtm_protect_table(pg_catalog.regclass) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.gtm_protect_table(pg_catalog.regclass) IS
	'Enables row-level security with a policy passing every row on a tenant-scoped table and its partitions, so that pg_stats and key violation details do not show other tenants'' values to ordinary roles; returns the tables changed';

-- ------------------------------------------------------------------------
-- Exemptions follow their tables.  A dropped table's row in
-- tenant_scope_exemptions is deleted with it (an sql_drop event trigger),
-- so that a table created later with the same OID (OIDs wrap around) is
-- never exempt by accident; rows of tables dropped before this version are
-- deleted now.
-- ------------------------------------------------------------------------
DELETE FROM @extschema@.tenant_scope_exemptions e
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
					WHERE c.oid OPERATOR(pg_catalog.=) e.relid::pg_catalog.oid);

-- C (src/exemptions.c): the DELETE runs with a snapshot taken at the DROP,
-- not the transaction's, so that a DROP in a REPEATABLE READ transaction
-- also deletes a row committed after its snapshot.
CREATE FUNCTION @extschema@.gtm_forget_dropped_exemptions() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'gtm_forget_dropped_exemptions'
	LANGUAGE C SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.gtm_forget_dropped_exemptions() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.gtm_forget_dropped_exemptions() IS
	'Event trigger (sql_drop): deletes the exemption of a dropped table, so that a later table with the same OID is not exempt';
CREATE EVENT TRIGGER gtm_clarity_forget_dropped_exemptions ON sql_drop
	EXECUTE FUNCTION @extschema@.gtm_forget_dropped_exemptions();

-- ------------------------------------------------------------------------
-- The extension's own tenant-scoped tables under row-level security with a
-- policy passing every row, as gtm_protect_table puts an application's:
-- pg_stats then shows the values of their columns (every tenant's name,
-- slug, Clerk organization and user ids) to no ordinary role.  Rows read
-- are unchanged: the policy passes every row, and the tenant-scope check
-- still pins each read.  The extension's functions run as its owner.  A
-- table a site already put under row-level security, or gave policies of
-- its own, is left as it is: a permissive policy would widen theirs.
-- ------------------------------------------------------------------------
DO $protect$
DECLARE
	tbl pg_catalog.regclass;
BEGIN
	FOREACH tbl IN ARRAY ARRAY['@extschema@.tenants'::pg_catalog.regclass,
							   '@extschema@.tenant_members'::pg_catalog.regclass]
	LOOP
		CONTINUE WHEN (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
						WHERE c.oid OPERATOR(pg_catalog.=) tbl)
				   OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
							   WHERE p.polrelid OPERATOR(pg_catalog.=) tbl);
		EXECUTE pg_catalog.format('CREATE POLICY gtm_every_row ON %s USING (true) WITH CHECK (true)', tbl);
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
	END LOOP;
END
$protect$;
