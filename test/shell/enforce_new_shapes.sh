#!/usr/bin/env bash
# enforce_new_shapes: statement shapes PostgreSQL 17 and 18 added, against the
# tenant-scope check (doc/pg-versions-porting.md, "New statement shapes").
# TAP output; the 17 checks are skipped on 15, the 18 checks on 15 and 17,
# since those statements do not parse there.  Runs against the server of the
# environment (PGHOST/PGPORT/PGUSER), as an ordinary role.
set -u
db=gtm_enforce_new_shapes
role=regress_enforce_new_shapes
T1=11111111-1111-4111-8111-111111111111
T2=22222222-2222-4222-8222-222222222222
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# run SQL as the ordinary role; prints the output (errors with their SQLSTATE)
as_app() {
  psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$db" \
    -c "SET ROLE $role" -c "$1" 2>&1
}
rejected() { grep -q "ERROR:  42501: tenant-scoped table" <<<"$1"; }

ver=$(psql -X -At -d postgres -c "SHOW server_version_num")
echo "1..38"

dropdb --if-exists "$db" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE $role;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    PRIMARY KEY (tenant_id, id));
CREATE VIEW open_deals AS SELECT * FROM deals WHERE stage <> 'closed';
CREATE VIEW t1_deals AS SELECT * FROM deals WHERE tenant_id = '$T1';
INSERT INTO deals VALUES ('$T1', 7, 'open'), ('$T1', 8, 'closed'), ('$T2', 7, 'open');
-- a label is any text a tenant chooses, here another tenant's id
CREATE TABLE labels (tenant_id text NOT NULL, id int NOT NULL, label text,
                     PRIMARY KEY (tenant_id, id));
INSERT INTO labels VALUES ('$T1', 1, '$T2');
CREATE TABLE notes (tenant_id text, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON labels, notes TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, open_deals, t1_deals TO $role;
CREATE FUNCTION sql_count(t text) RETURNS bigint LANGUAGE sql
  AS \$\$ SELECT count(*) FROM deals WHERE tenant_id = t \$\$;
SQL

# ---------------------------------------------------------------- PostgreSQL 17
if [ "$ver" -ge 170000 ]; then
  out=$(as_app "MERGE INTO deals d USING (VALUES (7, 'x')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING merge_action(), d.id")
  ok "MERGE ... RETURNING pinned in ON runs and returns its row" '[ "$out" = "UPDATE|7" ]'
  out=$(as_app "MERGE INTO deals d USING (VALUES (7, 'x')) s(i, st) ON d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING merge_action(), d.*")
  ok "MERGE ... RETURNING without a pin is rejected" 'rejected "$out"'
  out=$(as_app "MERGE INTO deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.tenant_id = '$T1' AND d.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE")
  ok "MERGE ... WHEN NOT MATCHED BY SOURCE with the pin only in ON is rejected" 'rejected "$out"'
  ok "... and the other tenant's rows are all still there" \
    '[ "$(psql -X -At -d "$db" -c "SELECT count(*) FROM deals WHERE tenant_id = '"'$T2'"'")" = 1 ]'
  out=$(as_app "MERGE INTO deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.tenant_id = '$T1' AND d.id = s.id
                WHEN NOT MATCHED BY SOURCE AND d.tenant_id = '$T1' THEN DELETE")
  ok "MERGE ... WHEN NOT MATCHED BY SOURCE AND <pin> is rejected (an action condition is no scan pin)" 'rejected "$out"'
  out=$(as_app "MERGE INTO open_deals d USING (VALUES (7, 'y')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING d.tenant_id")
  ok "MERGE into an updatable view, pinned, runs" '[ "$out" = "$T1" ]'
  out=$(as_app "MERGE INTO open_deals d USING (VALUES (7, 'z')) s(i, st) ON d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st")
  ok "MERGE into an updatable view without a pin is rejected" 'rejected "$out"'
  # NOT MATCHED BY SOURCE through a view whose definition pins the tenant:
  # the pin restricts the target scan itself, so only T1's rows are visited
  out=$(as_app "BEGIN; MERGE INTO t1_deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE RETURNING d.tenant_id, d.id;
                SELECT count(*) FROM deals WHERE tenant_id = '$T1'; ROLLBACK")
  ok "MERGE ... WHEN NOT MATCHED BY SOURCE into a view pinned by its definition deletes only that tenant's unmatched row" \
    '[ "$out" = "$(printf "%s\n%s" "$T1|8" 1)" ]'
  out=$(as_app "MERGE INTO t1_deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.id = s.id WHEN NOT MATCHED BY SOURCE THEN UPDATE SET tenant_id = '$T2'")
  ok "MERGE ... WHEN NOT MATCHED BY SOURCE moving the unmatched rows to another tenant is rejected" \
    'grep -q "ERROR:  42501: statement would move rows" <<<"$out"'
  out=$(as_app "SELECT count(*) FROM deals d, JSON_TABLE(to_jsonb(d), '\$' COLUMNS (t text PATH '\$.tenant_id')) jt")
  ok "JSON_TABLE over an unpinned tenant table is rejected" 'rejected "$out"'
  out=$(as_app "SELECT string_agg(jt.t, ',') FROM deals d,
                JSON_TABLE(to_jsonb(d), '\$' COLUMNS (t text PATH '\$.tenant_id')) jt WHERE d.tenant_id = '$T1'")
  ok "JSON_TABLE over a pinned tenant table returns only that tenant's rows" '[ "$out" = "$T1,$T1" ]'
  out=$(as_app "EXPLAIN (MEMORY, COSTS OFF) SELECT * FROM deals")
  ok "EXPLAIN (MEMORY) of an unpinned statement only warns, like plain EXPLAIN" \
    'grep -q "WARNING:  42501: tenant-scoped table" <<<"$out" && ! grep -q ERROR <<<"$out"'
  out=$(as_app "EXPLAIN (ANALYZE, SERIALIZE, COSTS OFF) SELECT * FROM deals")
  ok "EXPLAIN (ANALYZE, SERIALIZE) of an unpinned statement is rejected" 'rejected "$out"'
  # MERGE ... RETURNING in a data-modifying CTE whose rows are written
  # elsewhere: a column an action updates returns its new value, not the
  # one the ON clause pinned (labels row 1 of T1 holds T2's id as its label)
  out=$(as_app "WITH m AS (MERGE INTO labels l USING (VALUES (1)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i AND l.label = '$T1'
                WHEN MATCHED THEN UPDATE SET label = 'x' RETURNING l.label)
                INSERT INTO notes (tenant_id, body) SELECT label, 'merge' FROM m")
  ok "a MERGE's RETURNING of a column it updates is no tenant value for a write (rejected)" 'rejected "$out"'
  out=$(as_app "WITH m AS (MERGE INTO labels l USING (VALUES (1)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i
                WHEN MATCHED THEN UPDATE SET label = l.label RETURNING l.tenant_id)
                INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'merge' FROM m RETURNING tenant_id")
  ok "a MERGE's RETURNING of its pinned tenant column may be written (its tenant)" '[ "$out" = "$T1" ]'
else
  for i in $(seq 15); do skip "PostgreSQL 17 syntax (server is $ver)"; done
fi

# ---------------------------------------------------------------- PostgreSQL 18
if [ "$ver" -ge 180000 ]; then
  out=$(as_app "UPDATE deals SET stage = 'w' WHERE tenant_id = '$T1' AND id = 8 RETURNING old.stage, new.stage")
  ok "UPDATE ... RETURNING old/new, pinned, runs" '[ "$out" = "closed|w" ]'
  out=$(as_app "UPDATE deals SET tenant_id = '$T2' WHERE tenant_id = '$T1' AND id = 8
                RETURNING old.tenant_id, new.tenant_id")
  ok "UPDATE moving a row to another tenant with RETURNING old/new is rejected" \
    'grep -q "ERROR:  42501: statement would move rows" <<<"$out"'
  out=$(as_app "DELETE FROM deals WHERE id = 8 RETURNING old.*")
  ok "DELETE ... RETURNING old.* without a pin is rejected" 'rejected "$out"'
  out=$(as_app "SELECT string_agg(a.id::text, ',' ORDER BY a.id) FROM deals a
                JOIN deals b ON a.tenant_id = b.tenant_id AND a.id = b.id WHERE a.tenant_id = '$T1'")
  ok "a self-join on the key (self-join elimination) pinned on one side runs" '[ "$out" = "7,8" ]'
  out=$(as_app "SELECT count(*) FROM deals a JOIN deals b ON a.tenant_id = b.tenant_id AND a.id = b.id
                WHERE a.tenant_id = '$T1' AND b.tenant_id = '$T2'")
  ok "a self-join pinned to two tenants returns nothing" '[ "$out" = 0 ] || rejected "$out" || grep -q "ERROR:  42501" <<<"$out"'
  out=$(as_app "SELECT count(*) FROM deals WHERE tenant_id IN (VALUES ('$T1'), ('$T2'))")
  ok "IN (VALUES two tenants), now = ANY, is rejected" 'rejected "$out"'
  out=$(as_app "SELECT * FROM (SELECT tenant_id, count(*) FROM deals GROUP BY tenant_id) s WHERE s.tenant_id = '$T1'")
  ok "a grouped subquery pinned from outside (RTE_GROUP) returns one tenant" '[ "$out" = "$T1|2" ]'
  # SQL functions go through the plan cache from 18 on: each call is still
  # checked, and a statement may reach one tenant (statement scope)
  out=$(as_app "SELECT sql_count('$T1')"; as_app "SELECT sql_count('$T2')")
  ok "a SQL function (plan cache) pinned by its argument counts each tenant" '[ "$out" = "$(printf "2\n1")" ]'
  out=$(as_app "SELECT sql_count('$T1'), sql_count('$T2')")
  ok "a SQL function (plan cache) called for two tenants in one statement is rejected" \
    'grep -q "ERROR:  42501: statement touches more than one tenant" <<<"$out"'
  out=$(as_app "MERGE INTO deals d USING (VALUES (7, 'v')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING old.stage, new.stage")
  ok "MERGE ... RETURNING old/new, pinned, runs" '[ "$out" = "y|v" ]'
  out=$(as_app "MERGE INTO deals d USING (VALUES (9, 'n')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN NOT MATCHED THEN INSERT VALUES ('$T2', s.i, s.st) RETURNING new.*")
  ok "MERGE pinned to one tenant inserting a row of another, RETURNING new.*, is rejected" \
    'grep -q "ERROR:  42501: statement touches more than one tenant" <<<"$out"'
  # a virtual generated tenant column: the planner replaces it by its
  # expression before the check runs, so it is refused with its own reason
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE TABLE vg (k text NOT NULL, tenant_id text GENERATED ALWAYS AS (split_part(k, ':', 1)) VIRTUAL, v int);
INSERT INTO vg (k, v) VALUES ('$T1:1', 1), ('$T2:1', 2);
GRANT SELECT, INSERT, UPDATE ON vg TO $role;
SQL
  virtual() { rejected "$1" && grep -q "DETAIL:  vg.tenant_id is a virtual generated column" <<<"$1"; }
  out=$(as_app "SELECT string_agg(v::text, ',') FROM vg WHERE tenant_id = '$T1'")
  ok "a virtual generated tenant column, compared with a tenant, is refused as virtual" 'virtual "$out"'
  out=$(as_app "SELECT count(*) FROM vg")
  ok "a table with a virtual generated tenant column, unpinned, is refused as virtual" 'virtual "$out"'
  out=$(as_app "UPDATE vg SET v = 5 WHERE tenant_id = '$T1'")
  ok "an UPDATE of a table with a virtual generated tenant column is refused as virtual" 'virtual "$out"'
  out=$(as_app "INSERT INTO vg (k, v) VALUES ('$T1:2', 3)")
  ok "an INSERT into a table with a virtual generated tenant column is rejected (generated)" \
    'rejected "$out" && grep -q "DETAIL:  vg.tenant_id is a generated column" <<<"$out"'
  out=$(as_app "SELECT reason FROM gtm_check_statement('SELECT v FROM vg WHERE tenant_id = ''$T1''')")
  ok "gtm_check_statement gives the reason" '[ "$out" = "the tenant column is a virtual generated column" ]'
  # RETURNING old/new in a data-modifying CTE whose rows are written elsewhere
  out=$(as_app "WITH u AS (UPDATE labels SET label = '$T1' WHERE tenant_id = '$T1' AND id = 1 RETURNING old.label AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'old' FROM u")
  ok "an UPDATE's RETURNING old.col is the row as read, not the value set (rejected)" 'rejected "$out"'
  out=$(as_app "WITH u AS (UPDATE labels SET label = label WHERE tenant_id = '$T1' AND id = 1 RETURNING old.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'old' FROM u RETURNING tenant_id")
  ok "an UPDATE's RETURNING old.tenant_id may be written (its tenant)" '[ "$out" = "$T1" ]'
  out=$(as_app "WITH i AS (INSERT INTO labels VALUES ('$T1', 2, 'y') RETURNING old.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'ins-old' FROM i")
  ok "an INSERT's RETURNING old.tenant_id (NULL) is no tenant value (rejected)" \
    'rejected "$out" && grep -q "DETAIL:  .* can be NULL" <<<"$out"'
  out=$(as_app "WITH d AS (DELETE FROM labels WHERE tenant_id = '$T1' AND id = 1 RETURNING new.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'del-new' FROM d")
  ok "a DELETE's RETURNING new.tenant_id (NULL) is no tenant value (rejected)" 'rejected "$out"'
  ok "... and no note was written by any of them but the two allowed" \
    '[ "$(psql -X -At -d "$db" -c "SELECT string_agg(coalesce(tenant_id, '"'NULL'"') || '"':'"' || body, '"','"' ORDER BY body) FROM notes")" = "$T1:merge,$T1:old" ]'
  # temporal foreign keys (WITHOUT OVERLAPS / PERIOD): PostgreSQL's own
  # checks of them run as usual for an ordinary role (btree_gist, from contrib)
  if psql -X -q -d "$db" -c "CREATE EXTENSION IF NOT EXISTS btree_gist" >/dev/null 2>&1; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE TABLE rooms (tenant_id text NOT NULL, id int NOT NULL, valid daterange NOT NULL,
                    PRIMARY KEY (tenant_id, id, valid WITHOUT OVERLAPS));
CREATE TABLE bookings (tenant_id text NOT NULL, room int NOT NULL, valid daterange NOT NULL,
                       FOREIGN KEY (tenant_id, room, PERIOD valid) REFERENCES rooms (tenant_id, id, PERIOD valid));
INSERT INTO rooms VALUES ('$T1', 1, '[2026-01-01,2027-01-01)'), ('$T2', 1, '[2026-01-01,2027-01-01)');
GRANT SELECT, INSERT, UPDATE, DELETE ON rooms, bookings TO $role;
SQL
    out=$(as_app "INSERT INTO bookings VALUES ('$T1', 1, '[2026-02-01,2026-03-01)')"
          as_app "INSERT INTO bookings VALUES ('$T1', 1, '[2027-02-01,2027-03-01)')")
    ok "a temporal foreign key is checked for an ordinary role (23503, not 42501)" \
      'grep -q "ERROR:  23503: insert or update on table \"bookings\"" <<<"$out" && ! grep -q 42501 <<<"$out"'
    out=$(as_app "DELETE FROM rooms WHERE tenant_id = '$T1' AND id = 1")
    ok "... and so is deleting a row it references" 'grep -q "ERROR:  23503: update or delete on table \"rooms\"" <<<"$out"'
  else
    skip "btree_gist is not available"; skip "btree_gist is not available"
  fi
else
  for i in $(seq 23); do skip "PostgreSQL 18 syntax (server is $ver)"; done
fi

dropdb --if-exists "$db" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
exit $failed
