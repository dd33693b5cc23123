// Story: a person who has used most of their recovery codes signs in with their authenticator
// app and opens Security info: it says how many codes are left and asks for new ones.

import assert from 'node:assert/strict';
import { story, env, passwordStep, heading, nav, nextCode, snap } from './helpers.js';

story('warns when two or fewer recovery codes are left', async (page) => {
  await passwordStep(page, env('RECOVERY_USER'), env('RECOVERY_PASSWORD'));
  await heading(page, 'Verify your identity');
  const { code } = await nextCode(env('RECOVERY_TOTP_SECRET'), Number(env('RECOVERY_TOTP_LAST_STEP')));
  await page.getByLabel('Code from your authenticator app').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await heading(page, 'Overview');

  await nav(page, 'Security info');
  const codes = page.locator('ul.methods li[data-method-type="recoveryCodes"]');
  await codes.getByText('2 left').waitFor();
  const left = page.locator('main .fact').filter({ has: page.getByText('Recovery codes left', { exact: true }) });
  assert.equal((await left.locator('dd').textContent()).trim(), '2');
  const warning = page.locator('main .notice-warning').filter({ hasText: 'Only 2 recovery codes are left.' });
  await warning.waitFor();
  assert.match(await warning.textContent(), /Generate new ones/);
  await snap(page, 'security-info-few-recovery-codes');
});
