// Overview: one card per section of GET /me; a section that did not answer in time says so
// on its own card and the rest still show. The profile card edits the fields identity lets
// the person change (`editableFields`), in place.

import { get, patch } from '../api.js';
import { h, replace, dl, timeEl, plural, field, button, busy, showProblem, clearErrors, notice, announce } from '../dom.js';
import { methodName } from '../auth.js';
import { card, link, unavailable, unavailableText, badge, browserOn, location, empty } from './common.js';

function section(title, data, build, more) {
  const body = unavailable(data) ? unavailableText() : build(data);
  return card(title, [body, more ? h('p', { class: 'more' }, more) : null], { cls: 'overview-card' });
}

/** The profile's fields in the order shown, with their labels and how browsers fill them. */
const PROFILE_FIELDS = [
  ['displayName', 'Name', 'name'],
  ['givenName', 'First name', 'given-name'],
  ['surname', 'Last name', 'family-name'],
  ['userPrincipalName', 'User name', null],
  ['mail', 'Email', null],
  ['jobTitle', 'Job title', null],
  ['department', 'Department', null],
  ['officeLocation', 'Office', null],
  ['mobilePhone', 'Mobile phone', 'tel'],
  ['businessPhone', 'Business phone', 'tel'],
  ['preferredLanguage', 'Preferred language', null],
];

const HINTS = {
  mobilePhone: 'With the country code, for example +1 425 555 0100.',
  businessPhone: 'With the country code, for example +1 425 555 0100.',
  preferredLanguage: 'A language tag, for example en-GB or de-DE.',
};

/** The profile card: the facts, and (when any field is the person's to change) an edit form. */
function profileCard(initial, ctx) {
  const section = h('section', { class: 'card overview-card profile-card' });
  const status = h('div', { class: 'status-area' });
  let profile = initial;

  const show = (message) => {
    const editable = profile.editableFields || [];
    const edit = editable.length
      ? button('Edit profile', () => showForm(), { kind: 'secondary' })
      : null;
    replace(section,
      h('h2', { tabindex: '-1', text: 'Profile' }),
      status,
      dl(PROFILE_FIELDS.map(([name, label]) => [label, profile[name]])),
      edit ? h('div', { class: 'actions' }, edit) : null);
    replace(status, message ? notice(message) : null);
    return edit;
  };

  const showForm = () => {
    const editable = new Set(profile.editableFields || []);
    const fields = PROFILE_FIELDS.filter(([name]) => editable.has(name));
    const form = h('form', { class: 'form profile-form', novalidate: true, 'aria-label': 'Edit profile' },
      fields.map(([name, label, autocomplete]) => field({
        label,
        name,
        value: profile[name] || '',
        type: autocomplete === 'tel' ? 'tel' : 'text',
        autocomplete: autocomplete || 'off',
        required: name === 'displayName',
        hint: HINTS[name],
      })),
      h('div', { class: 'actions' },
        button('Save', null, { kind: 'primary', type: 'submit' }),
        button('Cancel', () => { show()?.focus(); }, { kind: 'secondary' })));
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
        show('Nothing changed.')?.focus();
        announce('Nothing changed.');
        return;
      }
      busy(form, () => patch('/me/profile', changes)).then((changed) => {
        profile = changed;
        const message = 'Your profile was saved.';
        show(message)?.focus();
        announce(message);
        ctx.accountChanged();
      }).catch((err) => { if (err.status !== 401) showProblem(form, err); });
    });
    replace(section, h('h2', { tabindex: '-1', text: 'Edit profile' }), form);
    section.querySelector('h2').focus();
  };

  show();
  return section;
}

export default {
  title: 'Overview',
  async render(body, ctx) {
    const me = await get('/me');
    replace(body, h('div', { class: 'cards' },
      unavailable(me.profile) ? section('Profile', me.profile) : profileCard(me.profile, ctx),
      section('Security info', me.securityInfo, (s) => dl([
        ['Sign-in methods', String(s.methodsCount)],
        ['Default method', s.defaultMethod ? `${methodName(s.defaultMethod.type)}${s.defaultMethod.label ? ': ' + s.defaultMethod.label : ''}` : 'None'],
        ['Multi-factor authentication', s.mfaRegistered ? badge('Set up', 'good') : badge('Not set up', 'warn')],
      ]), link('/security-info', 'Update security info')),
      card('Password', [
        h('p', { text: 'Change your password, and sign out of your other sessions if someone else may know it.' }),
        h('p', { class: 'more' }, link('/password', 'Change password'))], { cls: 'overview-card' }),
      section('Devices', me.devices, (d) => dl([
        ['Devices', String(d.count)],
        ['Latest activity', d.newestActivityAt ? timeEl(d.newestActivityAt) : 'None yet'],
      ]), link('/devices', 'Manage devices')),
      section('Organizations', me.organizations, (o) => dl([
        ['Home organization', o.home ? o.home.displayName : 'Unknown'],
        ['Guest of', plural(o.guestCount, 'organization', 'organizations')],
        ['Pending invitations', String(o.pendingInvitationCount)],
      ]), link('/organizations', 'See organizations')),
      card('Privacy', [
        h('p', { text: 'See what each organization keeps about you and for how long, and download your data.' }),
        h('p', { class: 'more' }, link('/privacy', 'Manage privacy'))], { cls: 'overview-card' }),
      section('Recent sign-ins', me.recentSignIns, (list) => (list.items && list.items.length
        ? h('ul', { class: 'list compact' }, list.items.map((s) => h('li', {},
          h('span', { class: 'list-main' }, timeEl(s.time), ' ', badge(s.status === 'success' ? 'Successful' : 'Failed', s.status === 'success' ? 'good' : 'bad')),
          h('span', { class: 'list-sub', text: [browserOn(s.device && s.device.browser, s.device && s.device.operatingSystem), location(s.location) || s.ipAddress].filter(Boolean).join(' · ') }))))
        : empty('No sign-ins yet.')), link('/sign-ins', 'Review my sign-ins')),
    ));
  },
};
