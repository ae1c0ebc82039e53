#!/usr/bin/env node
// Runs wxlogin locally: the fake WeChat API (unless real WECHAT_APPID and WECHAT_SECRET are
// given) and the server pointed at it. Meant to run under scripts/with-db.js (`just dev`), which
// sets DATABASE_URL and has loaded `.env`. Anything set by the user wins over the dev defaults
// below. Ctrl-C, or either process exiting, stops both; a stop asked for exits 0.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');

const env = { ...process.env };
const useFake = !(env.WECHAT_APPID && env.WECHAT_SECRET);

// Dev-only values, never to be used anywhere else: they match the fake WeChat's defaults.
const fakeAddr = env.FAKE_WECHAT_ADDR || '127.0.0.1:8081';
if (useFake) {
  env.FAKE_WECHAT_ADDR = fakeAddr;
  env.FAKE_WECHAT_APPID ||= 'wxdevappid0000000';
  env.FAKE_WECHAT_SECRET ||= 'devsecret';
  env.FAKE_WECHAT_DEV ||= '1'; // accepts any login code once, so the mini program works as is
  env.WECHAT_APPID = env.FAKE_WECHAT_APPID;
  env.WECHAT_SECRET = env.FAKE_WECHAT_SECRET;
  env.WECHAT_API_BASE ||= `http://${fakeAddr}`;
}
env.JWT_SECRET ||= 'dev-only-jwt-secret-never-use-outside-local-dev';
env.SESSION_KEY_SECRET ||= 'dev-only-session-key-sealing-secret-never-use-outside-local-dev';

function log(message) {
  console.error(`dev: ${message}`);
}

// Build once and run the binaries themselves: `cargo run` would wait on the build lock whenever
// another cargo (an editor, a test run) holds it. Cargo's JSON output names each executable.
// This is the dev profile that `just test` builds too, with the same features: `--examples`
// (there are none) has cargo count dev-dependencies when it unifies features, as `cargo test`
// does, and `--workspace` resolves them for what `cargo test --workspace` selects. Otherwise a
// shared dependency would get other features in the test build, and it and all that depend on
// it would compile a second time.
log('building the server and the fake WeChat (the first build takes about 4 minutes on 2 cores, later ones seconds)');
const build = spawnSync(
  'cargo',
  [
    'build', '--workspace', '--examples', '--bin', 'wxlogin-server', '--bin', 'fake-wechat',
    '--message-format=json-render-diagnostics',
  ],
  { stdio: ['inherit', 'pipe', 'inherit'], env, encoding: 'utf8', maxBuffer: 64 << 20 },
);
if (build.status !== 0) process.exit(build.status ?? 1);
const executables = {};
for (const line of build.stdout.split('\n')) {
  if (!line.includes('"executable":"')) continue;
  const msg = JSON.parse(line);
  if (msg.target.kind.includes('bin')) executables[msg.target.name] = msg.executable;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const children = new Set();
let stopping = false;

function start(pkg) {
  const child = spawn(executables[pkg], [], { stdio: 'inherit', env });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    // Both programs exit 0 only once told to stop, and a terminal's Ctrl-C reaches them directly,
    // possibly before it reaches us: that, or dying of a stop signal, is a stop and not a failure.
    const stopped = code === 0 || STOP_SIGNALS.includes(signal);
    if (!stopped) {
      process.exitCode = code || 1;
      if (!stopping) log(`${pkg} exited (${signal || code}); stopping the rest`);
    }
    stopAll('SIGTERM');
  });
  return child;
}

function stopAll(signal) {
  if (children.size === 0) process.exit();
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill(signal);
}

for (const sig of STOP_SIGNALS) process.on(sig, () => stopAll(sig));

function portAnswers(addr) {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    socket.once('connect', () => resolve(true) || socket.destroy());
    socket.once('error', () => resolve(false));
  });
}

async function main() {
  if (useFake) {
    if (await portAnswers(fakeAddr)) {
      log(`${fakeAddr} is already in use: set FAKE_WECHAT_ADDR to a free address`);
      process.exit(1);
    }
    log(`starting the fake WeChat API on ${fakeAddr} (appid ${env.WECHAT_APPID})`);
    start('fake-wechat');
    for (let waited = 0; !(await portAnswers(fakeAddr)); waited += 100) {
      if (stopping) return;
      if (waited > 30000) {
        log(`the fake WeChat API did not answer on ${fakeAddr} within 30 s`);
        process.exitCode = 1;
        return stopAll('SIGTERM');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } else {
    log(`using the real WeChat API for appid ${env.WECHAT_APPID}`);
  }
  if (stopping) return;
  log(`starting wxlogin-server on ${env.LISTEN_ADDR || '127.0.0.1:8080'}`);
  start('wxlogin-server');
}

main();
