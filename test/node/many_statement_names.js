// test/node/many_statement_names.js -- the names of a client's named
// statements, which SQL PREPARE may not take (test/node/replaced_statement.js),
// are kept for at most 1,024 statements per connection
// (t/052_pgbouncer_and_node_pools_never_leak_a_tenant.pl): a client that
// binds more (pgjdbc re-preparing, PgBouncer's PGBOUNCER_<n> names) does
// not grow the backend for good; past the bound, SQL PREPARE is refused on
// that connection.  Arguments: connection JSON.  Prints one
// "check ok|fail <what>" line per check.
'use strict';
const { Client } = require('pg');

const [conf] = process.argv.slice(2);
const checks = [];
const check = (ok, what) => checks.push(`check ${ok ? 'ok' : 'fail'} ${what}`);
const shown = (res) => (res.error ? `${res.error.code} ${res.error.message}` : 'no error');

(async () => {
  const client = new Client(JSON.parse(conf));
  await client.connect();
  const kept = async () => (await client.query(`SELECT count(*)::int AS n FROM pg_backend_memory_contexts
      WHERE name = 'gtm_clarity client statements'`)).rows[0].n;
  const bind = (i) => client.query({ name: `stmt_${i}`, text: 'SELECT $1::int AS i', values: [i] });

  for (let i = 0; i < 1000; i++) await bind(i);
  check((await kept()) === 1, 'the names of 1,000 named statements are kept');
  let r = await client.query('PREPARE stmt_7 AS SELECT 1').then(() => ({}), (e) => ({ error: e }));
  check(r.error && r.error.code === '55000', `SQL PREPARE cannot take one of them (${shown(r)})`);
  r = await client.query('PREPARE own_name AS SELECT 1; DEALLOCATE own_name').then(() => ({}), (e) => ({ error: e }));
  check(!r.error, `SQL PREPARE of another name is allowed (${shown(r)})`);

  for (let i = 1000; i < 3000; i++) await bind(i);
  check((await kept()) === 0, 'past 1,024 names their memory is freed');
  r = await client.query('PREPARE other_name AS SELECT 1').then(() => ({}), (e) => ({ error: e }));
  check(r.error && r.error.code === '55000' && /not allowed on this connection/.test(r.error.message),
    `then any SQL PREPARE is refused on the connection (${shown(r)})`);
  r = await bind(5).then((res) => ({ rows: res.rows }), (e) => ({ error: e }));
  check(!r.error && r.rows[0].i === 5, 'the client\'s named statements still run');

  await client.end();
  console.log(checks.join('\n'));
})().catch((e) => { console.log(`check fail the program ran to its end (${e.message})`); process.exit(1); });
