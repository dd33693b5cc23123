// The gateway's JSON API from the browser: the session lives in HttpOnly cookies, every
// state-changing request carries the CSRF token (the readable myaccount_csrf cookie), a 401
// sends the person back to sign-in, and a 403 `reauthentication-required` opens the step-up
// dialog and then retries the request once.

import { language, t } from './i18n.js';

const BASE = '/api/v1';
const CSRF_COOKIE = 'myaccount_csrf';

/** Paths whose 401 is an answer (wrong password, wrong code), not an ended session. */
const AUTH_PATHS = ['/auth/sign-in', '/auth/passkey/start', '/auth/passkey', '/auth/mfa', '/auth/mfa/start', '/auth/mfa-registration/complete', '/auth/new-password', '/auth/reauthenticate', '/auth/session'];
/** A password reset's steps, whose paths carry the flow id: a wrong code is an answer too. */
const PASSWORD_RESET = '/auth/password-reset';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The slug of `type` (`urn:myaccount:problem:<slug>`). */
  get code() {
    return problemCode(this.problem);
  }
}

export function problemCode(problem) {
  const type = (problem && problem.type) || '';
  return type.slice(type.lastIndexOf(':') + 1);
}

const handlers = {
  unauthenticated: () => {},
  reauthenticate: async () => false,
};

/** `unauthenticated()`: the session ended; `reauthenticate(problem)`: resolves true once stepped up. */
export function setHandlers(h) {
  Object.assign(handlers, h);
}

export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === CSRF_COOKIE) return decodeURIComponent(v.join('='));
  }
  return '';
}

async function send(method, path, body, { cookieSession = false, bearer } = {}) {
  // Problems come in the person's language: the gateway takes the profile's when signed in,
  // this one before (sign-in, password reset).
  const headers = { accept: 'application/json, application/problem+json', 'accept-language': language() };
  // A sign-in's registration token ("More information required"): the page holds it only until
  // the sign-in finishes.
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  if (cookieSession) headers['x-myaccount-session'] = 'cookie';
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { title: t('network-error-title'), detail: t('network-error-detail') });
  }
  return response;
}

async function read(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

/**
 * Calls the API; resolves with the parsed JSON (null for 204) or rejects with ApiError.
 * Options: `cookieSession` (sign-in endpoints: cookies instead of tokens), `stepUp` (false:
 * do not open the step-up dialog), `bearer` (a registration token instead of the cookie).
 */
export async function api(method, path, body, options = {}) {
  const { stepUp = true } = options;
  const response = await send(method, path, body, options);
  const data = await read(response);
  if (response.ok) return data;
  const problem = data && typeof data === 'object'
    ? data
    : { title: response.statusText, detail: t('request-failed', { status: String(response.status) }) };
  if (!problem.detail) problem.detail = problem.title || t('request-failed', { status: String(response.status) });
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && !AUTH_PATHS.includes(path) && !path.startsWith(PASSWORD_RESET)) {
    handlers.unauthenticated(error);
    throw error;
  }
  if (response.status === 403 && error.code === 'reauthentication-required' && stepUp) {
    const done = await handlers.reauthenticate(problem);
    if (!done) {
      const cancelled = new ApiError(403, { ...problem, detail: t('step-up-cancelled') });
      cancelled.cancelled = true;
      throw cancelled;
    }
    return api(method, path, body, { ...options, stepUp: false });
  }
  throw error;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body, options);
export const put = (path, body, options) => api('PUT', path, body, options);
export const patch = (path, body, options) => api('PATCH', path, body, options);
export const del = (path, body, options) => api('DELETE', path, body, options);

/** Path segments are always encoded: ids come from the API, never trusted as path syntax. */
export function seg(value) {
  return encodeURIComponent(String(value));
}
