// Signing in (password, then the second factor, then a new password when one is required) and
// stepping up (the same steps in a dialog, when the API asks for a recent sign-in).

import { post, ApiError } from './api.js';
import { h, field, button, busy, showProblem, clearErrors, replace, append, sentence } from './dom.js';
import { openDialog } from './dialogs.js';
import * as webauthn from './webauthn.js';
import { renderPasswordReset } from './pages/password-reset.js';
import { t } from './i18n.js';
import { methodLabel, codePrompt, willSendText, sentText } from './methods.js';

const cookie = { cookieSession: true };

/**
 * The second step: choose a method (default first) and answer it. `onAnswer(answer)` gets what
 * `/auth/mfa` answered (`signedIn`, or `passwordChangeRequired`).
 */
export function mfaStep(challenge, onAnswer) {
  const methods = [...(challenge.methods || [])].sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  const form = h('form', { class: 'form mfa-form', novalidate: true });
  const area = h('div', { class: 'mfa-area' });
  let current = methods[0];

  const complete = async (proof) => {
    const answer = await post('/auth/mfa', { challengeId: challenge.challengeId, methodId: current.id, ...proof }, cookie);
    onAnswer(answer);
  };

  const codeField = (label, hint, autocomplete = 'one-time-code') => field({
    label, name: 'code', autocomplete, hint, inputmode: current.type === 'recoveryCodes' ? 'text' : 'numeric', required: true,
  });

  const render = () => {
    clearErrors(form);
    replace(area);
    form.onsubmit = null;
    switch (current.type) {
      case 'authenticatorApp':
      case 'recoveryCodes': {
        const { label, hint } = codePrompt(current.type);
        append(area, [codeField(label, hint), h('div', { class: 'actions' }, button(t('mfa-verify'), null, { kind: 'primary', type: 'submit' }))]);
        form.onsubmit = (e) => {
          e.preventDefault();
          const code = form.elements.code.value.trim();
          busy(form, () => complete({ code })).catch((err) => showProblem(form, err));
        };
        break;
      }
      case 'phone':
      case 'email': {
        const send = button(t('mfa-send-code'), async () => {
          try {
            const prompt = await busy(form, () => post('/auth/mfa/start', { challengeId: challenge.challengeId, methodId: current.id }));
            clearErrors(form);
            replace(area,
              h('p', { class: 'sent', role: 'status', text: sentText(prompt.sentTo) }),
              codeField(t('mfa-received-code'), t('mfa-received-code-hint')),
              h('div', { class: 'actions' }, button(t('mfa-verify'), null, { kind: 'primary', type: 'submit' }), send));
            send.textContent = t('mfa-send-new-code');
            form.elements.code.focus();
            form.onsubmit = (e) => {
              e.preventDefault();
              busy(form, () => complete({ code: form.elements.code.value.trim() })).catch((err) => showProblem(form, err));
            };
          } catch (err) {
            showProblem(form, err);
          }
        }, { kind: 'primary' });
        append(area, [h('p', { text: willSendText(current) }), h('div', { class: 'actions' }, send)]);
        form.onsubmit = (e) => { e.preventDefault(); send.click(); };
        break;
      }
      case 'securityKey': {
        const use = button(t('mfa-use-security-key'), async () => {
          try {
            await busy(form, async () => {
              if (!webauthn.supported()) throw new ApiError(0, { detail: t('mfa-security-key-unsupported') });
              const prompt = await post('/auth/mfa/start', { challengeId: challenge.challengeId, methodId: current.id });
              let assertion;
              try {
                assertion = await webauthn.assert(prompt.publicKey);
              } catch (e) {
                throw new ApiError(0, { detail: t('mfa-security-key-no-answer', { error: e.name || 'Error' }) });
              }
              await complete({ assertion });
            });
          } catch (err) {
            showProblem(form, err);
          }
        }, { kind: 'primary' });
        append(area, [h('p', { text: t('mfa-security-key-ready') }), h('div', { class: 'actions' }, use)]);
        form.onsubmit = (e) => { e.preventDefault(); use.click(); };
        break;
      }
      default:
        append(area, [h('p', { text: t('mfa-method-unusable') })]);
    }
  };

  if (methods.length > 1) {
    const name = `method-${Math.random().toString(36).slice(2, 8)}`;
    form.append(h('fieldset', { class: 'methods' },
      h('legend', { text: t('mfa-verify-with') }),
      methods.map((m, i) => {
        const id = `${name}-${i}`;
        return h('div', { class: 'field-check' },
          h('input', { type: 'radio', id, name: 'method', value: m.id, checked: i === 0, onchange: () => { current = m; render(); } }),
          h('label', { for: id, text: m.isDefault ? t('mfa-method-default', { method: methodLabel(m) }) : methodLabel(m) }));
      })));
  } else if (current) {
    form.append(h('p', { class: 'method-one', text: t('mfa-verify-with-one', { method: methodLabel(current) }) }));
  }
  form.append(area);
  if (current) render();
  else area.append(h('p', { text: t('mfa-no-method') }));
  return form;
}

function newPasswordForm(answer, onSignedIn) {
  const form = h('form', { class: 'form', novalidate: true },
    // The one reason identity gives (a sign-in reported as not the person's), in the catalog's
    // words: the API's sentence is English only.
    answer.reason ? h('p', { class: 'notice notice-warning', text: t('signin-new-password-reason') }) : null,
    field({ label: t('password-new'), name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true }),
    field({ label: t('password-confirm'), name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
    h('div', { class: 'actions' }, button(t('signin-set-password'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const newPassword = form.elements.newPassword.value;
    if (newPassword !== form.elements.confirmPassword.value) {
      showProblem(form, new ApiError(400, { detail: t('password-mismatch'), errors: [{ field: 'confirmPassword', message: t('password-mismatch-field') }] }));
      return;
    }
    busy(form, async () => {
      const signed = await post('/auth/new-password', { changeTicket: answer.changeTicket, newPassword }, cookie);
      if (signed && signed.signedIn) onSignedIn();
    }).catch((err) => showProblem(form, err));
  });
  return form;
}

/**
 * "More information required": the organization requires a second sign-in method and the person
 * has none. An authenticator app is registered with the sign-in's registration token (a QR code
 * or the key, then a code), and the sign-in finishes with it.
 */
function registrationForm(answer, onAnswer) {
  const token = answer.registrationToken;
  const options = { bearer: token, stepUp: false };
  const area = h('div');
  const start = h('form', { class: 'form', novalidate: true, 'aria-label': t('signin-register-app') },
    field({ label: t('security-name'), name: 'name', value: t('method-authenticator-app'), required: true }),
    h('div', { class: 'actions' }, button(t('signin-register-app'), null, { kind: 'primary', type: 'submit' })));
  start.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(start, () => post('/me/security-info/methods', { type: 'authenticatorApp', name: start.elements.name.value.trim() }, options))
      .then((added) => replace(area, verifyForm(added)))
      .catch((err) => showProblem(start, err));
  });
  const verifyForm = (added) => {
    const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('signin-register-app-verify') },
      h('p', { text: t('signin-register-app-scan') }),
      added.qrCode ? h('img', { class: 'qr', src: added.qrCode, alt: t('security-app-qr-alt') }) : null,
      h('p', {}, t('signin-register-app-key'), ' ', h('code', { class: 'secret', text: added.secret })),
      field({ label: t('security-app-code'), name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true }),
      h('div', { class: 'actions' }, button(t('signin-verify-and-sign-in'), null, { kind: 'primary', type: 'submit' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(form, async () => {
        await post(`/me/security-info/methods/${encodeURIComponent(added.methodId)}/verify`, { code: form.elements.code.value.trim() }, options);
        return post('/auth/mfa-registration/complete', { registrationToken: token }, cookie);
      }).then(onAnswer).catch((err) => showProblem(form, err));
    });
    return form;
  };
  replace(area, start);
  return area;
}

/** The sign-in page: renders into `main`; `onSignedIn()` once the cookies are set. */
export function renderSignIn(main, { onSignedIn, message, focus = true }) {
  const heading = (text) => h('h1', { tabindex: '-1', text });
  let moveFocus = focus;
  const step = (title, ...body) => {
    const h1 = heading(title);
    replace(main, h('section', { class: 'signin card' }, h1, ...body));
    // Not on the first page load: there the first Tab should reach the skip link.
    if (moveFocus) h1.focus();
    moveFocus = true;
    document.title = t('page-title', { page: title });
  };

  // Passkeys: offered in the user name field's autofill where the browser can (conditional
  // mediation), and behind a button wherever WebAuthn works. The autofill's request waits until
  // the person picks a passkey; any other way of signing in aborts it first.
  let conditional = null;
  const stopConditional = async () => {
    const pending = conditional;
    conditional = null;
    if (!pending) return;
    pending.abort.abort();
    await pending.done.catch(() => {});
  };
  /** Resolves with what `/auth/passkey` answered, or null when the request was aborted. */
  const passkeySignIn = async (request) => {
    const challenge = await post('/auth/passkey/start');
    let assertion;
    try {
      assertion = await webauthn.assert(challenge.publicKey, request);
    } catch (e) {
      if (e.name === 'AbortError') return null;
      throw new ApiError(0, { detail: t('signin-passkey-no-answer', { error: e.name || 'Error' }) });
    }
    return post('/auth/passkey', { challengeId: challenge.challengeId, assertion }, cookie);
  };

  const handle = (answer) => {
    stopConditional();
    if (answer && answer.signedIn) return onSignedIn();
    if (answer && answer.mfaRequired) {
      return step(t('signin-verify-title'),
        h('p', { text: t('signin-verify-text') }),
        mfaStep(answer, handle),
        button(t('signin-start-over'), () => renderSignIn(main, { onSignedIn }), { kind: 'quiet' }));
    }
    if (answer && answer.mfaRegistrationRequired) {
      return step(t('signin-more-info-title'),
        h('p', { text: t('signin-more-info-text') }),
        registrationForm(answer, handle),
        button(t('signin-start-over'), () => renderSignIn(main, { onSignedIn }), { kind: 'quiet' }));
    }
    if (answer && answer.passwordChangeRequired) {
      return step(t('signin-new-password-title'),
        h('p', { text: t('signin-new-password-text') }),
        newPasswordForm(answer, onSignedIn));
    }
    return step(t('signin-title'), h('p', { role: 'alert', text: t('signin-incomplete') }));
  };

  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('signin-title') },
    field({ label: t('signin-username'), name: 'username', autocomplete: 'username webauthn', required: true, inputmode: 'email', attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
    field({ label: t('signin-password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('div', { class: 'actions' }, button(t('signin-submit'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const missing = [];
    if (!username) missing.push({ field: 'username', message: t('signin-username-missing') });
    if (!password) missing.push({ field: 'password', message: t('signin-password-missing') });
    if (missing.length) {
      showProblem(form, new ApiError(400, { detail: t('signin-missing'), errors: missing }));
      return;
    }
    busy(form, async () => {
      await stopConditional();
      return post('/auth/sign-in', { username, password }, cookie);
    })
      .then(handle)
      .catch((err) => showProblem(form, err));
  });
  const startConditional = async () => {
    if (!(await webauthn.conditionalAvailable()) || !form.isConnected) return;
    const abort = new AbortController();
    const done = passkeySignIn({ mediation: 'conditional', signal: abort.signal });
    conditional = { abort, done };
    done.then((answer) => {
      if (answer && conditional && conditional.abort === abort) handle(answer);
    }).catch((err) => {
      if (conditional && conditional.abort === abort) {
        conditional = null;
        showProblem(form, err);
      }
    });
  };
  const passkeyButton = webauthn.supported() ? button(t('signin-passkey'), () => {
    busy(form, async () => {
      await stopConditional();
      return passkeySignIn({});
    })
      .then((answer) => (answer ? handle(answer) : undefined))
      .catch((err) => showProblem(form, err));
  }, { kind: 'secondary' }) : null;
  const forgot = button(t('signin-forgot-password'), () => {
    stopConditional();
    renderPasswordReset(step, {
      methodLabel,
      onDone: (done) => renderSignIn(main, { onSignedIn, message: done }),
    });
  }, { kind: 'quiet' });
  step(t('signin-title'),
    message ? h('div', { class: 'notice notice-info', role: 'status' }, h('p', { text: message })) : null,
    h('p', { text: t('signin-intro') }),
    form,
    passkeyButton ? h('div', { class: 'actions passkey-sign-in' }, passkeyButton) : null,
    forgot);
  startConditional();
}

let pending = null;

/**
 * The step-up dialog: the password again, then the second factor when asked. Resolves true once
 * the session is fresh, false when cancelled. Concurrent requests share one dialog.
 */
export function reauthenticate(problem) {
  if (pending) return pending;
  pending = openDialog({
    title: t('reauth-title'),
    className: 'dialog-reauth',
    build: (close) => {
      const body = h('div', { class: 'dialog-body' });
      const explain = h('p', { text: `${problem && problem.detail ? sentence(problem.detail) + ' ' : ''}${t('reauth-enter-password')}` });
      const handle = (answer) => {
        if (answer && answer.signedIn) return close(true);
        if (answer && answer.mfaRequired) {
          replace(body,
            h('p', { text: t('reauth-second-method') }),
            mfaStep(answer, handle),
            h('div', { class: 'actions' }, button(t('cancel'), () => close(false), { kind: 'secondary' })));
          const first = body.querySelector('input');
          if (first) first.focus();
          return undefined;
        }
        replace(body, h('p', { role: 'alert', text: t('reauth-incomplete') }),
          h('div', { class: 'actions' }, button(t('close'), () => close(false))));
        return undefined;
      };
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: t('signin-password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
        h('div', { class: 'actions' },
          button(t('continue'), null, { kind: 'primary', type: 'submit' }),
          button(t('cancel'), () => close(false), { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(form, () => post('/auth/reauthenticate', { password: form.elements.password.value }, { ...cookie, stepUp: false }))
          .then(handle)
          .catch((err) => showProblem(form, err));
      });
      return append(body, [explain, form]);
    },
  }).finally(() => { pending = null; });
  return pending;
}

/**
 * "Switch to <organization>": a new sign-in (password, then the second factor when asked) in
 * that organization, in a dialog. `organizationId` is null for the home organization. Resolves
 * true once the browser's session is the new one, false when cancelled.
 */
export function signInToOrganization({ username, organizationId, organizationName }) {
  return openDialog({
    title: t('organizations-switch-to', { organization: organizationName }),
    className: 'dialog-switch',
    build: (close) => {
      const body = h('div', { class: 'dialog-body' });
      const handle = (answer) => {
        if (answer && answer.signedIn) return close(true);
        if (answer && answer.mfaRequired) {
          replace(body,
            h('p', { text: t('reauth-second-method') }),
            mfaStep(answer, handle),
            h('div', { class: 'actions' }, button(t('cancel'), () => close(false), { kind: 'secondary' })));
          const first = body.querySelector('input');
          if (first) first.focus();
          return undefined;
        }
        // A new password or a second method to set up first: only the full sign-in page asks.
        replace(body, h('p', { role: 'alert', text: t('switch-needs-full-sign-in', { organization: organizationName }) }),
          h('div', { class: 'actions' }, button(t('close'), () => close(false))));
        body.querySelector('button').focus();
        return undefined;
      };
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: t('signin-password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
        h('div', { class: 'actions' },
          button(t('continue'), null, { kind: 'primary', type: 'submit' }),
          button(t('cancel'), () => close(false), { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const signIn = { username, password: form.elements.password.value };
        if (organizationId) signIn.organizationId = organizationId;
        busy(form, () => post('/auth/sign-in', signIn, { ...cookie, stepUp: false }))
          .then(handle)
          .catch((err) => showProblem(form, err));
      });
      return append(body, [h('p', { text: t('switch-enter-password', { organization: organizationName }) }), form]);
    },
  });
}
