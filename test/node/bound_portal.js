// test/node/bound_portal.js -- a portal bound under one session tenant and
// executed after gtm_set_tenant() changed it (t/051_citus_cluster_keeps_the_rule.pl).
// The extended protocol lets a client Bind a statement, run others, then
// Execute the portal: a plan in which the coordinator folded
// gtm_current_tenant() into a constant must not run for the new tenant.
// Arguments: port, role, tenant A, tenant B, SQL.  Prints one line per step,
// "<step>: <rows joined by ,>" or "<step>: ERROR <message>".
'use strict';
const { Connection } = require('pg');

const [port, role, tenantA, tenantB, sql] = process.argv.slice(2);
const con = new Connection();
const out = [];
let rows = [], err = null, onReady = null;

con.on('dataRow', (m) => rows.push(m.fields.map((f) => (f === null ? 'NULL' : f.toString())).join('|')));
con.on('errorMessage', (m) => { err = m.message; });
con.on('readyForQuery', () => { if (onReady) { const r = onReady; onReady = null; r(); } });
con.on('connect', () => con.startup({ user: role, database: 'gtm' }));
const ready = () => new Promise((resolve) => { onReady = resolve; });
async function step(label, send) {
  rows = []; err = null;
  const done = ready();
  send();
  await done;
  out.push(`${label}: ${err ? 'ERROR ' + err : rows.join(',')}`);
}

(async () => {
  const started = ready();
  con.connect(+port, '127.0.0.1');
  await started;
  await step('tenant A', () => con.query(`SELECT gtm_set_tenant('${tenantA}', false) IS NOT NULL`));
  await step('begin', () => con.query('BEGIN'));
  await step('bind', () => {
    con.parse({ name: 's1', text: sql, types: [] });
    con.bind({ portal: 'p1', statement: 's1', values: [] });
    con.sync();
  });
  await step('tenant B', () => con.query(`SELECT gtm_set_tenant('${tenantB}', false) IS NOT NULL`));
  await step('execute', () => { con.execute({ portal: 'p1', rows: 0 }); con.sync(); });
  await step('end', () => con.query('COMMIT'));
  console.log(out.join('\n'));
  con.end();
})().catch((e) => { console.log(`FAIL ${e.message}`); process.exit(1); });
