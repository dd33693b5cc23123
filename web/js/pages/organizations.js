// Organizations: my home organization and those I am a guest of, which one this session is
// in and switching to another (a new sign-in there); leaving one (confirmed, and stepped up
// when the API asks); invitations to accept or decline.

import { get, post, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { signInToOrganization } from '../auth.js';
import { badge, empty, card, externalLink } from './common.js';
import { t } from '../i18n.js';

function privacyLinks(o) {
  return [
    [t('privacy-statement'), (o.privacy && o.privacy.statementUrl && externalLink(o.privacy.statementUrl, t('privacy-read-statement'))) || t('privacy-not-provided')],
    [t('privacy-contact'), o.privacy && o.privacy.contactEmail ? h('a', { href: `mailto:${o.privacy.contactEmail}`, text: o.privacy.contactEmail }) : null],
  ];
}

export default {
  get title() { return t('organizations-title'); },
  async render(body, ctx) {
    const [orgs, invitations, session, profile] = await Promise.all([
      get('/me/organizations'), get('/me/invitations'), get('/auth/session'), get('/me/profile')]);
    const status = h('div', { class: 'status-area' });
    const items = orgs.items || [];
    const current = items.find((o) => o.id === session.organizationId);
    const after = async (message) => {
      announce(message);
      await ctx.rerender();
      const s = document.querySelector('.page-organizations .status-area');
      if (s) replace(s, notice(message));
    };
    const fail = (err) => { if (err.status !== 401) replace(status, notice(err.message, 'error')); };

    const switchTo = async (o) => {
      // The session this browser is in now ends once the new one is set: switching leaves no
      // session behind that nobody can use or sign out of.
      let previous = null;
      try {
        const sessions = await get('/me/sessions');
        previous = ((sessions.items || []).find((s) => s.current) || {}).id || null;
      } catch (err) {
        fail(err);
        return;
      }
      const switched = await signInToOrganization({
        username: profile.userPrincipalName,
        organizationId: o.kind === 'home' ? null : o.id,
        organizationName: o.displayName,
      });
      if (!switched) return;
      if (previous) await del(`/me/sessions/${seg(previous)}`, undefined, { stepUp: false }).catch(() => {});
      await after(t('organizations-switched', { organization: o.displayName }));
    };

    const switchAction = (o) => {
      if (o === current || o.known === false) return null;
      return h('div', { class: 'actions' }, button(t('organizations-switch-to', { organization: o.displayName }), () => switchTo(o), { kind: 'secondary' }));
    };

    const orgCard = (o) => h('section', { class: 'card organization', dataset: { organizationId: o.id } },
      h('h2', {}, o.displayName, ' ', o.kind === 'home' ? badge(t('privacy-home'), 'good') : badge(t('privacy-guest'), 'neutral'),
        o === current ? [' ', badge(t('organizations-signed-in-here'), 'good')] : null),
      dl([
        [t('organizations-domains'), (o.verifiedDomains || []).join(', ')],
        [t('organizations-joined'), o.joinedAt ? timeEl(o.joinedAt) : null],
        [t('organizations-invited-by'), o.invitedBy],
        ...privacyLinks(o),
        [t('organizations-technical-contact'), o.technicalContactEmail],
        [t('organizations-mfa-required'), o.mfaRequired ? t('yes') : t('no')],
      ]),
      switchAction(o),
      o.canLeave
        ? h('div', { class: 'actions' }, button(t('organizations-leave'), async () => {
          const ok = await confirmDialog({
            title: t('organizations-leave-title', { organization: o.displayName }),
            message: t('organizations-leave-message'),
            confirmLabel: t('organizations-leave'),
            danger: true,
          });
          if (!ok) return;
          try {
            await post(`/me/organizations/${seg(o.id)}/leave`);
            await after(t('organizations-left', { organization: o.displayName }));
          } catch (err) { fail(err); }
        }, { kind: 'danger', attrs: { 'aria-label': t('organizations-leave-named', { organization: o.displayName }) } }))
        // The one reason organizations gives (a home organization cannot be left), in the
        // catalog's words: the API's sentence is English only.
        : (o.cannotLeaveReason ? h('p', { class: 'hint', text: t(o.kind === 'home' ? 'organizations-home-cannot-leave' : 'organizations-cannot-leave') }) : null));

    const pending = (invitations.items || []).filter((i) => i.status === 'pending');
    replace(body,
      status,
      h('p', { class: 'current-organization' }, current
        ? t(current.kind === 'home' ? 'organizations-current-home' : 'organizations-current-guest', { organization: current.displayName })
        : t('organizations-current-none')),
      items.length ? h('div', { class: 'cards' }, items.map(orgCard)) : empty(t('organizations-none')),
      card(t('organizations-invitations'), pending.length
        ? h('ul', { class: 'list' }, pending.map((i) => h('li', { class: 'invitation' },
          h('span', { class: 'list-main', text: i.organization.displayName }),
          h('span', { class: 'list-sub' }, t('organizations-invited'), ' ', timeEl(i.createdAt)),
          h('div', { class: 'actions' },
            button(t('organizations-accept'), async () => {
              try {
                const joined = await post(`/me/invitations/${seg(i.id)}/accept`);
                await after(t('organizations-joined-named', { organization: (joined && joined.displayName) || i.organization.displayName }));
              } catch (err) { fail(err); }
            }, { kind: 'primary', attrs: { 'aria-label': t('organizations-accept-named', { organization: i.organization.displayName }) } }),
            button(t('organizations-decline'), async () => {
              const ok = await confirmDialog({ title: t('organizations-decline-title', { organization: i.organization.displayName }), message: t('organizations-decline-message'), confirmLabel: t('organizations-decline') });
              if (!ok) return;
              try {
                await post(`/me/invitations/${seg(i.id)}/decline`);
                await after(t('organizations-declined'));
              } catch (err) { fail(err); }
            }, { kind: 'secondary', attrs: { 'aria-label': t('organizations-decline-named', { organization: i.organization.displayName }) } })))))
        : empty(t('organizations-no-invitations'))));
  },
};
