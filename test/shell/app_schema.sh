#!/usr/bin/env bash
# app_schema: the extension installed into its own schema (CREATE EXTENSION
# gtm_clarity SCHEMA gtm, as doc/roles.md recommends for drizzle-kit), used
# the way doc/roles.md describes: a migration role creates a tenant table with
# gtm_make_tenant_table and backfills it, an application role (search_path
# without gtm) serves requests and imports with COPY FROM; the lint of the
# application's schema is clean.  TAP output; data checked as the superuser.
# Runs against the server of the environment (PGHOST/PGPORT/PGUSER).
set -u
db=gtm_app_schema
echo "1..11"
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1"; echo "# got: $2"; echo "# expected: $3"; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
as_mig() { PGPASSWORD=app-schema q -U regress_app_schema_mig -d "$db" "$@"; }
as_app() { PGPASSWORD=app-schema q -U regress_app_schema_app -d "$db" "$@"; }
# the requests below keep a session tenant across statements (issue 8:
# allowed only where a superuser sets gtm.allow_session_tenant)
T1=11111111-1111-4111-8111-111111111111
T2=22222222-2222-4222-8222-222222222222

dropdb --if-exists "$db" >/dev/null 2>&1
q -d postgres -c "DROP ROLE IF EXISTS regress_app_schema_app" -c "DROP ROLE IF EXISTS regress_app_schema_mig" >/dev/null 2>&1
createdb "$db"
q -d "$db" >/dev/null <<SQL
CREATE SCHEMA gtm;
CREATE EXTENSION gtm_clarity SCHEMA gtm;
CREATE ROLE regress_app_schema_mig LOGIN PASSWORD 'app-schema';
CREATE ROLE regress_app_schema_app LOGIN PASSWORD 'app-schema';
ALTER ROLE regress_app_schema_app SET gtm.allow_session_tenant = on;
GRANT CREATE, USAGE ON SCHEMA public TO regress_app_schema_mig;
GRANT USAGE ON SCHEMA public TO regress_app_schema_app;
SELECT gtm.gtm_grant_migrator('regress_app_schema_mig');
SELECT gtm.gtm_grant_app('regress_app_schema_app');
ALTER DEFAULT PRIVILEGES FOR ROLE regress_app_schema_mig IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO regress_app_schema_app;
INSERT INTO gtm.tenants (id, clerk_org_id, name, slug)
  VALUES ('$T1', 'org_appschema1', 'One', 'one'), ('$T2', 'org_appschema2', 'Two', 'two');
SQL
check "the extension's objects are in schema gtm" \
  "$(q -d "$db" -c "SELECT count(*) FROM pg_proc WHERE proname LIKE 'gtm\_%' AND pronamespace <> 'gtm'::regnamespace AND proname <> 'gtm_copy_check_row'")" 0
# (the COPY row check is in pg_catalog by design: doc/app-toolkit.md)

# the migration: a table with rows, made a tenant table, then a backfill
# touching every tenant (the migration role is exempt: BYPASSRLS)
as_mig >/dev/null <<SQL
CREATE TABLE public.accounts (id int PRIMARY KEY, name text);
INSERT INTO public.accounts VALUES (1, 'a'), (2, 'b');
SELECT gtm.gtm_make_tenant_table('public.accounts', lead_keys => true, backfill_tenant => '$T1');
UPDATE public.accounts SET name = upper(name);
INSERT INTO public.accounts (tenant_id, id, name) VALUES ('$T2', 1, 'Z');
SQL
check "the migration role made and backfilled the table" \
  "$(q -d "$db" -c "SELECT string_agg(tenant_id || ':' || id || ':' || name, ',' ORDER BY tenant_id, id) FROM accounts")" \
  "$T1:1:A,$T1:2:B,$T2:1:Z"
check "the primary key leads with tenant_id" \
  "$(q -d "$db" -c "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'p'")" \
  "PRIMARY KEY (tenant_id, id)"
check "the default names the function in schema gtm" \
  "$(q -d "$db" -c "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'accounts'::regclass AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'tenant_id')")" \
  "gtm.gtm_current_tenant()"

# requests: the application role, gtm not in its search_path
out=$(as_app -c "SELECT gtm.gtm_set_tenant('$T1', false)" -c "SELECT count(*) FROM accounts WHERE tenant_id = gtm.gtm_current_tenant()" 2>&1 | tail -1)
check "the application role reads its tenant's rows" "$out" 2
out=$(as_app -c "SELECT count(*) FROM accounts" 2>&1)
case $out in *"is not pinned to one tenant"*) ok "the application role is checked";; *) nok "the application role is checked"; echo "# $out";; esac
out=$(as_app -c "UPDATE accounts SET name = 'x'" 2>&1)
case $out in *"is not pinned to one tenant"*) ok "an unpinned UPDATE by the application role is refused";; *) nok "an unpinned UPDATE by the application role is refused"; echo "# $out";; esac

# bulk import: COPY FROM with the tenant column left out, then a wrong row
printf '10\tten\n11\televen\n' > /tmp/gtm_app_schema.$$
as_app -c "SELECT gtm.gtm_set_tenant('$T2', false)" -c "\\copy accounts (id, name) FROM '/tmp/gtm_app_schema.$$'" >/dev/null 2>&1
check "COPY FROM fills the session tenant" \
  "$(q -d "$db" -c "SELECT string_agg(tenant_id || ':' || id, ',' ORDER BY id) FROM accounts WHERE id >= 10")" "$T2:10,$T2:11"
printf '%s\t12\ttwelve\n%s\t13\tthirteen\n' "$T2" "$T1" > /tmp/gtm_app_schema.$$
out=$(as_app -c "SELECT gtm.gtm_set_tenant('$T2', false)" -c "\\copy accounts (tenant_id, id, name) FROM '/tmp/gtm_app_schema.$$'" 2>&1)
rm -f /tmp/gtm_app_schema.$$
case $out in *'line 2 belongs to another tenant'*) ok "a wrong row is refused, naming its line";; *) nok "a wrong row is refused, naming its line"; echo "# $out";; esac
check "nothing of that COPY was written" "$(q -d "$db" -c "SELECT count(*) FROM accounts WHERE id >= 12")" 0

check "the lint of the application's schema is clean" \
  "$(q -d "$db" -c "SELECT gtm.gtm_schema_is_clean('{regress_app_schema_app}', '{public}')")" t

dropdb "$db"
q -d postgres -c "DROP ROLE regress_app_schema_app" -c "DROP ROLE regress_app_schema_mig" >/dev/null
