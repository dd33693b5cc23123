// Overview: one card per section of GET /me; a section that did not answer in time says so
// on its own card and the rest still show.

import { get } from '../api.js';
import { h, replace, dl, timeEl, plural } from '../dom.js';
import { methodName } from '../auth.js';
import { card, link, unavailable, unavailableText, badge, browserOn, location, empty } from './common.js';

function section(title, data, build, more) {
  const body = unavailable(data) ? unavailableText() : build(data);
  return card(title, [body, more ? h('p', { class: 'more' }, more) : null], { cls: 'overview-card' });
}

export default {
  title: 'Overview',
  async render(body) {
    const me = await get('/me');
    replace(body, h('div', { class: 'cards' },
      section('Profile', me.profile, (p) => dl([
        ['Name', p.displayName],
        ['User name', p.userPrincipalName],
        ['Email', p.mail],
        ['Job title', p.jobTitle],
        ['Department', p.department],
        ['Office', p.officeLocation],
      ])),
      section('Security info', me.securityInfo, (s) => dl([
        ['Sign-in methods', String(s.methodsCount)],
        ['Default method', s.defaultMethod ? `${methodName(s.defaultMethod.type)}${s.defaultMethod.label ? ': ' + s.defaultMethod.label : ''}` : 'None'],
        ['Multi-factor authentication', s.mfaRegistered ? badge('Set up', 'good') : badge('Not set up', 'warn')],
      ]), link('/security-info', 'Update security info')),
      section('Devices', me.devices, (d) => dl([
        ['Devices', String(d.count)],
        ['Latest activity', d.newestActivityAt ? timeEl(d.newestActivityAt) : 'None yet'],
      ]), link('/devices', 'Manage devices')),
      section('Organizations', me.organizations, (o) => dl([
        ['Home organization', o.home ? o.home.displayName : 'Unknown'],
        ['Guest of', plural(o.guestCount, 'organization', 'organizations')],
        ['Pending invitations', String(o.pendingInvitationCount)],
      ]), link('/organizations', 'See organizations')),
      section('Recent sign-ins', me.recentSignIns, (list) => (list.items && list.items.length
        ? h('ul', { class: 'list compact' }, list.items.map((s) => h('li', {},
          h('span', { class: 'list-main' }, timeEl(s.time), ' ', badge(s.status === 'success' ? 'Successful' : 'Failed', s.status === 'success' ? 'good' : 'bad')),
          h('span', { class: 'list-sub', text: [browserOn(s.device && s.device.browser, s.device && s.device.operatingSystem), location(s.location) || s.ipAddress].filter(Boolean).join(' · ') }))))
        : empty('No sign-ins yet.')), link('/sign-ins', 'Review my sign-ins')),
    ));
  },
};
