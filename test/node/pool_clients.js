// test/node/pool_clients.js -- an application's requests through connection
// pools, with node-postgres (issue 8).  Driven by
// t/052_pgbouncer_and_node_pools_never_leak_a_tenant.pl,
// which makes the database, starts PgBouncer and reads the lines printed
// here: "check <ok|fail> <description>" for each assertion, "# ..." for
// figures.  Arguments: mode (pgbouncer | direct) and JSON connection
// settings for the pooled side and for the single-connection side.
//
// Each request is what the README tells application developers to write:
// a transaction that calls gtm_set_tenant($1) and then reads its rows with
// "tenant_id = gtm_current_tenant()" or "tenant_id = $1".
'use strict';
const pg = require('pg');

const mode = process.argv[2];
const poolConf = JSON.parse(process.argv[3]);
const oneConf = JSON.parse(process.argv[4]);
const TENANTS = JSON.parse(process.argv[5]);      // [{id, label}]
const CLIENTS = 20, REQUESTS = 50, ROWS_PER_TENANT = 5;

function check(ok, what) {
  console.log(`check ${ok ? 'ok' : 'fail'} ${what}`);
}

// One request of client c, number i: returns {wrong, missing}.
// The statement form rotates: unnamed extended protocol with
// gtm_current_tenant(), the tenant as a bound parameter, and (where the
// pool keeps server connections per client, or the name is new in this
// transaction) a named prepared statement.
async function request(client, c, i, namedOk) {
  const t = TENANTS[(c + i) % TENANTS.length];
  const form = i % 3;
  await client.query('BEGIN');
  try {
    await client.query('SELECT gtm_set_tenant($1)', [t.id]);
    let res;
    if (form === 0) {
      res = await client.query(
        'SELECT tenant_id, label FROM pool_deals WHERE tenant_id = gtm_current_tenant()');
    } else if (form === 1) {
      res = await client.query(
        'SELECT tenant_id, label FROM pool_deals WHERE tenant_id = $1', [t.id]);
    } else {
      // PgBouncer 1.18 in transaction mode keeps no named statement across
      // transactions: the name is new in each request there.
      const name = namedOk ? 'by_current_tenant' : `req_${c}_${i}`;
      res = await client.query({
        name,
        text: 'SELECT tenant_id, label FROM pool_deals WHERE tenant_id = gtm_current_tenant()',
      });
    }
    await client.query('COMMIT');
    let wrong = 0;
    for (const r of res.rows)
      if (r.tenant_id !== t.id || !r.label.startsWith(t.label)) wrong++;
    return { wrong, missing: Math.max(0, ROWS_PER_TENANT - (res.rows.length - wrong)) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

async function load(namedOk, getClient, release) {
  let wrong = 0, missing = 0, errors = 0, done = 0;
  const firstErrors = [];
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; i < REQUESTS; i++) {
      const client = await getClient(c);
      try {
        const r = await request(client, c, i, namedOk);
        wrong += r.wrong;
        missing += r.missing;
        done++;
      } catch (e) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push(`${e.code} ${e.message}`);
      } finally {
        release(client, c);
      }
    }
  }));
  for (const e of firstErrors) console.log(`# error: ${e}`);
  return { wrong, missing, errors, done };
}

// A request that forgot gtm_set_tenant, on a connection a request with a
// tenant used just before: an error, and no rows.
async function expectNoTenant(client, query, what) {
  try {
    const res = await client.query(query);
    check(false, `${what}: no error (${res.rows.length} rows)`);
  } catch (e) {
    check(e.code === '55000' && /no tenant is set/.test(e.message) &&
          /BEGIN; SELECT gtm_set_tenant\(\$1\)/.test(e.hint || ''),
          `${what}: error 55000 "${e.message}", no rows`);
  }
}

async function leakChecks(one1, one2) {
  const [t1, t2, t3] = TENANTS;
  const q = 'SELECT tenant_id, label FROM pool_deals WHERE tenant_id = gtm_current_tenant()';
  const viaBouncer = mode === 'pgbouncer';
  const who = viaBouncer ? 'a later PgBouncer client on the same server connection' :
    'the next request on the same pooled connection';

  // request 1: sets T1 in its transaction, and prepares a named statement
  await one1.query('BEGIN');
  await one1.query('SELECT gtm_set_tenant($1)', [t1.id]);
  const r1 = await one1.query({ name: 'leak_q', text: q });
  await one1.query('COMMIT');
  check(r1.rows.length === 5 && r1.rows.every((r) => r.tenant_id === t1.id),
        'a request with its tenant set reads its 5 rows');
  const pid1 = (await one1.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  const pid2 = (await one2.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  check(pid1 === pid2, `both requests ran on one server connection (${pid1}, ${pid2})`);

  // request 1's named statement, in its next transactions: with another
  // tenant it reads that tenant's rows, with none it fails
  await one1.query('BEGIN');
  await one1.query('SELECT gtm_set_tenant($1)', [t2.id]);
  const r1b = await one1.query({ name: 'leak_q', text: q });
  await one1.query('COMMIT');
  check(r1b.rows.length === 5 && r1b.rows.every((r) => r.tenant_id === t2.id),
        'a named prepared statement executed in a later transaction with another tenant reads only its 5 rows');
  await expectNoTenant(one1, { name: 'leak_q', text: q },
                       'the same named prepared statement in a later transaction without a tenant');

  // request 2 sets no tenant: simple protocol, unnamed extended protocol,
  // and the named statement request 1 prepared on that server connection
  await expectNoTenant(one2, q, `${who}, simple query protocol`);
  await expectNoTenant(one2, { text: q, queryMode: 'extended' },
                       `${who}, unnamed prepared statement (extended protocol)`);
  await expectNoTenant(one2, { text: q.replace('= gtm_current_tenant()', '= gtm_current_tenant() AND label <> $1'),
                               values: ['x'] },
                       `${who}, unnamed prepared statement with a parameter`);
  // node-postgres parses a name once per client connection; tell this
  // client the server connection already has it, as a driver reusing it
  // would.  PgBouncer 1.21 and later track each client's prepared
  // statements and refuse a name this client never prepared (26000, and
  // it closes the connection): no rows either way.
  one2.connection.parsedStatements.leak_q = q;
  try {
    const res = await one2.query({ name: 'leak_q', text: q });
    check(false, `${who}, the named prepared statement of the earlier request: no error (${res.rows.length} rows)`);
  } catch (e) {
    check((e.code === '55000' && /no tenant is set/.test(e.message)) ||
          (viaBouncer && /prepared statement/.test(e.message)),
          `${who}, the named prepared statement of the earlier request: error ${e.code} "${e.message}", no rows`);
  }
  if (viaBouncer) {           // a new client, in case PgBouncer closed that one
    await one2.end().catch(() => {});
    one2 = new pg.Client(oneConf);
    one2.on('error', () => {});
    await one2.connect();
    one2.connection.parsedStatements.leak_q = q;
  }
  // a named statement of its own, in its own transaction: its tenant's rows
  await one2.query('BEGIN');
  await one2.query('SELECT gtm_set_tenant($1)', [t3.id]);
  const r2 = await one2.query({ name: viaBouncer ? 'own_q' : 'leak_q', text: q });
  await one2.query('COMMIT');
  check(r2.rows.length === 5 && r2.rows.every((r) => r.tenant_id === t3.id),
        `${who}, a named statement with its own tenant, reads only that tenant's 5 rows`);

  // session scope is refused, and leaves nothing for the next request
  try {
    await one1.query('SELECT gtm_set_tenant($1, false)', [t1.id]);
    check(false, 'gtm_set_tenant(t, false) was accepted');
  } catch (e) {
    check(e.code === '55000' && /whole session is not allowed/.test(e.message),
          `gtm_set_tenant(t, false) is refused: ${e.code} "${e.message}"`);
  }
  // outside a transaction: a warning, and no lasting effect
  const notices = [];
  one1.on('notice', (n) => notices.push(n));
  await one1.query('SELECT gtm_set_tenant($1)', [t1.id]);
  check(notices.some((n) => n.code === '25P01'),
        'gtm_set_tenant outside a transaction warns (25P01)');
  await expectNoTenant(one2, q, `${who}, after a gtm_set_tenant outside a transaction`);

  // a statement that forgot the tenant condition: 42501 with the fields
  // an application recognises it by; an ordinary permission error has none
  try {
    await one2.query('SELECT * FROM pool_deals');
    check(false, 'an unpinned statement ran');
  } catch (e) {
    check(e.code === '42501' && e.schema === 'public' && e.table === 'pool_deals' &&
          e.column === 'tenant_id',
          `a tenant-scope rejection has code 42501, schema ${e.schema}, table ${e.table}, column ${e.column}`);
  }
  try {
    await one2.query('SELECT * FROM pool_secret WHERE tenant_id = $1', [t1.id]);
    check(false, 'a table without privilege was read');
  } catch (e) {
    check(e.code === '42501' && e.column === undefined && e.table === undefined,
          `an ordinary permission error has code 42501 and no column (${e.column})`);
  }
  return one2;
}

async function main() {
  // the load: 20 clients x 50 requests x 3 tenants
  let r;
  if (mode === 'pgbouncer') {
    const clients = [];
    for (let c = 0; c < CLIENTS; c++) {
      const cl = new pg.Client(poolConf);
      await cl.connect();
      clients.push(cl);
    }
    r = await load(false, (c) => clients[c], () => {});
    const servers = (await clients[0].query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = current_user")).rows[0].n;
    console.log(`# server connections of the application role: ${servers}`);
    await Promise.all(clients.map((cl) => cl.end()));
  } else {
    const pool = new pg.Pool({ ...poolConf, max: 4 });
    r = await load(true, () => pool.connect(), (cl) => cl.release());
    await pool.end();
  }
  console.log(`# ${r.done} requests done, ${r.errors} errors, ${r.wrong} wrong-tenant rows, ${r.missing} rows missing`);
  check(r.done === CLIENTS * REQUESTS, `${CLIENTS} clients x ${REQUESTS} requests all done (${r.done})`);
  check(r.errors === 0, `no request failed (${r.errors} errors)`);
  check(r.wrong === 0, `no request saw another tenant's row (${r.wrong} wrong-tenant rows)`);
  check(r.missing === 0, `every request read all its tenant's rows (${r.missing} missing)`);

  // the leak checks, on one server connection
  let one1, one2, pool1;
  if (mode === 'pgbouncer') {
    one1 = new pg.Client(oneConf);
    one2 = new pg.Client(oneConf);
    one1.on('error', () => {});
    one2.on('error', () => {});
    await one1.connect();
    await one2.connect();
  } else {
    pool1 = new pg.Pool({ ...oneConf, max: 1 });
    one1 = await pool1.connect();
  }
  if (mode === 'pgbouncer') {
    const two = await leakChecks(one1, one2);
    await one1.end();
    await two.end().catch(() => {});
  } else {
    // the plain pool hands the same connection (and client object) back
    one1.release();
    one2 = await pool1.connect();
    one2.release();
    const a = await pool1.connect();
    await leakChecks(a, a);
    a.release();
    await pool1.end();
  }
}

main().catch((e) => {
  check(false, `the client program failed: ${e.code} ${e.message}`);
  process.exitCode = 1;
});
