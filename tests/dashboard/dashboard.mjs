// Drives the Latchkey dashboard in Debian's Chromium (never a downloaded browser).
//
//   node tests/dashboard/dashboard.mjs <base_url> <api_key> <screenshot_dir>
//   node tests/dashboard/dashboard.mjs <base_url> --smoke <screenshot_dir>
//
// The full run expects the fixture of tests/it/dashboard.rs (names below, overridable by
// environment variables); `--smoke` only loads the page and its sign-in screen. Exits 0
// when every step passed; each step asserts something that could fail.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const [base, apiKey, shots] = process.argv.slice(2);
if (!base || !apiKey || !shots) {
  console.error('usage: dashboard.mjs <base_url> <api_key|--smoke> <screenshot_dir>');
  process.exit(2);
}
const smoke = apiKey === '--smoke';
const fixture = {
  /** A branch besides main, holding some locks. */
  branch: process.env.DASH_BRANCH || 'annex',
  /** The unassigned lock the test assigns to `branch`. */
  unassigned: process.env.DASH_UNASSIGNED || 'spa',
  /** An online lock with a reservation's code, to regenerate. */
  regenerate: process.env.DASH_REGENERATE || 'room-102',
  /** A lock that cannot unlock remotely. */
  noUnlock: process.env.DASH_NO_UNLOCK || 'pool',
  /** A reservation with codes. */
  reservation: process.env.DASH_RESERVATION || 'R-2',
};
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

/** The computed background colour of each battery band, from style.css. */
const BAND_BACKGROUND = {
  ok: 'rgb(220, 252, 231)',
  low: 'rgb(254, 249, 195)',
  critical: 'rgb(254, 226, 226)',
};

let stepNo = 0;
async function step(name, body) {
  stepNo += 1;
  const started = Date.now();
  try {
    await body();
    console.log(`ok ${stepNo} - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    console.log(`not ok ${stepNo} - ${name}`);
    throw e;
  }
}

/** The API as the test sees it, with the key (for expectations and checks). */
async function apiGet(path) {
  const response = await fetch(new URL(path, base), { headers: { Authorization: `Bearer ${apiKey}` } });
  assert.equal(response.status, 200, `GET ${path}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
const problems = [];
function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    // A refused request is logged as "Failed to load resource" (the 401 of GET
    // /v1/session before sign-in is expected); anything else at error level is a bug,
    // CSP refusals included.
    if (m.type() === 'error' && !text.startsWith('Failed to load resource')) problems.push(`console: ${text}`);
  });
}

let exitCode = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  page.setDefaultTimeout(10_000);

  await step('/ redirects to the dashboard, which shows the sign-in screen', async () => {
    const response = await page.goto(new URL('/', base).href);
    assert.ok(response && response.ok(), `status ${response && response.status()}`);
    assert.ok(page.url().endsWith('/dashboard/'), page.url());
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    await page.waitForSelector('body[data-ready="true"]');
    assert.ok(await page.isVisible('#view-signin'), 'sign-in view visible');
    assert.ok(await page.isVisible('#signin-api-key'), 'API key field visible');
    assert.ok(await page.isHidden('#nav'), 'navigation hidden before sign-in');
    await page.screenshot({ path: join(shots, 'signin.png'), fullPage: true });
  });

  await step('a wrong key is refused with the API\'s problem detail shown', async () => {
    await page.fill('#signin-api-key', 'lk_not-a-real-key');
    await page.click('#signin-key button[type=submit]');
    const message = page.locator('#messages .message.error');
    await message.first().waitFor();
    assert.ok((await message.first().textContent()).length > 10, 'a message with detail');
    assert.ok(await page.isVisible('#view-signin'));
  });

  if (!smoke) {
    await fullRun(browser, context, page);
  }

  assert.deepEqual(problems, [], 'no script error and no CSP refusal');
  console.log(`all ${stepNo} steps passed`);
} catch (e) {
  exitCode = 1;
  console.error(e && e.stack ? e.stack : e);
  if (problems.length) console.error('browser problems:\n' + problems.join('\n'));
} finally {
  await browser.close();
}
process.exit(exitCode);

async function fullRun(browser, context, page) {
  const { locks } = await apiGet('/v1/locks');
  const level = (lock) => (lock.status && lock.status.battery_level) || 'unknown';

  await step('signs in with the API key and lands on the lock list', async () => {
    const close = page.locator('#messages .message .close');
    while (await close.count()) await close.first().click();
    await page.fill('#signin-api-key', apiKey);
    await page.click('#signin-key button[type=submit]');
    await page.waitForSelector('#view-locks:not([hidden]) .lock-card');
    assert.match(await page.textContent('#who-name'), /\(admin\)/);
    assert.match(await page.textContent('#tz-note'), /Europe\/Lisbon/);
  });

  await step('every lock shows its battery band in colour and in words', async () => {
    const levels = new Set();
    for (const lock of locks) {
      const card = page.locator(`.lock-card[data-lock-id="${lock.id}"]`);
      assert.equal(await card.count(), 1, `one card for ${lock.id}`);
      const badge = card.locator('.badge.battery');
      const want = level(lock);
      levels.add(want);
      assert.equal(await badge.getAttribute('data-battery'), want, lock.id);
      assert.ok((await badge.getAttribute('class')).includes(`battery-${want}`), lock.id);
      if (BAND_BACKGROUND[want]) {
        const colour = await badge.evaluate((el) => getComputedStyle(el).backgroundColor);
        assert.equal(colour, BAND_BACKGROUND[want], `${lock.id} is ${want}`);
        const text = await badge.textContent();
        assert.ok(text.includes(`${lock.status.battery_percent}%`), `${lock.id}: ${text}`);
        assert.match(text, /OK|Low|Critical/);
      }
      const online = await card.locator('[data-online]').getAttribute('data-online');
      assert.equal(online, lock.status ? String(lock.status.online) : 'unknown', `${lock.id} online`);
    }
    assert.equal(await page.locator('#lock-list .assign').count(), 0, 'no Assign on assigned locks');
    for (const band of ['ok', 'low', 'critical']) assert.ok(levels.has(band), `a lock in band ${band}`);
    assert.ok(locks.some((l) => l.status && !l.status.online), 'an offline lock in the fixture');
    await page.screenshot({ path: join(shots, 'locks.png'), fullPage: true });
  });

  await step('the branch filter shows one branch\'s locks only', async () => {
    const inBranch = locks.filter((l) => l.branch === fixture.branch).map((l) => l.id).sort();
    assert.ok(inBranch.length > 0, `the fixture puts locks in ${fixture.branch}`);
    await page.selectOption('#branch-filter', fixture.branch);
    const shown = (await page.locator('#lock-list .lock-card').evaluateAll((cards) => cards.map((c) => c.dataset.lockId))).sort();
    assert.deepEqual(shown, inBranch);
    assert.ok(await page.isHidden('#unassigned'), 'unassigned locks hidden while filtering');
    await page.selectOption('#branch-filter', '');
    const all = await page.locator('#lock-list .lock-card').count();
    assert.equal(all, locks.filter((l) => l.branch !== null).length);
  });

  await step('an unassigned lock is assigned to a branch', async () => {
    const card = page.locator(`#unassigned .lock-card[data-lock-id="${fixture.unassigned}"]`);
    await card.waitFor();
    await card.locator('select.assign-branch').selectOption(fixture.branch);
    await card.locator('button.assign-button').click();
    await page.locator(`#lock-list .lock-card[data-lock-id="${fixture.unassigned}"]`).waitFor();
    assert.equal(await page.locator(`#unassigned-list .lock-card[data-lock-id="${fixture.unassigned}"]`).count(), 0);
    const assignment = await apiGet(`/v1/locks/${fixture.unassigned}/branch`);
    assert.equal(assignment.branch, fixture.branch);
  });

  await step('Sync reports what it did', async () => {
    assert.ok(await page.isHidden('#sync-report'));
    await page.click('#sync-button');
    await page.waitForSelector('#sync-report:not([hidden])');
    assert.match(await page.textContent('#sync-report'), /Synced \d+ lock\(s\): \d+ online, \d+ offline/);
  });

  await step('a lock that cannot unlock remotely offers no Unlock', async () => {
    await page.click(`.lock-card[data-lock-id="${fixture.noUnlock}"] .lock-name`);
    await page.waitForSelector('#lock-panel:not([hidden])');
    assert.equal(await page.getAttribute('#lock-panel', 'data-lock-id'), fixture.noUnlock);
    assert.ok(await page.isHidden('#panel-unlock'));
    await page.click('#panel-close');
    assert.ok(await page.isHidden('#lock-panel'));
  });

  await step('the lock panel lists codes and activity; Regenerate PINs replaces the codes', async () => {
    await page.click(`.lock-card[data-lock-id="${fixture.regenerate}"] .lock-name`);
    await page.waitForSelector('#lock-panel:not([hidden])');
    assert.ok(await page.isVisible('#panel-unlock'), 'an online lock can be unlocked');
    await page.locator('#panel-activity tbody tr').first().waitFor();
    await page.click('#code-filter button[data-status=""]');
    await page.locator('#panel-codes tbody tr').first().waitFor();
    const before = await page.locator('#panel-codes tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.codeId));
    const pinsBefore = await page.locator('#panel-codes .pin').allTextContents();
    assert.ok(before.length > 0, 'codes before');

    // Cancelling changes nothing.
    await page.click('#panel-regenerate');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-cancel');
    assert.ok(await page.isHidden('#panel-result'));

    await page.click('#panel-regenerate');
    await page.waitForSelector('#confirm[open]');
    assert.match(await page.textContent('#confirm-text'), /new PIN/);
    await page.click('#confirm-ok');
    await page.waitForSelector('#panel-result:not([hidden])');
    assert.match(await page.textContent('#panel-result'), /[1-9]\d* new PIN/);
    await page.waitForFunction(
      (old) => [...document.querySelectorAll('#panel-codes tbody tr')].some((r) => !old.includes(r.dataset.codeId)),
      before,
    );
    const pinsAfter = await page.locator('#panel-codes .pin').allTextContents();
    assert.ok(pinsAfter.some((p) => !pinsBefore.includes(p)), `a new PIN: ${pinsBefore} → ${pinsAfter}`);
    await page.screenshot({ path: join(shots, 'lock-panel.png'), fullPage: false });
    await page.click('#panel-close');
  });

  await step('on a phone the lock list fits the screen with big tap targets', async () => {
    // The session cookie carries over; the page resumes it with GET /v1/session.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      storageState: await context.storageState(),
    });
    const mobile = await phone.newPage();
    watch(mobile);
    await mobile.goto(new URL('/dashboard/#/locks', base).href);
    await mobile.waitForSelector('#view-locks:not([hidden]) .lock-card');
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling (${overflow}px too wide)`);
    const small = await mobile
      .locator('.lock-name, #sync-button')
      .evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().height < 44).length);
    assert.equal(small, 0, 'tap targets at least 44px high');
    await mobile.screenshot({ path: join(shots, 'locks-phone.png'), fullPage: true });
    await phone.close();
  });

  await step('a reservation search shows its status and codes', async () => {
    await page.click('#nav a[data-view="reservations"]');
    await page.fill('#reservation-q', fixture.reservation);
    await page.click('#reservation-search button[type=submit]');
    const detail = page.locator(`#reservation-detail article[data-reservation-id="${fixture.reservation}"]`);
    await detail.waitFor();
    assert.match(await detail.locator('.res-status').textContent(), /paid|confirmed|checked/);
    assert.ok((await detail.locator('tbody tr[data-code-id]').count()) > 0, 'codes listed');
    await page.screenshot({ path: join(shots, 'reservation.png'), fullPage: true });
  });

  await step('a dead letter is retried and leaves the list', async () => {
    await page.click('#nav a[data-view="alerts"]');
    const row = page.locator('#dead-list tr[data-job-id]').first();
    await row.waitFor();
    const id = await row.getAttribute('data-job-id');
    // The alerts and the dead letters load side by side: either table may fill first.
    await page.locator('#alert-list tr[data-alert-id]').first().waitFor();
    await page.screenshot({ path: join(shots, 'alerts.png'), fullPage: true });
    await row.locator('button.retry-button').click();
    await page.waitForFunction(
      (job) => !document.querySelector(`#dead-list tr[data-job-id="${job}"]`),
      id,
    );
    const { dead_letters: left } = await apiGet('/v1/jobs/dead');
    assert.ok(!left.some((d) => String(d.id) === id), 'the server no longer lists it');
  });

  await step('a rules dry-run against a stored reservation shows a plan', async () => {
    await page.click('#nav a[data-view="rules"]');
    await page.waitForSelector('#view-rules:not([hidden])');
    assert.ok(await page.isHidden('#dry-plan'));
    await page.fill('#dry-reservation', fixture.reservation);
    await page.click('#rule-dry-run');
    await page.waitForSelector('#dry-plan:not([hidden])');
    const plan = JSON.parse(await page.textContent('#dry-plan'));
    assert.ok(Array.isArray(plan.grants) && plan.grants.length > 0, `grants in ${JSON.stringify(plan)}`);
    assert.ok(plan.grants.some((g) => g.lock === fixture.regenerate), 'the room lock is granted');
    await page.screenshot({ path: join(shots, 'rules.png'), fullPage: true });
  });

  await step('signing out returns to the sign-in screen', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#view-signin:not([hidden])');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.ok(await page.isVisible('#view-signin'), 'the session is gone after a reload');
  });
}
