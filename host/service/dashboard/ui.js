// DOM helpers. Everything the API returns reaches the page through textContent (via
// `h`), never through innerHTML, so a guest name or an error message cannot inject markup.

import { can } from './api.js';

/**
 * Builds an element: `h('button', {class: 'x', dataset: {id: 1}, on: {click: f}}, 'text', child)`.
 * Strings become text nodes; null/undefined/false children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function $(id) {
  return document.getElementById(id);
}

/** Replaces `el`'s children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table: `columns` is [{title, cell: row => Node|string, class?}]; `empty` is shown
 * when there are no rows. Each row gets `rowAttrs(row)` (e.g. a data-id).
 */
export function table(rows, columns, { empty = 'Nothing here.', rowAttrs } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            rowAttrs ? rowAttrs(row) : {},
            columns.map((c) => h('td', { class: c.class, 'data-label': c.title }, c.cell(row))),
          ),
        ),
      ),
    ),
  );
}

// ---- messages ----

let messageSeq = 0;

/** Shows an error (an ApiError's detail, or any Error) in the message area. */
export function showError(error, context) {
  const problem = error && error.problem;
  const title = problem && problem.title ? problem.title : 'Error';
  const detail = (problem && problem.detail) || (error && error.message) || String(error);
  const where = context ? `${context}: ` : '';
  post('error', `${where}${title}`, detail, problem && problem.pointer);
}

export function showInfo(text) {
  post('info', text, null, null, 6000);
}

function post(kind, title, detail, pointer, timeout) {
  const id = `msg-${++messageSeq}`;
  const box = h(
    'div',
    { class: `message ${kind}`, id, role: kind === 'error' ? 'alert' : 'status' },
    h('strong', {}, title),
    detail ? h('span', { class: 'detail' }, ` ${detail}`) : null,
    pointer ? h('code', {}, ` (${pointer})`) : null,
    h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', on: { click: () => box.remove() } }, '×'),
  );
  const area = $('messages');
  area.appendChild(box);
  // Keep the area short on a phone: the newest few messages only.
  while (area.children.length > 4) area.firstElementChild.remove();
  if (timeout) setTimeout(() => box.remove(), timeout);
}

export function clearMessages() {
  $('messages').replaceChildren();
}

// ---- confirmation ----

/** Asks `text` in a modal dialog; resolves true when confirmed. */
export function confirmAction(text, okLabel = 'Confirm') {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

// ---- time ----

let timeZone = 'UTC';
let formatter = null;

/** Shows every time in `zone` (the property's IANA zone); falls back to UTC. */
export function setTimeZone(zone) {
  try {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone || 'UTC',
      year: 'numeric',
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      // The zone's abbreviation (WET, CET…) on every time, so a time read from a screenshot
      // or over the phone is never ambiguous.
      timeZoneName: 'short',
    });
    timeZone = zone || 'UTC';
  } catch {
    timeZone = 'UTC';
    formatter = null;
  }
}

export function zoneName() {
  return timeZone;
}

/** Unix seconds as local property time, or '—'. */
export function fmtTime(seconds) {
  if (seconds === null || seconds === undefined || seconds === '') return '—';
  const n = typeof seconds === 'number' ? seconds : Number(seconds);
  if (!Number.isFinite(n)) return String(seconds);
  const date = new Date(n * 1000);
  if (!formatter) setTimeZone(timeZone);
  return formatter ? formatter.format(date) : date.toISOString();
}

/** A time element with the UTC instant as its machine-readable value. */
export function timeEl(seconds) {
  const n = Number(seconds);
  return h(
    'time',
    Number.isFinite(n) && seconds !== null && seconds !== undefined ? { datetime: new Date(n * 1000).toISOString() } : {},
    fmtTime(seconds),
  );
}

// ---- roles ----

/** Hides every `[data-roles]` element of `root` the signed-in role may not use. */
export function applyRoles(root = document) {
  for (const el of root.querySelectorAll('[data-roles]')) {
    el.hidden = !can(el.dataset.roles);
  }
}

/** Runs `task` with `button` disabled, reporting failures; resolves to the task's value. */
export async function busy(button, task, context) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } catch (e) {
    showError(e, context);
    return undefined;
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

/** A "copy" button for `text`. */
export function copyButton(text) {
  const button = h('button', { type: 'button', class: 'secondary small-btn' }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      // Clipboard access needs a secure context; fall back to selecting the text.
      const code = button.previousElementSibling;
      if (code) window.getSelection().selectAllChildren(code);
      button.textContent = 'Press Ctrl+C';
    }
  });
  return button;
}
