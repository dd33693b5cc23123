// A passkey, end to end in the browser: Chromium's virtual authenticator (DevTools protocol)
// stands in for the platform authenticator. The page is opened at the WebAuthn relying party's
// origin (http://localhost:<port>), to which the credential is bound. A person without a second
// factor registers the passkey (the first second factor needs no step-up), signs out, and signs
// in again with the password and then the passkey; then with the passkey alone (no user name,
// no password), sees it listed with its provider, dates and that it signs in alone, and renames
// it. axe-core checks the sign-in page and the list on the way.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { story, env, heading, nav } from './helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function seriousViolations(page) {
  return page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
}

/** The authenticator's credentials once its first one has signed more than `after` times: a
 * sign-out's answer and the autofill's sign-in race, so the page's heading alone cannot tell. */
async function signedAfter(cdp, authenticatorId, after) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    if (now.credentials[0].signCount > after || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function passwordStep(page, origin, username, password) {
  await page.goto(`${origin}/`);
  await heading(page, 'Sign in');
  await page.getByLabel('Email or user name').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

story('registers a passkey, signs in with it as the second step and then alone, and renames it', async (page, context) => {
  await context.addInitScript({ path: AXE });
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
  await page.locator('ul.methods').getByText('Laptop passkey', { exact: true }).waitFor();
  const registered = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(registered.credentials.length, 1, 'the authenticator holds one credential');
  const { signCount } = registered.credentials[0];

  const registeredCredential = registered.credentials[0];
  assert.ok(registeredCredential.isResidentCredential, 'the registration asked for a discoverable credential');
  const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });

  // The sign-in page offers the passkey in the user name field's autofill (conditional
  // mediation), which Chromium's virtual authenticator answers by itself when presence is
  // simulated. Without presence the offer waits, and the password leads to the second step,
  // which the passkey answers.
  await presence(false);
  await page.getByRole('button', { name: 'Sign out' }).click();
  // Signed out once the page says so: loading the page before then could find the session alive.
  await heading(page, 'Sign in');
  assert.equal(await page.getByLabel('Email or user name').getAttribute('autocomplete'), 'username webauthn',
    'the user name field offers passkeys in its autofill');
  assert.deepEqual(await seriousViolations(page), [], 'the sign-in page with its passkey button');
  await passwordStep(page, origin, username, password);
  await presence(true);
  await page.getByRole('button', { name: 'Use my security key' }).click();
  await heading(page, 'Overview');
  const used = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(used.credentials[0].signCount > signCount, 'the passkey signed the sign-in');

  // Passwordless through the autofill: no user name, no password; the passkey alone is
  // multi-factor.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const alone = await signedAfter(cdp, authenticatorId, used.credentials[0].signCount);
  assert.ok(alone.credentials[0].signCount > used.credentials[0].signCount, 'the passkey signed the passwordless sign-in');
  await heading(page, 'Overview');

  // Passwordless through the button. Presence comes only after the click: with it, the
  // autofill's offer (waiting since the page loaded) would sign in before the click lands.
  await presence(false);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'Sign in');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await presence(true);
  await heading(page, 'Overview');
  const button = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(button.credentials[0].signCount > alone.credentials[0].signCount, 'the passkey signed again');

  // The list: provider (Chromium's virtual authenticator is in no AAGUID list), that it signs
  // in alone, when it was added and last used.
  await nav(page, 'Security info');
  const row = page.locator('ul.methods li[data-method-type="securityKey"]');
  await row.getByText('Laptop passkey', { exact: true }).waitFor();
  await row.getByText('Provider not known').waitFor();
  await row.getByText('Signs you in without a password').waitFor();
  await row.getByText('Last used').waitFor();
  assert.ok(await row.locator('.method-dates time').count() >= 2, 'added and last used are dates');
  assert.deepEqual(await seriousViolations(page), [], 'the security info page with a passkey');

  // Renaming: an empty name is refused next to the field and changes nothing; a good one shows.
  await row.getByRole('button', { name: 'Rename', exact: true }).click();
  const name = row.getByLabel('New name');
  await name.fill('   ');
  await row.getByRole('button', { name: 'Save name' }).click();
  await row.getByText('Enter a name (at most 64 characters).').waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await name.fill('x'.repeat(65));
  await row.getByRole('button', { name: 'Save name' }).click();
  await row.locator('.field-error:not([hidden])').waitFor();
  await name.fill('Work laptop');
  await row.getByRole('button', { name: 'Save name' }).click();
  await page.locator('main .notice').filter({ hasText: 'renamed to Work laptop.' }).waitFor();
  await page.locator('ul.methods').getByText('Work laptop', { exact: true }).waitFor();
  assert.equal(await page.locator('ul.methods').getByText('Laptop passkey', { exact: true }).count(), 0);
});
