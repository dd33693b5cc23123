// Security info: my sign-in methods, the default one, adding (with the verification step each
// type needs), removing. Changes need a recent multi-factor sign-in: the API answers 403
// `reauthentication-required` and api() runs the step-up dialog, then retries.

import { get, post, put, patch, del, seg, ApiError } from '../api.js';
import { h, replace, field, button, busy, showProblem, clearErrors, dl, timeEl, announce, notice, uid } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { methodName } from '../auth.js';
import * as webauthn from '../webauthn.js';
import { badge, empty } from './common.js';

/** At this many unused recovery codes or fewer, the page asks for a new set. */
export const FEW_RECOVERY_CODES = 2;

const PHONE_TYPES = [['mobile', 'Mobile phone'], ['alternateMobile', 'Alternate mobile phone'], ['office', 'Office phone']];

const ADDABLE = [
  ['authenticatorApp', 'Authenticator app'],
  ['phone', 'Phone'],
  ['email', 'Email'],
  ['securityKey', 'Security key or passkey'],
  ['appPassword', 'App password'],
  ['recoveryCodes', 'Recovery codes'],
];

export function methodTitle(m) {
  switch (m.type) {
    case 'phone': return `${(PHONE_TYPES.find(([v]) => v === m.phoneType) || [null, 'Phone'])[1]}`;
    case 'recoveryCodes': return 'Recovery codes';
    default: return methodName(m.type);
  }
}

function methodDetail(m) {
  switch (m.type) {
    case 'phone': return [m.phoneNumber, m.phoneDelivery ? `(${m.phoneDelivery === 'voice' ? 'voice call' : 'text message'})` : ''].filter(Boolean).join(' ');
    case 'email': return m.email || '';
    case 'recoveryCodes': return m.remainingCodes === undefined ? '' : `${m.remainingCodes} left`;
    default: return m.name || '';
  }
}

/** Methods with a name the person chose, which they can change. */
const RENAMABLE = ['authenticatorApp', 'securityKey', 'appPassword'];

/** What a security key or passkey is and can do: its provider, and whether it signs in alone. */
function keyFacts(m) {
  if (m.type !== 'securityKey') return null;
  const provider = m.providerName ? `Provider: ${m.providerName}` : 'Provider not known';
  const alone = m.discoverable
    ? 'Signs you in without a password'
    : 'Second step only: it was registered without a passkey of its own, so it cannot sign you in alone. Register it again to use it without a password.';
  return h('span', { class: 'method-key' }, h('span', { class: 'method-provider', text: provider }), ' · ', h('span', { class: 'method-passwordless', text: alone }));
}

function secretBlock(label, value, cls = 'secret') {
  const code = h('code', { class: cls, text: value });
  const copy = navigator.clipboard ? button('Copy', async () => {
    try {
      await navigator.clipboard.writeText(value.replace(/\s+/g, ''));
      announce('Copied.');
    } catch {
      announce('Copying is not allowed here; select the text instead.');
    }
  }, { kind: 'quiet' }) : null;
  return h('div', { class: 'secret-block' }, h('p', { class: 'secret-label', text: label }), code, copy);
}

export default {
  title: 'Security info',
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
      const form = h('form', { class: 'form inline-form', novalidate: true, 'aria-label': `Rename ${methodTitle(m)} ${methodDetail(m)}`.trim() },
        field({ label: 'New name', name: 'name', value: m.name || '', required: true, autocomplete: 'off' }),
        h('div', { class: 'actions' },
          button('Save name', null, { kind: 'primary', type: 'submit' }),
          button('Cancel', () => { replace(area); opener.hidden = false; opener.focus(); }, { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form);
        const name = form.elements.name.value.trim();
        if (!name) {
          showProblem(form, new ApiError(400, { detail: 'Enter a name.', errors: [{ field: 'name', message: 'Enter a name (at most 64 characters).' }] }));
          return;
        }
        busy(form, () => patch(`/me/security-info/methods/${seg(m.id)}`, { name }))
          .then((renamed) => done(`${methodTitle(m)} renamed to ${renamed.name}.`))
          .catch((err) => { if (err.status !== 401) showProblem(form, err); });
      });
      return form;
    }

    function renderList(info) {
      const methods = info.methods || [];
      const secondFactors = methods.filter((m) => m.isSecondFactor);
      const items = methods.map((m) => {
        const remove = button('Remove', async () => {
          const ok = await confirmDialog({
            title: `Remove ${methodTitle(m).toLowerCase()}?`,
            message: `You will no longer be able to use ${[methodTitle(m), methodDetail(m)].filter(Boolean).join(' ')} to sign in.`,
            confirmLabel: 'Remove',
            danger: true,
          });
          if (!ok) return;
          try {
            await del(`/me/security-info/methods/${seg(m.id)}`);
            await done(`${methodTitle(m)} removed.`);
          } catch (err) {
            if (err.status === 401) return;
            replace(status, notice(err.message, 'error'));
          }
        }, { kind: 'danger-quiet', attrs: { 'aria-label': `Remove ${methodTitle(m)} ${methodDetail(m)}`.trim() } });
        const renameArea = h('div', { class: 'rename-area' });
        // "Rename", described by the method's title and detail: no aria-label, so the page's
        // "Name" fields stay the only labels with that word, and no hidden copy of the name.
        const titleId = uid('method-title');
        const detailId = uid('method-detail');
        const rename = RENAMABLE.includes(m.type) ? button('Rename', () => {
          rename.hidden = true;
          replace(renameArea, renameForm(m, renameArea, rename));
          renameArea.querySelector('input').focus();
        }, { kind: 'secondary', attrs: { 'aria-describedby': `${titleId} ${detailId}` } }) : null;
        return h('li', { class: 'method', dataset: { methodId: m.id, methodType: m.type } },
          h('div', { class: 'method-text' },
            h('span', { class: 'method-title', id: titleId }, methodTitle(m), ' ', m.isDefault ? badge('Default', 'good') : null,
              m.type === 'phone' && !phoneAvailable ? [' ', badge('Codes cannot be sent now', 'warn')] : null),
            h('span', { class: 'method-detail', id: detailId, text: methodDetail(m) }),
            keyFacts(m),
            h('span', { class: 'method-dates' }, 'Added ', timeEl(m.createdAt), ' · ', m.lastUsedAt ? ['Last used ', timeEl(m.lastUsedAt)] : 'Not used yet'),
            renameArea),
          h('div', { class: 'method-actions' }, rename, remove));
      });

      const defaultForm = secondFactors.length > 1 ? (() => {
        const form = h('form', { class: 'form inline-form', novalidate: true },
          field({ label: 'Default sign-in method', name: 'methodId', type: 'select', value: info.defaultMethodId || '',
            options: secondFactors.map((m) => [m.id, [methodTitle(m), methodDetail(m)].filter(Boolean).join(': ')]) }),
          h('div', { class: 'actions' }, button('Change default', null, { kind: 'secondary', type: 'submit' })));
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          busy(form, () => put('/me/security-info/default', { methodId: form.elements.methodId.value }))
            .then(() => done('Default sign-in method changed.'))
            .catch((err) => { if (err.status !== 401) showProblem(form, err); });
        });
        return form;
      })() : null;

      const codes = methods.find((m) => m.type === 'recoveryCodes');
      const fewCodes = codes && codes.remainingCodes !== undefined && codes.remainingCodes <= FEW_RECOVERY_CODES;
      replace(listArea,
        info.mfaRequired && !info.mfaRegistered
          ? notice('Your organization requires a second sign-in method. Add one below.', 'warning') : null,
        fewCodes
          ? notice(codes.remainingCodes === 0
            ? 'You have used all your recovery codes. Generate new ones (Add a sign-in method, Recovery codes).'
            : `Only ${codes.remainingCodes} recovery ${codes.remainingCodes === 1 ? 'code is' : 'codes are'} left. Generate new ones before you run out (Add a sign-in method, Recovery codes).`, 'warning')
          : null,
        h('section', { class: 'card' },
          h('h2', { text: 'Sign-in methods' }),
          dl([['Multi-factor authentication', info.mfaRegistered ? badge('Set up', 'good') : badge('Not set up', 'warn')],
            ['Required by your organization', info.mfaRequired ? 'Yes' : 'No'],
            ['Recovery codes left', codes && codes.remainingCodes !== undefined ? String(codes.remainingCodes) : null]]),
          methods.length ? h('ul', { class: 'list methods' }, items) : empty('You have no sign-in methods besides your password yet.'),
          defaultForm));
    }

    function renderAddChooser() {
      const form = h('form', { class: 'form inline-form', novalidate: true },
        field({ label: 'Method to add', name: 'type', type: 'select', value: 'authenticatorApp',
          options: ADDABLE.map(([v, label]) => [v, v === 'phone' && !phoneAvailable ? `${label} (unavailable)` : label]) }),
        h('div', { class: 'actions' }, button('Add', null, { kind: 'primary', type: 'submit' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        startAdd(form.elements.type.value);
      });
      replace(addArea, h('h2', { id: 'add-method-title', tabindex: '-1', text: 'Add a sign-in method' }), form);
    }

    function addPanel(title, ...children) {
      const heading = h('h2', { id: 'add-method-title', tabindex: '-1', text: title });
      replace(addArea, heading, ...children);
      heading.focus();
    }

    const cancel = () => button('Cancel', () => { renderAddChooser(); addArea.querySelector('h2').focus(); }, { kind: 'secondary' });

    /** The code step of apps, phones and email. */
    function verifyForm(methodId, label, what) {
      const form = h('form', { class: 'form', novalidate: true },
        field({ label, name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true }),
        h('div', { class: 'actions' }, button('Verify', null, { kind: 'primary', type: 'submit' }), cancel()));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(form, () => post(`/me/security-info/methods/${seg(methodId)}/verify`, { code: form.elements.code.value.trim() }))
          .then(() => done(`${what} added.`))
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
          addPanel('Add an authenticator app',
            h('p', { text: 'Install an authenticator app on your phone (for example Microsoft Authenticator), then continue.' }),
            simpleForm(field({ label: 'Name', name: 'name', value: 'Authenticator app', required: true, hint: 'Helps you tell your methods apart.' }), 'Next', async (form) => {
              const added = await post('/me/security-info/methods', { type: 'authenticatorApp', name: form.elements.name.value.trim() });
              const secret = String(added.secret || '').replace(/(.{4})/g, '$1 ').trim();
              const qrCode = typeof added.qrCode === 'string' && added.qrCode.startsWith('data:image/') ? added.qrCode : null;
              const otpauth = typeof added.otpauthUri === 'string' && added.otpauthUri.startsWith('otpauth://') ? added.otpauthUri : null;
              addPanel('Add an authenticator app',
                h('ol', { class: 'steps' },
                  h('li', {}, qrCode
                    ? [h('p', { text: 'Scan this QR code with the app:' }), h('img', { class: 'qr', src: qrCode, alt: 'QR code to add your account to an authenticator app' })]
                    : h('p', { text: 'Add an account in the app and choose to enter a key.' })),
                  h('li', {}, secretBlock(qrCode ? 'Or enter this key in the app:' : 'Enter this key in the app:', secret),
                    otpauth ? h('p', {}, h('a', { href: otpauth, text: 'Open in an authenticator app on this device' })) : null),
                  h('li', {}, h('p', { text: 'Enter the 6-digit code the app shows:' }))),
                verifyForm(added.methodId, 'Code from the app', 'Authenticator app'));
            }));
          break;
        case 'phone':
          if (!phoneAvailable) {
            addPanel('Add a phone',
              notice('Codes cannot be sent to phones here: no text message or voice provider is set up. Add an authenticator app, an email address or a security key instead.', 'warning'),
              h('div', { class: 'actions' }, cancel()));
            break;
          }
          addPanel('Add a phone',
            simpleForm([
              field({ label: 'Phone type', name: 'phoneType', type: 'select', value: 'mobile', options: PHONE_TYPES }),
              field({ label: 'Phone number', name: 'number', type: 'tel', autocomplete: 'tel', required: true, hint: 'With the country code, for example +1 425 555 0100.', aliases: ['phoneNumber'] }),
              field({ label: 'Send codes by', name: 'delivery', type: 'select', value: 'sms', options: [['sms', 'Text message (SMS)'], ['voice', 'Voice call']] }),
            ], 'Send code', async (form) => {
              const added = await post('/me/security-info/methods', {
                type: 'phone', phoneType: form.elements.phoneType.value, number: form.elements.number.value.trim(), delivery: form.elements.delivery.value,
              });
              addPanel('Add a phone', h('p', { role: 'status', text: `We sent a code to ${added.sentTo || 'your phone'}.` }),
                verifyForm(added.methodId, 'Code you received', 'Phone'));
            }));
          break;
        case 'email':
          addPanel('Add an email address',
            simpleForm(field({ label: 'Email address', name: 'address', type: 'email', autocomplete: 'email', required: true, aliases: ['email'] }), 'Send code', async (form) => {
              const added = await post('/me/security-info/methods', { type: 'email', address: form.elements.address.value.trim() });
              addPanel('Add an email address', h('p', { role: 'status', text: `We sent a code to ${added.sentTo || 'your email'}.` }),
                verifyForm(added.methodId, 'Code you received', 'Email'));
            }));
          break;
        case 'securityKey':
          addPanel('Add a security key or passkey',
            webauthn.supported() ? null : notice('This browser cannot register security keys.', 'warning'),
            simpleForm(field({ label: 'Name', name: 'name', value: 'Security key', required: true }), 'Register key', async (form) => {
              const added = await post('/me/security-info/methods', { type: 'securityKey', name: form.elements.name.value.trim() });
              let credential;
              try {
                credential = await webauthn.create(added.publicKey);
              } catch (e) {
                throw new ApiError(0, { detail: `The security key was not registered (${e.name || 'error'}). Try again.` });
              }
              await post(`/me/security-info/methods/${seg(added.methodId)}/verify`, { credential });
              await done('Security key added.');
            }));
          break;
        case 'appPassword':
          addPanel('Create an app password',
            h('p', { text: 'App passwords let older apps that cannot ask for a second method sign in. Use one per app.' }),
            h('p', { text: 'An app signed in with an app password can read your account but never change it: no new sign-in methods, passwords, exports or sign-outs. Changing your password, or reporting a sign-in as not yours, removes every app password.' }),
            simpleForm(field({ label: 'Name', name: 'name', value: '', required: true, hint: 'For example, the app you will use it in.' }), 'Create', async (form) => {
              const added = await post('/me/security-info/methods', { type: 'appPassword', name: form.elements.name.value.trim() });
              addPanel('Your new app password',
                notice('Copy this password now. It will not be shown again.', 'warning'),
                secretBlock('App password', added.password, 'secret app-password'),
                h('div', { class: 'actions' }, button('Done', () => done('App password created.'), { kind: 'primary' })));
              await refresh().catch(() => {});
            }));
          break;
        case 'recoveryCodes':
          addPanel('Generate recovery codes',
            h('p', { text: 'Recovery codes let you sign in when you cannot use your other methods. Generating new codes replaces any earlier ones.' }),
            simpleForm([], 'Generate codes', async () => {
              const added = await post('/me/security-info/methods', { type: 'recoveryCodes' });
              addPanel('Your recovery codes',
                notice('Save these codes somewhere safe. They will not be shown again, and each works once.', 'warning'),
                h('ul', { class: 'codes' }, (added.codes || []).map((c) => h('li', {}, h('code', { text: c })))),
                h('div', { class: 'actions' }, button('Done', () => done('Recovery codes generated.'), { kind: 'primary' })));
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
