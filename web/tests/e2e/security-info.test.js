// Story 2: a person signed in with the password alone adds an authenticator app (the first
// second factor needs no step-up), then creates an app password: now the API asks for a recent
// multi-factor sign-in, the step-up dialog takes the password and a code, and the creation is
// retried. The app password is shown once, then removed.

import assert from 'node:assert/strict';
import { story, env, signIn, nav, nextCode, focusedIs, snap } from './helpers.js';

story('adds an authenticator app and an app password through the step-up dialog, then removes it', async (page) => {
  const password = env('STEPUP_PASSWORD');
  await signIn(page, env('STEPUP_USER'), password);
  const h1 = await nav(page, 'Security info');
  assert.ok(await focusedIs(page, h1), 'focus moves to the page heading');
  await page.getByText('You have no sign-in methods besides your password yet.').waitFor();

  // The authenticator app: the key is shown (and the QR code when the API sends one).
  await page.getByLabel('Method to add').selectOption('authenticatorApp');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Add an authenticator app' }).waitFor();
  await page.getByLabel('Name').fill('Phone app');
  await page.getByRole('button', { name: 'Next' }).click();
  const secret = (await page.locator('code.secret').textContent()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  const qr = page.locator('img.qr');
  if (await qr.count()) {
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    assert.ok((await qr.getAttribute('alt')).length > 0, 'the QR code has a text alternative');
  }
  await snap(page, 'security-info-add-app');
  const first = await nextCode(secret, -1);
  await page.getByLabel('Code from the app').fill(first.code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('main .notice').filter({ hasText: 'Authenticator app added.' }).waitFor();
  const methods = page.locator('ul.methods');
  await methods.getByText('Phone app').waitFor();

  // An app password: the session is password-only and a second factor now exists, so the API
  // answers 403 reauthentication-required and the dialog opens.
  await page.getByLabel('Method to add').selectOption('appPassword');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Create an app password' }).waitFor();
  await page.getByLabel('Name').fill('Mail app');
  await page.getByRole('button', { name: 'Create' }).click();
  const dialog = page.getByRole('dialog', { name: 'Verify it’s you' });
  await dialog.waitFor();
  await dialog.getByLabel('Password').fill(password);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await snap(page, 'security-info-step-up-code');
  const second = await nextCode(secret, first.step);
  await dialog.getByLabel('Code from your authenticator app').fill(second.code);
  await dialog.getByRole('button', { name: 'Verify' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The retried request created it: shown once.
  await page.getByRole('heading', { level: 2, name: 'Your new app password' }).waitFor();
  await snap(page, 'security-info-app-password');
  const appPassword = (await page.locator('code.app-password').textContent()).trim();
  assert.ok(appPassword.length >= 8, `an app password is shown (${appPassword.length} characters)`);
  await page.getByRole('button', { name: 'Done' }).click();
  await methods.getByText('Mail app').waitFor();

  // Removing it (the sign-in is fresh now: no second dialog), after confirming.
  await page.getByRole('button', { name: 'Remove App password Mail app' }).click();
  const confirm = page.getByRole('dialog', { name: /Remove app password/ });
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await page.locator('main .notice').filter({ hasText: 'App password removed.' }).waitFor();
  await methods.getByText('Mail app').waitFor({ state: 'detached' });
  await methods.getByText('Phone app').waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0, 'no step-up was asked again');
});
