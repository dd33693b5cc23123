// Sessions: where I am signed in; sign out one, everywhere else, or everywhere.

import { get, post, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn } from './common.js';
import { t } from '../i18n.js';
import { authenticationMethodName } from '../methods.js';

export default {
  get title() { return t('sessions-title'); },
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
        h('span', { class: 'list-main' }, browserOn(s.browser, s.operatingSystem), s.current ? [' ', badge(t('sessions-this-session'), 'good')] : null),
        dl([
          [t('sessions-ip-address'), s.ipAddress],
          [t('sessions-location'), s.location || t('sessions-location-unknown')],
          [t('sessions-signed-in'), timeEl(s.createdAt)],
          [t('sessions-last-active'), timeEl(s.lastActivityAt)],
          [t('sessions-methods'), (s.authenticationMethods || []).map(authenticationMethodName).join(', ')],
        ], 'facts facts-inline')),
      s.current ? null : button(t('sign-out'), async () => {
        const ok = await confirmDialog({ title: t('sessions-sign-out-one-title'), message: t('sessions-sign-out-one-message', { device: browserOn(s.browser, s.operatingSystem) }), confirmLabel: t('sign-out') });
        if (!ok) return;
        try {
          await del(`/me/sessions/${seg(s.id)}`);
          await after(t('sessions-signed-out-one'));
        } catch (err) { fail(err); }
      }, { kind: 'secondary', attrs: { 'aria-label': t('sessions-sign-out-device', { device: browserOn(s.browser, s.operatingSystem) }) } })));

    const others = sessions.filter((s) => !s.current).length;
    replace(body,
      status,
      h('section', { class: 'card' },
        h('h2', { text: t('sessions-where') }),
        sessions.length ? h('ul', { class: 'list sessions' }, items) : empty(t('sessions-none')),
        h('div', { class: 'actions' },
          button(t('sessions-everywhere-else'), async () => {
            const ok = await confirmDialog({ title: t('sessions-everywhere-else-title'), message: t('sessions-everywhere-else-message'), confirmLabel: t('sessions-everywhere-else') });
            if (!ok) return;
            try {
              const r = await post('/me/sessions/revoke-others');
              await after(t('sessions-others-signed-out', { count: r.revokedCount }));
            } catch (err) { fail(err); }
          }, { kind: 'secondary', attrs: { disabled: others === 0 } }),
          button(t('sessions-everywhere'), async () => {
            const ok = await confirmDialog({ title: t('sessions-everywhere-title'), message: t('sessions-everywhere-message'), confirmLabel: t('sessions-everywhere'), danger: true });
            if (!ok) return;
            try {
              await post('/me/sessions/revoke-all');
              ctx.signedOut(t('sessions-signed-out-everywhere'));
            } catch (err) { fail(err); }
          }, { kind: 'danger' }))));
  },
};
