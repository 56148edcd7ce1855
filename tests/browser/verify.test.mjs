// "Verify here" in headless Chromium against a running board, on the
// board's own minimal page (/static/verify-test.html), so these run with or
// without the results site: every check succeeds for a logged tally; an
// entry altered in transit (tampering proxy) fails its inclusion; the
// checkpoint-page mode; both languages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BOARD, launch, shot, stationWithTally, runVerify, tamperingProxy } from './lib.mjs';

let browser;
let target;
before(async () => {
  browser = await launch();
  target = await stationWithTally(BOARD, 3);
});
after(async () => {
  await browser?.close();
});

const ALL_PASS = [
  'checkpoint-signature', 'tiles-root', 'manifest', 'registration-inclusion',
  'registration-signature', 'entry-inclusion', 'entry-signature', 'arithmetic',
];

test('the WebAssembly and verify.js are served', async () => {
  const js = await fetch(`${BOARD}/static/verify.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  const wasm = await fetch(`${BOARD}/static/wasm/tallyboard_wasm_bg.wasm`);
  assert.equal(wasm.status, 200, 'run scripts/build-wasm.sh');
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const bytes = new Uint8Array(await wasm.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
  assert.equal((await fetch(`${BOARD}/static/wasm/..%2Fverify.js`)).status, 404);
});

test('verify here: every check of a logged tally succeeds (English)', async () => {
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/static/verify-test.html?station=${target.station}&index=${target.index}&lang=en`);
  await assert.doesNotReject(page.locator('button.verify-button').waitFor());
  assert.match(await page.locator('button.verify-button').textContent(), /Verify here/);
  const r = await runVerify(page);
  await shot(page, 'verify-station-en');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  for (const id of ALL_PASS) {
    const c = r.checks.find((x) => x.id === id);
    assert.ok(c, `check ${id} shown`);
    assert.equal(c.status, 'pass', `${id}: ${c.text}`);
    assert.equal(c.mark, '✓');
  }
  const w = r.checks.find((x) => x.id === 'witness-cosignatures');
  // No policy on this page: the cosignatures (the board's two witnesses,
  // or none) are reported, with the witness keys' fingerprints.
  assert.ok(w && (w.status === 'pass' || (w.status === 'info' && /witnesses cosigned|no witness cosignatures/.test(w.text))), w?.text);
  assert.match(r.verdict, /^Verified/);
  assert.match(r.checks.find((x) => x.id === 'entry-inclusion').text, new RegExp(`entry ${target.index} `));
  // The texts are made in the page from the WebAssembly's data.
  assert.match(r.checks.find((x) => x.id === 'entry-signature').text, /with the key registered at index \d+/);
  assert.ok(r.checks.every((c) => c.code === null), 'no check failed');
  assert.deepEqual(browser.errors, []);
  await page.close();
});

test('verify here in Persian: labels, verdict and a language switch without reload', async () => {
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/static/verify-test.html?station=${target.station}&index=${target.index}&lang=fa`);
  assert.match(await page.locator('button.verify-button').textContent(), /^تأیید در مرورگر \/ Verify here$/);
  const r = await runVerify(page);
  await shot(page, 'verify-station-fa');
  assert.equal(r.state, 'verified');
  assert.match(r.verdict, /^تأیید شد/);
  assert.match(r.checks.find((x) => x.id === 'entry-signature').text, /امضای شعبه/);
  // Persian digits in the Persian texts.
  const inc = r.checks.find((x) => x.id === 'entry-inclusion').text;
  assert.match(inc, /[۰-۹]/);
  assert.ok(inc.includes([...String(target.index)].map((d) => '۰۱۲۳۴۵۶۷۸۹'[d]).join('')), inc);
  // The page switches language: the report follows.
  await page.evaluate(() => document.documentElement.setAttribute('lang', 'en'));
  await page.waitForFunction(() => /^Verified/.test(document.querySelector('.verify-verdict').textContent));
  assert.match(await page.locator('li[data-check="entry-signature"]').textContent(), /station's signature/);
  await page.close();
});

test('an entry altered in transit fails verification, with its inclusion marked ✗', async () => {
  const proxy = await tamperingProxy(target.station);
  try {
    const page = await browser.ctx.newPage();
    await page.goto(`${proxy.url}/static/verify-test.html?station=${target.station}&index=${target.index}&lang=en`);
    const r = await runVerify(page);
    await shot(page, 'verify-tampered-en');
    assert.ok(proxy.hits() > 0, 'the proxy altered the entry');
    assert.equal(r.state, 'failed', JSON.stringify(r, null, 1));
    const inc = r.checks.find((x) => x.id === 'entry-inclusion');
    assert.equal(inc.status, 'fail');
    assert.equal(inc.code, 'proof.inclusion-failed');
    assert.equal(inc.mark, '✗');
    assert.match(inc.text, /not in the signed tree/);
    // What did not change still checks out: the failure is pinned down.
    assert.equal(r.checks.find((x) => x.id === 'checkpoint-signature').status, 'pass');
    assert.equal(r.checks.find((x) => x.id === 'tiles-root').status, 'pass');
    assert.match(r.verdict, /NOT verified/);
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('without the entries API (a static copy) the bundles are fetched, and an altered bundle fails alike', async () => {
  const proxy = await tamperingProxy(target.station, { noEntriesApi: true });
  try {
    const page = await browser.ctx.newPage();
    await page.goto(`${proxy.url}/static/verify-test.html?station=${target.station}&index=${target.index}&lang=en`);
    const r = await runVerify(page);
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    assert.ok(fetched.some((p) => p.startsWith('/tile/entries/')), `bundles fetched: ${fetched.join(' ')}`);
    assert.ok(proxy.hits() > 1, 'the proxy refused the API and altered the bundle');
    assert.equal(r.state, 'failed', JSON.stringify(r, null, 1));
    const inc = r.checks.find((x) => x.id === 'entry-inclusion');
    assert.equal(inc.code, 'proof.inclusion-failed');
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('the checkpoint-page mode verifies the log without an entry', async () => {
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/static/verify-test.html?lang=en`);
  const r = await runVerify(page);
  await shot(page, 'verify-checkpoint-en');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  assert.deepEqual(
    r.checks.map((c) => c.id),
    ['log-key', 'checkpoint-signature', 'tiles-root', 'manifest', 'witness-cosignatures']
  );
  assert.match(r.checks[0].text, /trust on first use/);
  await page.close();
});
