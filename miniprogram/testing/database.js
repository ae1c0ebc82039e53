// A Postgres database of the tests' own, so that the users, sessions and avatars the server-backed
// tests make never land in the database DATABASE_URL names (under `just test` that is the
// developer's `just dev` database, or CI's).
//
// It lives on the same Postgres server. It is created and dropped through the `postgres`
// maintenance database, reached with DATABASE_URL's user, password, host and options, since a
// database cannot be dropped over a connection to itself. It starts empty: the server under test
// runs its embedded migrations when it starts.
//
// pg runs in a child Node process (this file, run as a script), never in the test process: that
// one is made to look like a phone (testing/runtime.js removes WebAssembly, TextEncoder, fetch,
// ...), and pg uses them; merely loading it sets Node's fetch compiling WebAssembly in the
// background, which then fails.
'use strict';

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');

/** `url` naming `database` instead of the database it names. */
function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Runs `sql` with `params` on the database `url` names and returns the rows. */
function query(url, sql, params = []) {
  const child = spawnSync(process.execPath, [__filename], {
    input: JSON.stringify({ url, sql, params }),
    encoding: 'utf8',
  });
  if (child.status !== 0) {
    // Not the URL: it may hold a password.
    throw new Error(`${sql}: ${(child.stderr || String(child.error)).trim()}`);
  }
  return JSON.parse(child.stdout);
}

/**
 * Creates an empty database on the server `baseUrl` points at, under a name of its own: node
 * --test runs the test files in parallel, each with its own server. Returns
 * `{ name, url, drop() }`.
 */
function createTestDatabase(baseUrl) {
  // Only [a-z0-9_], so the name needs no quoting beyond the double quotes below.
  const name = `wxlogin_mptest_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const maintenance = withDatabase(baseUrl, 'postgres');
  query(maintenance, `CREATE DATABASE "${name}"`);
  return {
    name,
    url: withDatabase(baseUrl, name),
    // FORCE ends connections a server that did not exit cleanly may still hold, which would
    // otherwise make the drop fail and leave the database behind.
    drop: () => query(maintenance, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** The child's side of query(): one query from stdin, its rows as JSON on stdout. */
async function runQuery({ url, sql, params }) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  runQuery(JSON.parse(fs.readFileSync(0, 'utf8'))).then(
    (rows) => process.stdout.write(JSON.stringify(rows)),
    (error) => {
      process.stderr.write(error.message);
      process.exitCode = 1;
    },
  );
}

module.exports = { createTestDatabase, query };
