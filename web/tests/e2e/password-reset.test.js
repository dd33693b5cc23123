// Story: a person with an authenticator app forgot their password. "Forgot my password?" on the
// sign-in page, the user name, the app's code (a wrong one first), a new password (a weak one
// first); back on sign-in, the old password is refused and the new one signs in.

import assert from 'node:assert/strict';
import { story, env, GATEWAY, heading, passwordStep, nextCode, snap } from './helpers.js';

story('resets a forgotten password with the authenticator app', async (page) => {
  const user = env('RESET_USER');
  const secret = env('RESET_TOTP_SECRET');
  let lastStep = Number(env('RESET_TOTP_LAST_STEP'));
  const newPassword = 'juniper lighthouse amber quartz';

  await page.goto(`${GATEWAY()}/`);
  await heading(page, 'Sign in');
  await page.getByRole('button', { name: 'Forgot my password?' }).click();
  await heading(page, 'Reset your password');
  await page.getByLabel('Email or user name').fill(user);
  await page.getByRole('button', { name: 'Next' }).click();

  await heading(page, 'Verify your identity');
  await page.getByText('Verify with: Authenticator app').waitFor();
  const codeField = page.getByLabel('Code from your authenticator app');
  await codeField.fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: /code/i }).waitFor();
  await snap(page, 'password-reset-wrong-code');
  const { code, step } = await nextCode(secret, lastStep);
  lastStep = step;
  await codeField.fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();

  await heading(page, 'Choose a new password');
  await page.getByLabel('New password', { exact: true }).fill('password');
  await page.getByLabel('Confirm new password').fill('password');
  await page.getByRole('button', { name: 'Reset password' }).click();
  await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm new password').fill(newPassword);
  await page.getByRole('button', { name: 'Reset password' }).click();

  await heading(page, 'Sign in');
  await page.getByText('Your password was reset').waitFor();

  await passwordStep(page, user, env('RESET_PASSWORD'));
  await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
  await heading(page, 'Sign in');

  await passwordStep(page, user, newPassword);
  await heading(page, 'Verify your identity');
  const next = await nextCode(secret, lastStep);
  await page.getByLabel('Code from your authenticator app').fill(next.code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await heading(page, 'Overview');
  assert.equal(new URL(page.url()).pathname, '/');
});
