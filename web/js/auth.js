// Signing in (password, then the second factor, then a new password when one is required) and
// stepping up (the same steps in a dialog, when the API asks for a recent sign-in).

import { post, ApiError } from './api.js';
import { h, field, button, busy, showProblem, clearErrors, replace, append, sentence } from './dom.js';
import { openDialog } from './dialogs.js';
import * as webauthn from './webauthn.js';
import { renderPasswordReset } from './pages/password-reset.js';

const METHOD_NAMES = {
  authenticatorApp: 'Authenticator app',
  phone: 'Phone',
  email: 'Email',
  securityKey: 'Security key or passkey',
  recoveryCodes: 'Recovery code',
  appPassword: 'App password',
};

export function methodName(type) {
  return METHOD_NAMES[type] || type;
}

function methodLabel(m) {
  const name = methodName(m.type);
  return m.label && m.label !== name ? `${name}: ${m.label}` : name;
}

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
        const label = current.type === 'recoveryCodes' ? 'Recovery code' : 'Code from your authenticator app';
        const hint = current.type === 'recoveryCodes' ? 'Each recovery code works once.' : 'Enter the 6-digit code the app shows now.';
        append(area, [codeField(label, hint), h('div', { class: 'actions' }, button('Verify', null, { kind: 'primary', type: 'submit' }))]);
        form.onsubmit = (e) => {
          e.preventDefault();
          const code = form.elements.code.value.trim();
          busy(form, () => complete({ code })).catch((err) => showProblem(form, err));
        };
        break;
      }
      case 'phone':
      case 'email': {
        const send = button('Send code', async () => {
          try {
            const prompt = await busy(form, () => post('/auth/mfa/start', { challengeId: challenge.challengeId, methodId: current.id }));
            clearErrors(form);
            replace(area,
              h('p', { class: 'sent', role: 'status', text: `We sent a code to ${prompt.sentTo || 'you'}.` }),
              codeField('Code you received', 'It expires in a few minutes.'),
              h('div', { class: 'actions' }, button('Verify', null, { kind: 'primary', type: 'submit' }), send));
            send.textContent = 'Send a new code';
            form.elements.code.focus();
            form.onsubmit = (e) => {
              e.preventDefault();
              busy(form, () => complete({ code: form.elements.code.value.trim() })).catch((err) => showProblem(form, err));
            };
          } catch (err) {
            showProblem(form, err);
          }
        }, { kind: 'primary' });
        append(area, [h('p', { text: `We will send a code to ${current.label || 'your ' + current.type}.` }), h('div', { class: 'actions' }, send)]);
        form.onsubmit = (e) => { e.preventDefault(); send.click(); };
        break;
      }
      case 'securityKey': {
        const use = button('Use my security key', async () => {
          try {
            await busy(form, async () => {
              if (!webauthn.supported()) throw new ApiError(0, { detail: 'This browser cannot use security keys. Choose another method.' });
              const prompt = await post('/auth/mfa/start', { challengeId: challenge.challengeId, methodId: current.id });
              let assertion;
              try {
                assertion = await webauthn.assert(prompt.publicKey);
              } catch (e) {
                throw new ApiError(0, { detail: `The security key did not answer (${e.name || 'error'}). Try again or choose another method.` });
              }
              await complete({ assertion });
            });
          } catch (err) {
            showProblem(form, err);
          }
        }, { kind: 'primary' });
        append(area, [h('p', { text: 'Have your security key or passkey ready, then follow your browser.' }), h('div', { class: 'actions' }, use)]);
        form.onsubmit = (e) => { e.preventDefault(); use.click(); };
        break;
      }
      default:
        append(area, [h('p', { text: 'This method cannot be used here. Choose another one.' })]);
    }
  };

  if (methods.length > 1) {
    const name = `method-${Math.random().toString(36).slice(2, 8)}`;
    form.append(h('fieldset', { class: 'methods' },
      h('legend', { text: 'Verify with' }),
      methods.map((m, i) => {
        const id = `${name}-${i}`;
        return h('div', { class: 'field-check' },
          h('input', { type: 'radio', id, name: 'method', value: m.id, checked: i === 0, onchange: () => { current = m; render(); } }),
          h('label', { for: id, text: methodLabel(m) + (m.isDefault ? ' (default)' : '') }));
      })));
  } else if (current) {
    form.append(h('p', { class: 'method-one', text: `Verify with: ${methodLabel(current)}` }));
  }
  form.append(area);
  if (current) render();
  else area.append(h('p', { text: 'No sign-in method can finish this sign-in. Ask your administrator for help.' }));
  return form;
}

function newPasswordForm(answer, onSignedIn) {
  const form = h('form', { class: 'form', novalidate: true },
    answer.reason ? h('p', { class: 'notice notice-warning', text: answer.reason }) : null,
    field({ label: 'New password', name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true }),
    field({ label: 'Confirm new password', name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
    h('div', { class: 'actions' }, button('Set password and sign in', null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const newPassword = form.elements.newPassword.value;
    if (newPassword !== form.elements.confirmPassword.value) {
      showProblem(form, new ApiError(400, { detail: 'The passwords do not match.', errors: [{ field: 'confirmPassword', message: 'Type the same password twice.' }] }));
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
  const start = h('form', { class: 'form', novalidate: true, 'aria-label': 'Set up an authenticator app' },
    field({ label: 'Name', name: 'name', value: 'Authenticator app', required: true }),
    h('div', { class: 'actions' }, button('Set up an authenticator app', null, { kind: 'primary', type: 'submit' })));
  start.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(start, () => post('/me/security-info/methods', { type: 'authenticatorApp', name: start.elements.name.value.trim() }, options))
      .then((added) => replace(area, verifyForm(added)))
      .catch((err) => showProblem(start, err));
  });
  const verifyForm = (added) => {
    const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Verify the authenticator app' },
      h('p', { text: 'Scan the QR code with your authenticator app, or type the key into it. Then enter the code the app shows.' }),
      added.qrCode ? h('img', { class: 'qr', src: added.qrCode, alt: 'QR code of the key to add to your authenticator app' }) : null,
      h('p', {}, 'Key: ', h('code', { class: 'secret', text: added.secret })),
      field({ label: 'Code from the app', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true }),
      h('div', { class: 'actions' }, button('Verify and sign in', null, { kind: 'primary', type: 'submit' })));
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
    document.title = `${title} - My Account`;
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
      throw new ApiError(0, { detail: `No passkey answered (${e.name || 'error'}). Try again, or sign in with your password.` });
    }
    return post('/auth/passkey', { challengeId: challenge.challengeId, assertion }, cookie);
  };

  const handle = (answer) => {
    stopConditional();
    if (answer && answer.signedIn) return onSignedIn();
    if (answer && answer.mfaRequired) {
      return step('Verify your identity',
        h('p', { text: 'Your password was right. Now prove it is you with a second method.' }),
        mfaStep(answer, handle),
        button('Start over', () => renderSignIn(main, { onSignedIn }), { kind: 'quiet' }));
    }
    if (answer && answer.mfaRegistrationRequired) {
      return step('More information required',
        h('p', { text: 'Your organization requires a second way to prove it is you. Set one up now to finish signing in.' }),
        registrationForm(answer, handle),
        button('Start over', () => renderSignIn(main, { onSignedIn }), { kind: 'quiet' }));
    }
    if (answer && answer.passwordChangeRequired) {
      return step('Choose a new password',
        h('p', { text: 'Before you continue, choose a new password. Your old one can no longer be used.' }),
        newPasswordForm(answer, onSignedIn));
    }
    return step('Sign in', h('p', { role: 'alert', text: 'The sign-in could not be completed. Try again.' }));
  };

  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Sign in' },
    field({ label: 'Email or user name', name: 'username', autocomplete: 'username webauthn', required: true, inputmode: 'email', attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
    field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('div', { class: 'actions' }, button('Sign in', null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const missing = [];
    if (!username) missing.push({ field: 'username', message: 'Enter your email or user name.' });
    if (!password) missing.push({ field: 'password', message: 'Enter your password.' });
    if (missing.length) {
      showProblem(form, new ApiError(400, { detail: 'Enter your user name and password.', errors: missing }));
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
  const passkeyButton = webauthn.supported() ? button('Sign in with a passkey', () => {
    busy(form, async () => {
      await stopConditional();
      return passkeySignIn({});
    })
      .then((answer) => (answer ? handle(answer) : undefined))
      .catch((err) => showProblem(form, err));
  }, { kind: 'secondary' }) : null;
  const forgot = button('Forgot my password?', () => {
    stopConditional();
    renderPasswordReset(step, {
      methodLabel,
      onDone: (done) => renderSignIn(main, { onSignedIn, message: done }),
    });
  }, { kind: 'quiet' });
  step('Sign in',
    message ? h('div', { class: 'notice notice-info', role: 'status' }, h('p', { text: message })) : null,
    h('p', { text: 'Sign in to manage your account, security info and devices.' }),
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
    title: 'Verify it’s you',
    className: 'dialog-reauth',
    build: (close) => {
      const body = h('div', { class: 'dialog-body' });
      const explain = h('p', { text: `${problem && problem.detail ? sentence(problem.detail) + ' ' : ''}Enter your password to continue.` });
      const handle = (answer) => {
        if (answer && answer.signedIn) return close(true);
        if (answer && answer.mfaRequired) {
          replace(body,
            h('p', { text: 'Now verify with a second method.' }),
            mfaStep(answer, handle),
            h('div', { class: 'actions' }, button('Cancel', () => close(false), { kind: 'secondary' })));
          const first = body.querySelector('input');
          if (first) first.focus();
          return undefined;
        }
        replace(body, h('p', { role: 'alert', text: 'Verification could not be completed.' }),
          h('div', { class: 'actions' }, button('Close', () => close(false))));
        return undefined;
      };
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
        h('div', { class: 'actions' },
          button('Continue', null, { kind: 'primary', type: 'submit' }),
          button('Cancel', () => close(false), { kind: 'secondary' })));
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
    title: `Switch to ${organizationName}`,
    className: 'dialog-switch',
    build: (close) => {
      const body = h('div', { class: 'dialog-body' });
      const handle = (answer) => {
        if (answer && answer.signedIn) return close(true);
        if (answer && answer.mfaRequired) {
          replace(body,
            h('p', { text: 'Now verify with a second method.' }),
            mfaStep(answer, handle),
            h('div', { class: 'actions' }, button('Cancel', () => close(false), { kind: 'secondary' })));
          const first = body.querySelector('input');
          if (first) first.focus();
          return undefined;
        }
        // A new password or a second method to set up first: only the full sign-in page asks.
        replace(body, h('p', { role: 'alert', text: `Signing in to ${organizationName} needs more than this dialog can ask. Sign out, then sign in again.` }),
          h('div', { class: 'actions' }, button('Close', () => close(false))));
        body.querySelector('button').focus();
        return undefined;
      };
      const form = h('form', { class: 'form', novalidate: true },
        field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
        h('div', { class: 'actions' },
          button('Continue', null, { kind: 'primary', type: 'submit' }),
          button('Cancel', () => close(false), { kind: 'secondary' })));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const signIn = { username, password: form.elements.password.value };
        if (organizationId) signIn.organizationId = organizationId;
        busy(form, () => post('/auth/sign-in', signIn, { ...cookie, stepUp: false }))
          .then(handle)
          .catch((err) => showProblem(form, err));
      });
      return append(body, [h('p', { text: `Enter your password to sign in to ${organizationName}. Your current session here ends once you have.` }), form]);
    },
  });
}
