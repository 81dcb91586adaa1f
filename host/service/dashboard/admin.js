// Admin pages: webhook sources (create, rotate; the secret shown once) and API keys
// (create, shown once; revoke).

import { api, seg } from './api.js';
import { $, h, fill, table, timeEl, showError, showInfo, busy, confirmAction, copyButton } from './ui.js';

export function init() {
  $('source-create').addEventListener('submit', (event) => {
    event.preventDefault();
    createSource(event.submitter || $('source-create').querySelector('button'));
  });
  $('key-create').addEventListener('submit', (event) => {
    event.preventDefault();
    createKey(event.submitter || $('key-create').querySelector('button'));
  });
  $('user-create').addEventListener('submit', (event) => {
    event.preventDefault();
    createUser(event.submitter || $('user-create').querySelector('button'));
  });
}

/** The list a listing answer holds under `field`, or the answer itself if it is a list. */
function listOf(answer, field) {
  if (Array.isArray(answer)) return answer;
  return (answer && answer[field]) || [];
}

/** A box showing a secret once, with a copy button and what to do with it. */
function once(target, title, secret, extra) {
  fill(
    target,
    h('strong', {}, title),
    h('p', { class: 'small' }, 'Copy it now: it is not shown again.'),
    h('div', { class: 'secret' }, h('code', { class: 'secret-value' }, secret), copyButton(secret)),
    extra,
    h('button', { type: 'button', class: 'secondary small-btn', on: { click: () => (target.hidden = true) } }, 'Done'),
  );
  target.hidden = false;
}

function hookUrl(path) {
  return new URL(path, location.origin).href;
}

export const sources = {
  async show() {
    await loadSources();
  },
  hide() {
    $('source-once').hidden = true;
  },
};

async function loadSources() {
  try {
    const list = listOf(await api('GET', '/v1/sources'), 'sources');
    fill(
      $('source-list'),
      table(
        list,
        [
          { title: 'Name', cell: (s) => s.name },
          { title: 'Form', cell: (s) => s.form || '—' },
          { title: 'Defined in', cell: (s) => (s.origin === 'api' ? 'dashboard/API' : s.origin || '—') },
          { title: 'Hook URL', cell: (s) => h('code', { class: 'small' }, s.url ? hookUrl(s.url) : '—') },
          {
            title: 'Secrets',
            cell: (s) =>
              (s.secrets || []).length
                ? h(
                    'ul',
                    { class: 'plain' },
                    s.secrets.map((x) =>
                      h('li', {}, h('code', {}, `${x.prefix}…`), x.expires_at ? [' expires ', timeEl(x.expires_at)] : ''),
                    ),
                  )
                : '—',
          },
          {
            title: '',
            cell: (s) => {
              const button = h('button', { type: 'button', class: 'small-btn' }, 'Rotate secret');
              button.addEventListener('click', () => rotate(s.name, button));
              return button;
            },
          },
        ],
        { empty: 'No sources.', rowAttrs: (s) => ({ 'data-source': s.name }) },
      ),
    );
  } catch (e) {
    showError(e, 'Sources');
  }
}

async function createSource(button) {
  const name = $('source-name').value.trim();
  if (!name) return;
  await busy(
    button,
    async () => {
      const made = await api('POST', '/v1/sources', { name });
      $('source-name').value = '';
      once(
        $('source-once'),
        `Source “${made.name}” created. Its signing secret:`,
        made.secret,
        h('p', { class: 'small' }, 'The platform posts signed webhooks to ', h('code', {}, hookUrl(made.url || `/v1/hooks/${seg(made.name)}`)), copyButton(hookUrl(made.url || `/v1/hooks/${seg(made.name)}`))),
      );
      await loadSources();
    },
    'Create source',
  );
}

async function rotate(name, button) {
  const ok = await confirmAction(
    `Make a new secret for “${name}”? The current one keeps working for 24 hours, so the platform can switch over.`,
    'Rotate',
  );
  if (!ok) return;
  await busy(
    button,
    async () => {
      const answer = await api('POST', `/v1/sources/${seg(name)}/rotate`, { overlap_secs: 86400 });
      once(
        $('source-once'),
        `New secret for “${name}”:`,
        answer.secret,
        answer.previous_expires_at ? h('p', { class: 'small' }, 'The previous secret works until ', timeEl(answer.previous_expires_at), '.') : null,
      );
      await loadSources();
    },
    'Rotate',
  );
}

export const keys = {
  async show() {
    await Promise.all([loadKeys(), loadUsers()]);
  },
  hide() {
    $('key-once').hidden = true;
  },
};

async function loadKeys() {
  try {
    const list = listOf(await api('GET', '/v1/keys'), 'keys');
    fill(
      $('key-list'),
      table(
        list,
        [
          { title: 'Name', cell: (k) => k.name || '—' },
          { title: 'Role', cell: (k) => k.role || '—' },
          { title: 'Key', cell: (k) => h('code', {}, k.prefix ? `${k.prefix}…` : '—') },
          { title: 'Created', cell: (k) => timeEl(k.created_at) },
          { title: 'Last used', cell: (k) => timeEl(k.last_used_at) },
          {
            title: '',
            cell: (k) => {
              if (k.revoked_at) return h('span', { class: 'muted' }, 'revoked');
              const button = h('button', { type: 'button', class: 'warn small-btn' }, 'Revoke');
              button.addEventListener('click', () => revoke(k, button));
              return button;
            },
          },
        ],
        { empty: 'No API keys.', rowAttrs: (k) => ({ 'data-key-id': k.id }) },
      ),
    );
  } catch (e) {
    showError(e, 'API keys');
  }
}

async function createKey(button) {
  const name = $('key-name').value.trim();
  const role = $('key-role').value;
  if (!name) return;
  await busy(
    button,
    async () => {
      const made = await api('POST', '/v1/keys', { name, role });
      $('key-name').value = '';
      once($('key-once'), `Key “${made.name}” (${made.role}) created:`, made.key);
      await loadKeys();
    },
    'Create key',
  );
}

async function revoke(key, button) {
  if (!(await confirmAction(`Revoke the key “${key.name}”? Anything using it is refused from now on.`, 'Revoke'))) return;
  await busy(
    button,
    async () => {
      await api('DELETE', `/v1/keys/${seg(key.id)}`);
      showInfo(`Key “${key.name}” revoked.`);
      await loadKeys();
    },
    'Revoke',
  );
}

async function loadUsers() {
  try {
    const list = listOf(await api('GET', '/v1/users'), 'users');
    fill(
      $('user-list'),
      table(
        list,
        [
          { title: 'Username', cell: (u) => u.username || '—' },
          { title: 'Role', cell: (u) => u.role || '—' },
          { title: 'Created', cell: (u) => timeEl(u.created_at) },
          {
            title: '',
            cell: (u) => {
              const button = h('button', { type: 'button', class: 'warn small-btn' }, 'Remove');
              button.addEventListener('click', () => removeUser(u.username, button));
              return button;
            },
          },
        ],
        { empty: 'No users.', rowAttrs: (u) => ({ 'data-username': u.username }) },
      ),
    );
  } catch (e) {
    showError(e, 'Users');
  }
}

async function createUser(button) {
  const username = $('user-name').value.trim();
  const password = $('user-password').value;
  if (!username || !password) return;
  await busy(
    button,
    async () => {
      await api('POST', '/v1/users', { username, password, role: $('user-role').value });
      $('user-create').reset();
      showInfo(`User “${username}” added.`);
      await loadUsers();
    },
    'Add user',
  );
}

async function removeUser(username, button) {
  if (!(await confirmAction(`Remove the user “${username}”? They can no longer sign in.`, 'Remove'))) return;
  await busy(
    button,
    async () => {
      await api('DELETE', `/v1/users/${seg(username)}`);
      showInfo(`User “${username}” removed.`);
      await loadUsers();
    },
    'Remove user',
  );
}
