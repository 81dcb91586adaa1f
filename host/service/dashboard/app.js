// The page's shell: sign-in, the signed-in header, and the hash router that shows one
// view at a time. Each view module exports `show()` (and optionally `hide()`).

import { api, signIn, resumeSession, signOut, can, currentSession, setUnauthorizedHandler, workspace } from './api.js';
import { $, applyRoles, busy, clearMessages, setTimeZone, showError, showInfo } from './ui.js';
import * as locks from './locks.js';
import * as reservations from './reservations.js';
import * as ops from './ops.js';
import * as rules from './rules.js';
import * as admin from './admin.js';

/** Views by route, with the roles that may see them (as the nav links declare). */
const VIEWS = {
  locks: { module: locks, roles: 'admin desk' },
  reservations: { module: reservations, roles: 'admin desk platform' },
  alerts: { module: ops, roles: 'admin desk' },
  rules: { module: rules, roles: 'admin' },
  sources: { module: admin.sources, roles: 'admin' },
  keys: { module: admin.keys, roles: 'admin' },
};

let current = null;

function showOnly(id) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== id;
}

async function route() {
  if (!currentSession()) {
    leaveCurrent();
    showOnly('view-signin');
    return;
  }
  const wanted = location.hash.replace(/^#\/?/, '').split('/')[0];
  const allowed = Object.keys(VIEWS).filter((name) => can(VIEWS[name].roles));
  if (allowed.length === 0) {
    leaveCurrent();
    showOnly('view-none');
    return;
  }
  const name = allowed.includes(wanted) ? wanted : allowed[0];
  if (name !== wanted) {
    history.replaceState(null, '', `#/${name}`);
  }
  if (current !== name) leaveCurrent();
  current = name;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showOnly(`view-${name}`);
  try {
    await VIEWS[name].module.show();
  } catch (e) {
    showError(e);
  }
}

function leaveCurrent() {
  if (current && VIEWS[current].module.hide) VIEWS[current].module.hide();
  current = null;
}

async function loadWorkspace() {
  try {
    workspace.data = await api('GET', '/v1/workspace');
    setTimeZone(workspace.data && workspace.data.property && workspace.data.property.timezone);
  } catch (e) {
    // Without the workspace the page still works; times are shown in UTC.
    workspace.data = { branches: [] };
    setTimeZone('UTC');
    if (e.status !== 403) showError(e, 'Workspace');
  }
}

async function enter() {
  const s = currentSession();
  $('who-name').textContent = `${s.actor} (${s.role})`;
  $('who').hidden = false;
  $('nav').hidden = false;
  applyRoles();
  await loadWorkspace();
  await route();
}

function leave() {
  leaveCurrent();
  $('who').hidden = true;
  $('nav').hidden = true;
  showOnly('view-signin');
}

function wireSignIn() {
  const tabs = [
    ['signin-tab-key', 'signin-key'],
    ['signin-tab-user', 'signin-user'],
  ];
  for (const [tab, form] of tabs) {
    $(tab).addEventListener('click', () => {
      for (const [t, f] of tabs) {
        $(t).setAttribute('aria-selected', String(t === tab));
        $(f).hidden = f !== form;
      }
    });
  }
  const submit = (form, credentials) => async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    const session = await busy(button, () => signIn(credentials()), 'Sign-in');
    if (session) {
      form.reset();
      clearMessages();
      await enter();
    }
  };
  const keyForm = $('signin-key');
  keyForm.addEventListener('submit', submit(keyForm, () => ({ api_key: $('signin-api-key').value.trim() })));
  const userForm = $('signin-user');
  userForm.addEventListener(
    'submit',
    submit(userForm, () => ({ username: $('signin-username').value.trim(), password: $('signin-password').value })),
  );
  $('sign-out').addEventListener('click', async () => {
    try {
      await signOut();
    } catch (e) {
      showError(e, 'Sign-out');
    }
    leave();
    showInfo('Signed out.');
  });
}

async function start() {
  wireSignIn();
  locks.init();
  reservations.init();
  ops.init();
  rules.init();
  admin.init();
  setUnauthorizedHandler(() => {
    leave();
    showError(new Error('Your session has ended; please sign in again.'), 'Signed out');
  });
  window.addEventListener('hashchange', () => route());
  try {
    await resumeSession();
  } catch (e) {
    showError(e);
  }
  if (currentSession()) await enter();
  else leave();
  document.body.dataset.ready = 'true';
}

start();
