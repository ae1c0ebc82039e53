// Starts the real wxlogin server against the fake WeChat, on ports the OS picks, for the tests.
//
// Builds both binaries first (a no-op when they are current, so a stale binary is never tested),
// unless WXLOGIN_BIN_DIR points at prebuilt ones. Needs a Postgres in DATABASE_URL (`just test`
// provides it); the server gets a fresh database of its own on that Postgres, dropped again by
// stop(). Each binary prints one line with its address once it is listening; nothing here waits
// on a timer.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const { createTestDatabase } = require('./database.js');

const REPO = path.resolve(__dirname, '..', '..');
const BIN_DIR = process.env.WXLOGIN_BIN_DIR || path.join(REPO, 'target', 'debug');
const APPID = 'wxminiprogramtest';
const SECRET = 'miniprogram-test-secret';

/** Why the server-backed tests cannot run here, or null when they can. */
function unavailableReason() {
  if (!process.env.DATABASE_URL) return 'DATABASE_URL is not set (run through `just test`)';
  return null;
}

function buildBinaries() {
  if (process.env.WXLOGIN_BIN_DIR) return;
  const result = spawnSync('cargo', ['build', '--quiet', '-p', 'wxlogin-server', '-p', 'fake-wechat'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.error || result.status !== 0) {
    throw new Error(`cargo build -p wxlogin-server -p fake-wechat failed (${result.error || result.status})`);
  }
}

function start(bin, env) {
  const child = spawn(path.join(BIN_DIR, bin), [], {
    env: Object.assign({}, process.env, { RUST_LOG: process.env.RUST_LOG || 'warn' }, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const address = new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = line.match(/listening on (?:http:\/\/)?(\S+)/);
      if (match) resolve(`http://${match[1].replace(/\/+$/, '')}`);
    });
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code} before listening:\n${stderr}`)));
    child.on('error', reject);
  });
  return { child, address };
}

/**
 * The fake WeChat and a wxlogin server wired to it, on a database of their own. `accessTokenTtl`
 * is in seconds. Resolves with { apiBase, wechatBase, databaseUrl, stop() }.
 */
async function startServers({ accessTokenTtl = 3600 } = {}) {
  buildBinaries();
  for (const bin of ['wxlogin-server', 'fake-wechat']) {
    if (!fs.existsSync(path.join(BIN_DIR, bin))) throw new Error(`${path.join(BIN_DIR, bin)} is missing`);
  }
  const database = createTestDatabase(process.env.DATABASE_URL);
  const children = [];
  // The processes go first, so that the server has closed its connections when the drop comes.
  const stopAll = async () => {
    await stop(children);
    database.drop();
  };
  try {
    const wechat = start('fake-wechat', {
      FAKE_WECHAT_ADDR: '127.0.0.1:0',
      FAKE_WECHAT_APPID: APPID,
      FAKE_WECHAT_SECRET: SECRET,
      FAKE_WECHAT_DEV: '1',
    });
    children.push(wechat.child);
    const wechatBase = await wechat.address;
    const server = start('wxlogin-server', {
      DATABASE_URL: database.url,
      LISTEN_ADDR: '127.0.0.1:0',
      METRICS_ADDR: '127.0.0.1:0',
      WECHAT_APPID: APPID,
      WECHAT_SECRET: SECRET,
      WECHAT_API_BASE: wechatBase,
      JWT_SECRET: 'miniprogram-tests-jwt-secret-0123456789abcdef',
      SESSION_KEY_SECRET: 'miniprogram-tests-sealing-secret-0123456789abcdef',
      ACCESS_TOKEN_TTL: String(accessTokenTtl),
      // Every test logs in from 127.0.0.1, far more often than one phone would.
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_REFRESH: 'off',
    });
    children.push(server.child);
    const apiBase = await server.address;
    return { apiBase, wechatBase, databaseUrl: database.url, stop: stopAll };
  } catch (error) {
    // The start failure is what to report; a failed cleanup only adds to it.
    await stopAll().catch((cleanup) => {
      error.message += `\n(and dropping database ${database.name} failed: ${cleanup.message})`;
    });
    throw error;
  }
}

function stop(children) {
  return Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
}

module.exports = { startServers, unavailableReason };
