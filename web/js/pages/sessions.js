// Sessions: where I am signed in; sign out one, everywhere else, or everywhere.

import { get, post, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn } from './common.js';

export default {
  title: 'Sessions',
  async render(body, ctx) {
    const list = await get('/me/sessions');
    const sessions = list.items || [];
    const status = h('div', { class: 'status-area' });
    const after = async (message) => {
      announce(message);
      await ctx.rerender();
      const s = document.querySelector('.page-sessions .status-area');
      if (s) replace(s, notice(message));
    };
    const fail = (err) => { if (err.status !== 401) replace(status, notice(err.message, 'error')); };

    const items = sessions.map((s) => h('li', { class: 'session', dataset: { sessionId: s.id } },
      h('div', { class: 'session-text' },
        h('span', { class: 'list-main' }, browserOn(s.browser, s.operatingSystem), s.current ? [' ', badge('This session', 'good')] : null),
        dl([
          ['IP address', s.ipAddress],
          ['Location', s.location || 'Unknown'],
          ['Signed in', timeEl(s.createdAt)],
          ['Last active', timeEl(s.lastActivityAt)],
          ['Sign-in methods', (s.authenticationMethods || []).join(', ')],
        ], 'facts facts-inline')),
      s.current ? null : button('Sign out', async () => {
        const ok = await confirmDialog({ title: 'Sign out this session?', message: `${browserOn(s.browser, s.operatingSystem)} will be signed out.`, confirmLabel: 'Sign out' });
        if (!ok) return;
        try {
          await del(`/me/sessions/${seg(s.id)}`);
          await after('The session was signed out.');
        } catch (err) { fail(err); }
      }, { kind: 'secondary', attrs: { 'aria-label': `Sign out ${browserOn(s.browser, s.operatingSystem)}` } })));

    const others = sessions.filter((s) => !s.current).length;
    replace(body,
      status,
      h('section', { class: 'card' },
        h('h2', { text: 'Where you are signed in' }),
        sessions.length ? h('ul', { class: 'list sessions' }, items) : empty('No active sessions.'),
        h('div', { class: 'actions' },
          button('Sign out everywhere else', async () => {
            const ok = await confirmDialog({ title: 'Sign out everywhere else?', message: 'Every other session ends. This one stays signed in.', confirmLabel: 'Sign out everywhere else' });
            if (!ok) return;
            try {
              const r = await post('/me/sessions/revoke-others');
              await after(`${r.revokedCount} other session${r.revokedCount === 1 ? ' was' : 's were'} signed out.`);
            } catch (err) { fail(err); }
          }, { kind: 'secondary', attrs: { disabled: others === 0 } }),
          button('Sign out everywhere', async () => {
            const ok = await confirmDialog({ title: 'Sign out everywhere?', message: 'Every session ends, this one too. You will need to sign in again.', confirmLabel: 'Sign out everywhere', danger: true });
            if (!ok) return;
            try {
              await post('/me/sessions/revoke-all');
              ctx.signedOut('You were signed out everywhere.');
            } catch (err) { fail(err); }
          }, { kind: 'danger' }))));
  },
};
