// test/node/replaced_statement.js -- a client's named statements replaced
// by an earlier request's SQL PREPARE (t/052_pgbouncer_and_node_pools_never_leak_a_tenant.pl).
// node-postgres prepares a named query once per connection (Parse) and
// later only Binds it.  A request of tenant T1 on the same server
// connection replaces two of them (DEALLOCATE, then PREPARE under the same
// name): the request's own "SELECT gtm_set_tenant($1)" by a no-op, and a
// read by one pinned to T1.  The next request, of T2, must get an error,
// never T1's rows.  Arguments: connection JSON, T1, T2.  Prints one
// "check ok|fail <what>" line per check.
'use strict';
const { Client } = require('pg');

const [conf, t1, t2, mode] = process.argv.slice(2);
const checks = [];
const check = (ok, what) => checks.push(`check ${ok ? 'ok' : 'fail'} ${what}`);

const setTenant = (t) => ({ name: 'set_tenant', text: 'SELECT gtm_set_tenant($1)', values: [t] });
const getDeal = (id) => ({
  name: 'get_deal',
  text: 'SELECT tenant_id, label FROM pool_deals WHERE tenant_id = gtm_current_tenant() AND id = $1',
  values: [id],
});

async function attempt(client, queries) {
  try {
    await client.query('BEGIN');
    let rows = [];
    for (const q of queries) rows = (await client.query(q)).rows;
    await client.query('COMMIT');
    return { rows };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    return { error: e };
  }
}

(async () => {
  const client = new Client(JSON.parse(conf));
  await client.connect();

  // an honest request of T2 prepares the two named statements
  let r = await attempt(client, [setTenant(t2), getDeal(1)]);
  check(!r.error && r.rows.length === 1 && r.rows[0].label === 'two-deal-1',
    'an honest request of T2 reads its deal through named statements');

  // the attacker's request, of T1, tries to replace them (simple protocol,
  // plain SQL): a SQL PREPARE of a name the client's statements have is
  // refused (55000); PgBouncer 1.22 and later keeps a client's statements
  // under names of its own on the server, which SQL cannot reach (26000)
  r = await client.query(`BEGIN; SELECT gtm_set_tenant('${t1}');
    DEALLOCATE set_tenant; PREPARE set_tenant(text) AS SELECT $1::text AS gtm_set_tenant;
    DEALLOCATE get_deal; PREPARE get_deal(int) AS
      SELECT tenant_id, label FROM pool_deals WHERE tenant_id = '${t1}' AND id = $1;
    COMMIT`).then(() => ({}), (e) => ({ error: e }));
  if (r.error) await client.query('ROLLBACK').catch(() => {});
  const shown = (res) => (res.error ? `${res.error.code} ${res.error.message}` : `rows: ${JSON.stringify(res.rows)}`);
  check(r.error && (r.error.code === '55000' || (mode !== 'direct' && r.error.code === '26000')),
    `an earlier request cannot replace them (${shown(r)})`);
  const neverT1 = (res) => res.error || (res.rows.length === 1 && res.rows[0].label === 'two-deal-1');

  // the next request of T2: its own row or an error, never T1's row
  r = await attempt(client, [setTenant(t2), getDeal(1)]);
  check(neverT1(r), `the next request of T2 reads its own row or fails, never T1's (${shown(r)})`);
  // ... also a request that pins by parameter and never sets a tenant
  r = await client.query(getDeal(1))
    .then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  check(neverT1(r), `a request without gtm_set_tenant() never reads T1's row (${shown(r)})`);

  // ... also a client's name longer than 63 bytes, which the server cuts
  const long = 'update_deal_stage_for_tenant_by_id_returning_nothing_important_v2';
  const longQuery = { name: long, text: 'SELECT label FROM pool_deals WHERE tenant_id = $1 AND id = $2', values: [t2, 2] };
  r = await client.query(longQuery).then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  check(!r.error && r.rows.length === 1, 'a long-named statement of T2 reads its deal');
  r = await client.query(`DEALLOCATE "${long.slice(0, 63)}"; PREPARE "${long.slice(0, 63)}"(text, int) AS
      SELECT label FROM pool_deals WHERE tenant_id = '${t1}' AND id = $2`).then(() => ({}), (e) => ({ error: e }));
  check(mode !== 'direct' || (r.error && r.error.code === '55000'),
    `... it cannot be replaced under its first 63 bytes (${shown(r)})`);
  r = await client.query(longQuery).then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  check(r.error || (r.rows.length === 1 && r.rows[0].label === 'two-deal-2'),
    `... and it never reads T1's row (${shown(r)})`);

  // ... also a statement whose first Bind failed (bad input), which the
  // client keeps as prepared although it never ran: its name is reserved
  // when SQL DEALLOCATE removes it
  const byNum = (id) => ({ name: 'by_num', text: 'SELECT label FROM pool_deals WHERE tenant_id = $1 AND id = $2', values: [t2, id] });
  r = await client.query(byNum('abc')).then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  r = await client.query(`DEALLOCATE by_num; PREPARE by_num(text, int) AS
      SELECT label FROM pool_deals WHERE tenant_id = '${t1}' AND id = $2`).then(() => ({}), (e) => ({ error: e }));
  check(r.error && (r.error.code === '55000' || (mode !== 'direct' && r.error.code === '26000')),
    `a statement whose first Bind failed cannot be replaced either (${shown(r)})`);
  r = await client.query(byNum(1)).then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  check(r.error || (r.rows.length === 1 && r.rows[0].label === 'two-deal-1'),
    `... and it never reads T1's row (${shown(r)})`);

  await client.end();
  console.log(checks.join('\n'));
})().catch((e) => { console.log(`check fail the program ran to its end (${e.message})`); process.exit(1); });
