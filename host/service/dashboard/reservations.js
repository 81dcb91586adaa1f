// Reservation search and the reservation view: status, codes, messages, Resend PIN.

import { api, can, seg, query } from './api.js';
import { $, h, fill, table, timeEl, showError, showInfo, confirmAction, busy } from './ui.js';

export function init() {
  $('reservation-search').addEventListener('submit', (event) => {
    event.preventDefault();
    search();
  });
}

export async function show() {
  $('reservation-q').focus();
}

/** A time given either as Unix seconds or as text. */
function when(value) {
  if (typeof value === 'number') return timeEl(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return timeEl(Number(value));
  return value ? String(value) : '—';
}

async function search() {
  const q = $('reservation-q').value.trim();
  if (!q) return;
  const target = $('reservation-results');
  const button = $('reservation-search').querySelector('button');
  await busy(
    button,
    async () => {
      const answer = await api('GET', `/v1/reservations${query({ q, limit: 50 })}`);
      const found = (answer && answer.reservations) || [];
      fill($('reservation-detail'));
      fill(
        target,
        table(
          found,
          [
            {
              title: 'Reservation',
              cell: (r) => h('button', { type: 'button', class: 'link', on: { click: () => open(r.id) } }, r.id),
            },
            { title: 'Guest', cell: (r) => r.guest_name || '—' },
            { title: 'Status', cell: (r) => r.status || '—' },
            { title: 'Check-in', cell: (r) => when(r.check_in) },
            { title: 'Check-out', cell: (r) => when(r.check_out) },
          ],
          { empty: `No reservation matches “${q}”.`, rowAttrs: (r) => ({ 'data-reservation-id': r.id }) },
        ),
      );
      if (found.length === 1) await open(found[0].id);
    },
    'Search',
  );
}

async function open(id) {
  const target = $('reservation-detail');
  try {
    const view = await api('GET', `/v1/reservations/${seg(id)}`);
    const r = view.reservation || {};
    const guest = r.guest && (r.guest.name || r.guest.email);
    const resend = h('button', { type: 'button', 'data-roles': 'admin desk' }, 'Resend PIN');
    resend.hidden = !can('admin desk');
    resend.addEventListener('click', async () => {
      if (!(await confirmAction(`Send reservation ${r.id}'s PINs to the guest again?`, 'Resend PIN'))) return;
      await busy(
        resend,
        async () => {
          const answer = await api('POST', `/v1/reservations/${seg(r.id)}/resend`);
          showInfo(`${answer && answer.queued !== undefined ? answer.queued : 'The'} message(s) queued for ${r.id}.`);
          await open(r.id);
        },
        'Resend PIN',
      );
    });
    fill(
      target,
      h(
        'article',
        { class: 'detail', 'data-reservation-id': r.id },
        h('h2', {}, `Reservation ${r.id}`),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Status'),
          h('dd', { class: 'res-status' }, r.status || '—'),
          h('dt', {}, 'Guest'),
          h('dd', {}, guest || '—'),
          h('dt', {}, 'Stay'),
          h('dd', {}, when(r.check_in), ' → ', when(r.check_out)),
          h('dt', {}, 'Rooms'),
          h('dd', {}, (r.resources || []).join(', ') || '—'),
        ),
        view.rule_error ? h('p', { class: 'error-text' }, `Rule error: ${view.rule_error}`) : null,
        h('div', { class: 'buttons' }, resend),
        h('h3', {}, 'Codes'),
        table(
          view.codes || [],
          [
            { title: 'Lock', cell: (c) => c.lock },
            { title: 'PIN', cell: (c) => h('code', { class: 'pin' }, c.pin || '(pending)') },
            { title: 'State', cell: (c) => c.state || '—' },
            { title: 'From', cell: (c) => timeEl(c.window ? c.window.starts_at : c.starts_at) },
            { title: 'Until', cell: (c) => timeEl(c.window ? c.window.ends_at : c.ends_at) },
          ],
          { empty: 'No codes.', rowAttrs: (c) => ({ 'data-code-id': c.id }) },
        ),
        h('h3', {}, 'Messages to the guest'),
        table(
          view.notifications || [],
          [
            { title: 'Created', cell: (m) => timeEl(m.created_at) },
            { title: 'Kind', cell: (m) => m.kind || '—' },
            { title: 'Channel', cell: (m) => m.channel || '—' },
            { title: 'To', cell: (m) => m.recipient || '—' },
            { title: 'State', cell: (m) => m.state || '—' },
            { title: 'Detail', cell: (m) => m.detail || '' },
          ],
          { empty: 'No messages.' },
        ),
        h('h3', {}, 'Events received'),
        table(
          view.events || [],
          [
            { title: 'Received', cell: (e) => timeEl(e.received_at) },
            { title: 'Event', cell: (e) => e.event_type || '—' },
            { title: 'Outcome', cell: (e) => e.outcome || '—' },
            { title: 'Webhook id', cell: (e) => e.webhook_id || '—' },
          ],
          { empty: 'No events.' },
        ),
      ),
    );
  } catch (e) {
    showError(e, `Reservation ${id}`);
  }
}
