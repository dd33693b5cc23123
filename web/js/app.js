// The single-page app: decides at start whether to show sign-in, routes with the History API
// (the gateway serves index.html for every page path, so reloads work), moves focus to each
// page's heading and keeps the navigation's current page marked.

import { get, post, setHandlers } from './api.js';
import { h, replace, loading } from './dom.js';
import { renderSignIn, reauthenticate } from './auth.js';
import { errorState } from './pages/common.js';
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
};

const notFound = {
  title: 'Page not found',
  render(body) {
    replace(body, h('p', { text: 'There is no such page. ' }, h('a', { href: '/', 'data-route': '', text: 'Go to the overview' })));
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

async function loadAccountName() {
  try {
    const profile = await get('/me/profile');
    document.getElementById('account-name').textContent = profile.displayName || profile.userPrincipalName || '';
  } catch {
    document.getElementById('account-name').textContent = '';
  }
}

function setSignedIn(value) {
  signedIn = value;
  document.getElementById('site-nav').hidden = !value;
  document.getElementById('account').hidden = !value;
  if (value) loadAccountName();
  else document.getElementById('account-name').textContent = '';
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
  document.title = `${page.title} - My Account`;
  markNav(path);
  if (focus) heading.focus();
  const rerender = () => show({ focus: false });
  try {
    await page.render(body, { rerender, navigate, signedOut, accountChanged: loadAccountName, isCurrent: () => count === renderCount });
  } catch (err) {
    if (err && err.status === 401) return;
    if (count === renderCount) replace(body, errorState(err, rerender));
  }
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
    onSignedIn: () => {
      setSignedIn(true);
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

/** Why a session was ended (the `reason` of a `session-revoked` problem), in words. */
const ENDED_BECAUSE = {
  signed_out: 'You were signed out.',
  revoked_by_user: 'You were signed out because this session was ended from your sessions page.',
  other_sessions_revoked: 'You were signed out because you chose to sign out of your other sessions.',
  signed_out_everywhere: 'You were signed out because you chose to sign out everywhere.',
  password_changed: 'You were signed out because your password was changed.',
  password_reset: 'You were signed out because your password was reset.',
  device_disabled: 'You were signed out because this device was disabled.',
  reported_not_me: 'You were signed out because a sign-in was reported as not yours. You will choose a new password after signing in.',
  left_organization: 'You were signed out because you left the organization this session was in.',
  removed_from_organization: 'You were signed out because you were removed from the organization this session was in.',
  account_disabled: 'You were signed out because your account was disabled.',
  account_deleted: 'You were signed out because your account was deleted.',
};

/** Why a session ended by itself (the `reason` of a `session-expired` problem), in words. */
const EXPIRED_BECAUSE = {
  idle_timeout: 'You were signed out because you were inactive for a while. Sign in again to continue.',
  max_lifetime: 'You were signed out because your session reached its maximum length. Sign in again to continue.',
};

/** The sentence the sign-in page shows after a 401 from any call. */
export function endedMessage(error) {
  const problem = (error && error.problem) || {};
  const sentence =
    (error && error.code === 'session-revoked' && ENDED_BECAUSE[problem.reason]) ||
    (error && error.code === 'session-expired' && EXPIRED_BECAUSE[problem.reason]);
  return sentence || 'Your session has ended. Sign in again to continue.';
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
    signedOut('You have signed out.');
  });
  document.querySelector('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const target = document.querySelector('#main h1') || main();
    target.focus();
  });
  let status;
  try {
    status = await get('/auth/session');
  } catch (err) {
    replace(main(), h('h1', { tabindex: '-1', text: 'My Account' }), errorState(err, () => start()));
    return;
  }
  setSignedIn(Boolean(status && status.signedIn));
  show({ focus: false });
}

start();
