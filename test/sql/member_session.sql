--
-- The acting member (issue 10 item 5): gtm_set_tenant(tenant, is_local,
-- clerk_user_id), gtm_current_member_role(), gtm_require_role(role).
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SET gtm.allow_session_tenant = on;   -- the tests below use session tenants (issue 8)

\i test/lib/expect_error.sql
\pset null '<null>'

INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
	('00000000-0000-4000-8000-00000000b001', 'org_ms1', 'Member One', 'member-one'),
	('00000000-0000-4000-8000-00000000b002', 'org_ms2', 'Member Two', 'member-two');
INSERT INTO tenant_members (tenant_id, clerk_user_id, role) VALUES
	('00000000-0000-4000-8000-00000000b001', 'user_boss', 'admin'),
	('00000000-0000-4000-8000-00000000b001', 'user_mgr', 'manager'),
	('00000000-0000-4000-8000-00000000b001', 'user_view', 'viewer'),
	('00000000-0000-4000-8000-00000000b002', 'user_boss', 'admin');

-- The application's role, and a function of its own guarded by a role.
CREATE ROLE member_app;
GRANT USAGE ON SCHEMA public TO member_app;
CREATE TABLE public.ms_deals (tenant_id text NOT NULL, id int, amount int);
INSERT INTO public.ms_deals VALUES ('00000000-0000-4000-8000-00000000b001', 1, 100),
	('00000000-0000-4000-8000-00000000b002', 1, 999);
GRANT SELECT, UPDATE ON public.ms_deals TO member_app;
CREATE FUNCTION public.ms_raise_deal(deal int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	PERFORM gtm_require_role('manager');
	UPDATE public.ms_deals SET amount = amount + 1
	 WHERE tenant_id = gtm_current_tenant() AND id = deal;
	RETURN (SELECT amount FROM public.ms_deals WHERE tenant_id = gtm_current_tenant() AND id = deal);
END $$;
GRANT EXECUTE ON FUNCTION public.ms_raise_deal(int) TO member_app;

SET ROLE member_app;
-- no member yet
SELECT gtm_current_member_role();
SELECT * FROM pg_temp.expect_error($$SELECT gtm_require_role('viewer')$$);

-- the session scope
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_mgr');
SELECT gtm_current_tenant(), gtm_current_member_role();
SELECT gtm_require_role('viewer') AS as_viewer, gtm_require_role('manager') AS as_manager;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_require_role('admin')$$);
SELECT public.ms_raise_deal(1);
-- the viewer may not raise a deal: the data is unchanged
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_view');
SELECT * FROM pg_temp.expect_error($$SELECT public.ms_raise_deal(1)$$);
SELECT amount FROM public.ms_deals WHERE tenant_id = gtm_current_tenant() AND id = 1;

-- a user who is not a member: 42501, and the session is left as it was
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b002', false, 'user_view')$$);
SELECT gtm_current_tenant(), gtm_current_member_role();
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_nobody')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('no-such-tenant', false, 'user_boss')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'nope')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', NULL, 'user_boss')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_require_role(NULL)$$);
SELECT gtm_current_tenant(), gtm_current_member_role();

-- the transaction scope: the member goes with the tenant at the end
BEGIN;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b002', true, 'user_boss');
SELECT gtm_current_tenant(), gtm_current_member_role();
SELECT gtm_require_role('admin');
COMMIT;
SELECT gtm_current_tenant(), gtm_current_member_role();

-- the member role of the session tenant (b002) in a parallel worker, in a
-- statement reading b001's rows: refused (the worker does not know the
-- statement's tenant), as it is in the leader
CREATE FUNCTION pg_temp.role_in_worker() RETURNS text LANGUAGE plpgsql PARALLEL SAFE
  AS $$ BEGIN RETURN gtm_current_member_role()::text; END $$;
BEGIN;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b002', true, 'user_boss') IS NOT NULL AS set;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                        THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', true) AS forced;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_leader_participation = off;
SELECT * FROM pg_temp.expect_error($$SELECT amount, pg_temp.role_in_worker() FROM public.ms_deals
  WHERE tenant_id = '00000000-0000-4000-8000-00000000b001'$$);
ROLLBACK;
DROP FUNCTION pg_temp.role_in_worker();

-- an IMMUTABLE wrapper of gtm.member folded into a cached plan shows no
-- member: neither request (b001's manager, then b002's boss) reads
-- anything through it, b001's rows least of all
CREATE FUNCTION pg_temp.member_tenant() RETURNS text IMMUTABLE LANGUAGE sql
  AS $$SELECT split_part(current_setting('gtm.member', true), '/', 1)$$;
BEGIN;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', true, 'user_mgr') IS NOT NULL AS set;
-- (prepared as a pool client's protocol-level statement would be, by no
-- request: a SQL PREPARE of the application role left for a later request
-- is refused there, enforce_tenant_context_under_pools)
RESET ROLE;
PREPARE by_member AS SELECT amount FROM public.ms_deals WHERE tenant_id = pg_temp.member_tenant();
SET ROLE member_app;
CREATE TEMP TABLE m1 ON COMMIT DROP AS EXECUTE by_member;
COMMIT;
BEGIN;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b002', true, 'user_boss') IS NOT NULL AS set;
CREATE TEMP TABLE m2 ON COMMIT DROP AS EXECUTE by_member;
SELECT (SELECT count(*) FROM m2) = 0 AS second_request_reads_nothing_of_first;
COMMIT;
DEALLOCATE by_member;
DROP FUNCTION pg_temp.member_tenant();

-- the two-argument form sets the tenant without a member
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_boss');
SELECT gtm_current_member_role();
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false);
SELECT gtm_current_member_role();
SELECT * FROM pg_temp.expect_error($$SELECT gtm_require_role('viewer')$$);

-- a session-scope set without a member forgets the session's member, also
-- when a transaction-local set without one hid it
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_boss') IS NOT NULL AS set;
BEGIN;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', true) IS NOT NULL AS set;
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false) IS NOT NULL AS set;
COMMIT;
SELECT current_setting('gtm.member') AS member, gtm_current_member_role();

-- the member cannot be forged with SET
SELECT state, message FROM pg_temp.expect_error($$SET gtm.member = '00000000-0000-4000-8000-00000000b001/user_boss'$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT set_config('gtm.member', '00000000-0000-4000-8000-00000000b001/user_boss', false)$$);
SELECT gtm_current_member_role();

-- the role is read when asked: a demotion or a removal counts at once
SELECT gtm_set_tenant('00000000-0000-4000-8000-00000000b001', false, 'user_mgr');
RESET ROLE;
UPDATE tenant_members SET role = 'viewer' WHERE clerk_user_id = 'user_mgr';
SET ROLE member_app;
SELECT gtm_current_member_role();
SELECT * FROM pg_temp.expect_error($$SELECT public.ms_raise_deal(1)$$);
RESET ROLE;
DELETE FROM tenant_members WHERE clerk_user_id = 'user_mgr';
SET ROLE member_app;
SELECT gtm_current_member_role();
SELECT * FROM pg_temp.expect_error($$SELECT gtm_require_role('viewer')$$);
RESET ROLE;
SELECT tenant_id, amount FROM public.ms_deals ORDER BY tenant_id;
SET ROLE member_app;

-- both overloads resolve without ambiguity
SELECT p.oid::regprocedure, pg_get_function_arguments(p.oid)
FROM pg_proc p WHERE proname = 'gtm_set_tenant' ORDER BY pronargs;
RESET ROLE;
-- a bad value set by a superuser is refused by the check hook
SELECT state, message, detail FROM pg_temp.expect_error($$SET gtm.member = 'no-slash'$$);
RESET gtm.tenant;
RESET gtm.member;
DROP FUNCTION public.ms_raise_deal(int);
DROP TABLE public.ms_deals;
REVOKE USAGE ON SCHEMA public FROM member_app;
DROP ROLE member_app;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_ms%';
