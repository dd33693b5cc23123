// "Forgot my password?": the user name, then proof of one or two registered methods (a code
// sent by email or phone, an authenticator app or recovery code, a security key or passkey),
// then a new password. The flow's answers are the same whether or not the name is an account's,
// so this page never says "no such user".

import { post, seg, ApiError } from '../api.js';
import { h, field, button, busy, showProblem, clearErrors, replace, append } from '../dom.js';
import * as webauthn from '../webauthn.js';
import { t } from '../i18n.js';
import { codePrompt, willSendText, sentText } from '../methods.js';

const path = (flow, step) => `/auth/password-reset/${seg(flow.flowId)}/${step}`;

/**
 * Renders the reset into the sign-in card: `step(title, ...body)` draws one step (as sign-in
 * does), `methodLabel(method)` names a method, `onDone(message)` goes back to sign-in.
 */
export function renderPasswordReset(step, { methodLabel, onDone }) {
  const back = () => button(t('reset-back'), () => onDone(), { kind: 'quiet' });
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('reset-title') },
    field({ label: t('signin-username'), name: 'username', autocomplete: 'username', required: true, inputmode: 'email', attrs: { autocapitalize: 'none', spellcheck: 'false' } }),
    h('div', { class: 'actions' }, button(t('next'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    if (!username) {
      showProblem(form, new ApiError(400, { detail: t('reset-username-missing'), errors: [{ field: 'username', message: t('signin-username-missing') }] }));
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
    step(t('signin-verify-title'),
      h('p', { text: t('reset-prove-methods', { count: progress.methodsRequired }) }),
      methodForm(flow, open, methodLabel, (answer) => proveStep(flow, answer)),
      back());
  };

  const passwordStep = (flow) => {
    const pw = h('form', { class: 'form', novalidate: true, 'aria-label': t('signin-new-password-title') },
      field({ label: t('password-new'), name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true }),
      field({ label: t('password-confirm'), name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
      h('div', { class: 'actions' }, button(t('reset-submit'), null, { kind: 'primary', type: 'submit' })));
    pw.addEventListener('submit', (e) => {
      e.preventDefault();
      const newPassword = pw.elements.newPassword.value;
      if (newPassword !== pw.elements.confirmPassword.value) {
        showProblem(pw, new ApiError(400, { detail: t('password-mismatch'), errors: [{ field: 'confirmPassword', message: t('password-mismatch-field') }] }));
        return;
      }
      busy(pw, () => post(path(flow, 'password'), { newPassword }))
        .then(() => onDone(t('reset-done')))
        .catch((err) => showProblem(pw, err));
    });
    step(t('signin-new-password-title'),
      h('p', { text: t('reset-verified') }),
      pw,
      back());
  };

  step(t('reset-title'),
    h('p', { text: t('reset-intro') }),
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
    replace(area, ...extra, codeField(label, hint), h('div', { class: 'actions' }, button(t('mfa-verify'), null, { kind: 'primary', type: 'submit' })));
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
      case 'recoveryCodes': {
        const { label, hint } = codePrompt(current.type);
        askCode(label, hint);
        break;
      }
      case 'phone':
      case 'email': {
        const send = button(t('mfa-send-code'), () => {
          busy(form, () => post(path(flow, 'start'), { methodId: current.id }))
            .then((prompt) => {
              const sent = sentText(prompt.sentTo || current.label);
              askCode(t('mfa-received-code'), t('mfa-received-code-hint'), [h('p', { class: 'sent', role: 'status', text: sent })]);
              form.elements.code.focus();
            })
            .catch((err) => showProblem(form, err));
        }, { kind: 'primary' });
        replace(area, h('p', { text: willSendText(current) }), h('div', { class: 'actions' }, send));
        form.onsubmit = (e) => { e.preventDefault(); send.click(); };
        break;
      }
      case 'securityKey': {
        const use = button(t('mfa-use-security-key'), () => {
          busy(form, async () => {
            if (!webauthn.supported()) throw new ApiError(0, { detail: t('mfa-security-key-unsupported') });
            const prompt = await post(path(flow, 'start'), { methodId: current.id });
            let assertion;
            try {
              assertion = await webauthn.assert(prompt.publicKey);
            } catch (e) {
              throw new ApiError(0, { detail: t('mfa-security-key-no-answer', { error: e.name || 'Error' }) });
            }
            return verify({ assertion });
          }).catch((err) => showProblem(form, err));
        }, { kind: 'primary' });
        replace(area, h('p', { text: t('mfa-security-key-ready') }), h('div', { class: 'actions' }, use));
        form.onsubmit = (e) => { e.preventDefault(); use.click(); };
        break;
      }
      default:
        replace(area, h('p', { text: t('mfa-method-unusable') }));
    }
  };

  if (methods.length > 1) {
    const name = `reset-method-${Math.random().toString(36).slice(2, 8)}`;
    form.append(h('fieldset', { class: 'methods' },
      h('legend', { text: t('mfa-verify-with') }),
      methods.map((m, i) => {
        const id = `${name}-${i}`;
        return h('div', { class: 'field-check' },
          h('input', { type: 'radio', id, name: 'method', value: m.id, checked: i === 0, onchange: () => { current = m; render(); } }),
          h('label', { for: id, text: methodLabel(m) }));
      })));
  } else if (current) {
    form.append(h('p', { class: 'method-one', text: t('mfa-verify-with-one', { method: methodLabel(current) }) }));
  }
  form.append(area);
  if (current) render();
  else append(area, [h('p', { text: t('reset-no-method') })]);
  return form;
}
