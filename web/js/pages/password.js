// Password: change it, with the offer to sign out every other session.

import { post, ApiError } from '../api.js';
import { h, replace, field, checkbox, button, busy, showProblem, notice, announce } from '../dom.js';
import { t } from '../i18n.js';

export default {
  get title() { return t('password-title'); },
  async render(body) {
    const status = h('div', { class: 'status-area' });
    const form = h('form', { class: 'form card', novalidate: true },
      h('h2', { text: t('password-change') }),
      field({ label: t('password-current'), name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true }),
      field({ label: t('password-new'), name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true,
        hint: t('password-new-hint') }),
      field({ label: t('password-confirm'), name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
      checkbox({ label: t('password-end-other-sessions'), name: 'endOtherSessions', checked: true }),
      h('div', { class: 'actions' }, button(t('password-change'), null, { kind: 'primary', type: 'submit' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const el = form.elements;
      if (el.newPassword.value !== el.confirmPassword.value) {
        showProblem(form, new ApiError(400, { detail: t('password-mismatch'), errors: [{ field: 'confirmPassword', message: t('password-mismatch-field') }] }));
        return;
      }
      busy(form, () => post('/me/password', {
        currentPassword: el.currentPassword.value,
        newPassword: el.newPassword.value,
        endOtherSessions: el.endOtherSessions.checked,
      })).then((answer) => {
        form.reset();
        const ended = answer && answer.otherSessionsEnded;
        const message = ended ? t('password-changed-sessions-ended', { count: ended }) : t('password-changed');
        replace(status, notice(message));
        announce(message);
      }).catch((err) => { if (err.status !== 401) showProblem(form, err); });
    });
    replace(body, status, form);
  },
};
