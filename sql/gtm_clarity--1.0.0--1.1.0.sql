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
					WHERE i.indkey[k] OPERATOR(pg_catalog.=) a.attnum);
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
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				    WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
				      AND a.attname OPERATOR(pg_catalog.=) col
				      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'table % is not tenant-scoped', tbl
			USING ERRCODE = '22023',
				  DETAIL = pg_catalog.format('It has no column %I.', col),
				  HINT = 'Pass a table with the tenant column (gtm.tenant_column).';
	END IF;
	FOR part IN
		SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t
		 UNION
		SELECT tbl
	LOOP
		CONTINUE WHEN (SELECT c.relkind FROM pg_catalog.pg_class c
						WHERE c.oid OPERATOR(pg_catalog.=) part)
					  NOT IN ('r', 'p', 'f');
		IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
			 WHERE c.oid OPERATOR(pg_catalog.=) part) THEN
			CONTINUE;			-- already under row-level security: its policies stand
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
