#!/usr/bin/env node
// Runs the token verification examples of docs/integrate.md against a live wxlogin, as
// `just test` does: it starts the fake WeChat and wxlogin (EdDSA, TOKEN_AUDIENCE=orders) on a
// scratch database, logs in, and has each example verify the access token and then refuse the
// same token with its payload altered.
//
// Node (jose) and Python (PyJWT) always run; where Python 3 with venv and pip is missing, the
// Python example is skipped with the reason, except under CI (CI=true), where a skip fails the
// run. Go and Java run where their toolchains are installed and can download the examples'
// dependencies; otherwise they are skipped, saying why. Needs DATABASE_URL (scripts/with-db.js).
'use strict';

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack } = require('../scripts/live-stack.js');

const CI = !!process.env.CI && process.env.CI !== 'false';
const AUDIENCE = 'orders';
const APPID = 'wxexamplesappid00';

function log(message) {
  console.error(`examples: ${message}`);
}

/** A failure to report as it is, without a stack: thrown so that the servers are stopped. */
class Failure extends Error {}

function fail(message) {
  throw new Failure(message);
}

/** `command` is on PATH and runs. */
function has(command, args = ['--version']) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** Runs `command` to completion, its output captured; fails the run unless it exits 0. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.status !== 0 && !options.mayFail) {
    fail(`${command} ${args.join(' ')} failed:\n${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}`);
  }
  return result;
}

// Each example is a program that takes a token as its argument, prints its claims as JSON and
// exits 0, or says why it refused it and exits 1. `prepare` installs what it needs and returns
// the command to run, or a reason to skip.
const EXAMPLES = [
  {
    name: 'Node (jose)',
    required: true,
    prepare() {
      const dir = path.join(__dirname, 'verify-node');
      const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
      const installed = path.join(dir, 'node_modules', 'jose', 'package.json');
      const wanted = lock.packages['node_modules/jose'].version;
      if (!fs.existsSync(installed) || JSON.parse(fs.readFileSync(installed, 'utf8')).version !== wanted) {
        log(`installing jose ${wanted} into examples/verify-node/node_modules`);
        const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
        run(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, shell: process.platform === 'win32' });
      }
      return { command: process.execPath, args: [path.join(dir, 'verify.mjs')] };
    },
  },
  {
    name: 'Python (PyJWT)',
    required: true,
    prepare() {
      const dir = path.join(__dirname, 'verify-python');
      const python = ['python3', 'python'].find((p) => has(p, ['-c', 'import sys; sys.exit(sys.version_info < (3, 9))']));
      if (!python) return { skip: 'no python3 (3.9 or later) on PATH' };
      const venv = path.join(dir, '.venv');
      const bin = path.join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
      const venvPython = path.join(bin, process.platform === 'win32' ? 'python.exe' : 'python');
      if (!fs.existsSync(venvPython)) {
        log('creating a virtualenv in examples/verify-python/.venv');
        const made = run(python, ['-m', 'venv', venv], { mayFail: true });
        if (made.status !== 0) {
          fs.rmSync(venv, { recursive: true, force: true });
          return { skip: `${python} cannot create a virtualenv with pip (on Debian and Ubuntu: apt-get install python3-venv)` };
        }
      }
      // Installed again only when requirements.txt changes.
      const requirements = fs.readFileSync(path.join(dir, 'requirements.txt'), 'utf8');
      const stamp = path.join(venv, 'installed-requirements.txt');
      if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== requirements) {
        log('installing examples/verify-python/requirements.txt into the virtualenv');
        run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', 'requirements.txt'], { cwd: dir });
        fs.writeFileSync(stamp, requirements);
      }
      return { command: venvPython, args: [path.join(dir, 'verify.py')] };
    },
  },
  {
    name: 'Go (golang-jwt + keyfunc)',
    required: false,
    prepare() {
      const dir = path.join(__dirname, 'verify-go');
      if (!has('go', ['version'])) return { skip: 'no Go toolchain on PATH' };
      const fetched = run('go', ['mod', 'tidy'], { cwd: dir, mayFail: true });
      if (fetched.status !== 0) return { skip: `Go could not download the example's modules: ${firstError(fetched.stderr)}` };
      const binary = path.join(require('node:os').tmpdir(), `wxlogin-verify-go-${process.pid}`);
      run('go', ['build', '-o', binary, '.'], { cwd: dir });
      return { command: binary, args: [] };
    },
  },
  {
    name: 'Java (Nimbus JOSE+JWT)',
    required: false,
    prepare() {
      const dir = path.join(__dirname, 'verify-java');
      if (!has('java', ['-version']) || !has('mvn', ['-v'])) return { skip: 'no Java 17 and Maven on PATH' };
      // Downloads first, so that a failure to reach Maven Central is told from a build error.
      const mvn = ['-B', '-q', '-Dstyle.color=never'];
      const fetched = run('mvn', [...mvn, 'dependency:go-offline'], { cwd: dir, mayFail: true });
      if (fetched.status !== 0) return { skip: `Maven could not download the example's dependencies: ${firstError(fetched.stdout)}` };
      const classpath = path.join(dir, 'target', 'classpath.txt');
      run('mvn', [...mvn, '-o', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${classpath}`], { cwd: dir });
      const classes = path.join(dir, 'target', 'classes');
      const cp = [classes, fs.readFileSync(classpath, 'utf8').trim()].join(path.delimiter);
      return { command: 'java', args: ['-cp', cp, 'Verify'] };
    },
  },
];

/** The line of a tool's output that says what went wrong, without colours. */
function firstError(text) {
  const lines = (text || '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((line) => line.trim()).filter(Boolean);
  return (lines.find((line) => /error/i.test(line)) ?? lines.pop() ?? '').slice(0, 240);
}

/** The same signature over a payload that names another user. */
function tamper(token) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  claims.sub = '00000000-0000-4000-8000-000000000000';
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
}

function verifyWith(example, program, token, env) {
  const result = spawnSync(program.command, [...program.args, token], { encoding: 'utf8', env });
  if (result.error) fail(`${example.name}: could not run: ${result.error.message}`);
  return { status: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

async function main() {
  const programs = EXAMPLES.map((example) => ({ example, program: example.prepare() }));
  log('building and starting wxlogin-server and fake-wechat');
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const stack = await startStack({
    appid: APPID,
    dbPrefix: 'wxlogin_examples',
    serverEnv: {
      JWT_ALG: 'EdDSA',
      JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      JWT_PREVIOUS_KEYS: '',
      TOKEN_AUDIENCE: AUDIENCE,
    },
  });
  const { base, server } = stack;
  try {
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'examples-login-code' }),
    });
    const body = await login.json();
    if (login.status !== 200) fail(`login answered ${login.status}: ${JSON.stringify(body)}\n${server.output}`);
    const token = body.access_token;
    const userId = body.user.id;
    log(`logged in through the fake WeChat as user ${userId}; verifying its token against ${base}`);

    const env = { ...process.env, WXLOGIN_URL: base, WXLOGIN_AUDIENCE: AUDIENCE };
    const skipped = [];
    for (const { example, program } of programs) {
      if (program.skip) {
        skipped.push(example);
        log(`${example.name}: SKIPPED, ${program.skip}`);
        continue;
      }
      const good = verifyWith(example, program, token, env);
      let claims;
      try {
        claims = JSON.parse(good.out);
      } catch {
        claims = {};
      }
      if (good.status !== 0 || claims.sub !== userId || claims.aud !== AUDIENCE) {
        fail(`${example.name}: did not verify the token (exit ${good.status}):\n${good.out}\n${good.err}`);
      }
      log(`${example.name}: verified: ${good.out}`);
      const bad = verifyWith(example, program, tamper(token), env);
      if (bad.status !== 1 || !bad.err.startsWith('refused:')) {
        fail(`${example.name}: did not refuse a tampered token (exit ${bad.status}):\n${bad.out}\n${bad.err}`);
      }
      log(`${example.name}: tampered token ${bad.err}`);
    }
    const missing = skipped.filter((example) => example.required);
    if (missing.length > 0 && CI) {
      fail(`under CI every required example must run; skipped: ${missing.map((e) => e.name).join(', ')}`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  log(err instanceof Failure ? err.message : err.stack || String(err));
  process.exitCode = 1;
});
