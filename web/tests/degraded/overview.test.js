// Run after the Rust test stopped the audit service (the sign-in log): the overview shows the
// recent sign-ins card as temporarily unavailable and every other card as usual, and the
// sign-ins page shows an error with a way to try again instead of a blank page.

import assert from 'node:assert/strict';
import { story, env, signIn, nav } from '../e2e/helpers.js';

story('shows one unavailable section of the overview on its own card', async (page) => {
  const user = env('DEGRADED_USER');
  await signIn(page, user, env('DEGRADED_PASSWORD'));
  const card = (title) => page.locator('.overview-card').filter({ has: page.getByRole('heading', { level: 2, name: title }) });
  await card('Recent sign-ins').getByText('temporarily unavailable').waitFor();
  await card('Profile').getByText(user).waitFor();
  for (const title of ['Profile', 'Security info', 'Devices', 'Organizations']) {
    assert.equal(await card(title).getByText('temporarily unavailable').count(), 0, `${title} answered`);
  }

  await nav(page, 'My sign-ins');
  const error = page.locator('main').getByRole('alert').filter({ hasText: 'could not be loaded' }).first();
  await error.waitFor();
  await error.getByRole('button', { name: 'Try again' }).waitFor();
});
