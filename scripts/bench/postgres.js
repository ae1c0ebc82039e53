#!/usr/bin/env node
// Postgres chores for bench.sh, through the `pg` npm package so that no psql or sqlx-cli is needed.
//
//   node scripts/bench/postgres.js facts       key=value lines: version, durability settings, and
//                                              the postmaster's pid if it runs on this machine (else -)
//   node scripts/bench/postgres.js recreate DB drops database DB if it exists and creates it empty
//
// Connects to DATABASE_URL.
'use strict';

const fs = require('node:fs');
const { Client } = require('pg');

async function main() {
  const [command, name] = process.argv.slice(2);
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    if (command === 'facts') {
      const show = async (setting) => (await client.query(`SHOW ${setting}`)).rows[0][setting];
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const facts = [
        `version=${await show('server_version')}`,
        `fsync=${await show('fsync')}`,
        `synchronous_commit=${await show('synchronous_commit')}`,
        `full_page_writes=${await show('full_page_writes')}`,
        `postmaster=${postmasterOf(pid)}`,
      ];
      console.log(facts.join('\n'));
    } else if (command === 'recreate' && /^[a-z_][a-z0-9_]*$/.test(name || '')) {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
    } else {
      throw new Error('usage: postgres.js facts | recreate <database>');
    }
  } finally {
    await client.end();
  }
}

/**
 * The parent of our backend is the postmaster, if the backend is a process on this machine: its
 * /proc entry must exist and be a postgres. A remote server, or one in another PID namespace,
 * gives `-`, and bench.sh then reports no Postgres CPU time.
 */
function postmasterOf(backendPid) {
  try {
    const stat = fs.readFileSync(`/proc/${backendPid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!comm.startsWith('postgres')) return '-';
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
  } catch {
    return '-';
  }
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
