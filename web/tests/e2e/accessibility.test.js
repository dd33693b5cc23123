// The sign-in form works with the keyboard alone, no page scrolls sideways on a 360 px wide
// screen, and axe-core finds no serious or critical violation on any page.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { story, env, GATEWAY, heading, signIn, focusedIs } from './helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function focusedLabel(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return '';
    if (el.labels && el.labels.length) return el.labels[0].textContent.trim();
    return (el.getAttribute('aria-label') || el.textContent || '').trim();
  });
}

async function tabTo(page, label, max = 8) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if ((await focusedLabel(page)) === label) return;
  }
  assert.fail(`Tab never reached "${label}" (last: "${await focusedLabel(page)}")`);
}

story('signs in with the keyboard alone', async (page) => {
  await page.goto(`${GATEWAY()}/`);
  await heading(page, 'Sign in');
  assert.equal(await page.getByRole('navigation').count(), 0, 'no navigation before sign-in');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'no sign-out before sign-in');

  // The first Tab reaches the skip link, which moves focus to the page heading.
  await page.keyboard.press('Tab');
  assert.equal(await focusedLabel(page), 'Skip to main content');
  await page.keyboard.press('Enter');
  assert.ok(await focusedIs(page, page.getByRole('heading', { level: 1, name: 'Sign in' })), 'the skip link moves focus to the heading');

  // Submitting empty fields puts the errors next to them and focus on the first.
  await tabTo(page, 'Email or user name');
  await page.keyboard.press('Enter');
  await page.getByText('Enter your email or user name.').waitFor();
  assert.equal(await focusedLabel(page), 'Email or user name');
  assert.equal(await page.getByLabel('Email or user name').getAttribute('aria-invalid'), 'true');

  await page.keyboard.type(env('PLAIN_USER'));
  await page.keyboard.press('Tab');
  assert.equal(await focusedLabel(page), 'Password');
  await page.keyboard.type(env('PLAIN_PASSWORD'));
  await page.keyboard.press('Tab');
  assert.equal(await focusedLabel(page), 'Sign in');
  await page.keyboard.press('Enter');
  const overview = await heading(page, 'Overview');
  assert.ok(await focusedIs(page, overview), 'focus moves to the overview heading');

  // The navigation is reachable and usable with the keyboard too.
  await page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name: 'Password' }).focus();
  await page.keyboard.press('Enter');
  const passwordHeading = await heading(page, 'Password');
  assert.ok(await focusedIs(page, passwordHeading));
  assert.equal(await page.getByRole('link', { name: 'Password', exact: true }).getAttribute('aria-current'), 'page');
});

const PAGES = [
  ['/', 'Overview'],
  ['/security-info', 'Security info'],
  ['/password', 'Password'],
  ['/devices', 'Devices'],
  ['/sessions', 'Sessions'],
  ['/organizations', 'Organizations'],
  ['/privacy', 'Privacy'],
  ['/language', 'Language and region'],
  // Last: the story below opens a sign-in's details on this page.
  ['/sign-ins', 'My sign-ins'],
];

async function assertNoSidewaysScroll(page, where) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${where}: the page is ${scrollWidth} px wide in a ${clientWidth} px viewport`);
}

story('nothing overflows sideways at 360 px', async (page) => {
  await page.goto(`${GATEWAY()}/`);
  await heading(page, 'Sign in');
  await assertNoSidewaysScroll(page, 'sign-in');
  await signIn(page, env('PLAIN_USER'), env('PLAIN_PASSWORD'));
  for (const [path, title] of PAGES) {
    await page.goto(`${GATEWAY()}${path}`);
    await heading(page, title);
    await page.locator('main .loading').first().waitFor({ state: 'detached' });
    await assertNoSidewaysScroll(page, path);
  }
  // Open details and dialogs are within the width too.
  await page.locator('li.sign-in summary').first().click();
  await assertNoSidewaysScroll(page, '/sign-ins with details open');
  await page.goto(`${GATEWAY()}/sessions`);
  await heading(page, 'Sessions');
  await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const box = await dialog.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 360, 'the dialog fits the screen');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}, { viewport: { width: 360, height: 740 } });

/**
 * axe-core's serious and critical violations on what the page shows now, in words. axe is
 * injected as an init script (the DevTools protocol's), which the page's CSP does not govern.
 */
async function seriousViolations(page) {
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
  return violations;
}

async function settled(page, title) {
  await heading(page, title);
  await page.locator('main .loading').first().waitFor({ state: 'detached' });
}

story('axe-core finds no serious or critical violation on any page', async (page, context) => {
  await context.addInitScript({ path: AXE });
  const found = [];
  const check = async (where) => {
    for (const v of await seriousViolations(page)) found.push(`${where}: ${v}`);
  };

  await page.goto(`${GATEWAY()}/`);
  await settled(page, 'Sign in');
  // The check can fail: a field without a label is reported.
  await page.evaluate(() => document.querySelector('main').append(Object.assign(document.createElement('input'), { id: 'unlabelled' })));
  assert.ok((await seriousViolations(page)).some((v) => v.includes('#unlabelled')), 'axe reports an unlabelled field');
  await page.evaluate(() => document.getElementById('unlabelled').remove());
  await check('sign-in');
  await page.getByRole('button', { name: 'Forgot my password?' }).click();
  await heading(page, 'Reset your password');
  await check('password reset');

  await signIn(page, env('PLAIN_USER'), env('PLAIN_PASSWORD'));
  for (const [path, title] of PAGES) {
    await page.goto(`${GATEWAY()}${path}`);
    await settled(page, title);
    await check(path);
  }
  // What opens in place: the profile form with a refused field, and a confirmation dialog.
  await page.goto(`${GATEWAY()}/`);
  await settled(page, 'Overview');
  await page.getByRole('button', { name: 'Edit profile' }).click();
  const form = page.getByRole('form', { name: 'Edit profile' });
  await form.getByLabel('Name', { exact: true }).fill('');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.locator('.field-error:not([hidden])').waitFor();
  await check('/ editing the profile');
  await page.goto(`${GATEWAY()}/sessions`);
  await settled(page, 'Sessions');
  await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
  await page.getByRole('dialog').waitFor();
  await check('/sessions with a dialog open');

  assert.deepEqual(found, [], 'no serious or critical accessibility violations');
});
