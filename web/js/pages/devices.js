// Devices: every registered device with the sessions on it, then sessions on unregistered
// devices; registering a personal device, renaming one, deleting a personal one, disabling a
// lost one (both confirmed first) and revealing its recovery keys (which may ask for a
// step-up).

import { get, post, patch, del, seg } from '../api.js';
import { h, replace, button, dl, timeEl, notice, announce, busy, sentence, field, showProblem, clearErrors } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { badge, empty, browserOn, card } from './common.js';
import { t } from '../i18n.js';

/** Device types and recovery key volumes: their messages. */
const TYPES = { phone: 'devices-type-phone', tablet: 'devices-type-tablet', laptop: 'devices-type-laptop', desktop: 'devices-type-desktop', other: 'devices-type-other' };
const VOLUMES = { operating_system: 'devices-volume-operating-system', fixed_data: 'devices-volume-fixed-data', removable_data: 'devices-volume-removable-data' };
const typeName = (type) => (TYPES[type] ? t(TYPES[type]) : type);
const volumeName = (volume) => (VOLUMES[volume] ? t(VOLUMES[volume]) : null);

/** Sessions on a device; `grouped`: the group already names browser and system. */
function sessionList(sessions, grouped = false) {
  if (!sessions.length) return empty(t('devices-no-sessions'));
  return h('ul', { class: 'list compact' }, sessions.map((s) => h('li', {},
    h('span', { class: 'list-main' }, grouped ? t('devices-session') : browserOn(s.browser, s.operatingSystem), s.current ? [' ', badge(t('sessions-this-session'), 'good')] : null),
    h('span', { class: 'list-sub' }, [s.location || s.ipAddress, `${t('devices-last-active')} `].filter(Boolean).join(' · '), timeEl(s.lastActivityAt)))));
}

/** The register form's fields: the API's names, with labels and hints. */
const REGISTER_FIELDS = [
  ['manufacturer', 'devices-manufacturer', 'devices-manufacturer-hint'],
  ['model', 'devices-model', null],
  ['operatingSystem', 'devices-operating-system', 'devices-operating-system-hint'],
  ['operatingSystemVersion', 'devices-operating-system-version', null],
];

export default {
  get title() { return t('devices-title'); },
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
      const form = h('form', { class: 'form inline-form', novalidate: true, 'aria-label': t('devices-rename-named', { device: d.displayName }) },
        field({ label: t('devices-new-name'), name: 'displayName', value: d.displayName, required: true, autocomplete: 'off' }),
        h('div', { class: 'actions' },
          button(t('devices-save-name'), null, { kind: 'primary', type: 'submit' }),
          button(t('cancel'), () => { replace(area); opener.hidden = false; opener.focus(); }, { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form);
        const displayName = form.elements.displayName.value.trim();
        busy(form, () => patch(`/me/devices/${seg(d.id)}`, { displayName }))
          .then((renamed) => after(t('devices-renamed', { device: d.displayName, name: renamed.displayName })))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    };

    const deviceCard = (d) => {
      const keysArea = h('div', { class: 'keys-area' });
      const renameArea = h('div', { class: 'rename-area' });
      const actions = h('div', { class: 'actions' });
      const rename = button(t('devices-rename'), () => {
        rename.hidden = true;
        replace(renameArea, renameForm(d, renameArea, rename));
        renameArea.querySelector('input').focus();
      }, { kind: 'secondary', attrs: { 'aria-label': t('devices-rename-named', { device: d.displayName }) } });
      actions.append(rename);
      // Only a personal device is the person's to delete; an organization's is its admins'.
      if (d.joinType !== 'organization_joined') {
        actions.append(button(t('devices-delete'), async () => {
          const ok = await confirmDialog({
            title: t('devices-delete-title', { device: d.displayName }),
            message: t('devices-delete-message'),
            confirmLabel: t('devices-delete-device'),
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(actions, () => del(`/me/devices/${seg(d.id)}`));
            await after(t('devices-deleted', { device: d.displayName }));
          } catch (err) {
            if (err.status !== 401) replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger-quiet', attrs: { 'aria-label': t('devices-delete-named', { device: d.displayName }) } }));
      }
      if (d.enabled) {
        actions.append(button(t('devices-disable'), async () => {
          const ok = await confirmDialog({
            title: t('devices-disable-title', { device: d.displayName }),
            message: t('devices-disable-message'),
            details: [t('devices-disable-detail')],
            confirmLabel: t('devices-disable'),
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(actions, () => post(`/me/devices/${seg(d.id)}/disable`));
            await after(t('devices-disabled-named', { device: d.displayName }));
          } catch (err) {
            if (err.status !== 401) replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger', attrs: { 'aria-label': t('devices-disable-named', { device: d.displayName }) } }));
      }
      if (d.recoveryKeyCount > 0) {
        const show = button(t('devices-show-keys'), async () => {
          try {
            const keys = await busy(actions, () => get(`/me/devices/${seg(d.id)}/recovery-keys`));
            show.hidden = true;
            replace(keysArea, h('h4', { text: t('devices-recovery-keys') }), h('ul', { class: 'list compact' }, (keys.items || []).map((k) => {
              const slot = h('div', { class: 'key-slot' });
              const reveal = button(t('devices-reveal-key'), async () => {
                try {
                  const revealed = await post(`/me/devices/${seg(d.id)}/recovery-keys/${seg(k.id)}/reveal`);
                  replace(slot, h('code', { class: 'secret recovery-key', text: revealed.key }));
                  announce(t('devices-key-shown'));
                } catch (err) {
                  if (err.status !== 401) replace(slot, h('p', { class: 'field-error', role: 'alert', text: sentence(err.message) }));
                }
              }, { kind: 'secondary', attrs: { 'aria-label': t('devices-reveal-named', { volume: volumeName(k.volumeType) || t('devices-volume-drive') }) } });
              return h('li', {},
                h('span', { class: 'list-main', text: volumeName(k.volumeType) || k.volumeType }),
                h('span', { class: 'list-sub' }, `${t('devices-key-id')} `, h('code', { text: k.id }), ` · ${t('devices-key-stored')} `, timeEl(k.createdAt)),
                slot, reveal);
            })));
          } catch (err) {
            if (err.status !== 401) replace(keysArea, h('p', { role: 'alert', text: sentence(err.message) }));
          }
        }, { kind: 'secondary', attrs: { 'aria-label': t('devices-show-keys-named', { device: d.displayName }) } });
        actions.append(show);
      }
      return h('section', { class: ['card', 'device', d.enabled ? '' : 'device-disabled'], dataset: { deviceId: d.id } },
        h('h2', {}, d.displayName, ' ', d.enabled ? badge(t('devices-enabled'), 'good') : badge(t('devices-disabled'), 'bad')),
        dl([
          [t('devices-type'), typeName(d.deviceType)],
          [t('devices-operating-system'), [d.operatingSystem, d.operatingSystemVersion].filter(Boolean).join(' ')],
          [t('devices-make-and-model'), [d.manufacturer, d.model].filter(Boolean).join(' ')],
          [t('devices-joined'), d.joinType === 'organization_joined' ? t('devices-organization-device') : t('devices-personal-device')],
          [t('devices-registered'), timeEl(d.registeredAt)],
          [t('devices-last-activity'), d.lastActivityAt ? timeEl(d.lastActivityAt) : t('none-yet')],
          [t('devices-disabled'), d.disabledAt ? timeEl(d.disabledAt) : null],
          [t('devices-managed'), d.managed ? t('yes') : null],
          [t('devices-compliant'), d.managed ? (d.compliant ? t('yes') : t('no')) : null],
        ]),
        h('h3', { text: t('devices-sessions-on-device') }),
        sessionList(d.sessions || []),
        actions, renameArea, keysArea);
    };

    const registerForm = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'register-device-title' },
      field({ label: t('devices-name'), name: 'displayName', required: true, autocomplete: 'off', hint: t('devices-name-hint') }),
      field({ label: t('devices-type'), name: 'deviceType', type: 'select', value: 'phone', options: Object.keys(TYPES).map((v) => [v, v === 'other' ? t('devices-type-other-choice') : typeName(v)]) }),
      REGISTER_FIELDS.map(([name, label, hint]) => field({ label: t('devices-optional', { label: t(label) }), name, hint: hint && t(hint), autocomplete: 'off' })),
      h('div', { class: 'actions' }, button(t('devices-register'), null, { kind: 'primary', type: 'submit' })));
    registerForm.addEventListener('submit', (e) => {
      e.preventDefault();
      clearErrors(registerForm);
      const el = registerForm.elements;
      const device = { displayName: el.displayName.value.trim(), deviceType: el.deviceType.value };
      for (const [name] of REGISTER_FIELDS) device[name] = el[name].value.trim();
      busy(registerForm, () => post('/me/devices', device))
        .then((registered) => after(t('devices-registered-named', { device: registered.displayName })))
        .catch((err) => { if (err.status !== 401) showProblem(registerForm, err); });
    });
    const registerCard = h('section', { class: 'card register-device' },
      h('h2', { id: 'register-device-title', text: t('devices-register-title') }),
      h('p', { text: t('devices-register-text') }),
      registerForm);

    const items = view.items || [];
    const others = view.unregisteredDevices || [];
    replace(body,
      status,
      h('p', { text: `${t('devices-intro')} ` },
        h('a', { href: '/sessions', 'data-route': '', text: t('devices-manage-sessions') })),
      items.length ? h('div', { class: 'cards' }, items.map(deviceCard)) : empty(t('devices-none')),
      card(t('devices-others'), others.length
        ? h('ul', { class: 'list' }, others.map((g) => h('li', {},
          h('span', { class: 'list-main', text: browserOn(g.browser, g.operatingSystem) }),
          sessionList(g.sessions || [], true))))
        : empty(t('devices-others-none'))),
      registerCard);
  },
};
