// Story 1: a person with an authenticator app signs in with the password, then a code, and
// sees the overview; the session survives a reload and every page address works directly.

import assert from 'node:assert/strict';
import { story, env, GATEWAY, heading, passwordStep, nextCode, focusedIs, snap } from './helpers.js';

story('signs in with password and authenticator code and sees the overview', async (page) => {
  const user = env('TOTP_USER');
  const secret = env('TOTP_SECRET');
  const lastStep = Number(env('TOTP_LAST_STEP'));

  // Not signed in: any address shows sign-in, and stays the address.
  await page.goto(`${GATEWAY()}/devices`);
  await heading(page, 'Sign in');
  assert.equal(new URL(page.url()).pathname, '/devices');

  // A wrong password is refused on the form.
  await passwordStep(page, user, 'not the password at all');
  await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
  await heading(page, 'Sign in');

  await passwordStep(page, user, env('TOTP_PASSWORD'));
  const verify = await heading(page, 'Verify your identity');
  assert.ok(await focusedIs(page, verify), 'focus moves to the new step');
  await page.getByText('Verify with: Authenticator app').waitFor();

  // A wrong code is refused and said so; the right one signs in.
  const codeField = page.getByLabel('Code from your authenticator app');
  await codeField.fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: /code/i }).waitFor();
  await snap(page, 'sign-in-wrong-code');
  const { code } = await nextCode(secret, lastStep);
  await codeField.fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();

  const overview = await heading(page, 'Overview');
  await page.getByRole('heading', { level: 2, name: 'Profile' }).waitFor();
  await page.locator('.overview-card').filter({ hasText: user }).first().waitFor();
  const security = page.locator('.overview-card').filter({ has: page.getByRole('heading', { name: 'Security info' }) });
  await security.getByText('Set up', { exact: true }).waitFor();
  await security.getByText(/Authenticator app/).waitFor();
  for (const title of ['Devices', 'Organizations', 'Recent sign-ins']) {
    await page.getByRole('heading', { level: 2, name: title }).waitFor();
  }
  assert.ok(await overview.isVisible());
  assert.equal(await page.getByText('temporarily unavailable').count(), 0, 'every section answered');

  // The cookie session survives a reload, on any page address.
  await page.goto(`${GATEWAY()}/security-info`);
  await heading(page, 'Security info');
  await page.getByText('Authenticator app').first().waitFor();
  await page.goto(`${GATEWAY()}/sign-ins`);
  await heading(page, 'My sign-ins');
  await page.locator('li.sign-in').first().waitFor();

  // Signing out goes back to sign-in, and the session is over.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'Sign in');
  await page.reload();
  await heading(page, 'Sign in');
});
