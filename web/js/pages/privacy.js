// Privacy: what each organization says about my data and which service keeps what, the terms
// of use of my organizations (and accepting them), how long data is kept, a download of
// everything, and deleting my account where my organization allows.

import { get, post, del, seg, ApiError } from '../api.js';
import { h, replace, button, dl, field, busy, showProblem, notice, announce, when } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, card, externalLink } from './common.js';
import { t } from '../i18n.js';

const SERVICES = { identity: 'privacy-service-identity', organizations: 'privacy-service-organizations', devices: 'privacy-service-devices', security_info: 'privacy-service-security-info', securityinfo: 'privacy-service-security-info', audit: 'privacy-service-audit' };

/** An organization's terms as the privacy view lists them, from the organization an accept answers. */
function termsOf(o) {
  return {
    organizationId: o.id,
    organizationName: o.displayName,
    url: o.termsOfUse ? o.termsOfUse.url : '',
    version: o.termsOfUse ? o.termsOfUse.version : '',
    acceptedVersion: o.acceptedTermsVersion || null,
    acceptedAt: o.termsAcceptedAt || null,
    accepted: Boolean(o.acceptedCurrentTerms),
  };
}

/**
 * The "Terms of use" card: per organization its terms, the version, and either when I accepted
 * them or an Accept button (saying so when I had accepted an earlier version).
 */
function termsCard(initial) {
  const status = h('div', { class: 'status-area' });
  const list = h('ul', { class: 'list terms-of-use' });
  const area = card(t('privacy-terms-title'), [h('p', { text: t('privacy-terms-text') }), status, list]);

  const show = (entries) => {
    if (!entries.length) {
      replace(list, h('li', { text: t('privacy-terms-none') }));
      return;
    }
    replace(list, ...entries.map((terms) => entry(terms)));
  };

  const reload = async () => {
    const view = await get('/me/privacy');
    show(view.termsOfUse || []);
  };

  const entry = (terms) => {
    const item = h('li', { class: 'terms-entry', 'data-organization-id': terms.organizationId });
    const state = [];
    if (terms.accepted) {
      state.push(h('p', { class: 'terms-state' }, badge(t('privacy-terms-accepted-badge'), 'good'), ' ',
        h('span', { text: t('privacy-terms-accepted-on', { date: when(terms.acceptedAt) }) })));
    } else {
      if (terms.acceptedVersion) {
        state.push(h('p', { class: 'terms-state' }, badge(t('privacy-terms-new-version'), 'warn'), ' ',
          h('span', { text: t('privacy-terms-earlier-version', { version: terms.acceptedVersion, date: when(terms.acceptedAt) }) })));
      }
      const accept = button(t('privacy-terms-accept'), async () => {
        try {
          const organization = await busy(item, () => post(`/me/organizations/${seg(terms.organizationId)}/terms/accept`, { version: terms.version }));
          const accepted = termsOf(organization);
          item.replaceWith(entry(accepted));
          const message = t('privacy-terms-accepted', { organization: accepted.organizationName, version: accepted.version });
          replace(status, notice(message));
          announce(message);
        } catch (err) {
          if (err.status === 401) return;
          replace(status, notice(err.message, 'error'));
          // The terms may have changed since the page was shown: show them as they are now.
          if (err.status === 400) await reload().catch(() => {});
        }
      }, { kind: 'primary', attrs: { 'aria-label': t('privacy-terms-accept-label', { organization: terms.organizationName, version: terms.version }) } });
      state.push(h('div', { class: 'actions' }, accept));
    }
    replace(item,
      h('h3', { text: terms.organizationName }),
      dl([
        [t('privacy-terms-document'), externalLink(terms.url, t('privacy-terms-read', { organization: terms.organizationName }))],
        [t('privacy-terms-version'), terms.version],
      ]),
      ...state);
    return item;
  };

  show(initial);
  return area;
}

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
  get title() { return t('privacy-title'); },
  async render(body, ctx) {
    const view = await get('/me/privacy');
    const status = h('div', { class: 'status-area' });

    const orgCard = (o) => h('section', { class: 'card organization-privacy' },
      h('h2', {}, o.displayName, ' ', o.kind === 'home' ? badge(t('privacy-home'), 'good') : badge(t('privacy-guest'), 'neutral')),
      dl([
        [t('privacy-statement'), (o.privacy && o.privacy.statementUrl && externalLink(o.privacy.statementUrl, t('privacy-read-statement'))) || t('privacy-not-provided')],
        [t('privacy-contact'), o.privacy && o.privacy.contactEmail ? h('a', { href: `mailto:${o.privacy.contactEmail}`, text: o.privacy.contactEmail }) : t('privacy-not-provided')],
        [t('privacy-sign-ins-kept-for'), o.signInRetentionDays ? t('privacy-days', { count: o.signInRetentionDays }) : null],
      ]),
      h('h3', { text: t('privacy-what-is-kept') }),
      h('ul', { class: 'list compact' }, (o.dataHeld || []).map((d) => h('li', {},
        h('span', { class: 'list-main', text: SERVICES[d.service] ? t(SERVICES[d.service]) : d.service }),
        h('span', { class: 'list-sub', text: (d.categories || []).join(', ') })))));

    const exportButton = button(t('privacy-download-my-data'), async () => {
      try {
        const data = await busy(exportArea, () => post('/me/export'));
        const date = (data && data.exportedAt ? data.exportedAt : new Date().toISOString()).slice(0, 10);
        download(data, `myaccount-export-${date}.json`);
        const message = t('privacy-downloaded');
        replace(status, notice(message));
        announce(message);
      } catch (err) {
        if (err.status !== 401) replace(status, notice(err.message, 'error'));
      }
    }, { kind: 'primary' });
    const exportArea = card(t('privacy-download-title'), [
      h('p', { text: t('privacy-download-text') }),
      h('div', { class: 'actions' }, exportButton)]);

    const deletion = view.selfDeletion || { allowed: false };
    let deleteArea;
    if (deletion.allowed) {
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: t('privacy-confirm-name'), name: 'confirmUserPrincipalName', autocomplete: 'off', required: true, attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
        h('div', { class: 'actions' }, button(t('privacy-delete-my-account'), null, { kind: 'danger', type: 'submit' })));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const name = form.elements.confirmUserPrincipalName.value.trim();
        if (!name) {
          showProblem(form, new ApiError(400, { detail: t('privacy-confirm-name-detail'), errors: [{ field: 'confirmUserPrincipalName', message: t('privacy-required') }] }));
          return;
        }
        const ok = await confirmDialog({
          title: t('privacy-delete-confirm-title'),
          message: t('privacy-delete-confirm-message'),
          details: [view.retention && view.retention.keptAfterErasure].filter(Boolean),
          confirmLabel: t('privacy-delete-my-account'),
          danger: true,
        });
        if (!ok) return;
        busy(form, () => del('/me', { confirmUserPrincipalName: name }))
          .then(() => ctx.signedOut(t('privacy-deleted')))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      deleteArea = card(t('privacy-delete-title'), [h('p', { text: t('privacy-delete-text') }), form]);
    } else {
      deleteArea = card(t('privacy-delete-title'), [h('p', { text: deletion.reason || t('privacy-delete-not-allowed') })]);
    }

    const r = view.retention || {};
    replace(body,
      status,
      h('div', { class: 'cards' }, (view.organizations || []).map(orgCard)),
      termsCard(view.termsOfUse || []),
      card(t('privacy-retention-title'), dl([
        [t('privacy-retention-sign-ins'), r.signInRetentionDays ? t('privacy-days', { count: r.signInRetentionDays }) : null],
        [t('privacy-retention-activity'), r.activityRetention],
        [t('privacy-retention-after-deletion'), r.keptAfterErasure],
      ])),
      exportArea,
      deleteArea);
  },
};
