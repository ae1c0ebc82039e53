// /docs in headless Chromium: Swagger UI, embedded in the binary, renders wxlogin's OpenAPI
// document with every route, /api/auth/login among them and its error codes under it, while
// the page asks nothing of anyone but the wxlogin that served it and breaks no rule of its
// content security policy. Screenshot: target/web-tests/docs.png.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const test = require('node:test');

const { startStack } = require('../scripts/live-stack.js');
const { launch, screenshot } = require('../scripts/browser.js');

test('/docs lists /api/auth/login and loads nothing from elsewhere', async (t) => {
  const { browser, skip } = await launch();
  if (skip) {
    t.skip(skip);
    return;
  }
  const stack = await startStack({
    dbPrefix: 'wxlogin_docs',
    serverEnv: { JWT_SECRET: crypto.randomBytes(48).toString('base64') },
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const origin = new URL(stack.base).origin;
    const elsewhere = [];
    const problems = [];
    // Anything not for this wxlogin is recorded and never sent.
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:')) {
        request.continue();
      } else {
        elsewhere.push(url);
        request.abort();
      }
    });
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (err) => problems.push(err.message));
    await page.evaluateOnNewDocument(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });

    const response = await page.goto(`${stack.base}/docs`, { waitUntil: 'networkidle0' });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /default-src 'none'; script-src 'self'/);

    await page.waitForSelector('.opblock-summary-path', { timeout: 30000 });
    const operations = await page.$$eval('.opblock-summary', (blocks) =>
      blocks.map((block) => {
        const method = block.querySelector('.opblock-summary-method').textContent.trim();
        const path = block.querySelector('.opblock-summary-path').getAttribute('data-path');
        return `${method} ${path}`;
      }),
    );
    assert.ok(operations.includes('POST /api/auth/login'), `listed: ${operations.join(', ')}`);
    const documented = await (await fetch(`${stack.base}/openapi.json`)).json();
    const expected = Object.entries(documented.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual([...operations].sort(), expected.sort(), 'every documented route is shown');

    // Opened, the login shows its error answers by status and code.
    await page.click('#operations-auth-login .opblock-summary');
    await page.waitForSelector('#operations-auth-login .responses-table');
    const answers = await page.$eval('#operations-auth-login .responses-wrapper', (el) => el.innerText);
    for (const expectedText of ['401', 'invalid_code', '429', 'rate_limited', '503', 'upstream_busy']) {
      assert.ok(answers.includes(expectedText), `the login's answers show ${expectedText}`);
    }

    const file = await screenshot(page, 'docs');
    console.error(`web-tests: screenshot of /docs at ${file}`);
    assert.deepEqual(elsewhere, [], 'requests that would have left this wxlogin');
    assert.deepEqual(await page.evaluate(() => window.cspViolations), [], 'CSP violations');
    assert.deepEqual(problems, [], 'errors in the page');
  } finally {
    await browser.close();
    await stack.stop();
  }
});
