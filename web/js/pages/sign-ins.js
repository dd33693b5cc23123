// My sign-ins: every attempt, newest first, filtered and a page at a time, each with its
// details and the "This was me" / "This wasn't me" review; then the account activity list.

import { get, post, seg } from '../api.js';
import { h, replace, append, button, dl, field, checkbox, timeEl, notice, announce, busy, showProblem, sentence } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn, location, reviewText, errorState, card } from './common.js';
import { t, formatList } from '../i18n.js';
import { authenticationMethodName } from '../methods.js';

const PAGE_SIZE = 20;

// The API's stable codes, in words a person reads; an unknown code is shown as it is.
// Each table gives a code's message.
const CLIENT_APPS = {
  browser: 'sign-ins-app-browser', mobile_desktop: 'sign-ins-app-mobile-desktop', app_password: 'sign-ins-app-app-password', other: 'sign-ins-app-other',
};
const RISK_REASONS = {
  new_country: 'sign-ins-risk-new-country',
  new_device: 'sign-ins-risk-new-device',
  ip_failures_across_accounts: 'sign-ins-risk-ip-failures',
  impossible_travel: 'sign-ins-risk-impossible-travel',
};
const RISK_LEVELS = { low: 'sign-ins-risk-level-low', medium: 'sign-ins-risk-level-medium', high: 'sign-ins-risk-level-high' };
const REQUIREMENTS = { single_factor: 'sign-ins-requirement-single', multi_factor: 'sign-ins-requirement-multi' };
/** A failed sign-in's reason code (`invalid_password`) in words: `sign-ins-failure-invalid-password`. */
const failureText = (code) => {
  if (!code || !/^[a-z_]+$/.test(code)) return null;
  const id = `sign-ins-failure-${code.replace(/_/g, '-')}`;
  const text = t(id);
  return text === id ? null : text;
};
const say = (table, code) => (code ? (table[code] ? t(table[code]) : code) : null);

const CATEGORIES = [
  ['', 'sign-ins-category-all'], ['profile', 'sign-ins-category-profile'], ['password', 'sign-ins-category-password'], ['security_info', 'sign-ins-category-security-info'],
  ['sessions', 'sign-ins-category-sessions'], ['devices', 'sign-ins-category-devices'], ['organizations', 'sign-ins-category-organizations'], ['privacy', 'sign-ins-category-privacy'],
  ['sign_in', 'sign-ins-category-sign-in'], ['account', 'sign-ins-category-account'],
];
const categories = () => CATEGORIES.map(([code, id]) => [code, t(id)]);

/** An activity's event (and category, where the name alone is ambiguous): its message. */
const ACTIVITY_MESSAGES = {
  password_changed: 'activity-password-changed',
  session_revoked: 'activity-session-revoked',
  method_added: 'activity-method-added',
  method_removed: 'activity-method-removed',
  default_changed: 'activity-default-changed',
  'devices/registered': 'activity-device-registered',
  'devices/renamed': 'activity-device-renamed',
  'devices/deleted': 'activity-device-deleted',
  'devices/disabled': 'activity-device-disabled',
  'devices/enabled': 'activity-device-enabled',
  recovery_key_added: 'activity-recovery-key-added',
  recovery_key_viewed: 'activity-recovery-key-viewed',
  recovery_key_view_denied: 'activity-recovery-key-view-denied',
  member_joined: 'activity-member-joined',
  member_left: 'activity-member-left',
  member_removed: 'activity-member-removed',
  invitation_created: 'activity-invitation-created',
  invitation_declined: 'activity-invitation-declined',
  flagged: 'activity-flagged',
  data_exported: 'activity-data-exported',
  user_created: 'activity-account-created',
  user_disabled: 'activity-account-disabled',
  user_enabled: 'activity-account-enabled',
};

/** An account activity in words of the person's language, never in field or event names. */
export function activityText(a) {
  const details = a.details || {};
  if (a.activity === 'profile_updated' && details.changed_fields) {
    const fields = details.changed_fields.split(',').filter(Boolean)
      .map((f) => t(`profile-field-${f.replaceAll('_', '-')}`));
    return t('activity-profile-updated', { fields: formatList(fields) });
  }
  if (a.activity === 'password_changed' && details.reset === 'true') return t('activity-password-reset');
  if (a.activity === 'terms_accepted' && details.organization_name && details.version) {
    return t('activity-terms-accepted', { organization: details.organization_name, version: details.version });
  }
  const id = ACTIVITY_MESSAGES[`${a.category}/${a.activity}`] || ACTIVITY_MESSAGES[a.activity];
  return id ? t(id) : (a.summary || a.activity);
}

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
  get title() { return t('sign-ins-title'); },
  async render(body, ctx) {
    const status = h('div', { class: 'status-area' });
    const list = h('ol', { class: 'list sign-ins', 'aria-label': t('sign-ins-list') });
    const listState = h('div', { class: 'list-state' });
    const more = button(t('sign-ins-more'), () => load(false), { kind: 'secondary' });
    more.hidden = true;
    let filters = {};
    let nextToken = '';

    const filterForm = h('form', { class: 'form filters', novalidate: true, 'aria-label': t('sign-ins-filter') },
      field({ label: t('sign-ins-result'), name: 'status', type: 'select', value: '', options: [['', t('sign-ins-all')], ['success', t('overview-sign-in-successful')], ['failure', t('overview-sign-in-failed')]] }),
      field({ label: t('sign-ins-from'), name: 'from', type: 'date' }),
      field({ label: t('sign-ins-to'), name: 'to', type: 'date' }),
      checkbox({ label: t('sign-ins-only-risky'), name: 'risky' }),
      h('div', { class: 'actions' }, button(t('sign-ins-apply-filters'), null, { kind: 'primary', type: 'submit' })));
    filterForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const el = filterForm.elements;
      filters = { status: el.status.value, from: dayStart(el.from.value), to: dayStart(el.to.value, true), risky: el.risky.checked ? 'true' : '' };
      load(true).catch((err) => { if (err.status !== 401) showProblem(filterForm, err); });
    });

    const review = async (s, verdict, slot) => {
      if (verdict === 'not_me') {
        const ok = await confirmDialog({
          title: t('sign-ins-report-title'),
          message: t('sign-ins-report-message'),
          details: [t('sign-ins-report-signed-out'), t('sign-ins-report-new-password')],
          confirmLabel: t('sign-ins-not-me'),
          danger: true,
        });
        if (!ok) return;
      }
      try {
        const answer = await post(`/me/sign-ins/${seg(s.id)}/review`, { verdict });
        if (verdict === 'not_me') {
          const again = button(t('sign-ins-sign-in-again'), async () => {
            try { await post('/auth/sign-out', undefined, { stepUp: false }); } catch { /* already ended */ }
            ctx.signedOut(t('sign-ins-choose-new-password'));
          }, { kind: 'primary' });
          replace(status, h('div', { class: 'notice notice-warning', role: 'alert' },
            h('p', { class: 'notice-title', text: answer.message || t('sign-ins-thanks') }),
            (answer.nextSteps || []).length ? h('ul', {}, answer.nextSteps.map((step) => h('li', { text: step }))) : null,
            h('div', { class: 'actions' }, again)));
          status.querySelector('.notice-title').setAttribute('tabindex', '-1');
          status.querySelector('.notice-title').focus();
        } else {
          replace(slot, h('p', { class: 'reviewed', text: answer.message || t('sign-ins-marked-as-you') }));
          announce(answer.message || t('sign-ins-marked'));
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
          button(t('sign-ins-me'), () => review(s, 'me', reviewSlot), { kind: 'secondary' }),
          button(t('sign-ins-not-me'), () => review(s, 'not_me', reviewSlot), { kind: 'danger' }))]);
      }
      const ok = s.status === 'success';
      const where = location(s.location) || s.ipAddress;
      const risk = s.risk && s.risk.level && s.risk.level !== 'none' ? say(RISK_LEVELS, s.risk.level) : null;
      return h('li', { class: 'sign-in', dataset: { signInId: s.id } },
        h('details', {},
          h('summary', {},
            h('span', { class: 'list-main' }, timeEl(s.time), ' ', badge(ok ? t('overview-sign-in-successful') : t('overview-sign-in-failed'), ok ? 'good' : 'bad'),
              risk ? [' ', badge(t('sign-ins-risk-badge', { level: risk }), 'warn')] : null),
            h('span', { class: 'list-sub', text: [browserOn(s.device && s.device.browser, s.device && s.device.operatingSystem), where, say(CLIENT_APPS, s.clientApp) || s.appId].filter(Boolean).join(' · ') })),
          h('div', { class: 'details' },
            dl([
              [t('sign-ins-result'), ok ? t('overview-sign-in-successful') : (failureText(s.failureReason) || s.failureMessage || t('overview-sign-in-failed'))],
              [t('sign-ins-app'), [s.appId, say(CLIENT_APPS, s.clientApp)].filter(Boolean).join(' · ')],
              [t('sign-ins-browser'), s.device && s.device.browser],
              [t('devices-operating-system'), s.device && s.device.operatingSystem],
              [t('sessions-ip-address'), s.ipAddress],
              [t('sessions-location'), where === s.ipAddress ? t('sessions-location-unknown') : where],
              [t('sign-ins-authentication'), (s.authenticationMethods || []).filter((m) => m !== 'mfa').map(authenticationMethodName).join(', ')],
              [t('sign-ins-requirement'), say(REQUIREMENTS, s.authenticationRequirement)],
              [t('sign-ins-risk'), risk ? `${risk}: ${(s.risk.reasons || []).map((r) => say(RISK_REASONS, r)).join('; ')}` : t('sign-ins-risk-none')],
              [t('sign-ins-user-agent'), s.userAgent],
              [t('sign-ins-id'), h('code', { text: s.id })],
            ]),
            (s.authenticationSteps || []).length ? [h('h3', { text: t('sign-ins-steps') }), h('ol', { class: 'steps' }, s.authenticationSteps.map((st) => h('li', {},
              `${authenticationMethodName(st.method)}: ${st.succeeded ? t('sign-ins-step-succeeded') : t('sign-ins-step-failed')}${st.detail ? ` (${failureText(st.detail) || st.detail})` : ''}`)))] : null,
            reviewSlot)));
    };

    async function load(reset) {
      if (reset) {
        nextToken = '';
        replace(list);
        replace(listState, h('p', { class: 'loading', role: 'status', text: t('sign-ins-loading') }));
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
      if (reset && !items.length) replace(listState, empty(t('sign-ins-none')));
      nextToken = page.nextPageToken || '';
      more.hidden = !nextToken;
      if (!reset && items.length) {
        const first = list.children[list.children.length - items.length];
        const summary = first && first.querySelector('summary');
        if (summary) summary.focus();
      }
    }

    // Account activity
    const activityList = h('ol', { class: 'list activity', 'aria-label': t('sign-ins-activity') });
    const activityState = h('div', { class: 'list-state' });
    const moreActivity = button(t('sign-ins-more-activity'), () => loadActivity(false), { kind: 'secondary' });
    moreActivity.hidden = true;
    let category = '';
    let activityToken = '';
    const activityForm = h('form', { class: 'form filters', novalidate: true, 'aria-label': t('sign-ins-filter-activity') },
      field({ label: t('sign-ins-kind-of-change'), name: 'category', type: 'select', value: '', options: categories() }),
      h('div', { class: 'actions' }, button(t('sign-ins-show'), null, { kind: 'secondary', type: 'submit' })));
    activityForm.addEventListener('submit', (e) => {
      e.preventDefault();
      category = activityForm.elements.category.value;
      loadActivity(true);
    });

    async function loadActivity(reset) {
      if (reset) {
        activityToken = '';
        replace(activityList);
        replace(activityState, h('p', { class: 'loading', role: 'status', text: t('sign-ins-loading-activity') }));
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
        h('span', { class: 'list-main' }, timeEl(a.time), ' ', badge((categories().find(([c]) => c === a.category) || [null, a.category])[1], 'neutral')),
        h('span', { class: 'list-sub', text: activityText(a) }))));
      if (reset && !items.length) replace(activityState, empty(t('sign-ins-no-activity')));
      activityToken = page.nextPageToken || '';
      moreActivity.hidden = !activityToken;
    }

    replace(body,
      status,
      h('p', { text: t('sign-ins-intro') }),
      card(t('sign-ins-list'), [filterForm, listState, list, h('div', { class: 'actions' }, more)]),
      card(t('sign-ins-activity'), [activityForm, activityState, activityList, h('div', { class: 'actions' }, moreActivity)]));
    await Promise.all([load(true), loadActivity(true)]);
  },
};
