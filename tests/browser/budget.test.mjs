// Transfer budgets of the site (spec/site.md §7), measured in headless
// Chromium with the Resource Timing API (bytes on the wire, compressed,
// headers included): the home page's first load must stay within 100 KB
// once the fonts are cached (a first visit ever adds the two fonts, also
// reported). The figures are printed for spec/site.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BOARD, launch, runVerify, siteAvailable, stationWithTally } from './lib.mjs';

const HOME_BUDGET = 100 * 1024;
const VERIFY_BUDGET = 300 * 1024;

let browser;
let site = false;
before(async () => {
  site = await siteAvailable();
  if (site) browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Bytes transferred for the page and every resource it loaded, by kind. */
async function transferred(page) {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const out = { document: nav.transferSize, fonts: 0, other: 0, decoded: nav.decodedBodySize };
    for (const r of performance.getEntriesByType('resource')) {
      if (r.name.includes('/fonts/')) out.fonts += r.transferSize;
      else out.other += r.transferSize;
      out.decoded += r.decodedBodySize;
    }
    out.total = out.document + out.fonts + out.other;
    return out;
  });
}

test('the home page loads within its budget, compressed', async (t) => {
  if (!site) return t.skip(`no results site at ${BOARD}/`);
  // A fresh browser profile: this is a first visit ever, fonts included.
  // (Not 'networkidle': the live stream keeps the network busy.)
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/`);
  await page.evaluate(() => document.fonts.ready);
  const first = await transferred(page);
  // A later visit: fonts (and the versioned CSS and scripts) come from the
  // cache; the page itself, cached for 5 s, is fetched again.
  await page.waitForTimeout(5500);
  await page.goto(`${BOARD}/`);
  await page.evaluate(() => document.fonts.ready);
  const again = await transferred(page);
  console.log(`budget: home first visit ${first.total} B on the wire (document ${first.document}, fonts ${first.fonts}, other ${first.other}; ${first.decoded} B decoded)`);
  console.log(`budget: home with fonts cached ${again.total} B on the wire (document ${again.document}, other ${again.other})`);
  assert.ok(first.document < first.decoded, 'the page is compressed on the wire');
  assert.ok(again.fonts === 0, `fonts come from the cache (${again.fonts} B)`);
  assert.ok(again.document > 0, 'the page was fetched again');
  assert.ok(again.total <= HOME_BUDGET, `home page ${again.total} B > ${HOME_BUDGET} B`);
  assert.ok(first.total - first.fonts <= HOME_BUDGET, `home page without fonts ${first.total - first.fonts} B > ${HOME_BUDGET} B`);
  await page.close();
});

test('"Verify here" on a first verification stays within its budget, on the wire', async (t) => {
  if (!site) return t.skip(`no results site at ${BOARD}/`);
  // This profile has never loaded the WebAssembly: a first verification.
  const { station } = await stationWithTally();
  const page = await browser.ctx.newPage();
  await page.goto(`${BOARD}/en/station/${station}`);
  const before = await page.evaluate(() => performance.getEntriesByType('resource').length);
  const r = await runVerify(page);
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  const got = await page.evaluate(
    (n) => performance.getEntriesByType('resource').slice(n).map((e) => ({ path: new URL(e.name).pathname, wire: e.transferSize })),
    before
  );
  const sum = (xs) => xs.reduce((a, e) => a + e.wire, 0);
  const wasm = got.filter((e) => e.path.startsWith('/static/wasm/'));
  const total = sum(got);
  console.log(`budget: verify here, first verification ${total} B on the wire in ${got.length} requests (WebAssembly and glue ${sum(wasm)} B)`);
  assert.ok(sum(wasm) > 100 * 1024, `the WebAssembly came over the network (${sum(wasm)} B), not from a cache`);
  assert.ok(!got.some((e) => e.path.startsWith('/tile/entries/')), 'entries come alone, not in bundles');
  assert.ok(total <= VERIFY_BUDGET, `verify here ${total} B > ${VERIFY_BUDGET} B`);
  await page.close();
});
