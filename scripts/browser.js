// Headless Chromium for the browser tests (web-tests/), driven by puppeteer-core. Debian's
// `chromium` package is used; puppeteer's own browser download is never attempted. Where no
// Chromium is installed, a developer's run skips the test and says why; under CI (CI=true) a
// missing browser fails the run instead, since CI installs it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const CI = !!process.env.CI && process.env.CI !== 'false';

/** Where screenshots and other artifacts of the browser tests go (git-ignored). */
const ARTIFACTS = path.resolve(__dirname, '..', 'target', 'web-tests');

function chromiumPath() {
  return CANDIDATES.find((candidate) => candidate && fs.existsSync(candidate));
}

/**
 * Launches headless Chromium, or returns `{skip: reason}` when none is installed outside CI.
 * The caller closes the browser.
 */
async function launch() {
  const executablePath = chromiumPath();
  if (!executablePath) {
    const reason = 'no Chromium installed (apt-get install chromium fonts-noto-cjk, or set CHROMIUM_PATH)';
    if (CI) throw new Error(`under CI the browser tests must run: ${reason}`);
    console.error(`web-tests: SKIPPED, ${reason}`);
    return { skip: reason };
  }
  const puppeteer = require('puppeteer-core');
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    // --no-sandbox: CI and containers run the tests as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  return { browser };
}

/** Saves a screenshot of `page` as target/web-tests/`name`.png and returns its path. */
async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

module.exports = { launch, screenshot, ARTIFACTS };
