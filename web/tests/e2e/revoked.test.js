// Story: a person signs in in the browser, then ends their other sessions from somewhere else.
// The browser's session ends everywhere at once: its next call lands on the sign-in page, which
// says why.

import assert from 'node:assert/strict';
import { story, env, GATEWAY, heading, signIn, eventually } from './helpers.js';

async function signInElsewhere(username, password) {
  const response = await fetch(`${GATEWAY()}/api/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).accessToken;
}

story('a session ended from elsewhere lands on sign-in, saying why', async (page) => {
  const user = env('REVOKED_USER');
  const password = env('REVOKED_PASSWORD');
  await signIn(page, user, password);

  const elsewhere = await signInElsewhere(user, password);
  const ended = await fetch(`${GATEWAY()}/api/v1/me/sessions/revoke-others`, {
    method: 'POST',
    headers: { authorization: `Bearer ${elsewhere}` },
  });
  assert.equal(ended.status, 200);

  const why = page.getByText('You were signed out because you chose to sign out of your other sessions.');
  // The browser's next call is refused as soon as the revocation has reached the services
  // (well under a second); each page it opens calls the API.
  const pages = ['Devices', 'Sessions', 'Organizations', 'Overview'];
  let next = 0;
  await eventually('the browser session is refused', async () => {
    if (await why.isVisible()) return true;
    const link = page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name: pages[next % pages.length], exact: true });
    next += 1;
    if (await link.isVisible()) await link.click();
    return why.isVisible();
  });
  await heading(page, 'Sign in');

  // The other session is untouched.
  const stillThere = await fetch(`${GATEWAY()}/api/v1/me/profile`, { headers: { authorization: `Bearer ${elsewhere}` } });
  assert.equal(stillThere.status, 200);
});
