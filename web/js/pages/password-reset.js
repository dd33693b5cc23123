// "Forgot my password?": the user name, then proof of one or two registered methods (a code
// sent by email or phone, an authenticator app or recovery code, a security key or passkey),
// then a new password. The flow's answers are the same whether or not the name is an account's,
// so this page never says "no such user".

import { post, seg, ApiError } from '../api.js';
import { h, field, button, busy, showProblem, clearErrors, replace, append } from '../dom.js';
import * as webauthn from '../webauthn.js';

const path = (flow, step) => `/auth/password-reset/${seg(flow.flowId)}/${step}`;

/**
 * Renders the reset into the sign-in card: `step(title, ...body)` draws one step (as sign-in
 * does), `methodLabel(method)` names a method, `onDone(message)` goes back to sign-in.
 */
export function renderPasswordReset(step, { methodLabel, onDone }) {
  const back = () => button('Back to sign-in', () => onDone(), { kind: 'quiet' });
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Reset your password' },
    field({ label: 'Email or user name', name: 'username', autocomplete: 'username', required: true, inputmode: 'email', attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
    h('div', { class: 'actions' }, button('Next', null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    if (!username) {
      showProblem(form, new ApiError(400, { detail: 'Enter your user name.', errors: [{ field: 'username', message: 'Enter your email or user name.' }] }));
      return;
    }
    busy(form, () => post('/auth/password-reset', { username }))
      .then((flow) => proveStep(flow, { methodsRequired: flow.methodsRequired, provenMethodIds: [] }))
      .catch((err) => showProblem(form, err));
  });

  const proveStep = (flow, progress) => {
    if (progress.methodsRequired <= 0) {
      passwordStep(flow);
      return;
    }
    const open = flow.methods.filter((m) => !progress.provenMethodIds.includes(m.id));
    const count = progress.methodsRequired === 1 ? 'one more method' : `${progress.methodsRequired} methods`;
    step('Verify your identity',
      h('p', { text: `To choose a new password, prove ${count} you registered.` }),
      methodForm(flow, open, methodLabel, (answer) => proveStep(flow, answer)),
      back());
  };

  const passwordStep = (flow) => {
    const pw = h('form', { class: 'form', novalidate: true, 'aria-label': 'Choose a new password' },
      field({ label: 'New password', name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true }),
      field({ label: 'Confirm new password', name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
      h('div', { class: 'actions' }, button('Reset password', null, { kind: 'primary', type: 'submit' })));
    pw.addEventListener('submit', (e) => {
      e.preventDefault();
      const newPassword = pw.elements.newPassword.value;
      if (newPassword !== pw.elements.confirmPassword.value) {
        showProblem(pw, new ApiError(400, { detail: 'The passwords do not match.', errors: [{ field: 'confirmPassword', message: 'Type the same password twice.' }] }));
        return;
      }
      busy(pw, () => post(path(flow, 'password'), { newPassword }))
        .then(() => onDone('Your password was reset and you were signed out everywhere. Sign in with your new password.'))
        .catch((err) => showProblem(pw, err));
    });
    step('Choose a new password',
      h('p', { text: 'Your identity is verified. Choose a new password: every session of yours will be signed out.' }),
      pw,
      back());
  };

  step('Reset your password',
    h('p', { text: 'Enter your user name. You will prove it is you with a sign-in method you registered, then choose a new password.' }),
    form,
    back());
}

/** Choose one of `methods` and prove it; `onProgress(answer)` gets what `verify` answered. */
function methodForm(flow, methods, methodLabel, onProgress) {
  const form = h('form', { class: 'form mfa-form', novalidate: true });
  const area = h('div', { class: 'mfa-area' });
  let current = methods[0];
  const verify = (proof) => post(path(flow, 'verify'), { methodId: current.id, ...proof }).then(onProgress);
  const codeField = (label, hint) => field({
    label, name: 'code', autocomplete: 'one-time-code', hint, inputmode: current.type === 'recoveryCodes' ? 'text' : 'numeric', required: true,
  });
  const askCode = (label, hint, extra = []) => {
    replace(area, ...extra, codeField(label, hint), h('div', { class: 'actions' }, button('Verify', null, { kind: 'primary', type: 'submit' })));
    form.onsubmit = (e) => {
      e.preventDefault();
      busy(form, () => verify({ code: form.elements.code.value.trim() })).catch((err) => showProblem(form, err));
    };
  };

  const render = () => {
    clearErrors(form);
    form.onsubmit = null;
    switch (current.type) {
      case 'authenticatorApp':
        askCode('Code from your authenticator app', 'Enter the 6-digit code the app shows now.');
        break;
      case 'recoveryCodes':
        askCode('Recovery code', 'Each recovery code works once.');
        break;
      case 'phone':
      case 'email': {
        const send = button('Send code', () => {
          busy(form, () => post(path(flow, 'start'), { methodId: current.id }))
            .then((prompt) => {
              const sent = `We sent a code to ${prompt.sentTo || current.label}.`;
              askCode('Code you received', 'It expires in a few minutes.', [h('p', { class: 'sent', role: 'status', text: sent })]);
              form.elements.code.focus();
            })
            .catch((err) => showProblem(form, err));
        }, { kind: 'primary' });
        replace(area, h('p', { text: `We will send a code to ${current.label}.` }), h('div', { class: 'actions' }, send));
        form.onsubmit = (e) => { e.preventDefault(); send.click(); };
        break;
      }
      case 'securityKey': {
        const use = button('Use my security key', () => {
          busy(form, async () => {
            if (!webauthn.supported()) throw new ApiError(0, { detail: 'This browser cannot use security keys. Choose another method.' });
            const prompt = await post(path(flow, 'start'), { methodId: current.id });
            let assertion;
            try {
              assertion = await webauthn.assert(prompt.publicKey);
            } catch (e) {
              throw new ApiError(0, { detail: `The security key did not answer (${e.name || 'error'}). Try again or choose another method.` });
            }
            return verify({ assertion });
          }).catch((err) => showProblem(form, err));
        }, { kind: 'primary' });
        replace(area, h('p', { text: 'Have your security key or passkey ready, then follow your browser.' }), h('div', { class: 'actions' }, use));
        form.onsubmit = (e) => { e.preventDefault(); use.click(); };
        break;
      }
      default:
        replace(area, h('p', { text: 'This method cannot be used here. Choose another one.' }));
    }
  };

  if (methods.length > 1) {
    const name = `reset-method-${Math.random().toString(36).slice(2, 8)}`;
    form.append(h('fieldset', { class: 'methods' },
      h('legend', { text: 'Verify with' }),
      methods.map((m, i) => {
        const id = `${name}-${i}`;
        return h('div', { class: 'field-check' },
          h('input', { type: 'radio', id, name: 'method', value: m.id, checked: i === 0, onchange: () => { current = m; render(); } }),
          h('label', { for: id, text: methodLabel(m) }));
      })));
  } else if (current) {
    form.append(h('p', { class: 'method-one', text: `Verify with: ${methodLabel(current)}` }));
  }
  form.append(area);
  if (current) render();
  else append(area, [h('p', { text: 'No sign-in method of yours can reset the password. Ask your organization’s help desk.' })]);
  return form;
}
