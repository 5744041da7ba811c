-- The setup checklist (issue 12): a new tenant, after each task, marks,
-- an operator's task with a condition function, the errors, and the tenant
-- rule for reads (a request sees its own tenant's checklist).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT key, title, ui_location, level, condition, settings_path, min_members
FROM setup_tasks ORDER BY position;

SELECT tenant_id AS t FROM gtm_sign_in('org_checkC1', 'user_checkC1a', 'Checklist One') \gset
SELECT tenant_id AS u FROM gtm_sign_in('org_checkC2', 'user_checkC2a', 'Checklist Two') \gset

-- a new tenant: nothing done, not ready
SELECT task_key, level, done, completed_at IS NULL AS no_when, completed_by, done_by
FROM gtm_setup_checklist(:'t');
SELECT gtm_tenant_ready(:'t') AS ready;

-- after each task (overrides that are empty do not count)
SELECT gtm_update_tenant_settings(:'t', '{"connectors": {}}') IS NOT NULL AS empty_connectors;
SELECT done FROM gtm_setup_checklist(:'t') WHERE task_key = 'data_source';
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"versions": [{"version": 1, "name": "Default", "weights": {"fit": 0.5, "engagement": 0.5}}]}}') IS NOT NULL;
SELECT task_key, done, done_by FROM gtm_setup_checklist(:'t') WHERE done;
SELECT gtm_update_tenant_settings(:'t', '{"connectors": {"crm": {"type": "salesforce"}}}') IS NOT NULL;
SELECT task_key, done, done_by FROM gtm_setup_checklist(:'t') WHERE done;
SELECT gtm_tenant_ready(:'t') AS ready_two_of_three;
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": {"industries": ["Software"]}}}') IS NOT NULL;
SELECT gtm_tenant_ready(:'t') AS ready;
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"engagement": {"halfLifeDays": 21}}}') IS NOT NULL;
SELECT gtm_sign_in('org_checkC1', 'user_checkC1b', 'Checklist One') IS NOT NULL AS second_member;
SELECT gtm_update_tenant_settings(:'t', '{"fieldMappings": {"crm": {"Website": "domain"}}}') IS NOT NULL;
SELECT gtm_update_tenant_settings(:'t', '{"buyingGroups": {"roleTemplates": [{"role": "champion", "titlePatterns": ["VP"]}]}}') IS NOT NULL;
SELECT task_key, done, done_by FROM gtm_setup_checklist(:'t');
-- a condition that stops holding: the task is no longer done
SELECT gtm_update_tenant_settings(:'t', '{"scoring": {"fit": null}}') IS NOT NULL;
SELECT gtm_tenant_ready(:'t') AS ready_without_icp;
-- the other tenant is untouched
SELECT count(*) FILTER (WHERE done) AS done_of_u, gtm_tenant_ready(:'u') AS u_ready
FROM gtm_setup_checklist(:'u');

-- marks: when and by whom; the first mark is kept; false removes it
SELECT gtm_complete_setup_task(:'t', 'icp_profile', true, 'user_checkC1a');
SELECT gtm_complete_setup_task(:'t', 'icp_profile', true, 'user_checkC1b');
SELECT task_key, done, done_by, completed_by, completed_at <= now() AS at_ok
FROM gtm_setup_checklist(:'t') WHERE task_key = 'icp_profile';
SELECT gtm_tenant_ready(:'t') AS ready_marked;
SELECT gtm_complete_setup_task(:'u', 'data_source');
SELECT tenant_id = :'u' AS is_u, task_key, completed_by = session_user AS by_session_user
FROM tenant_setup_progress WHERE tenant_id = :'u';
SELECT gtm_complete_setup_task(:'t', 'icp_profile', false);
SELECT count(*) AS marks_of_t FROM tenant_setup_progress WHERE tenant_id = :'t';
SELECT gtm_tenant_ready(:'t') AS ready_unmarked;

-- an operator's task: "a connector exists" in the application's own table
CREATE TABLE app_connectors (tenant_id text NOT NULL, kind text NOT NULL);
CREATE FUNCTION app_connector_exists(tenant text) RETURNS boolean
	LANGUAGE sql STABLE RETURN EXISTS (SELECT 1 FROM app_connectors c WHERE c.tenant_id = tenant);
SELECT key, level, condition, condition_function, built_in
FROM gtm_register_setup_task('crm_connected', 'Connect the CRM', 'Settings > Connectors > CRM',
							 'required', 'function', condition_function => 'app_connector_exists(text)',
							 "position" => 25);
SELECT task_key, level, done FROM gtm_setup_checklist(:'t') WHERE task_key = 'crm_connected';
SELECT gtm_complete_setup_task(:'t', 'icp_profile');
SELECT gtm_tenant_ready(:'t') AS ready_before_connector;
INSERT INTO app_connectors VALUES (:'t', 'salesforce');
SELECT task_key, done, done_by FROM gtm_setup_checklist(:'t') WHERE task_key = 'crm_connected';
SELECT gtm_tenant_ready(:'t') AS ready_with_connector, gtm_tenant_ready(:'u') AS u_ready;
-- an operator's task by member count, changed in place, then a marked one
SELECT key, condition, min_members FROM gtm_register_setup_task('full_team', 'Invite five people', 'Settings > Team',
	'optional', 'member_count', min_members => 5);
SELECT key, condition, min_members FROM gtm_register_setup_task('full_team', 'Invite two people', 'Settings > Team',
	'optional', 'member_count', min_members => 2);
SELECT key, condition FROM gtm_register_setup_task('kickoff_call', 'Book the kickoff call', 'Onboarding', 'optional');
SELECT task_key, level, done, done_by FROM gtm_setup_checklist(:'t') WHERE task_key IN ('full_team', 'kickoff_call', 'crm_connected');
-- deleting an operator task removes its marks
SELECT gtm_complete_setup_task(:'t', 'kickoff_call') AS marked;
DELETE FROM setup_tasks WHERE key = 'kickoff_call';
SELECT count(*) AS kickoff_marks FROM tenant_setup_progress WHERE task_key = 'kickoff_call';

-- errors: each with its exact message; nothing written
SELECT gtm_complete_setup_task(:'t', 'icp_profil');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_complete_setup_task(:'t', 'no_such_thing_at_all');
SELECT gtm_complete_setup_task('00000000-0000-0000-0000-000000000000', 'icp_profile');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_complete_setup_task(:'t', 'icp_profile', true, 'alice');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_complete_setup_task(NULL, 'icp_profile');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_complete_setup_task(:'t', 'icp_profile', NULL);
SELECT * FROM gtm_setup_checklist('00000000-0000-0000-0000-000000000000');
SELECT gtm_tenant_ready(NULL);
SELECT gtm_register_setup_task('icp_profile', 'Mine', 'Here', 'optional');
SELECT gtm_register_setup_task('Bad Key', 'Mine', 'Here', 'optional');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_register_setup_task('mine', ' ', 'Here', 'optional');
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'mandatory');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'settings_path');
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'settings_path', '{}');
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'member_count', min_members => 0);
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'marked', min_members => 3);
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'function');
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional', 'function', condition_function => 'lower(text)');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tasks, count(*) FILTER (WHERE NOT built_in) AS operator_tasks FROM setup_tasks;
-- a condition function dropped later
CREATE FUNCTION app_gone(text) RETURNS boolean LANGUAGE sql RETURN true;
SELECT key FROM gtm_register_setup_task('gone', 'Gone', 'Here', 'optional', 'function', condition_function => 'app_gone(text)');
DROP FUNCTION app_gone(text);
SELECT * FROM gtm_setup_checklist(:'u');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM setup_tasks WHERE key = 'gone';

-- privileges and the tenant rule: an application role reads through the
-- functions with its own rights; a request reads its own tenant's checklist
CREATE ROLE checklist_app;
GRANT SELECT ON tenants, tenant_members, tenant_setup_progress, app_connectors TO checklist_app;
GRANT EXECUTE ON FUNCTION gtm_complete_setup_task(text, text, boolean, text) TO checklist_app;
SET ROLE checklist_app;
SELECT gtm_register_setup_task('mine', 'Mine', 'Here', 'optional');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tasks_of_t FROM gtm_setup_checklist(:'t');
SELECT gtm_tenant_ready(:'t') AS t_ready_for_app;
-- one statement, one tenant: reads and marks of two tenants are refused
-- (terse: the detail names the random tenant ids)
\set VERBOSITY terse
SELECT gtm_tenant_ready(:'t'), gtm_tenant_ready(:'u');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM gtm_setup_checklist(:'t')) AS t_tasks,
	   (SELECT count(*) FROM gtm_setup_checklist(:'u')) AS u_tasks;
SELECT count(*), (SELECT count(*) FROM gtm_setup_checklist(:'u'))
FROM tenant_setup_progress WHERE tenant_id = :'t';
SELECT gtm_complete_setup_task(:'t', 'team_members'), gtm_complete_setup_task(:'u', 'team_members');
\set VERBOSITY default
-- a statement of its own for the other tenant is one tenant
SELECT gtm_complete_setup_task(:'u', 'engagement_decay');
RESET ROLE;
SELECT tenant_id = :'t' AS is_t, task_key FROM tenant_setup_progress
WHERE tenant_id IN (:'t', :'u') ORDER BY 1, 2;
-- an operator function the reader may not execute
REVOKE EXECUTE ON FUNCTION app_connector_exists(text) FROM PUBLIC;
SET ROLE checklist_app;
SELECT * FROM gtm_setup_checklist(:'t');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- clean up
REVOKE ALL ON tenants, tenant_members, tenant_setup_progress, app_connectors FROM checklist_app;
REVOKE ALL ON FUNCTION gtm_complete_setup_task(text, text, boolean, text) FROM checklist_app;
DROP ROLE checklist_app;
DELETE FROM setup_tasks WHERE NOT built_in;
DROP FUNCTION app_connector_exists(text);
DROP TABLE app_connectors;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_checkC%';
SELECT count(*) AS progress_left FROM tenant_setup_progress;
