// Language and region: the display language, the regional format (how dates, times and numbers
// are written) and the time zone, kept in the profile (`preferredLanguage`, `regionalFormat`,
// `timeZone`; PATCH /me/profile, which refuses anything but a BCP 47 tag or an IANA zone).

import { get, patch } from '../api.js';
import { h, replace, field, button, busy, showProblem, clearErrors, notice, announce } from '../dom.js';
import { LANGUAGES, LANGUAGE_NAMES, t, formatDateTime } from '../i18n.js';

/** Regional formats offered, each named in its own language by the browser. */
const REGIONAL_FORMATS = [
  'en-US', 'en-GB', 'en-CA', 'en-AU', 'en-IE', 'en-IN',
  'de-DE', 'de-AT', 'de-CH',
  'fr-FR', 'fr-BE', 'fr-CA', 'fr-CH',
  'es-ES', 'it-IT', 'nl-NL', 'pt-BR', 'sv-SE', 'pl-PL', 'ja-JP',
];

/** The zones this browser knows (every IANA zone in current browsers), or a short list. */
function timeZones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Europe/Zurich', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'];
  }
}

function formatName(tag) {
  try {
    const name = new Intl.DisplayNames([tag], { type: 'language' }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

const deviceZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** One option list with the saved value in it even when it is not one this page offers. */
function withSaved(options, saved) {
  return saved && !options.some(([value]) => value === saved) ? [...options, [saved, saved]] : options;
}

export default {
  get title() { return t('language-title'); },
  async render(body, ctx) {
    const profile = await get('/me/profile');
    const status = h('div', { class: 'status-area' });
    const languages = withSaved(
      [['', t('language-browser-default')], ...LANGUAGES.map((l) => [l, LANGUAGE_NAMES[l]])],
      profile.preferredLanguage);
    const formats = withSaved(
      [['', t('language-region-same')], ...REGIONAL_FORMATS.map((f) => [f, formatName(f)])],
      profile.regionalFormat);
    const zones = withSaved(
      [['', t('language-zone-device', { zone: deviceZone() })], ...timeZones().map((z) => [z, z.replaceAll('_', ' ')])],
      profile.timeZone);

    const form = h('form', { class: 'form language-form', novalidate: true, 'aria-label': t('language-title') },
      field({ label: t('language-display'), name: 'preferredLanguage', type: 'select', value: profile.preferredLanguage || '', options: languages, hint: t('language-display-hint') }),
      field({ label: t('language-region'), name: 'regionalFormat', type: 'select', value: profile.regionalFormat || '', options: formats, hint: t('language-region-hint') }),
      field({ label: t('language-zone'), name: 'timeZone', type: 'select', value: profile.timeZone || '', options: zones, hint: t('language-zone-hint') }),
      h('p', { class: 'hint language-preview', 'aria-live': 'polite' }),
      h('div', { class: 'actions' }, button(t('save'), null, { kind: 'primary', type: 'submit' })));

    // What a date will look like with the choices as they stand (not yet saved).
    const preview = () => {
      const locale = form.elements.regionalFormat.value || form.elements.preferredLanguage.value || undefined;
      const timeZone = form.elements.timeZone.value || undefined;
      let example;
      try {
        example = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date());
      } catch {
        example = formatDateTime(new Date(), { dateStyle: 'full', timeStyle: 'short' });
      }
      form.querySelector('.language-preview').textContent = t('language-preview', { example });
    };
    form.addEventListener('change', preview);
    preview();

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearErrors(form);
      const changes = {};
      for (const name of ['preferredLanguage', 'regionalFormat', 'timeZone']) {
        const value = form.elements[name].value;
        if (value !== (profile[name] || '')) changes[name] = value;
      }
      if (!Object.keys(changes).length) {
        replace(status, notice(t('nothing-changed')));
        announce(t('nothing-changed'));
        return;
      }
      busy(form, () => patch('/me/profile', changes)).then(async (changed) => {
        // The whole portal in the new language; then say so in it.
        await ctx.languageChanged(changed);
        announce(t('language-saved'));
        const area = document.querySelector('.page-language .status-area');
        if (area) replace(area, notice(t('language-saved')));
      }).catch((err) => { if (err.status !== 401) showProblem(form, err); });
    });

    replace(body, status, h('p', { text: t('language-intro') }), form);
  },
};
