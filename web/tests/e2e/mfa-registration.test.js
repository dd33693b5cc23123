// Story: "More information required". A person without a second factor signs in to an
// organization that requires multi-factor authentication: after the password, the portal asks
// them to set up an authenticator app, they scan the key and type a code, and they are signed
// in. The next sign-in asks for that app.

import assert from 'node:assert/strict';
import { story, env, passwordStep, heading, nextCode, snap } from './helpers.js';

story('registers a first second factor when the organization requires one, then signs in with it', async (page) => {
  const username = env('MFAREG_USER');
  const password = env('MFAREG_PASSWORD');
  await passwordStep(page, username, password);
  await heading(page, 'More information required');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const secret = (await page.locator('code.secret').textContent()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  await snap(page, 'mfa-registration');

  // A wrong code is refused and nothing is signed in.
  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await page.getByRole('alert').first().waitFor();
  await heading(page, 'More information required');

  const first = await nextCode(secret, -1);
  await page.getByLabel('Code from the app').fill(first.code);
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await heading(page, 'Overview');

  // From now on the sign-in asks for the app.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  // Signed out once the page says so: loading the page before then could find the session alive.
  await heading(page, 'Sign in');
  await passwordStep(page, username, password);
  await heading(page, 'Verify your identity');
});
