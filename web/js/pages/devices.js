// Devices: every registered device with the sessions on it, then sessions on unregistered
// devices; registering a personal device, renaming one, deleting a personal one, disabling a
// lost one (both confirmed first) and revealing its recovery keys (which may ask for a
// step-up).

import { get, post, patch, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce, busy, sentence, field, showProblem, clearErrors } from '../dom.js';
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

/** The register form's fields: the API's names, with labels and hints. */
const REGISTER_FIELDS = [
  ['manufacturer', 'Manufacturer', 'For example Contoso.'],
  ['model', 'Model', null],
  ['operatingSystem', 'Operating system', 'For example iOS, Android, Windows or macOS.'],
  ['operatingSystemVersion', 'Operating system version', null],
];

export default {
  title: 'Devices',
  async render(body, ctx) {
    const view = await get('/me/devices');
    const status = h('div', { class: 'status-area' });
    // After a change the page is drawn again; the message goes into the new page's status area.
    const after = async (message) => {
      announce(message);
      await ctx.rerender();
      const s = document.querySelector('.page-devices .status-area');
      if (s) replace(s, notice(message));
    };

    const renameForm = (d, area, opener) => {
      const form = h('form', { class: 'form inline-form', novalidate: true, 'aria-label': `Rename ${d.displayName}` },
        field({ label: 'New name', name: 'displayName', value: d.displayName, required: true, autocomplete: 'off' }),
        h('div', { class: 'actions' },
          button('Save name', null, { kind: 'primary', type: 'submit' }),
          button('Cancel', () => { replace(area); opener.hidden = false; opener.focus(); }, { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form);
        const displayName = form.elements.displayName.value.trim();
        busy(form, () => patch(`/me/devices/${seg(d.id)}`, { displayName }))
          .then((renamed) => after(`${d.displayName} is now called ${renamed.displayName}.`))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    };

    const deviceCard = (d) => {
      const keysArea = h('div', { class: 'keys-area' });
      const renameArea = h('div', { class: 'rename-area' });
      const actions = h('div', { class: 'actions' });
      const rename = button('Rename', () => {
        rename.hidden = true;
        replace(renameArea, renameForm(d, renameArea, rename));
        renameArea.querySelector('input').focus();
      }, { kind: 'secondary', attrs: { 'aria-label': `Rename ${d.displayName}` } });
      actions.append(rename);
      // Only a personal device is the person's to delete; an organization's is its admins'.
      if (d.joinType !== 'organization_joined') {
        actions.append(button('Delete', async () => {
          const ok = await confirmDialog({
            title: `Delete ${d.displayName}?`,
            message: 'The device is removed from your account. If it is lost or stolen, disable it instead: that also signs it out everywhere at once.',
            confirmLabel: 'Delete device',
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(actions, () => del(`/me/devices/${seg(d.id)}`));
            await after(`${d.displayName} was deleted.`);
          } catch (err) {
            if (err.status !== 401) replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger-quiet', attrs: { 'aria-label': `Delete ${d.displayName}` } }));
      }
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
            await after(`${d.displayName} is disabled.`);
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
        actions, renameArea, keysArea);
    };

    const registerForm = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'register-device-title' },
      field({ label: 'Name', name: 'displayName', required: true, autocomplete: 'off', hint: 'How you will recognise it, for example "Adele\'s phone".' }),
      field({ label: 'Type', name: 'deviceType', type: 'select', value: 'phone', options: Object.entries(TYPES).map(([v, text]) => [v, v === 'other' ? 'Other' : text]) }),
      REGISTER_FIELDS.map(([name, label, hint]) => field({ label: `${label} (optional)`, name, hint, autocomplete: 'off' })),
      h('div', { class: 'actions' }, button('Register device', null, { kind: 'primary', type: 'submit' })));
    registerForm.addEventListener('submit', (e) => {
      e.preventDefault();
      clearErrors(registerForm);
      const el = registerForm.elements;
      const device = { displayName: el.displayName.value.trim(), deviceType: el.deviceType.value };
      for (const [name] of REGISTER_FIELDS) device[name] = el[name].value.trim();
      busy(registerForm, () => post('/me/devices', device))
        .then((registered) => after(`${registered.displayName} is registered.`))
        .catch((err) => { if (err.status !== 401) showProblem(registerForm, err); });
    });
    const registerCard = h('section', { class: 'card register-device' },
      h('h2', { id: 'register-device-title', text: 'Register a personal device' }),
      h('p', { text: 'Register a phone, tablet or computer of your own so you can tell its sessions apart and disable it if it is lost.' }),
      registerForm);

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
        : empty('No sessions on unregistered devices.')),
      registerCard);
  },
};
