// Pieces the pages share: error and empty states, cards, links, labels.

import { h, sentence } from '../dom.js';
import { t } from '../i18n.js';

export function errorState(err, retry) {
  const problem = (err && err.problem) || { detail: String((err && err.message) || err) };
  return h('div', { class: 'notice notice-error', role: 'alert' },
    h('p', { class: 'notice-title', text: t('error-not-loaded') }),
    h('p', { text: sentence(problem.detail || problem.title || t('error-generic')) }),
    retry ? h('button', { type: 'button', class: 'button button-secondary', onclick: retry, text: t('try-again') }) : null);
}

export function empty(text) {
  return h('p', { class: 'empty', text });
}

export function link(href, text) {
  return h('a', { href, 'data-route': '', text });
}

/** A card with a heading; `level` is the heading level (2 on most pages). */
export function card(title, children, { level = 2, cls = '' } = {}) {
  return h('section', { class: ['card', cls] }, h(`h${level}`, { text: title }), children);
}

export function badge(text, kind = 'neutral') {
  return h('span', { class: `badge badge-${kind}`, text });
}

export function unavailable(section) {
  return section && section.status === 'unavailable';
}

export function unavailableText() {
  return h('p', { class: 'unavailable', text: t('unavailable-text') });
}

/** "Chrome on Windows" from browser and operating system, either possibly missing. */
export function browserOn(browser, os) {
  if (browser && os) return t('browser-on', { browser, os });
  return browser || os || t('unknown-device');
}

export function location(l) {
  if (!l) return null;
  if (typeof l === 'string') return l;
  return [l.city, l.region, l.country].filter(Boolean).join(', ') || null;
}

const REVIEW = {
  confirmed_me: 'review-confirmed-me',
  reported_not_me: 'review-reported-not-me',
};

export function reviewText(state) {
  return REVIEW[state] ? t(REVIEW[state]) : null;
}

/** An http(s) link from the API, or null (never a javascript: or other scheme). */
export function externalLink(url, text) {
  try {
    const parsed = new URL(url, window.location.href);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
    return h('a', { href: parsed.href, rel: 'noopener noreferrer', target: '_blank', text });
  } catch {
    return null;
  }
}
