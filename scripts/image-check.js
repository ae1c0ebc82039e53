#!/usr/bin/env node
// `just deploy-check`, first part: runs the images `just image` built, as a deployment would: the fake WeChat
// and wxlogin in containers, against the Postgres at DATABASE_URL (a scratch database of its
// own), waits for /readyz, logs in once and reads /api/me, then stops both and drops the
// database. Also checks what the images promise: under 25 MB, a non-root user, listening on
// 0.0.0.0:8080 by default. Needs podman; skipped, saying so, where it is missing, except in CI
// (`CI=true`), where that fails.
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, freePort, scratchDatabase, waitUntilReady } = require('./live-stack');

const MAX_IMAGE_BYTES = 25 * 1000 * 1000;
const APPID = 'wximagecheckapp01';

// What podman needs to run containers in a sandboxed CI runner: the runc runtime, the cgroupfs
// manager and no default ulimits. Harmless on an ordinary machine.
const CONTAINERS_CONF = path.join(ROOT, 'target', 'image', 'containers.conf');

function podman(args, { check = true } = {}) {
  const runtime = commandExists('runc') ? ['--runtime', 'runc'] : [];
  const result = spawnSync('podman', [...runtime, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CONTAINERS_CONF },
  });
  if (check && result.status !== 0) {
    throw new Error(`podman ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  }
  return result;
}

function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function version() {
  const manifest = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  return /^version = "(.+)"/m.exec(manifest)[1];
}

/** What the image says about itself: size, user, environment, labels. */
function inspect(image) {
  const [info] = JSON.parse(podman(['image', 'inspect', image]).stdout);
  return info;
}

function checkImage(image) {
  const info = inspect(image);
  assert.ok(info.Size < MAX_IMAGE_BYTES, `${image} is ${info.Size} bytes, over 25 MB`);
  assert.equal(info.Config.User, '65532:65532', `${image} runs as a non-root user`);
  assert.equal(info.Config.Labels['org.opencontainers.image.version'], version());
  assert.equal(info.RootFS.Layers.length, 1, `${image} is one layer: the binary`);
  console.log(`image-check: ${image}: ${(info.Size / 1e6).toFixed(1)} MB, user ${info.Config.User}`);
  return info;
}

async function main() {
  if (!commandExists('podman')) {
    if (process.env.CI === 'true') throw new Error('podman is not installed, and CI must run the image check (apt-get install podman runc)');
    console.log('image-check: skipped: podman is not installed (apt-get install podman runc)');
    return;
  }
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set; run through scripts/with-db.js, as `just deploy-check` does');
  fs.mkdirSync(path.dirname(CONTAINERS_CONF), { recursive: true });
  fs.writeFileSync(CONTAINERS_CONF, '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n');

  const tag = version();
  const server = checkImage(`wxlogin:${tag}`);
  assert.ok(server.Config.Env.includes('LISTEN_ADDR=0.0.0.0:8080'), 'wxlogin listens on 0.0.0.0:8080 by default');
  checkImage(`wxlogin-fake-wechat:${tag}`);

  const db = await scratchDatabase(process.env.DATABASE_URL, 'wxlogin_image');
  const names = [];
  try {
    // Host networking: the containers reach CI's Postgres on loopback, and we reach them.
    const [wechatPort, serverPort] = [await freePort(), await freePort()];
    const suffix = `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    const run = (name, image, env) => {
      names.push(name);
      const vars = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
      podman(['run', '--detach', '--network', 'host', '--name', name, ...vars, image]);
    };
    const secret = crypto.randomBytes(16).toString('hex');
    run(`wxlogin-fake-wechat-${suffix}`, `wxlogin-fake-wechat:${tag}`, {
      FAKE_WECHAT_ADDR: `127.0.0.1:${wechatPort}`,
      FAKE_WECHAT_APPID: APPID,
      FAKE_WECHAT_SECRET: secret,
      FAKE_WECHAT_DEV: '1', // accepts any login code once
    });
    run(`wxlogin-${suffix}`, `wxlogin:${tag}`, {
      DATABASE_URL: db.url,
      // The image's 0.0.0.0:8080 may be taken on the host network; a free loopback port is not.
      LISTEN_ADDR: `127.0.0.1:${serverPort}`,
      WECHAT_APPID: APPID,
      WECHAT_SECRET: secret,
      WECHAT_API_BASE: `http://127.0.0.1:${wechatPort}`,
      JWT_SECRET: crypto.randomBytes(48).toString('base64'),
      SESSION_KEY_SECRET: crypto.randomBytes(48).toString('base64'),
    });
    const base = `http://127.0.0.1:${serverPort}`;
    const container = { exitCode: null, spawnfile: 'wxlogin container', output: '' };
    await waitUntilReady(`${base}/readyz`, container).catch((err) => {
      const logs = podman(['logs', names[1]], { check: false });
      throw new Error(`${err.message}${logs.stdout}${logs.stderr}`);
    });

    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: `image-check-${suffix}` }),
    });
    const body = await login.json();
    assert.equal(login.status, 200, JSON.stringify(body));
    assert.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(body.refresh_token.length > 20, 'a refresh token');
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).id, body.user.id);
    console.log('image-check: wxlogin in its container logged in through the fake WeChat in its own');
  } finally {
    for (const name of names.reverse()) {
      podman(['stop', '--time', '10', name], { check: false });
      podman(['rm', '--force', name], { check: false });
    }
    await db.drop();
  }
}

main().catch((err) => {
  console.error(`image-check: ${err.stack || err}`);
  process.exit(1);
});
