// Terms of use on the Privacy page: a person of Tailspin accepted version 2026-10 of its terms
// before the admin published 2026-11. The page links the terms, shows the current version and
// that a new one is available, and accepting it shows when. axe-core checks the section before
// and after.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { story, env, signIn, nav } from './helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function seriousViolations(page) {
  return page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
}

story('accepts the new version of an organization\'s terms of use on the Privacy page', async (page, context) => {
  await context.addInitScript({ path: AXE });
  const organization = env('TERMS_ORGANIZATION');
  await signIn(page, env('TERMS_USER'), env('TERMS_PASSWORD'));

  await nav(page, 'Privacy');
  const section = page.locator('section.card').filter({ has: page.getByRole('heading', { level: 2, name: 'Terms of use' }) });
  await section.waitFor();
  const entry = section.locator('li.terms-entry').filter({ has: page.getByRole('heading', { level: 3, name: organization }) });
  await entry.waitFor();

  const link = entry.getByRole('link', { name: `Read the terms of use of ${organization}` });
  assert.equal(await link.getAttribute('href'), 'https://tailspin.example/legal/terms');
  assert.equal(await link.getAttribute('target'), '_blank', 'the terms open beside the portal');
  await entry.getByText('2026-11', { exact: true }).waitFor();
  await entry.getByText('A new version is available').waitFor();
  await entry.getByText(/^You accepted version 2026-10 on .+\.$/).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'axe-core: the Privacy page with terms to accept');

  await entry.getByRole('button', { name: `Accept the terms of use of ${organization}, version 2026-11` }).click();
  await page.locator('main .notice').filter({ hasText: `You accepted the terms of use of ${organization} (version 2026-11).` }).waitFor();
  const accepted = section.locator('li.terms-entry').filter({ has: page.getByRole('heading', { level: 3, name: organization }) });
  await accepted.getByText(/^Accepted on .+/).waitFor();
  assert.equal(await accepted.getByRole('button', { name: /Accept/ }).count(), 0, 'nothing left to accept');
  assert.equal(await accepted.getByText('A new version is available').count(), 0);

  // The acceptance is kept: the page loaded afresh says the same.
  await page.reload();
  await nav(page, 'Privacy');
  const reloaded = page.locator('li.terms-entry').filter({ has: page.getByRole('heading', { level: 3, name: organization }) });
  await reloaded.getByText(/^Accepted on .+/).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'axe-core: the Privacy page with the terms accepted');
});
