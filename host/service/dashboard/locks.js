// The locks screen: every lock with its status, the branch filter, unassigned locks with
// Assign, Sync, and the lock panel (codes, activity, Regenerate PINs, Unlock).

import { api, can, seg, query, workspace, branchName } from './api.js';
import { $, h, fill, table, timeEl, fmtTime, zoneName, showError, showInfo, confirmAction, busy, applyRoles } from './ui.js';

/** How often the list refreshes while it is on screen. */
const REFRESH_MS = 30_000;

let locks = [];
let timer = null;
let openLock = null;
let codeStatus = 'active';

export function init() {
  $('branch-filter').addEventListener('change', render);
  $('sync-button').addEventListener('click', sync);
  $('panel-close').addEventListener('click', closePanel);
  $('panel-regenerate').addEventListener('click', regenerate);
  $('panel-unlock').addEventListener('click', unlock);
  for (const button of $('code-filter').querySelectorAll('button')) {
    button.addEventListener('click', () => {
      codeStatus = button.dataset.status;
      for (const b of $('code-filter').querySelectorAll('button')) {
        b.setAttribute('aria-pressed', String(b === button));
      }
      loadCodes();
    });
  }
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('lock-panel').hidden && !$('confirm').open) closePanel();
  });
}

export async function show() {
  fillBranchFilter();
  $('tz-note').textContent = `Times are shown in the property's time zone, ${zoneName()}.`;
  await load();
  clearInterval(timer);
  timer = setInterval(load, REFRESH_MS);
}

export function hide() {
  clearInterval(timer);
  timer = null;
  closePanel();
}

function branches() {
  return (workspace.data && workspace.data.branches) || [];
}

function fillBranchFilter() {
  const select = $('branch-filter');
  const chosen = select.value;
  fill(
    select,
    h('option', { value: '' }, 'All branches'),
    branches().map((b) => h('option', { value: b.id }, b.name || b.id)),
  );
  select.value = branches().some((b) => b.id === chosen) ? chosen : '';
}

async function load() {
  try {
    const [answer, capacity] = await Promise.all([api('GET', '/v1/locks'), api('GET', '/v1/capacity')]);
    locks = (answer && answer.locks) || [];
    $('locks-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    render();
    renderCapacity((capacity && capacity.locks) || []);
  } catch (e) {
    showError(e, 'Locks');
  }
}

/** The capacity forecast: one row per lock that stores codes, one column per local day. */
function renderCapacity(forecasts) {
  $('capacity').hidden = forecasts.length === 0;
  const days = forecasts.length ? forecasts[0].days.map((d) => d.day) : [];
  const columns = [
    { title: 'Lock', cell: (f) => `${f.name || f.lock} (${f.capacity})` },
    ...days.map((day, i) => ({
      title: day.slice(5),
      class: 'num',
      cell: (f) => {
        const d = f.days[i];
        return h(
          'span',
          {
            class: d.over > 0 ? 'over-capacity' : '',
            'data-over': String(d.over),
            title: d.over > 0 ? `${d.over} over capacity` : `${f.capacity - d.needed} free`,
          },
          String(d.needed),
        );
      },
    })),
  ];
  fill($('capacity-table'), table(forecasts, columns, { rowAttrs: (f) => ({ 'data-capacity-lock': f.lock }) }));
}

function render() {
  const branch = $('branch-filter').value;
  const assigned = locks.filter((l) => l.branch !== null && l.branch !== undefined);
  const shown = branch ? assigned.filter((l) => l.branch === branch) : assigned;
  fill(
    $('lock-list'),
    shown.length ? shown.map((l) => card(l)) : h('p', { class: 'muted empty' }, 'No locks in this branch.'),
  );
  const unassigned = locks.filter((l) => l.branch === null || l.branch === undefined);
  // The unassigned locks are a to-do list for the whole property, not part of a branch.
  $('unassigned').hidden = unassigned.length === 0 || branch !== '';
  fill($('unassigned-list'), unassigned.map((l) => card(l, true)));
}

/** The battery band: ok, low, critical or unknown. */
export function batteryLevel(status) {
  if (!status) return 'unknown';
  if (status.battery_level) return status.battery_level;
  const p = status.battery_percent;
  if (p === null || p === undefined) return 'unknown';
  // The server's thresholds (providers::monitoring::BatteryLevel), for a status
  // without a level.
  return p <= 10 ? 'critical' : p <= 25 ? 'low' : 'ok';
}

const BATTERY_TEXT = { ok: 'OK', low: 'Low', critical: 'Critical', unknown: 'Unknown' };

function batteryBadge(status) {
  const level = batteryLevel(status);
  const percent = status && status.battery_percent !== null && status.battery_percent !== undefined
    ? `${status.battery_percent}% · `
    : '';
  return h(
    'span',
    { class: `badge battery battery-${level}`, 'data-battery': level, title: `Battery ${BATTERY_TEXT[level]}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    `Battery ${percent}${BATTERY_TEXT[level]}`,
  );
}

function onlineBadge(status) {
  if (!status) return h('span', { class: 'badge unknown', 'data-online': 'unknown' }, 'Not synced yet');
  if (status.online) return h('span', { class: 'badge online', 'data-online': 'true' }, 'Online');
  const since = status.offline_since ? ` since ${fmtTime(status.offline_since)}` : '';
  return h('span', { class: 'badge offline', 'data-online': 'false' }, `Offline${since}`);
}

function card(lock, unassigned = false) {
  const status = lock.status;
  const article = h(
    'article',
    {
      class: `lock-card level-${batteryLevel(status)}${status && !status.online ? ' is-offline' : ''}`,
      'data-lock-id': lock.id,
      'data-battery': batteryLevel(status),
    },
    h(
      'button',
      { type: 'button', class: 'lock-name', on: { click: () => openPanel(lock.id) } },
      lock.name || lock.id,
    ),
    h('div', { class: 'badges' }, onlineBadge(status), batteryBadge(status)),
    h(
      'p',
      { class: 'small' },
      'Last activity: ',
      status && status.last_activity_at ? timeEl(status.last_activity_at) : 'none recorded',
    ),
    h(
      'p',
      { class: 'muted small' },
      `${lock.id} · ${lock.provider}${lock.branch ? ` · ${branchName(lock.branch)}` : ''}`,
    ),
    status && status.error ? h('p', { class: 'small error-text' }, `Provider error: ${status.error}`) : null,
    unassigned ? assignControl(lock) : null,
  );
  return article;
}

function assignControl(lock) {
  const select = h(
    'select',
    { 'aria-label': `Branch for ${lock.name || lock.id}`, class: 'assign-branch' },
    branches().map((b) => h('option', { value: b.id }, b.name || b.id)),
  );
  const button = h('button', { type: 'button', class: 'assign-button' }, 'Assign');
  button.addEventListener('click', () =>
    busy(
      button,
      async () => {
        const answer = await api('PUT', `/v1/locks/${seg(lock.id)}/branch`, { branch: select.value });
        const queued = answer && answer.reconciling !== undefined ? `; ${answer.reconciling} reservation(s) being updated` : '';
        showInfo(`${lock.name || lock.id} assigned to ${branchName(select.value)}${queued}.`);
        await load();
      },
      'Assign',
    ),
  );
  const control = h('div', { class: 'assign', 'data-roles': 'admin' }, select, button);
  control.hidden = !can('admin') || branches().length === 0;
  return control;
}

async function sync() {
  const button = $('sync-button');
  await busy(
    button,
    async () => {
      const report = await api('POST', '/v1/locks/sync');
      showReport($('sync-report'), syncText(report));
      await load();
    },
    'Sync',
  );
}

function syncText(r) {
  if (!r || typeof r !== 'object') return 'Synced.';
  if ('locks' in r && 'online' in r) {
    return (
      `Synced ${r.locks} lock(s): ${r.online} online, ${r.offline} offline, ${r.failed} failed; ` +
      `${r.new_activity} new activity entr${r.new_activity === 1 ? 'y' : 'ies'}, ` +
      `${r.codes_restored} code(s) put back, ${r.unmanaged_codes} made outside Latchkey, ` +
      `${r.alerts_raised} alert(s) raised.`
    );
  }
  return `Synced: ${JSON.stringify(r)}`;
}

function showReport(el, text) {
  el.textContent = text;
  el.hidden = false;
}

// ---- the lock panel ----

function lockById(id) {
  return locks.find((l) => l.id === id);
}

async function openPanel(id) {
  const lock = lockById(id);
  if (!lock) return;
  openLock = id;
  const panel = $('lock-panel');
  panel.dataset.lockId = id;
  $('panel-title').textContent = lock.name || lock.id;
  const caps = lock.capabilities || {};
  $('panel-meta').textContent =
    `${lock.id} · ${lock.provider} · ${lock.branch ? branchName(lock.branch) : 'unassigned'} · ` +
    `${caps.connectivity === 'offline' ? 'offline codes' : 'online codes'}`;
  $('panel-result').hidden = true;
  applyRoles(panel);
  // Unlock only where the provider can open the door remotely.
  $('panel-unlock').hidden = !(can('admin desk') && caps.remote_unlock === true);
  panel.hidden = false;
  document.body.classList.add('panel-open');
  $('panel-close').focus();
  await Promise.all([loadCodes(), loadUnmanaged(), loadActivity()]);
}

function closePanel() {
  openLock = null;
  $('lock-panel').hidden = true;
  document.body.classList.remove('panel-open');
}

async function loadCodes() {
  if (!openLock) return;
  const id = openLock;
  const target = $('panel-codes');
  try {
    const answer = await api('GET', `/v1/codes${query({ lock: id, status: codeStatus, limit: 100 })}`);
    if (openLock !== id) return;
    const codes = (answer && answer.codes) || [];
    fill(
      target,
      table(
        codes,
        [
          { title: 'PIN', cell: (c) => h('code', { class: 'pin' }, c.pin || '(generated)') },
          { title: 'Reservation', cell: (c) => c.reservation || '—' },
          { title: 'Status', cell: (c) => h('span', { class: `status status-${c.status}` }, c.status || '—') },
          { title: 'State', cell: (c) => c.state || '—' },
          { title: 'From', cell: (c) => timeEl(c.starts_at) },
          { title: 'Until', cell: (c) => timeEl(c.ends_at) },
        ],
        { empty: 'No codes with this status.', rowAttrs: (c) => ({ 'data-code-id': c.id }) },
      ),
    );
  } catch (e) {
    fill(target, h('p', { class: 'muted' }, 'Codes could not be loaded.'));
    showError(e, 'Codes');
  }
}

// Codes the lock holds that Latchkey did not make: left alone, counted in its capacity.
async function loadUnmanaged() {
  if (!openLock) return;
  const id = openLock;
  const target = $('panel-unmanaged');
  try {
    const answer = await api('GET', `/v1/locks/${seg(id)}/unmanaged`);
    if (openLock !== id) return;
    const codes = (answer && answer.codes) || [];
    fill(
      target,
      table(
        codes,
        [
          { title: 'Name', cell: (c) => c.name || '(no name)' },
          { title: 'From', cell: (c) => (c.starts_at == null ? 'always' : timeEl(c.starts_at)) },
          { title: 'Until', cell: (c) => (c.ends_at == null ? 'always' : timeEl(c.ends_at)) },
          { title: 'Enabled', cell: (c) => (c.enabled ? 'yes' : 'no') },
          { title: 'First seen', cell: (c) => timeEl(c.first_seen_at) },
        ],
        { empty: 'None: every code on this lock is Latchkey\'s.', rowAttrs: (c) => ({ 'data-reference': c.reference }) },
      ),
    );
  } catch (e) {
    fill(target, h('p', { class: 'muted' }, 'Codes made outside Latchkey could not be loaded.'));
    showError(e, 'Codes made outside Latchkey');
  }
}

async function loadActivity() {
  if (!openLock) return;
  const id = openLock;
  const target = $('panel-activity');
  try {
    const answer = await api('GET', `/v1/locks/${seg(id)}/activity${query({ limit: 50 })}`);
    if (openLock !== id) return;
    const entries = (answer && answer.activity) || [];
    fill(
      target,
      table(
        entries,
        [
          { title: 'Time', cell: (e) => timeEl(e.at) },
          { title: 'Action', cell: (e) => (e.method ? `${e.action} (${e.method})` : e.action || '—') },
          { title: 'Initiator', cell: (e) => e.initiator || e.actor || '—' },
          { title: 'Reservation', cell: (e) => e.reservation_id || '—' },
        ],
        { empty: 'No activity recorded.' },
      ),
    );
  } catch (e) {
    fill(target, h('p', { class: 'muted' }, 'Activity could not be loaded.'));
    showError(e, 'Activity');
  }
}

async function regenerate() {
  const lock = lockById(openLock);
  if (!lock) return;
  const ok = await confirmAction(
    `Give every guest with access through ${lock.name || lock.id} a new PIN? ` +
      'The old PINs stop working once the new ones are on the lock, and guests are told their new PIN.',
    'Regenerate PINs',
  );
  if (!ok) return;
  await busy(
    $('panel-regenerate'),
    async () => {
      const summary = await api('POST', `/v1/locks/${seg(lock.id)}/regenerate`);
      const replaced = summary && Array.isArray(summary.replaced) ? summary.replaced.length : 0;
      const planned = summary && summary.reservations !== undefined ? summary.reservations : '?';
      showReport($('panel-result'), `${planned} reservation(s) re-planned; ${replaced} new PIN(s) on their way to the lock.`);
      await loadCodes();
    },
    'Regenerate PINs',
  );
}

async function unlock() {
  const lock = lockById(openLock);
  if (!lock) return;
  const ok = await confirmAction(`Open ${lock.name || lock.id} now? The door unlocks remotely.`, 'Unlock');
  if (!ok) return;
  await busy(
    $('panel-unlock'),
    async () => {
      const answer = await api('POST', `/v1/locks/${seg(lock.id)}/unlock`);
      showReport($('panel-result'), `Unlocked at ${fmtTime(answer && answer.unlocked_at)}.`);
      await loadActivity();
    },
    'Unlock',
  );
}
