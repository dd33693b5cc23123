// Story 4: a person finds a sign-in from a phone they do not own and reports it ("This wasn't
// me"): the session signed in on that phone (through the API, in the Rust test) dies, and the
// next sign-in asks for a new password first.

import assert from 'node:assert/strict';
import { story, env, heading, signIn, nav, passwordStep, apiStatus, eventually } from './helpers.js';

story('reports a sign-in as not me and the other session dies', async (page) => {
  const otherToken = env('REVIEW_OTHER_TOKEN');
  assert.equal(await apiStatus('/api/v1/me/profile', otherToken), 200, 'the other session is alive');

  await signIn(page, env('REVIEW_USER'), env('REVIEW_PASSWORD'));
  await nav(page, 'My sign-ins');
  const suspicious = page.locator('li.sign-in').filter({ hasText: /iPhone/ }).first();
  await suspicious.waitFor();
  await suspicious.locator('summary').click();
  await suspicious.getByText('User agent').waitFor();
  await suspicious.getByRole('button', { name: /This wasn.t me/ }).click();
  const confirm = page.getByRole('dialog', { name: 'Report this sign-in?' });
  await confirm.getByRole('button', { name: /This wasn.t me/ }).click();
  const answer = page.getByRole('alert').filter({ hasText: /signing you out everywhere/i });
  await answer.waitFor();

  await eventually('the other session answers 401', async () => (await apiStatus('/api/v1/me/profile', otherToken)) === 401);

  // Back to sign-in; the password is right but a new one comes first.
  await answer.getByRole('button', { name: 'Sign in again' }).click();
  await heading(page, 'Sign in');
  await passwordStep(page, env('REVIEW_USER'), env('REVIEW_PASSWORD'));
  await heading(page, 'Choose a new password');
  const fresh = `amber ${Date.now()} lighthouse kite`;
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('Confirm new password').fill(fresh);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await heading(page, 'Overview');
});
