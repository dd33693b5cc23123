// The single-page app: decides at start whether to show sign-in, routes with the History API
// (the gateway serves index.html for every page path, so reloads work), moves focus to each
// page's heading and keeps the navigation's current page marked.

import { get, post, setHandlers } from './api.js';
import { h, replace, loading } from './dom.js';
import { renderSignIn, reauthenticate } from './auth.js';
import { errorState } from './pages/common.js';
import { applyPreferences, t } from './i18n.js';
import language from './pages/language.js';
import overview from './pages/overview.js';
import securityInfo from './pages/security-info.js';
import password from './pages/password.js';
import devices from './pages/devices.js';
import sessions from './pages/sessions.js';
import organizations from './pages/organizations.js';
import privacy from './pages/privacy.js';
import signIns from './pages/sign-ins.js';

const routes = {
  '/': overview,
  '/security-info': securityInfo,
  '/password': password,
  '/devices': devices,
  '/sessions': sessions,
  '/organizations': organizations,
  '/privacy': privacy,
  '/sign-ins': signIns,
  '/language': language,
};

const notFound = {
  get title() { return t('not-found-title'); },
  render(body) {
    replace(body, h('p', { text: `${t('not-found-text')} ` }, h('a', { href: '/', 'data-route': '', text: t('not-found-link') })));
  },
};

const main = () => document.getElementById('main');
let signedIn = false;
let renderCount = 0;

function normalize(path) {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function markNav(path) {
  document.querySelectorAll('#site-nav a').forEach((a) => {
    if (normalize(a.getAttribute('href')) === path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

/** The header's name, and the person's language, format and time zone from the profile. */
async function loadAccountName() {
  try {
    const profile = await get('/me/profile');
    document.getElementById('account-name').textContent = profile.displayName || profile.userPrincipalName || '';
    await applyPreferences(profile);
  } catch {
    document.getElementById('account-name').textContent = '';
  }
}

/** Resolves once the person's language is in use (signed in) or the browser's (signed out). */
function setSignedIn(value) {
  signedIn = value;
  document.getElementById('site-nav').hidden = !value;
  document.getElementById('account').hidden = !value;
  if (value) return loadAccountName();
  document.getElementById('account-name').textContent = '';
  return Promise.resolve();
}

/** Shows the page of `location.pathname`; `focus`: move focus to its heading. */
export async function show({ focus = true } = {}) {
  const path = normalize(location.pathname);
  if (!signedIn) {
    showSignIn(undefined, focus);
    return;
  }
  const page = routes[path] || notFound;
  const count = ++renderCount;
  const heading = h('h1', { tabindex: '-1', text: page.title });
  const body = h('div', { class: 'page-body' }, loading());
  replace(main(), h('div', { class: `page page-${(path.slice(1) || 'overview')}` }, heading, body));
  document.title = t('page-title', { page: page.title });
  markNav(path);
  if (focus) heading.focus();
  const rerender = () => show({ focus: false });
  try {
    await page.render(body, { rerender, navigate, signedOut, accountChanged: loadAccountName, languageChanged, isCurrent: () => count === renderCount });
  } catch (err) {
    if (err && err.status === 401) return;
    if (count === renderCount) replace(body, errorState(err, rerender));
  }
}

/** The person saved a new language, format or zone: the shell and the page in it anew. */
async function languageChanged(profile) {
  await applyPreferences(profile);
  await show({ focus: false });
}

export function navigate(path) {
  if (normalize(path) !== normalize(location.pathname)) history.pushState({}, '', path);
  show();
}

function showSignIn(message, focus = true) {
  markNav('');
  renderSignIn(main(), {
    message,
    focus,
    onSignedIn: async () => {
      await setSignedIn(true);
      show();
    },
  });
}

/** The session ended (401 from any call): back to sign-in, on the same page address. */
export function signedOut(message) {
  setSignedIn(false);
  renderCount += 1;
  showSignIn(message);
}

/** Why a session was ended (the `reason` of a `session-revoked` problem): its message. */
const ENDED_BECAUSE = {
  signed_out: 'ended-signed-out',
  revoked_by_user: 'ended-revoked-by-user',
  other_sessions_revoked: 'ended-other-sessions-revoked',
  signed_out_everywhere: 'ended-signed-out-everywhere',
  password_changed: 'ended-password-changed',
  password_reset: 'ended-password-reset',
  device_disabled: 'ended-device-disabled',
  reported_not_me: 'ended-reported-not-me',
  left_organization: 'ended-left-organization',
  removed_from_organization: 'ended-removed-from-organization',
  account_disabled: 'ended-account-disabled',
  account_deleted: 'ended-account-deleted',
};

/** Why a session ended by itself (the `reason` of a `session-expired` problem): its message. */
const EXPIRED_BECAUSE = {
  idle_timeout: 'expired-idle-timeout',
  max_lifetime: 'expired-max-lifetime',
};

/** The sentence the sign-in page shows after a 401 from any call. */
export function endedMessage(error) {
  const problem = (error && error.problem) || {};
  const id =
    (error && error.code === 'session-revoked' && ENDED_BECAUSE[problem.reason]) ||
    (error && error.code === 'session-expired' && EXPIRED_BECAUSE[problem.reason]);
  return t(id || 'ended-default');
}

setHandlers({
  unauthenticated: (error) => {
    if (signedIn) signedOut(endedMessage(error));
  },
  reauthenticate,
});

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-route]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname);
});

window.addEventListener('popstate', () => show());

async function start() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    try {
      await post('/auth/sign-out', undefined, { stepUp: false });
    } catch {
      // Already over: the cookies are cleared either way.
    }
    signedOut(t('signed-out'));
  });
  document.querySelector('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const target = document.querySelector('#main h1') || main();
    target.focus();
  });
  let status;
  try {
    // The browser's language first, for sign-in and for any problem on the way.
    await applyPreferences();
    status = await get('/auth/session');
  } catch (err) {
    replace(main(), h('h1', { tabindex: '-1', text: t('app-name') }), errorState(err, () => start()));
    return;
  }
  await setSignedIn(Boolean(status && status.signedIn));
  show({ focus: false });
}

start();
