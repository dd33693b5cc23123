// A passkey, end to end in the browser: Chromium's virtual authenticator (DevTools protocol)
// stands in for the platform authenticator. The page is opened at the WebAuthn relying party's
// origin (http://localhost:<port>), to which the credential is bound. A person without a second
// factor registers the passkey (the first second factor needs no step-up), signs out, and signs
// in again with the password and then the passkey.

import assert from 'node:assert/strict';
import { story, env, heading, nav } from './helpers.js';

async function passwordStep(page, origin, username, password) {
  await page.goto(`${origin}/`);
  await heading(page, 'Sign in');
  await page.getByLabel('Email or user name').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

story('registers a passkey and then signs in with it as the second step', async (page, context) => {
  const origin = env('WEB_ORIGIN');
  const username = env('PASSKEY_USER');
  const password = env('PASSKEY_PASSWORD');
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await passwordStep(page, origin, username, password);
  await heading(page, 'Overview');
  await nav(page, 'Security info');
  await page.getByLabel('Method to add').selectOption('securityKey');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Add a security key or passkey' }).waitFor();
  await page.getByLabel('Name').fill('Laptop passkey');
  await page.getByRole('button', { name: 'Register key' }).click();
  await page.locator('main .notice').filter({ hasText: 'Security key added.' }).waitFor();
  await page.locator('ul.methods').getByText('Laptop passkey').waitFor();
  const registered = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(registered.credentials.length, 1, 'the authenticator holds one credential');
  const { signCount } = registered.credentials[0];

  // Signed out, the password alone is no longer enough: the passkey answers the second step.
  await page.getByRole('button', { name: 'Sign out' }).click();
  // Signed out once the page says so: loading the page before then could find the session alive.
  await heading(page, 'Sign in');
  await passwordStep(page, origin, username, password);
  await page.getByRole('button', { name: 'Use my security key' }).click();
  await heading(page, 'Overview');
  const used = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(used.credentials[0].signCount > signCount, 'the passkey signed the sign-in');
});
