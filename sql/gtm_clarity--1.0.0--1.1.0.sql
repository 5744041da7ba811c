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
