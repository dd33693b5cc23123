// Privacy: what each organization says about my data and which service keeps what, how long
// it is kept, a download of everything, and deleting my account where my organization allows.

import { get, post, del, ApiError } from '../api.js';
import { h, replace, button, dl, field, busy, showProblem, notice, announce } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, card, externalLink } from './common.js';

const SERVICES = { identity: 'Account and sign-in', organizations: 'Organizations', devices: 'Devices', security_info: 'Security info', securityinfo: 'Security info', audit: 'Sign-in and activity logs' };

function download(data, filename) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'visually-hidden', text: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export default {
  title: 'Privacy',
  async render(body, ctx) {
    const view = await get('/me/privacy');
    const status = h('div', { class: 'status-area' });

    const orgCard = (o) => h('section', { class: 'card organization-privacy' },
      h('h2', {}, o.displayName, ' ', o.kind === 'home' ? badge('Home', 'good') : badge('Guest', 'neutral')),
      dl([
        ['Privacy statement', (o.privacy && o.privacy.statementUrl && externalLink(o.privacy.statementUrl, 'Read the privacy statement')) || 'Not provided'],
        ['Privacy contact', o.privacy && o.privacy.contactEmail ? h('a', { href: `mailto:${o.privacy.contactEmail}`, text: o.privacy.contactEmail }) : 'Not provided'],
        ['Sign-ins kept for', o.signInRetentionDays ? `${o.signInRetentionDays} days` : null],
      ]),
      h('h3', { text: 'What is kept about you' }),
      h('ul', { class: 'list compact' }, (o.dataHeld || []).map((d) => h('li', {},
        h('span', { class: 'list-main', text: SERVICES[d.service] || d.service }),
        h('span', { class: 'list-sub', text: (d.categories || []).join(', ') })))));

    const exportButton = button('Download my data', async () => {
      try {
        const data = await busy(exportArea, () => post('/me/export'));
        const date = (data && data.exportedAt ? data.exportedAt : new Date().toISOString()).slice(0, 10);
        download(data, `myaccount-export-${date}.json`);
        const message = 'Your data was downloaded.';
        replace(status, notice(message));
        announce(message);
      } catch (err) {
        if (err.status !== 401) replace(status, notice(err.message, 'error'));
      }
    }, { kind: 'primary' });
    const exportArea = card('Download your data', [
      h('p', { text: 'One JSON file with everything My Account keeps about you: profile, sessions, security info (no secrets), devices (no keys), organizations, sign-ins and activity.' }),
      h('div', { class: 'actions' }, exportButton)]);

    const deletion = view.selfDeletion || { allowed: false };
    let deleteArea;
    if (deletion.allowed) {
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: 'Type your user name to confirm', name: 'confirmUserPrincipalName', autocomplete: 'off', required: true, attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
        h('div', { class: 'actions' }, button('Delete my account', null, { kind: 'danger', type: 'submit' })));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const name = form.elements.confirmUserPrincipalName.value.trim();
        if (!name) {
          showProblem(form, new ApiError(400, { detail: 'Type your user name to confirm.', errors: [{ field: 'confirmUserPrincipalName', message: 'Required.' }] }));
          return;
        }
        const ok = await confirmDialog({
          title: 'Delete your account?',
          message: 'Your account and everything My Account keeps about you will be erased. This cannot be undone.',
          details: [view.retention && view.retention.keptAfterErasure].filter(Boolean),
          confirmLabel: 'Delete my account',
          danger: true,
        });
        if (!ok) return;
        busy(form, () => del('/me', { confirmUserPrincipalName: name }))
          .then(() => ctx.signedOut('Your account has been deleted.'))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      deleteArea = card('Delete your account', [h('p', { text: 'Deleting your account signs you out everywhere and erases your data in every service.' }), form]);
    } else {
      deleteArea = card('Delete your account', [h('p', { text: deletion.reason || 'Your organization does not let you delete your own account.' })]);
    }

    const r = view.retention || {};
    replace(body,
      status,
      h('div', { class: 'cards' }, (view.organizations || []).map(orgCard)),
      card('How long data is kept', dl([
        ['Sign-ins', r.signInRetentionDays ? `${r.signInRetentionDays} days` : null],
        ['Account activity', r.activityRetention],
        ['After your account is deleted', r.keptAfterErasure],
      ])),
      exportArea,
      deleteArea);
  },
};
