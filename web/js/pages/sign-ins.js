// My sign-ins: every attempt, newest first, filtered and a page at a time, each with its
// details and the "This was me" / "This wasn't me" review; then the account activity list.

import { get, post, seg } from '../api.js';
import { h, replace, append, button, dl, field, checkbox, timeEl, notice, announce, busy, showProblem, sentence } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn, location, reviewText, errorState, card } from './common.js';

const PAGE_SIZE = 20;

// The API's stable codes, in words a person reads; an unknown code is shown as it is.
const CLIENT_APPS = {
  browser: 'Browser', mobile_desktop: 'Mobile or desktop app', app_password: 'App password (older app)', other: 'Other',
};
const RISK_REASONS = {
  new_country: 'a country not seen before for you',
  new_device: 'a device or browser not seen before for you',
  ip_failures_across_accounts: 'an address with many failed sign-ins to several accounts',
  impossible_travel: 'too far from your previous sign-in for the time between them',
};
const REQUIREMENTS = { single_factor: 'Password only (single-factor)', multi_factor: 'Multi-factor' };
const METHODS = {
  pwd: 'Password', otp: 'One-time code', sms: 'Text message', tel: 'Phone call', hwk: 'Security key', swk: 'Synced passkey', mfa: 'Multi-factor',
  password: 'Password', app_password: 'App password', authenticator_app: 'Authenticator app', phone_sms: 'Text message',
  phone_voice: 'Phone call', email: 'Email code', security_key: 'Security key', recovery_code: 'Recovery code', passkey: 'Passkey (no password)',
};
const say = (table, code) => (code ? table[code] || code : null);

const CATEGORIES = [
  ['', 'All changes'], ['profile', 'Profile'], ['password', 'Password'], ['security_info', 'Security info'],
  ['sessions', 'Sessions'], ['devices', 'Devices'], ['organizations', 'Organizations'], ['privacy', 'Privacy'],
  ['sign_in', 'Sign-in reviews'], ['account', 'Account'],
];

function dayStart(value, endOfDay = false) {
  if (!value) return '';
  const d = new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null && v !== false) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export default {
  title: 'My sign-ins',
  async render(body, ctx) {
    const status = h('div', { class: 'status-area' });
    const list = h('ol', { class: 'list sign-ins', 'aria-label': 'Sign-ins' });
    const listState = h('div', { class: 'list-state' });
    const more = button('Show more sign-ins', () => load(false), { kind: 'secondary' });
    more.hidden = true;
    let filters = {};
    let nextToken = '';

    const filterForm = h('form', { class: 'form filters', novalidate: true, 'aria-label': 'Filter sign-ins' },
      field({ label: 'Result', name: 'status', type: 'select', value: '', options: [['', 'All'], ['success', 'Successful'], ['failure', 'Failed']] }),
      field({ label: 'From', name: 'from', type: 'date' }),
      field({ label: 'To', name: 'to', type: 'date' }),
      checkbox({ label: 'Only risky sign-ins', name: 'risky' }),
      h('div', { class: 'actions' }, button('Apply filters', null, { kind: 'primary', type: 'submit' })));
    filterForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const el = filterForm.elements;
      filters = { status: el.status.value, from: dayStart(el.from.value), to: dayStart(el.to.value, true), risky: el.risky.checked ? 'true' : '' };
      load(true).catch((err) => { if (err.status !== 401) showProblem(filterForm, err); });
    });

    const review = async (s, verdict, slot) => {
      if (verdict === 'not_me') {
        const ok = await confirmDialog({
          title: 'Report this sign-in?',
          message: 'If this was not you, someone else may know your password.',
          details: ['You will be signed out everywhere, this browser too.', 'You will have to choose a new password at your next sign-in.'],
          confirmLabel: 'This wasn’t me',
          danger: true,
        });
        if (!ok) return;
      }
      try {
        const answer = await post(`/me/sign-ins/${seg(s.id)}/review`, { verdict });
        if (verdict === 'not_me') {
          const again = button('Sign in again', async () => {
            try { await post('/auth/sign-out', undefined, { stepUp: false }); } catch { /* already ended */ }
            ctx.signedOut('Sign in again and choose a new password.');
          }, { kind: 'primary' });
          replace(status, h('div', { class: 'notice notice-warning', role: 'alert' },
            h('p', { class: 'notice-title', text: answer.message || 'Thanks for telling us.' }),
            (answer.nextSteps || []).length ? h('ul', {}, answer.nextSteps.map((t) => h('li', { text: t }))) : null,
            h('div', { class: 'actions' }, again)));
          status.querySelector('.notice-title').setAttribute('tabindex', '-1');
          status.querySelector('.notice-title').focus();
        } else {
          replace(slot, h('p', { class: 'reviewed', text: answer.message || 'Thanks, marked as you.' }));
          announce(answer.message || 'Marked as you.');
        }
      } catch (err) {
        if (err.status !== 401) replace(slot, h('p', { class: 'field-error', role: 'alert', text: sentence(err.message) }));
      }
    };

    const item = (s) => {
      const reviewSlot = h('div', { class: 'review' });
      const reviewed = reviewText(s.reviewState);
      if (reviewed) reviewSlot.append(h('p', { class: 'reviewed', text: reviewed }));
      else {
        append(reviewSlot, [h('div', { class: 'actions' },
          button('This was me', () => review(s, 'me', reviewSlot), { kind: 'secondary' }),
          button('This wasn’t me', () => review(s, 'not_me', reviewSlot), { kind: 'danger' }))]);
      }
      const ok = s.status === 'success';
      const where = location(s.location) || s.ipAddress;
      const risk = s.risk && s.risk.level && s.risk.level !== 'none' ? s.risk.level : null;
      return h('li', { class: 'sign-in', dataset: { signInId: s.id } },
        h('details', {},
          h('summary', {},
            h('span', { class: 'list-main' }, timeEl(s.time), ' ', badge(ok ? 'Successful' : 'Failed', ok ? 'good' : 'bad'),
              risk ? [' ', badge(`Risk: ${risk}`, 'warn')] : null),
            h('span', { class: 'list-sub', text: [browserOn(s.device && s.device.browser, s.device && s.device.operatingSystem), where, say(CLIENT_APPS, s.clientApp) || s.appId].filter(Boolean).join(' · ') })),
          h('div', { class: 'details' },
            dl([
              ['Result', ok ? 'Successful' : (s.failureMessage || 'Failed')],
              ['App', [s.appId, say(CLIENT_APPS, s.clientApp)].filter(Boolean).join(' · ')],
              ['Browser', s.device && s.device.browser],
              ['Operating system', s.device && s.device.operatingSystem],
              ['IP address', s.ipAddress],
              ['Location', where === s.ipAddress ? 'Unknown' : where],
              ['Authentication', (s.authenticationMethods || []).filter((m) => m !== 'mfa').map((m) => say(METHODS, m)).join(', ')],
              ['Requirement', say(REQUIREMENTS, s.authenticationRequirement)],
              ['Risk', risk ? `${risk}: ${(s.risk.reasons || []).map((r) => say(RISK_REASONS, r)).join('; ')}` : 'none'],
              ['User agent', s.userAgent],
              ['Sign-in ID', h('code', { text: s.id })],
            ]),
            (s.authenticationSteps || []).length ? [h('h3', { text: 'Steps' }), h('ol', { class: 'steps' }, s.authenticationSteps.map((st) => h('li', {},
              `${say(METHODS, st.method)}: ${st.succeeded ? 'succeeded' : 'failed'}${st.detail ? ` (${st.detail})` : ''}`)))] : null,
            reviewSlot)));
    };

    async function load(reset) {
      if (reset) {
        nextToken = '';
        replace(list);
        replace(listState, h('p', { class: 'loading', role: 'status', text: 'Loading sign-ins…' }));
      }
      let page;
      try {
        page = await busy(more.parentElement || more, () => get(`/me/sign-ins${query({ pageSize: PAGE_SIZE, pageToken: nextToken, ...filters })}`));
      } catch (err) {
        if (err.status === 401) return;
        if (reset) replace(listState, errorState(err, () => load(true)));
        else replace(status, notice(err.message, 'error'));
        return;
      }
      replace(listState);
      const items = page.items || [];
      items.forEach((s) => list.append(item(s)));
      if (reset && !items.length) replace(listState, empty('No sign-ins match.'));
      nextToken = page.nextPageToken || '';
      more.hidden = !nextToken;
      if (!reset && items.length) {
        const first = list.children[list.children.length - items.length];
        const summary = first && first.querySelector('summary');
        if (summary) summary.focus();
      }
    }

    // Account activity
    const activityList = h('ol', { class: 'list activity', 'aria-label': 'Account activity' });
    const activityState = h('div', { class: 'list-state' });
    const moreActivity = button('Show more activity', () => loadActivity(false), { kind: 'secondary' });
    moreActivity.hidden = true;
    let category = '';
    let activityToken = '';
    const activityForm = h('form', { class: 'form filters', novalidate: true, 'aria-label': 'Filter activity' },
      field({ label: 'Kind of change', name: 'category', type: 'select', value: '', options: CATEGORIES }),
      h('div', { class: 'actions' }, button('Show', null, { kind: 'secondary', type: 'submit' })));
    activityForm.addEventListener('submit', (e) => {
      e.preventDefault();
      category = activityForm.elements.category.value;
      loadActivity(true);
    });

    async function loadActivity(reset) {
      if (reset) {
        activityToken = '';
        replace(activityList);
        replace(activityState, h('p', { class: 'loading', role: 'status', text: 'Loading activity…' }));
      }
      let page;
      try {
        page = await get(`/me/activity${query({ pageSize: PAGE_SIZE, pageToken: activityToken, category })}`);
      } catch (err) {
        if (err.status === 401) return;
        replace(activityState, errorState(err, () => loadActivity(true)));
        return;
      }
      replace(activityState);
      const items = page.items || [];
      items.forEach((a) => activityList.append(h('li', { class: 'activity-item' },
        h('span', { class: 'list-main' }, timeEl(a.time), ' ', badge((CATEGORIES.find(([c]) => c === a.category) || [null, a.category])[1], 'neutral')),
        h('span', { class: 'list-sub', text: a.summary || a.activity }))));
      if (reset && !items.length) replace(activityState, empty('No account activity yet.'));
      activityToken = page.nextPageToken || '';
      moreActivity.hidden = !activityToken;
    }

    replace(body,
      status,
      h('p', { text: 'Every attempt to sign in to your account, successful or not. If you do not recognize one, report it.' }),
      card('Sign-ins', [filterForm, listState, list, h('div', { class: 'actions' }, more)]),
      card('Account activity', [activityForm, activityState, activityList, h('div', { class: 'actions' }, moreActivity)]));
    await Promise.all([load(true), loadActivity(true)]);
  },
};
