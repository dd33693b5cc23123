// Password: change it, with the offer to sign out every other session.

import { post, ApiError } from '../api.js';
import { h, replace, field, checkbox, button, busy, showProblem, notice, announce } from '../dom.js';

export default {
  title: 'Password',
  async render(body) {
    const status = h('div', { class: 'status-area' });
    const form = h('form', { class: 'form card', novalidate: true },
      h('h2', { text: 'Change password' }),
      field({ label: 'Current password', name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true }),
      field({ label: 'New password', name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true,
        hint: 'A long passphrase of several words is strong and easy to remember.' }),
      field({ label: 'Confirm new password', name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true }),
      checkbox({ label: 'Sign out of all other sessions (recommended if someone else may know your password)', name: 'endOtherSessions', checked: true }),
      h('div', { class: 'actions' }, button('Change password', null, { kind: 'primary', type: 'submit' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const el = form.elements;
      if (el.newPassword.value !== el.confirmPassword.value) {
        showProblem(form, new ApiError(400, { detail: 'The new passwords do not match.', errors: [{ field: 'confirmPassword', message: 'Type the same new password twice.' }] }));
        return;
      }
      busy(form, () => post('/me/password', {
        currentPassword: el.currentPassword.value,
        newPassword: el.newPassword.value,
        endOtherSessions: el.endOtherSessions.checked,
      })).then((answer) => {
        form.reset();
        const ended = answer && answer.otherSessionsEnded;
        const message = ended ? `Your password has been changed. ${ended} other session${ended === 1 ? ' was' : 's were'} signed out.` : 'Your password has been changed.';
        replace(status, notice(message));
        announce(message);
      }).catch((err) => { if (err.status !== 401) showProblem(form, err); });
    });
    replace(body, status, form);
  },
};
