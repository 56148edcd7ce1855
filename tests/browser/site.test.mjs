// The results site in headless Chromium (pages of src/site, spec/site.md):
// drill down from the national page to a station and verify it there;
// switch language; search with Arabic letters for a name written with
// Persian ones; watch a live update arrive; follow the province map's
// tiles; open the announcements and a candidate page. Skipped, saying so, when the
// board under test serves no site (the h-site branch not merged yet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { BOARD, launch, shot, runVerify, siteAvailable, stationWithTally } from './lib.mjs';

let browser;
let site = false;
before(async () => {
  site = await siteAvailable();
  if (site) browser = await launch();
});
after(async () => {
  await browser?.close();
});
const need = (t) => {
  if (!site) t.skip(`no results site at ${BOARD}/ (the site's pages are not in this build)`);
  return site;
};

/** Follows the first link whose href starts with one of the prefixes. */
async function follow(page, prefixes) {
  for (const p of prefixes) {
    const a = page.locator(`a[href^="${p}"]`).first();
    if (await a.count()) {
      const href = await a.getAttribute('href');
      await Promise.all([page.waitForLoadState('load'), a.click()]);
      return href;
    }
  }
  throw new Error(`no link to ${prefixes.join(' or ')} on ${page.url()}`);
}

test('drill down from the national page to a station and verify it there', async (t) => {
  if (!need(t)) return;
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fa');
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  await shot(page, 'site-national-fa');
  // nation → contest → province → county → station: always follow the
  // deepest kind of link the page offers (breadcrumbs lead back up).
  const trail = [];
  while (!page.url().includes('/station/') && trail.length < 6) {
    trail.push(await follow(page, ['/station/', '/county/', '/province/', '/contest/']));
  }
  assert.ok(page.url().includes('/station/'), `reached a station: ${trail.join(' → ')}`);
  assert.ok(trail.length <= 5, `a few clicks: ${trail.join(' → ')}`);
  await shot(page, 'site-station-fa');
  const box = page.locator('#verify-here');
  assert.equal(await box.count(), 1, 'the station page has a verify box');
  assert.ok(await box.getAttribute('data-index'));
  const r = await runVerify(page);
  await shot(page, 'site-station-verified-fa');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  for (const c of r.checks) assert.ok(['pass', 'info'].includes(c.status), `${c.id}: ${c.text}`);
  assert.match(r.verdict, /^تأیید شد/);
  await page.close();
});

test('the checkpoint page verifies in the browser', async (t) => {
  if (!need(t)) return;
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/en/checkpoints`);
  const r = await runVerify(page);
  await shot(page, 'site-checkpoints-en');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  assert.ok(r.checks.some((c) => c.id === 'witness-cosignatures'));
  await page.close();
});

test('switch language', async (t) => {
  if (!need(t)) return;
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/`);
  const faTitle = await page.title();
  await Promise.all([page.waitForLoadState('load'), page.locator('a.lang').first().click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('html').getAttribute('dir'), 'ltr');
  assert.notEqual(await page.title(), faTitle);
  assert.match(await page.locator('body').textContent(), /[A-Za-z]{4,}/);
  await shot(page, 'site-national-en');
  await Promise.all([page.waitForLoadState('load'), page.locator('a.lang').first().click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fa');
  await page.close();
});

test('search with Arabic letters finds a name written with Persian ones', async (t) => {
  if (!need(t)) return;
  const m = await fetch(`${BOARD}/api/v1/manifest`).then((r) => r.json());
  const cand = m.contests.flatMap((c) => c.candidates).find((c) => /[یک]/.test(c.name_fa));
  assert.ok(cand, 'a candidate name with ی or ک');
  const word = cand.name_fa.split(' ').find((w) => /[یک]/.test(w));
  const arabic = word.replace(/ی/g, 'ي').replace(/ک/g, 'ك');
  assert.notEqual(arabic, word);
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/`);
  await page.locator('input[name="q"]').first().fill(arabic);
  await Promise.all([page.waitForLoadState('load'), page.locator('input[name="q"]').first().press('Enter')]);
  assert.match(page.url(), /\/search\?/);
  await shot(page, 'site-search-arabic-letters');
  const text = await page.locator('main, body').first().textContent();
  assert.ok(text.includes(cand.name_fa), `found ${cand.name_fa} searching ${arabic}`);
  await page.close();
});

test('a live update reaches every tab over one stream and swaps whole pages', async (t) => {
  if (!need(t)) return;
  const held = process.env.HELD_DIR && `${process.env.HELD_DIR}/0.entry`;
  if (!held || !existsSync(held)) return t.skip('no held-back entry (run through tests/browser/run.sh)');
  // Eight tabs of the home page: more than the six HTTP/1.1 connections a
  // browser opens to one host, so a stream per tab would starve the last
  // ones (spec/site.md §5: one stream per browser, in a SharedWorker).
  const tabs = [];
  for (let i = 0; i < 8; i++) {
    const p = await browser.ctx.newPage();
    await p.goto(`${BOARD}/${i % 2 ? 'en/' : ''}`);
    await p.evaluate(() => (window.__notReloaded = 'yes'));
    tabs.push(p);
  }
  // And a station page, whose figures do not follow: it must not move.
  const { station } = await stationWithTally();
  const stationTab = await browser.ctx.newPage();
  await stationTab.goto(`${BOARD}/station/${station}`);
  const stationFooter = await stationTab.locator('footer').textContent();
  const stationMain = await stationTab.locator('main').innerHTML();
  const before = Number(await tabs[0].locator('body').getAttribute('data-size'));
  // The mark on changed figures lasts a few seconds; on a loaded machine
  // the other tabs' checks can outlast it, so the first tab records it.
  await tabs[0].evaluate(() => {
    window.__sawChanged = false;
    const seen = setInterval(() => {
      if (document.querySelector('[data-live].changed')) {
        window.__sawChanged = true;
        clearInterval(seen);
      }
    }, 25);
  });

  const r = await fetch(`${BOARD}/api/v1/entries`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' },
    body: readFileSync(held),
  });
  assert.ok(r.status === 201 || r.status === 200, `submitted: HTTP ${r.status}`);
  for (const [i, p] of tabs.entries()) {
    await p.waitForFunction(
      (b) => Number(document.body.getAttribute('data-size')) > b,
      before,
      { timeout: 30_000 }
    ).catch(() => assert.fail(`tab ${i + 1} of ${tabs.length} never got the update`));
    assert.equal(await p.evaluate(() => window.__notReloaded), 'yes', `tab ${i + 1} was not reloaded`);
  }
  const page = tabs[0];
  await shot(page, 'site-live-update');
  assert.equal(await page.evaluate(() => window.__sawChanged), true, 'changed figures are marked');
  assert.ok(await page.locator('#live-status').isVisible(), 'the status line says the figures moved');
  // Everything that depends on the checkpoint moved together: the swapped
  // page is the page the server renders now, figure for figure.
  const size = await page.locator('body').getAttribute('data-size');
  const fresh = await browser.ctx.newPage();
  await fresh.goto(`${BOARD}/`);
  assert.equal(await fresh.locator('body').getAttribute('data-size'), size);
  assert.equal(await page.locator('main').innerText(), await fresh.locator('main').innerText());
  assert.equal(await page.locator('footer').innerText(), await fresh.locator('footer').innerText());
  // The station page offers a reload and changes nothing else.
  await stationTab.waitForFunction(() => !document.getElementById('live-status').hidden, null, { timeout: 30_000 });
  assert.equal(await stationTab.locator('footer').textContent(), stationFooter, 'the footer stays with the body');
  assert.equal(await stationTab.locator('main').innerHTML(), stationMain);
  assert.deepEqual(browser.errors, [], 'no script errors');
  for (const p of [...tabs, stationTab, fresh]) await p.close();
});

test('the province map: a tile per province, each leading to its page', async (t) => {
  if (!need(t)) return;
  const m = await fetch(`${BOARD}/api/v1/manifest`).then((r) => r.json());
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BOARD}/`);
  const tiles = page.locator('svg.tilemap a');
  assert.equal(await tiles.count(), m.provinces.length, 'one tile per province');
  // The map fits the phone's width.
  const box = await page.locator('svg.tilemap').boundingBox();
  assert.ok(box && box.width <= 390, `map width ${box && box.width}`);
  await page.locator('svg.tilemap').scrollIntoViewIfNeeded();
  await shot(page, 'site-province-map-390');
  const p = m.provinces[0];
  await Promise.all([page.waitForLoadState('load'), page.locator(`svg.tilemap a[href="/province/${p.id}"]`).click()]);
  assert.ok(page.url().endsWith(`/province/${p.id}`), page.url());
  const h1 = await page.locator('h1').textContent();
  assert.ok(h1.includes(p.name_fa), `${h1} names ${p.name_fa}`);
  await page.close();
});

test('the announcements page and a candidate page open from the site', async (t) => {
  if (!need(t)) return;
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/en/`);
  await Promise.all([page.waitForLoadState('load'), page.locator('header nav a[href="/en/announcements"]').click()]);
  assert.ok(page.url().endsWith('/en/announcements'), page.url());
  assert.match(await page.locator('h1').textContent(), /announcements/);
  await page.goto(`${BOARD}/en/`);
  const href = await follow(page, ['/en/candidate/']);
  assert.match(href, /^\/en\/candidate\/[^/]+\/\d+$/);
  assert.match(await page.locator('main').textContent(), /Rank/);
  await shot(page, 'site-candidate');
  await page.close();
});
