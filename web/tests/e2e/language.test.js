// Language and region: a person switches My Account to German with a Swiss format and Tokyo's
// time; the pages, the server's problems and the activity list follow, and dates are shown in
// that zone and format. And a browser that prefers German gets sign-in, its second step and the
// security info page in German before anyone chooses a language.

import assert from 'node:assert/strict';
import { story, env, GATEWAY, signIn, nav, heading, eventually, nextCode } from './helpers.js';

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

story('signs in and reads security info in German, as the browser prefers', async (page) => {
  await page.goto(`${GATEWAY()}/`);
  await heading(page, 'Anmelden');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  assert.equal(await page.title(), 'Anmelden - Mein Konto');
  await page.getByText('Melden Sie sich an, um Ihr Konto, Ihre Sicherheitsinformationen und Ihre Geräte zu verwalten.').waitFor();
  await page.getByRole('button', { name: 'Kennwort vergessen?' }).waitFor();

  // The page's own checks speak German.
  const form = page.getByRole('form', { name: 'Anmelden' });
  await form.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await form.locator('.field-error:not([hidden])')
    .filter({ hasText: 'Geben Sie Ihre E-Mail-Adresse oder Ihren Benutzernamen ein.' }).waitFor();

  await form.getByLabel('E-Mail-Adresse oder Benutzername').fill(env('GERMAN_USER'));
  await form.getByLabel('Kennwort', { exact: true }).fill(env('GERMAN_PASSWORD'));
  await form.getByRole('button', { name: 'Anmelden', exact: true }).click();

  // The second step.
  await heading(page, 'Identität überprüfen');
  await page.getByText('Überprüfen mit: Authenticator-App').waitFor();
  const { code } = await nextCode(env('GERMAN_TOTP_SECRET'), Number(env('GERMAN_TOTP_LAST_STEP')));
  await page.getByLabel('Code aus Ihrer Authenticator-App').fill(code);
  await page.getByRole('button', { name: 'Überprüfen', exact: true }).click();
  await heading(page, 'Übersicht');

  // Security info: headings, the method in words, its dates and the add form.
  await page.getByRole('navigation', { name: 'Mein Konto' }).getByRole('link', { name: 'Sicherheitsinformationen', exact: true }).click();
  await heading(page, 'Sicherheitsinformationen');
  await page.getByRole('heading', { level: 2, name: 'Anmeldemethoden' }).waitFor();
  const app = page.locator('ul.methods li[data-method-type="authenticatorApp"]');
  await app.locator('.method-title').filter({ hasText: 'Authenticator-App' }).waitFor();
  assert.match(await app.locator('.method-dates').textContent(), /^Hinzugefügt .+ · (Zuletzt verwendet .+|Noch nicht verwendet)$/);
  await page.locator('main .fact').filter({ hasText: 'Von Ihrer Organisation verlangt' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Anmeldemethode hinzufügen' }).waitFor();
  const chooser = page.getByLabel('Hinzuzufügende Methode');
  assert.deepEqual(
    (await chooser.locator('option').allTextContents()).slice(0, 3),
    // No SMS provider in this system: the phone is offered as unavailable, in German too.
    ['Authenticator-App', 'Telefon (nicht verfügbar)', 'E-Mail'],
  );

  // A field error security-info answers, by its code, in German.
  await chooser.selectOption('email');
  await page.getByRole('button', { name: 'Hinzufügen', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'E-Mail-Adresse hinzufügen' }).waitFor();
  await page.getByLabel('E-Mail-Adresse', { exact: true }).fill('keine adresse');
  await page.getByRole('button', { name: 'Code senden' }).click();
  await page.locator('main .field-error:not([hidden])')
    .filter({ hasText: 'Geben Sie eine E-Mail-Adresse wie adele@contoso.example ein.' }).waitFor();
  assert.equal(await page.getByText('must be an email address').count(), 0, 'no English from the service');
}, { locale: 'de-DE' });
