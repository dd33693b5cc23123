// Small DOM helpers: elements are built with h(), never from HTML strings, so data from the
// API is always text. No inline styles (the CSP forbids them): appearance comes from classes.

import { t, formatDateTime } from './i18n.js';

/**
 * h('p', {class: 'x', onclick: fn}, 'text', child, [more, children])
 * Attributes: class, text, hidden, checked, disabled, value, selected, htmlFor ('for'),
 * on* handlers, dataset ({...}); anything else is set with setAttribute (null/false skip it).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'for') el.htmlFor = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (['hidden', 'checked', 'disabled', 'value', 'selected', 'required', 'multiple'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

let ids = 0;
export function uid(prefix = 'id') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: label, control, hint and an error slot tied by aria-describedby. */
export function field({ label, name, type = 'text', value = '', required = false, autocomplete, hint, inputmode, options, attrs = {}, aliases = [] }) {
  const id = uid(name || 'field');
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  let control;
  if (type === 'select') {
    control = h('select', { id, name, required, ...attrs },
      (options || []).map(([v, text]) => h('option', { value: v, selected: v === value, text })));
  } else {
    control = h('input', { id, name, type, value, required, autocomplete, inputmode, ...attrs });
  }
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    hint ? h('p', { class: 'hint', id: hintId, text: hint }) : null,
    control,
    // `aliases`: the API's names for this field when they differ from the form's.
    h('p', { class: 'field-error', id: errorId, hidden: true, dataset: { errorFor: [name, ...aliases].filter(Boolean).join(' ') } }),
  );
}

export function checkbox({ label, name, checked = false }) {
  const id = uid(name);
  return h('div', { class: 'field field-check' },
    h('input', { type: 'checkbox', id, name, checked }),
    h('label', { for: id, text: label }));
}

export function button(text, onclick, { kind = 'secondary', type = 'button', attrs = {} } = {}) {
  return h('button', { type, class: `button button-${kind}`, onclick, ...attrs }, text);
}

/** Disables a form's controls while `work` runs. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')];
  const before = controls.map((c) => c.disabled);
  controls.forEach((c) => { c.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => { c.disabled = before[i]; });
    form.removeAttribute('aria-busy');
  }
}

/** Clears what showProblem() showed on a form. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((p) => { p.hidden = true; p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((c) => c.removeAttribute('aria-invalid'));
  form.querySelectorAll('.form-error').forEach((p) => p.remove());
}

/**
 * Shows an API problem on a form: `detail` at the top (role=alert), each `errors[]` entry next
 * to the control of that name (falling back to the top when no control has that name).
 */
export function showProblem(form, error) {
  clearErrors(form);
  const problem = error && error.problem ? error.problem : { detail: String(error && error.message || error) };
  const unplaced = [];
  let first = null;
  for (const fe of problem.errors || []) {
    const name = String(fe.field || '').split('.').pop();
    const slot = name ? form.querySelector(`.field-error[data-error-for~="${CSS.escape(name)}"]`) : null;
    const control = slot ? slot.parentElement.querySelector('input, select, textarea') : null;
    if (slot && control) {
      slot.textContent = fe.message;
      slot.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      first = first || control;
    } else {
      unplaced.push(`${fe.field}: ${fe.message}`);
    }
  }
  const message = problem.errors && problem.errors.length && !unplaced.length
    ? t('form-correct-fields')
    : sentence(problem.detail || problem.title || t('error-generic'));
  const box = h('div', { class: 'form-error', role: 'alert' },
    h('p', { text: message }),
    unplaced.length ? h('ul', {}, unplaced.map((u) => h('li', { text: u }))) : null);
  form.prepend(box);
  (first || box).focus?.();
  return box;
}

/** A time from the API, in the person's regional format and time zone. */
export function when(iso) {
  if (!iso) return '—';
  return formatDateTime(iso);
}

export function timeEl(iso) {
  return iso ? h('time', { datetime: iso, text: when(iso) }) : h('span', { text: '—' });
}

/** A description list from [term, value] pairs; null values are left out. */
export function dl(pairs, cls = 'facts') {
  return h('dl', { class: cls }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => h('div', { class: 'fact' }, h('dt', { text: k }), h('dd', {}, v))));
}

export function announce(text) {
  const live = document.getElementById('announcer');
  if (!live) return;
  live.textContent = '';
  // A fresh text node after a tick, so screen readers announce a repeated message too.
  setTimeout(() => { live.textContent = text; }, 50);
}

/** A success, information or error message placed in the page. */
export function notice(text, kind = 'success') {
  // Errors interrupt; other messages are also spoken through announce() by their callers.
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, h('p', { text: kind === 'error' ? sentence(text) : text }));
}

export function loading(text = t('loading')) {
  return h('p', { class: 'loading', role: 'status', text });
}

/** The API's messages start in lower case; shown alone they read better as sentences. */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
