// Security info: my sign-in methods, the default one, adding (with the verification step each
// type needs), removing. Changes need a recent multi-factor sign-in: the API answers 403
// `reauthentication-required` and api() runs the step-up dialog, then retries.

import { get, post, put, patch, del, seg, ApiError } from '../api.js';
import { h, replace, field, button, busy, showProblem, clearErrors, dl, timeEl, announce, notice, uid } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { methodName } from '../methods.js';
import * as webauthn from '../webauthn.js';
import { badge, empty } from './common.js';
import { t } from '../i18n.js';
import { sentText } from '../methods.js';

/** At this many unused recovery codes or fewer, the page asks for a new set. */
export const FEW_RECOVERY_CODES = 2;

/** Phone types and the methods that can be added: the API's codes and their messages. */
const PHONE_TYPES = [['mobile', 'method-phone-mobile'], ['alternateMobile', 'method-phone-alternate-mobile'], ['office', 'method-phone-office']];

const ADDABLE = [
  ['authenticatorApp', 'method-authenticator-app'],
  ['phone', 'method-phone'],
  ['email', 'method-email'],
  ['securityKey', 'method-security-key'],
  ['appPassword', 'method-app-password'],
  ['recoveryCodes', 'method-recovery-codes'],
];

const phoneTypes = () => PHONE_TYPES.map(([value, id]) => [value, t(id)]);

export function methodTitle(m) {
  switch (m.type) {
    case 'phone': {
      const known = PHONE_TYPES.find(([v]) => v === m.phoneType);
      return t(known ? known[1] : 'method-phone');
    }
    case 'recoveryCodes': return t('method-recovery-codes');
    default: return methodName(m.type);
  }
}

function methodDetail(m) {
  switch (m.type) {
    case 'phone': {
      if (!m.phoneDelivery) return m.phoneNumber || '';
      const delivery = t(m.phoneDelivery === 'voice' ? 'security-delivery-voice-short' : 'security-delivery-sms-short');
      return [m.phoneNumber, `(${delivery})`].filter(Boolean).join(' ');
    }
    case 'email': return m.email || '';
    case 'recoveryCodes': return m.remainingCodes === undefined ? '' : t('security-codes-left', { count: m.remainingCodes });
    default: return m.name || '';
  }
}

/** "Phone +1 425 555 0100 (text message)": a method named fully, for labels and confirmations. */
const describe = (m) => [methodTitle(m), methodDetail(m)].filter(Boolean).join(' ');

/** Methods with a name the person chose, which they can change. */
const RENAMABLE = ['authenticatorApp', 'securityKey', 'appPassword'];

/** What a security key or passkey is and can do: its provider, and whether it signs in alone. */
function keyFacts(m) {
  if (m.type !== 'securityKey') return null;
  const provider = m.providerName ? t('security-key-provider', { provider: m.providerName }) : t('security-key-provider-unknown');
  const alone = m.discoverable ? t('security-key-passwordless') : t('security-key-second-step-only');
  return h('span', { class: 'method-key' }, h('span', { class: 'method-provider', text: provider }), ' · ', h('span', { class: 'method-passwordless', text: alone }));
}

function secretBlock(label, value, cls = 'secret') {
  const code = h('code', { class: cls, text: value });
  const copy = navigator.clipboard ? button(t('security-copy'), async () => {
    try {
      await navigator.clipboard.writeText(value.replace(/\s+/g, ''));
      announce(t('security-copied'));
    } catch {
      announce(t('security-copy-refused'));
    }
  }, { kind: 'quiet' }) : null;
  return h('div', { class: 'secret-block' }, h('p', { class: 'secret-label', text: label }), code, copy);
}

export default {
  get title() { return t('security-title'); },
  async render(body) {
    const listArea = h('div', { class: 'methods-area' });
    const addArea = h('section', { class: 'card add-method', 'aria-labelledby': 'add-method-title' });
    const status = h('div', { class: 'status-area' });
    // False when the deployment has no SMS or voice provider: phones are offered as unavailable.
    let phoneAvailable = true;

    const refresh = async () => {
      const info = await get('/me/security-info');
      phoneAvailable = info.phoneAvailable !== false;
      renderList(info);
      return info;
    };

    const done = async (message) => {
      replace(status, notice(message));
      announce(message);
      renderAddChooser();
      await refresh().catch(() => {});
    };

    /** A name of 1 to 64 characters; the API's field errors show next to the field. */
    function renameForm(m, area, opener) {
      const form = h('form', { class: 'form inline-form', novalidate: true, 'aria-label': t('security-rename-named', { method: describe(m) }) },
        field({ label: t('devices-new-name'), name: 'name', value: m.name || '', required: true, autocomplete: 'off' }),
        h('div', { class: 'actions' },
          button(t('devices-save-name'), null, { kind: 'primary', type: 'submit' }),
          button(t('cancel'), () => { replace(area); opener.hidden = false; opener.focus(); }, { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form);
        const name = form.elements.name.value.trim();
        if (!name) {
          showProblem(form, new ApiError(400, { detail: t('security-name-missing'), errors: [{ field: 'name', message: t('security-name-missing-field') }] }));
          return;
        }
        busy(form, () => patch(`/me/security-info/methods/${seg(m.id)}`, { name }))
          .then((renamed) => done(t('security-renamed', { method: methodTitle(m), name: renamed.name })))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    }

    function renderList(info) {
      const methods = info.methods || [];
      const secondFactors = methods.filter((m) => m.isSecondFactor);
      const items = methods.map((m) => {
        const remove = button(t('security-remove'), async () => {
          const ok = await confirmDialog({
            // Each kind has its own sentence: the name's case and article differ from language to language.
            title: t('security-remove-title', { kind: m.type === 'phone' ? m.phoneType || 'phone' : m.type }),
            message: t('security-remove-message', { method: describe(m) }),
            confirmLabel: t('security-remove'),
            danger: true,
          });
          if (!ok) return;
          try {
            await del(`/me/security-info/methods/${seg(m.id)}`);
            await done(t('security-removed', { method: methodTitle(m) }));
          } catch (err) {
            if (err.status === 401) return;
            replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger-quiet', attrs: { 'aria-label': t('security-remove-named', { method: describe(m) }) } });
        const renameArea = h('div', { class: 'rename-area' });
        // "Rename", described by the method's title and detail: no aria-label, so the page's
        // "Name" fields stay the only labels with that word, and no hidden copy of the name.
        const titleId = uid('method-title');
        const detailId = uid('method-detail');
        const rename = RENAMABLE.includes(m.type) ? button(t('devices-rename'), () => {
          rename.hidden = true;
          replace(renameArea, renameForm(m, renameArea, rename));
          renameArea.querySelector('input').focus();
        }, { kind: 'secondary', attrs: { 'aria-describedby': `${titleId} ${detailId}` } }) : null;
        return h('li', { class: 'method', dataset: { methodId: m.id, methodType: m.type } },
          h('div', { class: 'method-text' },
            h('span', { class: 'method-title', id: titleId }, methodTitle(m), ' ', m.isDefault ? badge(t('security-default'), 'good') : null,
              m.type === 'phone' && !phoneAvailable ? [' ', badge(t('security-phone-unavailable-badge'), 'warn')] : null),
            h('span', { class: 'method-detail', id: detailId, text: methodDetail(m) }),
            keyFacts(m),
            h('span', { class: 'method-dates' }, t('security-added-on'), ' ', timeEl(m.createdAt), ' · ', m.lastUsedAt ? [t('security-last-used'), ' ', timeEl(m.lastUsedAt)] : t('security-not-used')),
            renameArea),
          h('div', { class: 'method-actions' }, rename, remove));
      });

      const defaultForm = secondFactors.length > 1 ? (() => {
        const form = h('form', { class: 'form inline-form', novalidate: true },
          field({ label: t('security-default-method'), name: 'methodId', type: 'select', value: info.defaultMethodId || '',
            options: secondFactors.map((m) => [m.id, methodDetail(m) ? t('method-with-label', { method: methodTitle(m), label: methodDetail(m) }) : methodTitle(m)]) }),
          h('div', { class: 'actions' }, button(t('security-change-default'), null, { kind: 'secondary', type: 'submit' })));
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          busy(form, () => put('/me/security-info/default', { methodId: form.elements.methodId.value }))
            .then(() => done(t('security-default-changed')))
            .catch((err) => { if (err.status !== 401) showProblem(form, err); });
        });
        return form;
      })() : null;

      const codes = methods.find((m) => m.type === 'recoveryCodes');
      const fewCodes = codes && codes.remainingCodes !== undefined && codes.remainingCodes <= FEW_RECOVERY_CODES;
      replace(listArea,
        info.mfaRequired && !info.mfaRegistered
          ? notice(t('security-mfa-required'), 'warning') : null,
        fewCodes
          ? notice(codes.remainingCodes === 0 ? t('security-codes-used-up') : t('security-codes-few', { count: codes.remainingCodes }), 'warning')
          : null,
        h('section', { class: 'card' },
          h('h2', { text: t('overview-methods') }),
          dl([[t('overview-mfa'), info.mfaRegistered ? badge(t('overview-mfa-set-up'), 'good') : badge(t('overview-mfa-not-set-up'), 'warn')],
            [t('security-required-by-organization'), info.mfaRequired ? t('yes') : t('no')],
            [t('security-codes-left-label'), codes && codes.remainingCodes !== undefined ? String(codes.remainingCodes) : null]]),
          methods.length ? h('ul', { class: 'list methods' }, items) : empty(t('security-no-methods')),
          defaultForm));
    }

    function renderAddChooser() {
      const form = h('form', { class: 'form inline-form', novalidate: true },
        field({ label: t('security-method-to-add'), name: 'type', type: 'select', value: 'authenticatorApp',
          options: ADDABLE.map(([v, id]) => [v, v === 'phone' && !phoneAvailable ? t('security-method-unavailable', { method: t(id) }) : t(id)]) }),
        h('div', { class: 'actions' }, button(t('security-add'), null, { kind: 'primary', type: 'submit' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        startAdd(form.elements.type.value);
      });
      replace(addArea, h('h2', { id: 'add-method-title', tabindex: '-1', text: t('security-add-method') }), form);
    }

    function addPanel(title, ...children) {
      const heading = h('h2', { id: 'add-method-title', tabindex: '-1', text: title });
      replace(addArea, heading, ...children);
      heading.focus();
    }

    const cancel = () => button(t('cancel'), () => { renderAddChooser(); addArea.querySelector('h2').focus(); }, { kind: 'secondary' });

    /** The code step of apps, phones and email. */
    function verifyForm(methodId, label, what) {
      const form = h('form', { class: 'form', novalidate: true },
        field({ label, name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true }),
        h('div', { class: 'actions' }, button(t('mfa-verify'), null, { kind: 'primary', type: 'submit' }), cancel()));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(form, () => post(`/me/security-info/methods/${seg(methodId)}/verify`, { code: form.elements.code.value.trim() }))
          .then(() => done(t('security-method-added', { method: what })))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    }

    function simpleForm(fields, submitLabel, onSubmit) {
      const form = h('form', { class: 'form', novalidate: true }, fields,
        h('div', { class: 'actions' }, button(submitLabel, null, { kind: 'primary', type: 'submit' }), cancel()));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form);
        busy(form, () => onSubmit(form)).catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    }

    function startAdd(type) {
      replace(status);
      switch (type) {
        case 'authenticatorApp':
          addPanel(t('security-add-app'),
            h('p', { text: t('security-add-app-install') }),
            simpleForm(field({ label: t('security-name'), name: 'name', value: t('method-authenticator-app'), required: true, hint: t('security-name-hint') }), t('next'), async (form) => {
              const added = await post('/me/security-info/methods', { type: 'authenticatorApp', name: form.elements.name.value.trim() });
              const secret = String(added.secret || '').replace(/(.{4})/g, '$1 ').trim();
              const qrCode = typeof added.qrCode === 'string' && added.qrCode.startsWith('data:image/') ? added.qrCode : null;
              const otpauth = typeof added.otpauthUri === 'string' && added.otpauthUri.startsWith('otpauth://') ? added.otpauthUri : null;
              addPanel(t('security-add-app'),
                h('ol', { class: 'steps' },
                  h('li', {}, qrCode
                    ? [h('p', { text: t('security-app-scan') }), h('img', { class: 'qr', src: qrCode, alt: t('security-app-qr-alt') })]
                    : h('p', { text: t('security-app-enter-key-instead') })),
                  h('li', {}, secretBlock(qrCode ? t('security-app-key-or') : t('security-app-key'), secret),
                    otpauth ? h('p', {}, h('a', { href: otpauth, text: t('security-app-open') })) : null),
                  h('li', {}, h('p', { text: t('security-app-enter-code') }))),
                verifyForm(added.methodId, t('security-app-code'), t('method-authenticator-app')));
            }));
          break;
        case 'phone':
          if (!phoneAvailable) {
            addPanel(t('security-add-phone'),
              notice(t('security-phone-unavailable'), 'warning'),
              h('div', { class: 'actions' }, cancel()));
            break;
          }
          addPanel(t('security-add-phone'),
            simpleForm([
              field({ label: t('security-phone-type'), name: 'phoneType', type: 'select', value: 'mobile', options: phoneTypes() }),
              field({ label: t('security-phone-number'), name: 'number', type: 'tel', autocomplete: 'tel', required: true, hint: t('profile-hint-phone'), aliases: ['phoneNumber'] }),
              field({ label: t('security-delivery'), name: 'delivery', type: 'select', value: 'sms', options: [['sms', t('security-delivery-sms')], ['voice', t('security-delivery-voice')]] }),
            ], t('mfa-send-code'), async (form) => {
              const added = await post('/me/security-info/methods', {
                type: 'phone', phoneType: form.elements.phoneType.value, number: form.elements.number.value.trim(), delivery: form.elements.delivery.value,
              });
              addPanel(t('security-add-phone'), h('p', { role: 'status', text: added.sentTo ? sentText(added.sentTo) : t('mfa-sent-phone') }),
                verifyForm(added.methodId, t('mfa-received-code'), t('method-phone')));
            }));
          break;
        case 'email':
          addPanel(t('security-add-email'),
            simpleForm(field({ label: t('security-email-address'), name: 'address', type: 'email', autocomplete: 'email', required: true, aliases: ['email'] }), t('mfa-send-code'), async (form) => {
              const added = await post('/me/security-info/methods', { type: 'email', address: form.elements.address.value.trim() });
              addPanel(t('security-add-email'), h('p', { role: 'status', text: added.sentTo ? sentText(added.sentTo) : t('mfa-sent-email') }),
                verifyForm(added.methodId, t('mfa-received-code'), t('method-email')));
            }));
          break;
        case 'securityKey':
          addPanel(t('security-add-key'),
            webauthn.supported() ? null : notice(t('security-key-unsupported'), 'warning'),
            simpleForm(field({ label: t('security-name'), name: 'name', value: t('security-key-default-name'), required: true }), t('security-key-register'), async (form) => {
              const added = await post('/me/security-info/methods', { type: 'securityKey', name: form.elements.name.value.trim() });
              let credential;
              try {
                credential = await webauthn.create(added.publicKey);
              } catch (e) {
                throw new ApiError(0, { detail: t('security-key-not-registered', { error: e.name || 'Error' }) });
              }
              await post(`/me/security-info/methods/${seg(added.methodId)}/verify`, { credential });
              await done(t('security-key-added'));
            }));
          break;
        case 'appPassword':
          addPanel(t('security-add-app-password'),
            h('p', { text: t('security-app-password-intro') }),
            h('p', { text: t('security-app-password-limits') }),
            simpleForm(field({ label: t('security-name'), name: 'name', value: '', required: true, hint: t('security-app-password-name-hint') }), t('security-create'), async (form) => {
              const added = await post('/me/security-info/methods', { type: 'appPassword', name: form.elements.name.value.trim() });
              addPanel(t('security-app-password-new'),
                notice(t('security-app-password-copy'), 'warning'),
                secretBlock(t('method-app-password'), added.password, 'secret app-password'),
                h('div', { class: 'actions' }, button(t('security-done'), () => done(t('security-app-password-created')), { kind: 'primary' })));
              await refresh().catch(() => {});
            }));
          break;
        case 'recoveryCodes':
          addPanel(t('security-codes-generate-title'),
            h('p', { text: t('security-codes-intro') }),
            simpleForm([], t('security-codes-generate'), async () => {
              const added = await post('/me/security-info/methods', { type: 'recoveryCodes' });
              addPanel(t('security-codes-yours'),
                notice(t('security-codes-save'), 'warning'),
                h('ul', { class: 'codes' }, (added.codes || []).map((c) => h('li', {}, h('code', { text: c })))),
                h('div', { class: 'actions' }, button(t('security-done'), () => done(t('security-codes-generated')), { kind: 'primary' })));
              await refresh().catch(() => {});
            }));
          break;
        default:
          renderAddChooser();
      }
    }

    await refresh();
    renderAddChooser();
    replace(body, status, listArea, addArea);
  },
};
