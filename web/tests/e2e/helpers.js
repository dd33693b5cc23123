// Shared by the browser stories: Debian's Chromium through playwright-core, the system under
// test (started by integration-tests/tests/browser/main.rs, which passes everything in the
// environment), TOTP codes as an authenticator app computes them, and failure artifacts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: these tests run from \`cargo test -p myaccount-integration-tests --test browser\`, which starts the system and sets it`);
  }
  return value;
}

export const GATEWAY = () => env('GATEWAY_URL').replace(/\/$/, '');

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// --- TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps)

function base32(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = secret.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 1000 / 30);

/**
 * A code the service has not seen: for the current or the next time step (both inside its
 * window), later than `lastStep` (a step is accepted once). Waits when both are used.
 */
export async function nextCode(secret, lastStep) {
  for (;;) {
    const now = currentStep();
    const step = Math.max(now, lastStep + 1);
    if (step <= now + 1) return { code: totp(secret, step), step };
    await sleep(((now + 1) * 30 * 1000) - Date.now() + 200);
  }
}

// --- the API, for what the stories check outside the browser

export async function apiStatus(pathname, token) {
  const response = await fetch(GATEWAY() + pathname, { headers: { authorization: `Bearer ${token}` } });
  return response.status;
}

/** Waits until `check()` is true (polling), or fails with `what`. */
export async function eventually(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(250);
  }
}

// --- the browser

/**
 * Declares a browser story: a fresh browser context per test, page errors and CSP violations
 * fail it, and a failure leaves a screenshot and the page's HTML in ARTIFACTS_DIR.
 */
export function story(name, fn, { viewport = { width: 1280, height: 900 }, locale = 'en-GB' } = {}) {
  test(name, async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--disable-dev-shm-usage', '--no-first-run'],
    });
    // `locale`: the browser's language (navigator.languages), which the portal follows before
    // the person chooses one.
    const context = await browser.newContext({ viewport, locale });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    try {
      await fn(page, context);
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
    } catch (err) {
      await saveArtifacts(page, name, problems);
      throw err;
    } finally {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
    }
  });
}

async function saveArtifacts(page, name, problems) {
  const dir = process.env.ARTIFACTS_DIR;
  if (!dir) return;
  const base = path.join(dir, name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase());
  try {
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: `${base}.png`, fullPage: true });
    await writeFile(`${base}.html`, await page.content());
    if (problems.length) await writeFile(`${base}.log`, problems.join('\n'));
    console.error(`artifacts: ${base}.png, ${base}.html`);
  } catch (e) {
    console.error(`could not save artifacts for ${name}: ${e.message}`);
  }
}

/** The page's main heading (h1) with this name is shown. */
export async function heading(page, name) {
  const h1 = page.getByRole('heading', { level: 1, name });
  await h1.waitFor();
  return h1;
}

/** Signs in with user name and password on the sign-in page (the first step only). */
export async function passwordStep(page, username, password) {
  await page.goto(`${GATEWAY()}/`);
  await heading(page, 'Sign in');
  await page.getByLabel('Email or user name').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in someone without a second factor and waits for the overview. */
export async function signIn(page, username, password) {
  await passwordStep(page, username, password);
  await heading(page, 'Overview');
}

/** Goes to a page through the navigation, as a person would. */
export async function nav(page, name) {
  await page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name, exact: true }).click();
  return heading(page, name);
}

export async function focusedIs(page, locator) {
  return locator.evaluate((el) => el === document.activeElement);
}

/** With SCREENSHOTS_DIR set (by hand, to look at the pages), saves a full-page screenshot. */
export async function snap(page, name) {
  const dir = process.env.SCREENSHOTS_DIR;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
