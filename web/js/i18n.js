// Language and region: the portal's words come from the Fluent catalogs in /locales/<language>/
// (the same files the gateway writes its problem details from), formatted with @fluent/bundle
// (vendored in /vendor/fluent-bundle). Dates and times are written in the person's regional
// format and time zone with Intl.DateTimeFormat.

import { FluentBundle, FluentResource } from '/vendor/fluent-bundle/index.js';

/** The languages every catalog is complete in; the first is the fallback. */
export const LANGUAGES = ['en', 'de', 'fr'];
/** Each language's name in that language, for the language picker. */
export const LANGUAGE_NAMES = { en: 'English', de: 'Deutsch', fr: 'Français' };
const FILES = ['portal.ftl'];

let current = null;
let fallback = null;
/** What the person chose (the profile's fields); empty: the browser's. */
const chosen = { preferredLanguage: '', regionalFormat: '', timeZone: '' };

async function loadBundle(language) {
  const bundle = new FluentBundle(language, { useIsolating: false });
  for (const file of FILES) {
    const response = await fetch(`/locales/${language}/${file}`, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`the ${language} catalog is missing (${response.status})`);
    const errors = bundle.addResource(new FluentResource(await response.text()));
    if (errors.length) console.warn(`catalog ${language}/${file}`, errors);
  }
  return bundle;
}

/** The best language we have for a list of BCP 47 tags, most wanted first. */
export function negotiate(tags) {
  for (const tag of tags) {
    if (!tag) continue;
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return LANGUAGES[0];
}

/** The language in use (`en`, `de`, `fr`). */
export function language() {
  return current ? current.locales[0] : LANGUAGES[0];
}

/** Loads the catalogs for the person's choice (or the browser's languages) and marks the page. */
export async function applyPreferences({ preferredLanguage = '', regionalFormat = '', timeZone = '' } = {}) {
  Object.assign(chosen, { preferredLanguage, regionalFormat, timeZone });
  const wanted = negotiate([preferredLanguage, ...(navigator.languages || [navigator.language])]);
  if (!fallback) fallback = await loadBundle(LANGUAGES[0]);
  if (!current || current.locales[0] !== wanted) {
    current = wanted === LANGUAGES[0] ? fallback : await loadBundle(wanted);
  }
  document.documentElement.lang = wanted;
  translateShell();
}

/** The message `id` with its arguments, in the language in use (English when it lacks it). */
export function t(id, args) {
  for (const bundle of [current, fallback]) {
    const message = bundle && bundle.getMessage(id);
    if (message && message.value) return bundle.formatPattern(message.value, args);
  }
  return id;
}

/** Fills every element of the static shell (index.html) that names a message. */
export function translateShell(root = document) {
  root.querySelectorAll('[data-l10n-id]').forEach((el) => {
    el.textContent = t(el.getAttribute('data-l10n-id'));
  });
  root.querySelectorAll('[data-l10n-label]').forEach((el) => {
    el.setAttribute('aria-label', t(el.getAttribute('data-l10n-label')));
  });
}

/** The locale dates and numbers are written in: the regional format, else the language. */
export function formatLocale() {
  return chosen.regionalFormat || chosen.preferredLanguage || language();
}

/** The time zone dates are shown in: the chosen one, else the device's. */
export function timeZone() {
  return chosen.timeZone || undefined;
}

function dateTimeFormat(options) {
  const zone = timeZone();
  try {
    return new Intl.DateTimeFormat(formatLocale(), { ...options, timeZone: zone });
  } catch {
    // A zone or format this browser does not know: its own.
    return new Intl.DateTimeFormat(undefined, options);
  }
}

/** A date and time in the person's format and zone. */
export function formatDateTime(value, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : dateTimeFormat(options).format(d);
}

/** A list in the person's language: "a, b and c". */
export function formatList(items) {
  try {
    return new Intl.ListFormat(language(), { style: 'long', type: 'conjunction' }).format(items);
  } catch {
    return items.join(', ');
  }
}
