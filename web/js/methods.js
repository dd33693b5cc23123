// Sign-in methods in words: each type's name, a method's label, and the sentences of proving one
// (the code's field, where a code goes). Sign-in, step-up, password reset and the pages share them.

import { t } from './i18n.js';

/** Each sign-in method type's message; an unknown type is shown as it is. */
const METHOD_NAMES = {
  authenticatorApp: 'method-authenticator-app',
  phone: 'method-phone',
  email: 'method-email',
  securityKey: 'method-security-key',
  recoveryCodes: 'method-recovery-code',
  appPassword: 'method-app-password',
};

export function methodName(type) {
  return METHOD_NAMES[type] ? t(METHOD_NAMES[type]) : type;
}

/** "Phone: +1 425 555 0100": the type in words and the method's own label, when it has one. */
export function methodLabel(m) {
  const name = methodName(m.type);
  return m.label && m.label !== name ? t('method-with-label', { method: name, label: m.label }) : name;
}

/** The proof of one method: the code field's label and hint, the sentences around it. */
export function codePrompt(type) {
  return type === 'recoveryCodes'
    ? { label: t('mfa-recovery-code'), hint: t('mfa-recovery-code-hint') }
    : { label: t('mfa-app-code'), hint: t('mfa-app-code-hint') };
}

/** "We will send a code to …": where a phone or email code goes, before it is sent. */
export function willSendText(m) {
  if (m.label) return t('mfa-will-send', { target: m.label });
  return t(m.type === 'phone' ? 'mfa-will-send-phone' : 'mfa-will-send-email');
}

/** "We sent a code to …": where the code went, as the API answered. */
export function sentText(sentTo) {
  return sentTo ? t('mfa-sent', { target: sentTo }) : t('mfa-sent-unnamed');
}

/** How a sign-in or session was proven (RFC 8176 `amr` values and the sign-in steps' methods). */
const AUTHENTICATION_METHODS = {
  pwd: 'sign-ins-method-password', otp: 'sign-ins-method-otp', sms: 'sign-ins-method-sms', tel: 'sign-ins-method-call', hwk: 'sign-ins-method-security-key', swk: 'sign-ins-method-synced-passkey', mfa: 'sign-ins-method-mfa',
  password: 'sign-ins-method-password', app_password: 'sign-ins-method-app-password', authenticator_app: 'sign-ins-method-authenticator-app', phone_sms: 'sign-ins-method-sms',
  phone_voice: 'sign-ins-method-call', email: 'sign-ins-method-email', security_key: 'sign-ins-method-security-key', recovery_code: 'sign-ins-method-recovery-code', passkey: 'sign-ins-method-passkey',
};

/** One authentication method code in words; an unknown code is shown as it is. */
export function authenticationMethodName(code) {
  if (!code) return null;
  return AUTHENTICATION_METHODS[code] ? t(AUTHENTICATION_METHODS[code]) : code;
}
