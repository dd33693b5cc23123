// Run against a system whose access tokens live 5 seconds, so every request the portal sends
// finds its access token expired and the gateway refreshes it first.
//
// Story 1: a person keeps working across access-token expiries while the page sends several
// requests at once; they stay signed in.
// Story 2: a person leaves the tab for longer than the idle timeout (moved a day into the past
// in identity's database); their next click lands on sign-in, saying why.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { story, env, heading, nav, signIn } from '../e2e/helpers.js';

/** Statuses of `count` profile reads the page sends at once, with its session cookie. */
async function parallelReads(page, count) {
  return page.evaluate(async (n) => {
    const reads = Array.from({ length: n }, () => fetch('/api/v1/me/profile', { credentials: 'same-origin' }));
    return (await Promise.all(reads)).map((r) => r.status);
  }, count);
}

story('a person stays signed in across access-token expiries with parallel requests', async (page) => {
  await signIn(page, env('SESSION_USER'), env('SESSION_PASSWORD'));
  for (let round = 0; round < 3; round += 1) {
    assert.deepEqual(await parallelReads(page, 6), [200, 200, 200, 200, 200, 200], `round ${round}`);
    for (const name of ['Sessions', 'Devices', 'Security info', 'Overview']) {
      await nav(page, name);
    }
  }
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Sign in' }).count(), 0, 'still signed in');
});

story('a session idle past its timeout ends with the portal saying why', async (page) => {
  const user = env('IDLE_USER');
  await signIn(page, user, env('IDLE_PASSWORD'));

  // A day without activity (the idle timeout is 24 hours): the session's refresh tokens were
  // issued, and expired, a day and an hour earlier.
  execFileSync('psql', [env('IDENTITY_DATABASE_URL'), '--quiet', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-v', `upn=${user}`], {
    input: `UPDATE refresh_tokens SET created_at = created_at - interval '25 hours',
                   expires_at = expires_at - interval '25 hours'
             WHERE session_id IN (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
                                   WHERE u.user_principal_name = :'upn');`,
  });

  await page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name: 'Devices', exact: true }).click();
  await page.getByText('You were signed out because you were inactive for a while. Sign in again to continue.').waitFor();
  await heading(page, 'Sign in');
});
