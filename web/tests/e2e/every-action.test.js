// Story: every action of the API has a place in the portal. A person of one organization who is
// also a guest of another edits the profile (a refused value first, shown next to its field),
// registers, renames and deletes a personal device, finds the Password and Privacy tiles, and
// switches to the guest organization and back.

import assert from 'node:assert/strict';
import { story, env, signIn, nav, heading, focusedIs } from './helpers.js';

story('edits the profile, with the server\'s field errors next to the fields', async (page) => {
  await signIn(page, env('PAGES_USER'), env('PAGES_PASSWORD'));
  const profile = page.locator('section.profile-card');
  await profile.getByRole('button', { name: 'Edit profile' }).click();
  const form = page.getByRole('form', { name: 'Edit profile' });
  const name = form.getByLabel('Name', { exact: true });
  assert.ok(await focusedIs(page, profile.getByRole('heading', { name: 'Edit profile' })), 'focus moves to the form');

  // An empty name is refused by identity: the message is next to the field, nothing changes.
  await name.fill('');
  await form.getByLabel('Office').fill('Building 7');
  await form.getByRole('button', { name: 'Save' }).click();
  const nameError = form.locator('.field-error:not([hidden])');
  await nameError.waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  const describedBy = (await name.getAttribute('aria-describedby')).split(' ');
  assert.ok(describedBy.includes(await nameError.getAttribute('id')), 'the error describes the field');
  assert.match(await nameError.textContent(), /\S/);
  assert.ok(await focusedIs(page, name), 'focus moves to the refused field');

  await name.fill('Pat Example');
  await form.getByRole('button', { name: 'Save' }).click();
  await profile.getByText('Your profile was saved.').waitFor();
  await profile.getByText('Pat Example').waitFor();
  await profile.getByText('Building 7').waitFor();
  await page.locator('#account-name').filter({ hasText: 'Pat Example' }).waitFor();

  // Kept: still there after a reload.
  await page.reload();
  await heading(page, 'Overview');
  await page.locator('section.profile-card').getByText('Building 7').waitFor();

  // The Password and Privacy tiles lead to their pages.
  const tile = (title) => page.locator('section.card').filter({ has: page.getByRole('heading', { level: 2, name: title, exact: true }) });
  await tile('Password').getByRole('link', { name: 'Change password' }).click();
  await heading(page, 'Password');
  await nav(page, 'Overview');
  await tile('Privacy').getByRole('link', { name: 'Manage privacy' }).click();
  await heading(page, 'Privacy');
});

story('registers, renames and deletes a personal device', async (page) => {
  await signIn(page, env('PAGES_USER'), env('PAGES_PASSWORD'));
  await nav(page, 'Devices');
  const register = page.locator('section.register-device');

  // Without a name nothing is registered and the field says why.
  await register.getByRole('button', { name: 'Register device' }).click();
  await register.locator('.field-error:not([hidden])').waitFor();
  assert.equal(await register.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('section.device').count(), 0, 'nothing was registered');

  await register.getByLabel('Name', { exact: true }).fill('Travel tablet');
  await register.getByLabel('Type').selectOption('tablet');
  await register.getByLabel('Manufacturer (optional)').fill('Contoso');
  await register.getByLabel('Operating system (optional)').fill('Android');
  await register.getByRole('button', { name: 'Register device' }).click();
  await page.locator('main .notice').filter({ hasText: 'Travel tablet is registered.' }).waitFor();
  const device = (name) => page.locator('section.device').filter({ has: page.getByRole('heading', { name }) });
  await device('Travel tablet').getByText('Tablet', { exact: true }).waitFor();
  await device('Travel tablet').getByText('Personal device').waitFor();

  await device('Travel tablet').getByRole('button', { name: 'Rename Travel tablet' }).click();
  const rename = page.getByRole('form', { name: 'Rename Travel tablet' });
  const newName = rename.getByLabel('New name');
  assert.ok(await focusedIs(page, newName), 'focus moves to the new name');
  await newName.fill('Kitchen tablet');
  await rename.getByRole('button', { name: 'Save name' }).click();
  await page.locator('main .notice').filter({ hasText: 'Travel tablet is now called Kitchen tablet.' }).waitFor();
  await device('Kitchen tablet').waitFor();

  // Cancelling the confirmation keeps the device; confirming deletes it.
  await device('Kitchen tablet').getByRole('button', { name: 'Delete Kitchen tablet' }).click();
  let confirm = page.getByRole('dialog', { name: 'Delete Kitchen tablet?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  await device('Kitchen tablet').getByRole('button', { name: 'Delete Kitchen tablet' }).click();
  confirm = page.getByRole('dialog', { name: 'Delete Kitchen tablet?' });
  await confirm.getByRole('button', { name: 'Delete device' }).click();
  await page.locator('main .notice').filter({ hasText: 'Kitchen tablet was deleted.' }).waitFor();
  assert.equal(await page.locator('section.device').count(), 0, 'the device is gone');
  await page.reload();
  await heading(page, 'Devices');
  await page.getByText('You have no registered devices.').waitFor();
});

story('switches to a guest organization and back, and sees which one it is in', async (page) => {
  const home = env('PAGES_HOME_ORGANIZATION');
  const guest = env('PAGES_GUEST_ORGANIZATION');
  await signIn(page, env('PAGES_USER'), env('PAGES_PASSWORD'));
  await nav(page, 'Sessions');
  const sessionRows = page.locator('ul.sessions > li');
  await sessionRows.first().waitFor();
  const sessionsBefore = await sessionRows.count();
  await nav(page, 'Organizations');
  const current = page.locator('main .current-organization');
  await current.filter({ hasText: `This session is signed in to ${home}, your home organization.` }).waitFor();
  const orgCard = (name) => page.locator('section.organization').filter({ has: page.getByRole('heading', { name }) });
  await orgCard(home).getByText('Signed in here').waitFor();
  assert.equal(await orgCard(home).getByRole('button', { name: `Switch to ${home}` }).count(), 0, 'no switch to where it is');

  // A wrong password is refused in the dialog and the session stays where it was.
  await orgCard(guest).getByRole('button', { name: `Switch to ${guest}` }).click();
  let dialog = page.getByRole('dialog', { name: `Switch to ${guest}` });
  assert.ok(await focusedIs(page, dialog.getByLabel('Password')), 'focus moves to the password');
  await dialog.getByLabel('Password').fill('not the password at all');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByRole('alert').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await orgCard(home).getByText('Signed in here').waitFor();

  await orgCard(guest).getByRole('button', { name: `Switch to ${guest}` }).click();
  dialog = page.getByRole('dialog', { name: `Switch to ${guest}` });
  await dialog.getByLabel('Password').fill(env('PAGES_PASSWORD'));
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await page.locator('main .notice').filter({ hasText: `You are now signed in to ${guest}.` }).waitFor();
  await current.filter({ hasText: `This session is signed in to ${guest} as a guest.` }).waitFor();
  await orgCard(guest).getByText('Signed in here').waitFor();

  // The session it left is over: a switch leaves as many sessions as before.
  await nav(page, 'Sessions');
  await sessionRows.first().waitFor();
  assert.equal(await sessionRows.count(), sessionsBefore, 'the session switched from was ended');

  await nav(page, 'Organizations');
  await orgCard(home).getByRole('button', { name: `Switch to ${home}` }).click();
  dialog = page.getByRole('dialog', { name: `Switch to ${home}` });
  await dialog.getByLabel('Password').fill(env('PAGES_PASSWORD'));
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await current.filter({ hasText: `This session is signed in to ${home}, your home organization.` }).waitFor();
});
