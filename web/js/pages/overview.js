// Overview: one card per section of GET /me; a section that did not answer in time says so
// on its own card and the rest still show. The profile card edits the fields identity lets
// the person change (`editableFields`), in place.

import { get, patch } from '../api.js';
import { h, replace, dl, timeEl, field, button, busy, showProblem, clearErrors, notice, announce } from '../dom.js';
import { methodName } from '../methods.js';
import { card, link, unavailable, unavailableText, badge, browserOn, location, empty } from './common.js';
import { t } from '../i18n.js';

function section(title, data, build, more) {
  const body = unavailable(data) ? unavailableText() : build(data);
  return card(title, [body, more ? h('p', { class: 'more' }, more) : null], { cls: 'overview-card' });
}

/** The profile's fields in the order shown, with their labels' messages and how browsers fill
 * them. Language, format and zone have a page of their own (pages/language.js). */
const PROFILE_FIELDS = [
  ['displayName', 'profile-field-display-name', 'name'],
  ['givenName', 'profile-field-given-name', 'given-name'],
  ['surname', 'profile-field-surname', 'family-name'],
  ['userPrincipalName', 'profile-field-user-principal-name', null],
  ['mail', 'profile-field-mail', null],
  ['jobTitle', 'profile-field-job-title', null],
  ['department', 'profile-field-department', null],
  ['officeLocation', 'profile-field-office-location', null],
  ['mobilePhone', 'profile-field-mobile-phone', 'tel'],
  ['businessPhone', 'profile-field-business-phone', 'tel'],
];

const HINTS = {
  mobilePhone: 'profile-hint-phone',
  businessPhone: 'profile-hint-phone',
};

/** The profile card: the facts, and (when any field is the person's to change) an edit form. */
function profileCard(initial, ctx) {
  const section = h('section', { class: 'card overview-card profile-card' });
  const status = h('div', { class: 'status-area' });
  let profile = initial;

  const show = (message) => {
    const editable = profile.editableFields || [];
    const edit = editable.length
      ? button(t('overview-edit-profile'), () => showForm(), { kind: 'secondary' })
      : null;
    replace(section,
      h('h2', { tabindex: '-1', text: t('overview-profile') }),
      status,
      dl(PROFILE_FIELDS.map(([name, label]) => [t(label), profile[name]])),
      edit ? h('div', { class: 'actions' }, edit) : null);
    replace(status, message ? notice(message) : null);
    return edit;
  };

  const showForm = () => {
    const editable = new Set(profile.editableFields || []);
    const fields = PROFILE_FIELDS.filter(([name]) => editable.has(name));
    const form = h('form', { class: 'form profile-form', novalidate: true, 'aria-label': t('overview-edit-profile') },
      fields.map(([name, label, autocomplete]) => field({
        label: t(label),
        name,
        value: profile[name] || '',
        type: autocomplete === 'tel' ? 'tel' : 'text',
        autocomplete: autocomplete || 'off',
        required: name === 'displayName',
        hint: HINTS[name] && t(HINTS[name]),
      })),
      h('div', { class: 'actions' },
        button(t('save'), null, { kind: 'primary', type: 'submit' }),
        button(t('cancel'), () => { show()?.focus(); }, { kind: 'secondary' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearErrors(form);
      // Merge-patch: only what changed is sent, so a field the person did not touch is never
      // overwritten with what this page read earlier.
      const changes = {};
      for (const [name] of fields) {
        const value = form.elements[name].value.trim();
        if (value !== (profile[name] || '')) changes[name] = value;
      }
      if (!Object.keys(changes).length) {
        show(t('nothing-changed'))?.focus();
        announce(t('nothing-changed'));
        return;
      }
      busy(form, () => patch('/me/profile', changes)).then((changed) => {
        profile = changed;
        const message = t('overview-profile-saved');
        show(message)?.focus();
        announce(message);
        ctx.accountChanged();
      }).catch((err) => { if (err.status !== 401) showProblem(form, err); });
    });
    replace(section, h('h2', { tabindex: '-1', text: t('overview-edit-profile') }), form);
    section.querySelector('h2').focus();
  };

  show();
  return section;
}

export default {
  get title() { return t('overview-title'); },
  async render(body, ctx) {
    const me = await get('/me');
    replace(body, h('div', { class: 'cards' },
      unavailable(me.profile) ? section(t('overview-profile'), me.profile) : profileCard(me.profile, ctx),
      section(t('overview-security-info'), me.securityInfo, (s) => dl([
        [t('overview-methods'), String(s.methodsCount)],
        [t('overview-default-method'), s.defaultMethod ? `${methodName(s.defaultMethod.type)}${s.defaultMethod.label ? ': ' + s.defaultMethod.label : ''}` : t('overview-default-method-none')],
        [t('overview-mfa'), s.mfaRegistered ? badge(t('overview-mfa-set-up'), 'good') : badge(t('overview-mfa-not-set-up'), 'warn')],
      ]), link('/security-info', t('overview-update-security-info'))),
      card(t('overview-password'), [
        h('p', { text: t('overview-password-text') }),
        h('p', { class: 'more' }, link('/password', t('overview-change-password')))], { cls: 'overview-card' }),
      section(t('overview-devices'), me.devices, (d) => dl([
        [t('overview-devices-count'), String(d.count)],
        [t('overview-latest-activity'), d.newestActivityAt ? timeEl(d.newestActivityAt) : t('none-yet')],
      ]), link('/devices', t('overview-manage-devices'))),
      section(t('overview-organizations'), me.organizations, (o) => dl([
        [t('overview-home-organization'), o.home ? o.home.displayName : t('overview-unknown')],
        [t('overview-guest-of'), t('overview-guest-count', { count: o.guestCount })],
        [t('overview-pending-invitations'), String(o.pendingInvitationCount)],
      ]), link('/organizations', t('overview-see-organizations'))),
      card(t('overview-privacy'), [
        h('p', { text: t('overview-privacy-text') }),
        h('p', { class: 'more' }, link('/privacy', t('overview-manage-privacy')))], { cls: 'overview-card' }),
      card(t('overview-language'), [
        h('p', { text: t('overview-language-text') }),
        h('p', { class: 'more' }, link('/language', t('overview-change-language')))], { cls: 'overview-card' }),
      section(t('overview-recent-sign-ins'), me.recentSignIns, (list) => (list.items && list.items.length
        ? h('ul', { class: 'list compact' }, list.items.map((s) => h('li', {},
          h('span', { class: 'list-main' }, timeEl(s.time), ' ', badge(s.status === 'success' ? t('overview-sign-in-successful') : t('overview-sign-in-failed'), s.status === 'success' ? 'good' : 'bad')),
          h('span', { class: 'list-sub', text: [browserOn(s.device && s.device.browser, s.device && s.device.operatingSystem), location(s.location) || s.ipAddress].filter(Boolean).join(' · ') }))))
        : empty(t('overview-no-sign-ins'))), link('/sign-ins', t('overview-review-sign-ins'))),
    ));
  },
};
