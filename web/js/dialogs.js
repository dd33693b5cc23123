// Modal dialogs on the native <dialog> element (focus stays inside, Escape cancels); focus
// goes back to where it was when the dialog closes.

import { h, uid } from './dom.js';
import { t } from './i18n.js';

/**
 * Opens a modal dialog. `build(close)` returns its body; `close(value)` ends it. Resolves with
 * the value given to close(), or `cancelValue` when Escape or Cancel closed it.
 */
export function openDialog({ title, build, cancelValue = false, className = '' }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const titleId = uid('dialog-title');
    const dialog = h('dialog', { class: ['dialog', className], 'aria-labelledby': titleId });
    let result = cancelValue;
    const close = (value) => {
      result = value;
      if (dialog.open) dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (before && typeof before.focus === 'function' && document.contains(before)) before.focus();
      resolve(result);
    });
    dialog.addEventListener('cancel', () => { result = cancelValue; });
    dialog.append(h('h2', { id: titleId, class: 'dialog-title', tabindex: '-1', text: title }), build(close));
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus], input, select, textarea');
    (first || dialog.querySelector('.dialog-title')).focus();
  });
}

/** Asks before something that cannot be undone; resolves true only when confirmed. */
export function confirmDialog({ title, message, confirmLabel = t('confirm'), cancelLabel = t('cancel'), danger = false, details = [] }) {
  return openDialog({
    title,
    className: 'dialog-confirm',
    build: (close) => h('div', { class: 'dialog-body' },
      h('p', { text: message }),
      details.length ? h('ul', {}, details.map((d) => h('li', { text: d }))) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: `button ${danger ? 'button-danger' : 'button-primary'}`, onclick: () => close(true), text: confirmLabel }),
        h('button', { type: 'button', class: 'button button-secondary', onclick: () => close(false), text: cancelLabel }))),
  });
}
