// Devices: every registered device with the sessions on it, then sessions on unregistered
// devices; disabling a lost device (confirmed first) and revealing its recovery keys (which
// may ask for a step-up).

import { get, post, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce, busy, sentence } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn, card } from './common.js';

const TYPES = { phone: 'Phone', tablet: 'Tablet', laptop: 'Laptop', desktop: 'Desktop', other: 'Device' };
const VOLUMES = { operating_system: 'Operating system drive', fixed_data: 'Fixed data drive', removable_data: 'Removable drive' };

/** Sessions on a device; `grouped`: the group already names browser and system. */
function sessionList(sessions, grouped = false) {
  if (!sessions.length) return empty('No active sessions on this device.');
  return h('ul', { class: 'list compact' }, sessions.map((s) => h('li', {},
    h('span', { class: 'list-main' }, grouped ? 'Session' : browserOn(s.browser, s.operatingSystem), s.current ? [' ', badge('This session', 'good')] : null),
    h('span', { class: 'list-sub' }, [s.location || s.ipAddress, 'last active '].filter(Boolean).join(' · '), timeEl(s.lastActivityAt)))));
}

export default {
  title: 'Devices',
  async render(body, ctx) {
    const view = await get('/me/devices');
    const status = h('div', { class: 'status-area' });

    const deviceCard = (d) => {
      const keysArea = h('div', { class: 'keys-area' });
      const actions = h('div', { class: 'actions' });
      if (d.enabled) {
        actions.append(button('Disable device', async () => {
          const ok = await confirmDialog({
            title: `Disable ${d.displayName}?`,
            message: 'Do this if the device is lost or stolen. Every session on it ends at once and it can no longer sign in.',
            details: ['Only an administrator can enable it again.'],
            confirmLabel: 'Disable device',
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(actions, () => post(`/me/devices/${seg(d.id)}/disable`));
            const message = `${d.displayName} is disabled.`;
            announce(message);
            await ctx.rerender();
            const s = document.querySelector('.page-devices .status-area');
            if (s) replace(s, notice(message));
          } catch (err) {
            if (err.status !== 401) replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger', attrs: { 'aria-label': `Disable ${d.displayName}` } }));
      }
      if (d.recoveryKeyCount > 0) {
        const show = button('Show recovery keys', async () => {
          try {
            const keys = await busy(actions, () => get(`/me/devices/${seg(d.id)}/recovery-keys`));
            show.hidden = true;
            replace(keysArea, h('h4', { text: 'Recovery keys' }), h('ul', { class: 'list compact' }, (keys.items || []).map((k) => {
              const slot = h('div', { class: 'key-slot' });
              const reveal = button('Reveal key', async () => {
                try {
                  const revealed = await post(`/me/devices/${seg(d.id)}/recovery-keys/${seg(k.id)}/reveal`);
                  replace(slot, h('code', { class: 'secret recovery-key', text: revealed.key }));
                  announce('Recovery key shown.');
                } catch (err) {
                  if (err.status !== 401) replace(slot, h('p', { class: 'field-error', role: 'alert', text: sentence(err.message) }));
                }
              }, { kind: 'secondary', attrs: { 'aria-label': `Reveal the ${VOLUMES[k.volumeType] || 'drive'} recovery key` } });
              return h('li', {},
                h('span', { class: 'list-main', text: VOLUMES[k.volumeType] || k.volumeType }),
                h('span', { class: 'list-sub' }, 'Key ID ', h('code', { text: k.id }), ' · stored ', timeEl(k.createdAt)),
                slot, reveal);
            })));
          } catch (err) {
            if (err.status !== 401) replace(keysArea, h('p', { role: 'alert', text: sentence(err.message) }));
          }
        }, { kind: 'secondary', attrs: { 'aria-label': `Show recovery keys of ${d.displayName}` } });
        actions.append(show);
      }
      return h('section', { class: ['card', 'device', d.enabled ? '' : 'device-disabled'], dataset: { deviceId: d.id } },
        h('h2', {}, d.displayName, ' ', d.enabled ? badge('Enabled', 'good') : badge('Disabled', 'bad')),
        dl([
          ['Type', TYPES[d.deviceType] || d.deviceType],
          ['Operating system', [d.operatingSystem, d.operatingSystemVersion].filter(Boolean).join(' ')],
          ['Make and model', [d.manufacturer, d.model].filter(Boolean).join(' ')],
          ['Joined', d.joinType === 'organization_joined' ? 'Organization device' : 'Personal device'],
          ['Registered', timeEl(d.registeredAt)],
          ['Last activity', d.lastActivityAt ? timeEl(d.lastActivityAt) : 'None yet'],
          ['Disabled', d.disabledAt ? timeEl(d.disabledAt) : null],
          ['Managed', d.managed ? 'Yes' : null],
          ['Compliant', d.managed ? (d.compliant ? 'Yes' : 'No') : null],
        ]),
        h('h3', { text: 'Sessions on this device' }),
        sessionList(d.sessions || []),
        actions, keysArea);
    };

    const items = view.items || [];
    const others = view.unregisteredDevices || [];
    replace(body,
      status,
      h('p', { text: 'Devices you registered or your organization joined, with where you are signed in. ' },
        h('a', { href: '/sessions', 'data-route': '', text: 'Manage sessions' })),
      items.length ? h('div', { class: 'cards' }, items.map(deviceCard)) : empty('You have no registered devices.'),
      card('Other browsers and devices', others.length
        ? h('ul', { class: 'list' }, others.map((g) => h('li', {},
          h('span', { class: 'list-main', text: browserOn(g.browser, g.operatingSystem) }),
          sessionList(g.sessions || [], true))))
        : empty('No sessions on unregistered devices.')));
  },
};
