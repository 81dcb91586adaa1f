// Alerts (acknowledge) and dead letters (retry).

import { api, can, seg, query } from './api.js';
import { $, h, fill, table, timeEl, showError, showInfo, busy } from './ui.js';

export function init() {}

export async function show() {
  await Promise.all([loadAlerts(), loadDead()]);
}

async function loadAlerts() {
  const target = $('alert-list');
  try {
    const answer = await api('GET', `/v1/alerts${query({ open: 'true' })}`);
    const alerts = ((answer && answer.alerts) || []).filter((a) => !a.acknowledged_at);
    fill(
      target,
      table(
        alerts,
        [
          { title: 'Raised', cell: (a) => timeEl(a.raised_at) },
          { title: 'Kind', cell: (a) => h('span', { class: `kind kind-${a.kind}` }, a.kind || '—') },
          { title: 'Lock', cell: (a) => a.lock_id || '—' },
          { title: 'Reservation', cell: (a) => a.reservation_id || '—' },
          { title: 'Message', cell: (a) => a.message || '' },
          {
            title: '',
            cell: (a) => {
              if (!can('admin desk')) return '';
              const button = h('button', { type: 'button', class: 'ack-button' }, 'Acknowledge');
              button.addEventListener('click', () =>
                busy(
                  button,
                  async () => {
                    await api('POST', `/v1/alerts/${seg(a.id)}/acknowledge`);
                    showInfo('Alert acknowledged.');
                    await loadAlerts();
                  },
                  'Acknowledge',
                ),
              );
              return button;
            },
          },
        ],
        { empty: 'No open alerts.', rowAttrs: (a) => ({ 'data-alert-id': a.id }) },
      ),
    );
  } catch (e) {
    fill(target, h('p', { class: 'muted' }, 'Alerts could not be loaded.'));
    showError(e, 'Alerts');
  }
}

async function loadDead() {
  const target = $('dead-list');
  try {
    const answer = await api('GET', '/v1/jobs/dead');
    const letters = (answer && answer.dead_letters) || [];
    fill(
      target,
      table(
        letters,
        [
          { title: 'Job', cell: (d) => `#${d.id}` },
          { title: 'Kind', cell: (d) => d.kind || '—' },
          { title: 'Attempts', cell: (d) => String(d.attempts ?? '—') },
          { title: 'Last error', cell: (d) => h('span', { class: 'small' }, d.last_error || '') },
          {
            title: '',
            cell: (d) => {
              if (!can('admin')) return '';
              const button = h('button', { type: 'button', class: 'retry-button' }, 'Retry');
              button.addEventListener('click', () =>
                busy(
                  button,
                  async () => {
                    await api('POST', `/v1/jobs/${seg(d.id)}/retry`);
                    showInfo(`Job #${d.id} queued again.`);
                    await loadDead();
                  },
                  'Retry',
                ),
              );
              return button;
            },
          },
        ],
        { empty: 'No dead letters.', rowAttrs: (d) => ({ 'data-job-id': d.id }) },
      ),
    );
  } catch (e) {
    fill(target, h('p', { class: 'muted' }, 'Dead letters could not be loaded.'));
    showError(e, 'Dead letters');
  }
}
