// Language and region: a person switches My Account to German with a Swiss format and Tokyo's
// time; the pages, the server's problems and the activity list follow, and dates are shown in
// that zone and format.

import assert from 'node:assert/strict';
import { story, env, signIn, nav, heading, eventually } from './helpers.js';

story('switches to German, a regional format and a time zone', async (page) => {
  await signIn(page, env('LANGUAGE_USER'), env('LANGUAGE_PASSWORD'));
  await nav(page, 'Language and region');
  const form = page.getByRole('form', { name: 'Language and region' });
  await form.getByLabel('Display language').selectOption('de');
  await form.getByLabel('Regional format').selectOption('de-CH');
  await form.getByLabel('Time zone').selectOption('Asia/Tokyo');
  await form.getByRole('button', { name: 'Save' }).click();

  // The whole portal is German now: heading, navigation, the saved message.
  await heading(page, 'Sprache und Region');
  await page.locator('main .notice').filter({ hasText: 'Ihre Sprache und Region wurden gespeichert.' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  const navigation = page.getByRole('navigation', { name: 'Mein Konto' });
  await navigation.getByRole('link', { name: 'Übersicht', exact: true }).click();
  await heading(page, 'Übersicht');
  await page.getByRole('heading', { level: 2, name: 'Letzte Anmeldungen' }).waitFor();

  // A sign-in's time, in Tokyo's time as Swiss German writes it.
  const time = page.locator('main time').first();
  await time.waitFor();
  const iso = await time.getAttribute('datetime');
  const expected = new Intl.DateTimeFormat('de-CH', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' }).format(new Date(iso));
  assert.equal(await time.textContent(), expected);
  assert.notEqual(
    expected,
    new Intl.DateTimeFormat('de-CH', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso)),
    'the zone makes a difference',
  );

  // The server's problems are German too: a name emptied on the profile.
  await page.getByRole('button', { name: 'Profil bearbeiten' }).click();
  const profile = page.getByRole('form', { name: 'Profil bearbeiten' });
  await profile.getByLabel('Name', { exact: true }).fill('');
  await profile.getByRole('button', { name: 'Speichern' }).click();
  await profile.locator('.field-error:not([hidden])').filter({ hasText: 'Dieses Feld ist erforderlich.' }).waitFor();

  // The activity list names the change in words, not field names.
  const words = new Intl.ListFormat('de', { style: 'long', type: 'conjunction' })
    .format(['Anzeigesprache', 'Regionales Format', 'Zeitzone']);
  await eventually('the change is in the activity list', async () => {
    await page.goto(`${env('GATEWAY_URL').replace(/\/$/, '')}/sign-ins`);
    await page.locator('main .loading').first().waitFor({ state: 'detached' });
    return (await page.getByText(`Profil geändert: ${words}`).count()) > 0;
  });
  assert.equal(await page.getByText('preferred_language').count(), 0, 'no field names');

  // Back to English for whoever signs in next on this browser: the choice is the profile's.
  await page.getByRole('navigation', { name: 'Mein Konto' }).getByRole('link', { name: 'Sprache und Region', exact: true }).click();
  await heading(page, 'Sprache und Region');
  await page.getByRole('form', { name: 'Sprache und Region' }).getByLabel('Anzeigesprache').selectOption('en');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await heading(page, 'Language and region');
});
