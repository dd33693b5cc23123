// Organizations: my home organization and those I am a guest of, which one this session is
// in and switching to another (a new sign-in there); leaving one (confirmed, and stepped up
// when the API asks); invitations to accept or decline.

import { get, post, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { signInToOrganization } from '../auth.js';
import { badge, empty, card, externalLink } from './common.js';

function privacyLinks(o) {
  return [
    ['Privacy statement', (o.privacy && o.privacy.statementUrl && externalLink(o.privacy.statementUrl, 'Read the privacy statement')) || 'Not provided'],
    ['Privacy contact', o.privacy && o.privacy.contactEmail ? h('a', { href: `mailto:${o.privacy.contactEmail}`, text: o.privacy.contactEmail }) : null],
  ];
}

export default {
  title: 'Organizations',
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
      await after(`You are now signed in to ${o.displayName}.`);
    };

    const switchAction = (o) => {
      if (o === current || o.known === false) return null;
      return h('div', { class: 'actions' }, button(`Switch to ${o.displayName}`, () => switchTo(o), { kind: 'secondary' }));
    };

    const orgCard = (o) => h('section', { class: 'card organization', dataset: { organizationId: o.id } },
      h('h2', {}, o.displayName, ' ', o.kind === 'home' ? badge('Home', 'good') : badge('Guest', 'neutral'),
        o === current ? [' ', badge('Signed in here', 'good')] : null),
      dl([
        ['Domains', (o.verifiedDomains || []).join(', ')],
        ['Joined', o.joinedAt ? timeEl(o.joinedAt) : null],
        ['Invited by', o.invitedBy],
        ...privacyLinks(o),
        ['Technical contact', o.technicalContactEmail],
        ['Requires a second sign-in method', o.mfaRequired ? 'Yes' : 'No'],
      ]),
      switchAction(o),
      o.canLeave
        ? h('div', { class: 'actions' }, button('Leave organization', async () => {
          const ok = await confirmDialog({
            title: `Leave ${o.displayName}?`,
            message: 'You will lose access to its apps and resources. To come back, you need a new invitation.',
            confirmLabel: 'Leave organization',
            danger: true,
          });
          if (!ok) return;
          try {
            await post(`/me/organizations/${seg(o.id)}/leave`);
            await after(`You left ${o.displayName}.`);
          } catch (err) { fail(err); }
        }, { kind: 'danger', attrs: { 'aria-label': `Leave ${o.displayName}` } }))
        : (o.cannotLeaveReason ? h('p', { class: 'hint', text: o.cannotLeaveReason }) : null));

    const pending = (invitations.items || []).filter((i) => i.status === 'pending');
    replace(body,
      status,
      h('p', { class: 'current-organization' }, current
        ? ['This session is signed in to ', h('strong', { text: current.displayName }), current.kind === 'home' ? ', your home organization.' : ' as a guest.']
        : 'This session is not signed in to any organization listed here.'),
      items.length ? h('div', { class: 'cards' }, items.map(orgCard)) : empty('You do not belong to any organization.'),
      card('Invitations', pending.length
        ? h('ul', { class: 'list' }, pending.map((i) => h('li', { class: 'invitation' },
          h('span', { class: 'list-main', text: i.organization.displayName }),
          h('span', { class: 'list-sub' }, 'Invited ', timeEl(i.createdAt)),
          h('div', { class: 'actions' },
            button('Accept', async () => {
              try {
                const joined = await post(`/me/invitations/${seg(i.id)}/accept`);
                await after(`You joined ${(joined && joined.displayName) || i.organization.displayName}.`);
              } catch (err) { fail(err); }
            }, { kind: 'primary', attrs: { 'aria-label': `Accept the invitation from ${i.organization.displayName}` } }),
            button('Decline', async () => {
              const ok = await confirmDialog({ title: `Decline the invitation from ${i.organization.displayName}?`, message: 'The organization will be told you declined.', confirmLabel: 'Decline' });
              if (!ok) return;
              try {
                await post(`/me/invitations/${seg(i.id)}/decline`);
                await after('Invitation declined.');
              } catch (err) { fail(err); }
            }, { kind: 'secondary', attrs: { 'aria-label': `Decline the invitation from ${i.organization.displayName}` } })))))
        : empty('No invitations are waiting for you.')));
  },
};
