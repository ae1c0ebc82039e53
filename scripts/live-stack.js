// A live wxlogin for end-to-end checks: builds the server and the fake WeChat, gives the run a
// database of its own, starts both on free loopback ports and stops them again. Used by
// examples/run.js and the browser tests in web-tests/. Needs DATABASE_URL
// (scripts/with-db.js, as `just test` runs it).
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** Builds the two binaries and returns their paths by target name. */
function build() {
  const result = spawnSync(
    'cargo',
    ['build', '--message-format=json-render-diagnostics', '-p', 'wxlogin-server', '-p', 'fake-wechat'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`cargo build failed (${result.status ?? result.error})`);
  const executables = {};
  for (const line of result.stdout.split('\n')) {
    if (!line.includes('"executable":"')) continue;
    const message = JSON.parse(line);
    if (message.target.kind.includes('bin')) executables[message.target.name] = message.executable;
  }
  return executables;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A database of its own, so that a run's users never land in the developer's data. */
async function scratchDatabase(databaseUrl, prefix) {
  const { Client } = require('pg');
  const name = `${prefix}_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Starts `executable`, keeping its output to show if something goes wrong. */
function start(executable, env) {
  const child = spawn(executable, [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (chunk) => (child.output += chunk));
  child.stderr.on('data', (chunk) => (child.output += chunk));
  return child;
}

async function waitUntilReady(url, child) {
  for (let waited = 0; waited < 60000; waited += 100) {
    if (child.exitCode !== null) throw new Error(`${path.basename(child.spawnfile)} exited (${child.exitCode}):\n${child.output}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within 60 s:\n${child.output}`);
}

/**
 * Builds and starts the fake WeChat and wxlogin on a scratch database. `serverEnv` and
 * `wechatEnv` add to or override the defaults. Returns `{base, wechatBase, server, wechat, stop}`;
 * always call `stop()`, which stops both and drops the database.
 */
async function startStack({ appid = 'wxlivestackappid0', serverEnv = {}, wechatEnv = {}, dbPrefix = 'wxlogin_live' } = {}) {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set; run through scripts/with-db.js, as `just test` does');
  const executables = build();
  const db = await scratchDatabase(process.env.DATABASE_URL, dbPrefix);
  const children = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode !== null ? null : new Promise((resolve) => child.once('exit', resolve)))));
    await db.drop();
  };
  try {
    const [wechatPort, serverPort] = [await freePort(), await freePort()];
    const secret = crypto.randomBytes(16).toString('hex');
    const wechat = start(executables['fake-wechat'], {
      ...process.env,
      FAKE_WECHAT_ADDR: `127.0.0.1:${wechatPort}`,
      FAKE_WECHAT_APPID: appid,
      FAKE_WECHAT_SECRET: secret,
      FAKE_WECHAT_DEV: '1', // accepts any login code once
      ...wechatEnv,
    });
    children.push(wechat);
    const server = start(executables['wxlogin-server'], {
      ...process.env,
      RUST_LOG: 'warn',
      DATABASE_URL: db.url,
      LISTEN_ADDR: `127.0.0.1:${serverPort}`,
      METRICS_ADDR: '127.0.0.1:0',
      WECHAT_APPID: appid,
      WECHAT_SECRET: secret,
      WECHAT_API_BASE: `http://127.0.0.1:${wechatPort}`,
      // base64: hex has only 16 symbols, and wxlogin asks for at least 16 different characters.
      SESSION_KEY_SECRET: crypto.randomBytes(48).toString('base64'),
      ...serverEnv,
    });
    children.push(server);
    const base = `http://127.0.0.1:${serverPort}`;
    await waitUntilReady(`${base}/readyz`, server);
    return { base, wechatBase: `http://127.0.0.1:${wechatPort}`, server, wechat, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

module.exports = { ROOT, build, freePort, scratchDatabase, start, waitUntilReady, startStack };
