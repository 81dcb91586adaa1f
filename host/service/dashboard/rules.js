// The rules page: edit a Rhai rule, validate it, dry-run it against a reservation or a
// sample input, save it as a new version, activate a version, and see the history.

import { api, seg } from './api.js';
import { $, h, fill, table, timeEl, showError, showInfo, busy, confirmAction } from './ui.js';

/** The version the last Save created, which Activate activates. */
let saved = null;
/** Whether the editor holds text the user typed, which a reload must not overwrite. */
let dirty = false;

export function init() {
  const editor = $('rule-source');
  editor.addEventListener('input', () => {
    dirty = true;
    saved = null;
    updateActivate();
    caret();
  });
  for (const event of ['click', 'keyup', 'focus']) editor.addEventListener(event, caret);
  // Tab indents inside the editor instead of leaving it; Shift+Tab still leaves.
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Tab' && !event.shiftKey && !event.ctrlKey && !event.altKey) {
      event.preventDefault();
      editor.setRangeText('    ', editor.selectionStart, editor.selectionEnd, 'end');
      editor.dispatchEvent(new Event('input'));
    }
  });
  $('rule-validate').addEventListener('click', validate);
  $('rule-save').addEventListener('click', save);
  $('rule-activate').addEventListener('click', () => saved && activate(saved));
  $('rule-dry-run').addEventListener('click', dryRun);
}

export async function show() {
  await loadHistory(true);
}

function caret() {
  const editor = $('rule-source');
  const before = editor.value.slice(0, editor.selectionStart);
  const lines = before.split('\n');
  $('rule-caret').textContent = `Line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

/** Moves the caret to `line`:`column` (both from 1). */
function goTo(line, column) {
  const editor = $('rule-source');
  const lines = editor.value.split('\n');
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
  offset += Math.max(0, (column || 1) - 1);
  editor.focus();
  editor.setSelectionRange(offset, offset);
  caret();
}

function updateActivate() {
  const button = $('rule-activate');
  button.disabled = saved === null;
  button.textContent = saved === null ? 'Activate saved version' : `Activate version ${saved}`;
}

async function loadHistory(preload) {
  try {
    const answer = await api('GET', '/v1/rules');
    const active = (answer && answer.active) || {};
    $('rule-active').textContent = active.kind
      ? `Active: ${active.name || active.kind}${active.version ? ` (version ${active.version})` : ''}` +
        `${active.activated_at ? `, since ${new Date(active.activated_at * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}.`
      : 'No rule information.';
    renderHistory((answer && answer.versions) || [], active);
    if (preload && !dirty && typeof active.source === 'string') {
      // A rule from the property file has no version to fetch; use its text if the
      // listing carries it.
      $('rule-source').value = active.source;
      caret();
    } else if (preload && !dirty && active.version !== null && active.version !== undefined) {
      const version = await api('GET', `/v1/rules/${seg(active.version)}`);
      if (!dirty && version && typeof version.source === 'string') {
        $('rule-source').value = version.source;
        caret();
      }
    }
  } catch (e) {
    showError(e, 'Rules');
  }
}

function renderHistory(versions, active) {
  fill(
    $('rule-history'),
    table(
      versions,
      [
        { title: 'Version', cell: (v) => (v.id === active.version ? h('strong', {}, `${v.id} (active)`) : String(v.id)) },
        { title: 'Created', cell: (v) => timeEl(v.created_at) },
        { title: 'By', cell: (v) => v.created_by || '—' },
        { title: 'Valid', cell: (v) => (v.valid === false ? 'no' : 'yes') },
        { title: 'Activated', cell: (v) => timeEl(v.activated_at) },
        {
          title: '',
          cell: (v) => {
            const load = h('button', { type: 'button', class: 'secondary small-btn' }, 'Load');
            load.addEventListener('click', () => loadVersion(v.id, load));
            const activateButton = h('button', { type: 'button', class: 'small-btn' }, 'Activate');
            activateButton.hidden = v.id === active.version || v.valid === false;
            activateButton.addEventListener('click', () => activate(v.id));
            return h('div', { class: 'buttons tight' }, load, activateButton);
          },
        },
      ],
      { empty: 'No saved versions yet: the property file’s rule is in use.', rowAttrs: (v) => ({ 'data-version-id': v.id }) },
    ),
  );
}

async function loadVersion(id, button) {
  if (dirty && !(await confirmAction('Replace the text in the editor with version ' + id + '?', 'Load'))) return;
  await busy(
    button,
    async () => {
      const version = await api('GET', `/v1/rules/${seg(id)}`);
      $('rule-source').value = (version && version.source) || '';
      dirty = false;
      saved = id;
      updateActivate();
      caret();
    },
    'Load version',
  );
}

function source() {
  return $('rule-source').value;
}

function showErrors(errors) {
  fill(
    $('rule-errors'),
    errors.length
      ? h(
          'ul',
          { class: 'rule-errors' },
          errors.map((e) =>
            h(
              'li',
              {},
              h(
                'button',
                { type: 'button', class: 'link', on: { click: () => goTo(e.line || 1, e.column || 1) } },
                e.line ? `Line ${e.line}, column ${e.column || 1}` : 'Rule',
              ),
              `: ${e.message}`,
            ),
          ),
        )
      : h('p', { class: 'ok-text' }, 'The rule is valid.'),
  );
}

async function validate() {
  await busy(
    $('rule-validate'),
    async () => {
      const answer = await api('POST', '/v1/rules/validate', { source: source() });
      showErrors(answer && answer.valid ? [] : (answer && answer.errors) || [{ message: 'invalid' }]);
    },
    'Validate',
  );
}

async function save() {
  await busy(
    $('rule-save'),
    async () => {
      try {
        const version = await api('POST', '/v1/rules', { source: source() });
        saved = version && version.id;
        dirty = false;
        updateActivate();
        showErrors([]);
        showInfo(`Saved as version ${saved}. Activate it to put it in use.`);
        await loadHistory(false);
      } catch (e) {
        // A rule that does not compile comes back as 422, possibly with its errors.
        if (e.problem && Array.isArray(e.problem.errors)) showErrors(e.problem.errors);
        throw e;
      }
    },
    'Save',
  );
}

async function activate(id) {
  if (!(await confirmAction(`Activate rule version ${id}? It decides every reservation's access from now on.`, 'Activate'))) return;
  try {
    await api('POST', `/v1/rules/${seg(id)}/activate`);
    showInfo(`Version ${id} is active.`);
    await loadHistory(false);
  } catch (e) {
    showError(e, 'Activate');
  }
}

async function dryRun() {
  const body = {};
  const text = source();
  if (text.trim()) body.source = text;
  const reservation = $('dry-reservation').value.trim();
  const input = $('dry-input').value.trim();
  if (reservation) body.reservation = reservation;
  if (input) {
    try {
      body.input = JSON.parse(input);
    } catch (e) {
      showError(new Error(`The sample input is not valid JSON: ${e.message}`), 'Dry run');
      return;
    }
  }
  if (!reservation && !input) {
    showError(new Error('Give a reservation id or a sample input.'), 'Dry run');
    return;
  }
  const out = $('dry-plan');
  await busy(
    $('rule-dry-run'),
    async () => {
      out.hidden = true;
      try {
        const answer = await api('POST', '/v1/rules/dry-run', body);
        out.textContent = JSON.stringify(answer && answer.plan, null, 2);
        out.dataset.state = 'plan';
        out.hidden = false;
      } catch (e) {
        if (e.problem && Array.isArray(e.problem.errors)) showErrors(e.problem.errors);
        throw e;
      }
    },
    'Dry run',
  );
}
