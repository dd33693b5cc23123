// Story 3: a person disables a lost phone; it shows as disabled and the session that was
// signed in on it (through the API, in the Rust test) is over.

import assert from 'node:assert/strict';
import { story, env, signIn, nav, apiStatus, eventually } from './helpers.js';

story('disables a lost device and sees it marked disabled', async (page) => {
  const name = env('DEVICE_NAME');
  const deviceToken = env('DEVICE_SESSION_TOKEN');
  assert.equal(await apiStatus('/api/v1/me/profile', deviceToken), 200, 'the phone is signed in');

  await signIn(page, env('DEVICE_USER'), env('DEVICE_PASSWORD'));
  await nav(page, 'Devices');
  const device = page.locator('section.device').filter({ has: page.getByRole('heading', { name }) });
  await device.getByText('Enabled', { exact: true }).waitFor();
  await device.getByText(/iOS/).first().waitFor();

  // Cancelling the confirmation changes nothing.
  await device.getByRole('button', { name: `Disable ${name}` }).click();
  let confirm = page.getByRole('dialog', { name: `Disable ${name}?` });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  await device.getByText('Enabled', { exact: true }).waitFor();

  await device.getByRole('button', { name: `Disable ${name}` }).click();
  confirm = page.getByRole('dialog', { name: `Disable ${name}?` });
  await confirm.getByRole('button', { name: 'Disable device' }).click();
  await page.locator('main .notice').filter({ hasText: `${name} is disabled.` }).waitFor();
  const disabled = page.locator('section.device').filter({ has: page.getByRole('heading', { name }) });
  await disabled.getByText('Disabled', { exact: true }).first().waitFor();
  assert.equal(await disabled.getByRole('button', { name: `Disable ${name}` }).count(), 0, 'no second disable');

  await eventually('the session on the disabled phone answers 401', async () => (await apiStatus('/api/v1/me/profile', deviceToken)) === 401);

  // Still disabled after a reload.
  await page.reload();
  await page.locator('section.device').filter({ has: page.getByRole('heading', { name }) }).getByText('Disabled', { exact: true }).first().waitFor();
});
