// The privacy page's export is a real JSON download of my data, and the sessions page signs
// out everywhere else.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { story, env, signIn, nav } from './helpers.js';

story('downloads my data and signs out everywhere else', async (page) => {
  const user = env('PLAIN_USER');
  await signIn(page, user, env('PLAIN_PASSWORD'));

  await nav(page, 'Privacy');
  await page.getByRole('heading', { level: 2, name: 'How long data is kept' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Delete your account' }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my data' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^myaccount-export-\d{4}-\d{2}-\d{2}\.json$/);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(exported.schemaVersion, 1);
  assert.equal(exported.identity.profile.userPrincipalName, user);
  await page.locator('main .notice').filter({ hasText: 'Your data was downloaded.' }).waitFor();

  await nav(page, 'Sessions');
  await page.getByText('This session').waitFor();
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await page.getByRole('dialog', { name: 'Sign out everywhere else?' }).getByRole('button', { name: 'Sign out everywhere else' }).click();
  await page.locator('main .notice').filter({ hasText: /other sessions? (was|were) signed out/ }).waitFor();
  assert.equal(await page.locator('li.session').count(), 1, 'only this session is left');
});
