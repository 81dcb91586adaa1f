// Drives a guest's own page (GET /g/{token}) in Debian's Chromium on a phone-sized
// screen, never a downloaded browser.
//
//   node tests/dashboard/guest.mjs <pending_page_url> <report_page_url> <screenshot_dir>
//
// <pending_page_url>: a stay whose room 102 code is not yet confirmed by its (slow) lock;
// <report_page_url>: a stay whose room 101 code was deleted from the lock behind
// Latchkey's back. The fixture is tests/it/guest_page.rs. Prints `new-pin: <PIN>` (the
// backup code the page gave) and exits 0 when every step passed.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const [pendingUrl, reportUrl, shots] = process.argv.slice(2);
if (!pendingUrl || !reportUrl || !shots) {
  console.error('usage: guest.mjs <pending_page_url> <report_page_url> <screenshot_dir>');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

let stepNo = 0;
async function step(name, body) {
  stepNo += 1;
  try {
    await body();
    console.log(`ok ${stepNo} - ${name}`);
  } catch (e) {
    console.log(`not ok ${stepNo} - ${name}`);
    throw e;
  }
}

const door = (lock) => `section.door[data-lock="${lock}"]`;

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
const problems = [];
let exitCode = 0;
try {
  // A phone: 390 × 844 CSS pixels, touch.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The refused fourth report is logged as "Failed to load resource" (its 429 is the
  // point); any other error, a CSP refusal among them, is a bug.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(10_000);

  await step('a door whose code the lock has not confirmed shows no PIN; the others do', async () => {
    const response = await page.goto(pendingUrl);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'] || '', /default-src 'none'/);
    assert.equal(await page.locator(`${door('room-102')} [data-pin]`).count(), 0, 'no PIN for room 102');
    assert.ok(await page.isVisible(`${door('room-102')} [data-waiting]`), 'room 102 says it is being set up');
    const pin = (await page.textContent(`${door('main-entrance')} [data-pin]`)).trim();
    assert.match(pin, /^\d{4,8}$/, `the entrance PIN: ${pin}`);
    // Phone first: nothing wider than the screen, the stylesheet applied.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling (${width} px)`);
    const size = await page.$eval(`${door('main-entrance')} [data-pin]`, (e) => getComputedStyle(e).fontSize);
    assert.equal(size, '32px', 'the PIN in large type');
    await page.screenshot({ path: join(shots, 'guest-pending.png'), fullPage: true });
  });

  let newPin;
  await step("'my code doesn't work' on a door whose code was deleted gives a backup code", async () => {
    await page.goto(reportUrl);
    const old = (await page.textContent(`${door('room-101')} [data-pin]`)).trim();
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.click(`${door('room-101')} button`),
    ]);
    assert.equal(response.status(), 200);
    assert.ok(page.url().endsWith('#door-room-101'), page.url());
    assert.ok(await page.isVisible('[data-notice="backup_given"]'), 'the page says a new code was given');
    newPin = (await page.textContent(`${door('room-101')} [data-pin]`)).trim();
    assert.match(newPin, /^\d{4,8}$/);
    assert.notEqual(newPin, old, 'a new PIN for room 101');
    await page.screenshot({ path: join(shots, 'guest-backup.png'), fullPage: true });
  });

  await step('reports are limited: the fourth in an hour is refused', async () => {
    for (let i = 0; i < 2; i += 1) {
      const [response] = await Promise.all([page.waitForNavigation(), page.click(`${door('room-101')} button`)]);
      assert.equal(response.status(), 200);
      assert.ok(await page.isVisible('[data-notice="on_lock"]'), 'the code is on the lock now');
    }
    const [refused] = await Promise.all([page.waitForNavigation(), page.click(`${door('room-101')} button`)]);
    assert.equal(refused.status(), 429);
    assert.ok(Number(refused.headers()['retry-after']) > 0, 'Retry-After');
    assert.ok(await page.isVisible('[data-notice="too_many"]'), 'the page says to call the desk');
    assert.equal((await page.textContent(`${door('room-101')} [data-pin]`)).trim(), newPin, 'the PIN still shown');
    await page.screenshot({ path: join(shots, 'guest-limited.png'), fullPage: true });
  });

  assert.deepEqual(problems, [], 'no script error and no CSP refusal');
  console.log(`new-pin: ${newPin}`);
  console.log(`all ${stepNo} steps passed`);
} catch (e) {
  exitCode = 1;
  console.error(e && e.stack ? e.stack : e);
  if (problems.length) console.error('browser problems:\n' + problems.join('\n'));
} finally {
  await browser.close();
}
process.exit(exitCode);
