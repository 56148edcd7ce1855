// "Verify here" on the station page is a verdict about the screen
// (spec/browser-verification.md §3.1–3.2): every figure on the page is
// compared with the verified tally and a changed one fails, naming the
// cell; a superseded revision is named with the standing one; the minutes
// image is checked against its hash; the log and witness keys are shown as
// fingerprints and the election's witness quorum is checked; the manifest
// comes as a per-station slice. Screenshots at 1366 and 360 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BOARD, launch, shot, stationWithTally, runVerify, rewritingProxy, verdictBlock, getJSON, siteAvailable,
} from './lib.mjs';

// keys/README.md: the demo log key's fingerprint (spec/keys.md §6).
const LOG_FP = 'e874-7188-c898-9543-ece9';
const GUARDIAN_FP = 'fb85-d925-94ea-550a-65dd';

let browser;
let site = false;
let target;
before(async () => {
  site = await siteAvailable();
  browser = await launch();
  target = await stationWithTally(BOARD, 5);
});
after(async () => {
  await browser?.close();
});
const need = (t) => {
  if (!site) t.skip(`no results site at ${BOARD}/`);
  return site;
};

/** Opens a station page at a viewport width and runs "Verify here". */
async function verifyStation(base, station, lang, width) {
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.goto(`${base}${lang === 'en' ? '/en' : ''}/station/${station}`);
  const r = await runVerify(page);
  return { page, r, v: await verdictBlock(page) };
}

test('the station page verifies what it shows, cell by cell, with its minutes image (English, 1366 px)', async (t) => {
  if (!need(t)) return;
  const { page, r, v } = await verifyStation(BOARD, target.station, 'en', 1366);
  await shot(page, 'screen-verified-en-1366');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  assert.match(r.verdict, /^Verified: the figures on this page are the ones the station signed/);
  const screen = r.checks.find((c) => c.id === 'screen');
  assert.equal(screen.status, 'pass', screen.text);
  assert.equal(r.checks.find((c) => c.id === 'revision').status, 'pass');
  // The minutes image is shown, served and hashes to the signed digest.
  assert.equal(await page.locator('.shown-tally figure.minutes img').count(), 1);
  const minutes = r.checks.find((c) => c.id === 'minutes');
  assert.equal(minutes.status, 'pass', minutes.text);
  assert.match(minutes.text, /hashes to .* the digest the station signed/);
  // Every figure cell was compared: a summary line per contest says so.
  const cells = await page.locator('.shown-tally [data-field]').count();
  assert.ok(cells >= 8, `${cells} cells`);
  assert.ok(v.summary.some((s) => s.includes(`${cells} of ${cells} figures on the page match`)), v.summary.join('\n'));
  assert.ok(v.summary.some((s) => /the standing one/.test(s)));
  // The keys trusted, as fingerprints a person can compare; the election's
  // own witness quorum, checked here.
  assert.ok(v.anchors.some((a) => a.includes(LOG_FP)), v.anchors.join('\n'));
  assert.ok(v.anchors.some((a) => a.includes(GUARDIAN_FP)), v.anchors.join('\n'));
  assert.ok(v.anchors.some((a) => /Witness quorum .* met/.test(a) && !/NOT met/.test(a)), v.anchors.join('\n'));
  const w = r.checks.find((c) => c.id === 'witness-cosignatures');
  assert.equal(w.status, 'pass', w.text);
  assert.match(w.text, /election's own witness policy/);
  // The manifest came as the station's slice, proven by entry 0's root.
  assert.match(r.checks.find((c) => c.id === 'manifest').text, /parts this station needs are proven/);
  // The technical steps fold away below the verdict.
  assert.equal(v.stepsOpen, false);
  assert.ok(await page.locator('.verify-verdict').evaluate((p) => p.compareDocumentPosition(document.querySelector('details.verify-steps')) & Node.DOCUMENT_POSITION_FOLLOWING));
  assert.deepEqual(browser.errors, []);
  await page.close();
});

test('in Persian at 360 px: plain verdict first, Persian digits, isolated identifiers, no overflow', async (t) => {
  if (!need(t)) return;
  const { page, r, v } = await verifyStation(BOARD, target.station, 'fa', 360);
  await shot(page, 'screen-verified-fa-360');
  assert.equal(r.state, 'verified', JSON.stringify(r, null, 1));
  assert.match(r.verdict, /^تأیید شد: ارقام این صفحه/);
  assert.ok(v.summary.every((s) => !/[0-9]/.test(s.replace(/[\u2066-\u2069]/g, '').replace(/[0-9a-f-]{8,}/g, ''))), v.summary.join('\n'));
  assert.ok(v.summary.some((s) => /[۰-۹]/.test(s)));
  assert.ok(v.bdi > 0, 'identifiers are in <bdi dir="ltr">');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `page is ${wide} px wide at 360`);
  await page.close();
});

test('a candidate figure changed in transit on the page fails, naming the cell', async (t) => {
  if (!need(t)) return;
  // The proxy changes the first candidate cell of the station page.
  let field = null;
  const proxy = await rewritingProxy((url, body, type) => {
    if (!url.startsWith(`/en/station/${target.station}`) || !type.startsWith('text/html')) return body;
    const html = body.toString('utf8');
    const m = /(data-field="(vote\/\d+)">)([^<]*)</.exec(html);
    if (!m) return body;
    field = m[2];
    return Buffer.from(html.replace(m[0], `${m[1]}9,999<`), 'utf8');
  });
  try {
    const { page, r, v } = await verifyStation(proxy.url, target.station, 'en', 1366);
    await shot(page, 'screen-tampered-en-1366');
    assert.ok(proxy.hits() > 0 && field, 'the proxy changed a figure');
    assert.equal(r.state, 'failed', JSON.stringify(r, null, 1));
    assert.match(r.verdict, /^NOT verified: the figures on this page are not the ones the station signed/);
    const screen = r.checks.find((c) => c.id === 'screen');
    assert.equal(screen.status, 'fail');
    assert.equal(screen.code, 'screen.figure-mismatch');
    const code = field.split('/')[1];
    assert.match(screen.text, new RegExp(`candidate ${code}: the page shows 9,999, the station signed `));
    assert.ok(v.summary.some((s) => s.includes(`candidate ${code}: the page shows 9,999`)), v.summary.join('\n'));
    // The log itself checks out: the page is what lies.
    assert.equal(r.checks.find((c) => c.id === 'entry-inclusion').status, 'pass');
    assert.equal(r.checks.find((c) => c.id === 'entry-signature').status, 'pass');
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('in Persian: candidate figure changed to ۹٬۹۹۹ in transit fails, named in Persian (360 px)', async (t) => {
  if (!need(t)) return;
  let code = null;
  const proxy = await rewritingProxy((url, body, type) => {
    if (!url.startsWith(`/station/${target.station}`) || !type.startsWith('text/html')) return body;
    const html = body.toString('utf8');
    const m = /(data-field="vote\/(\d+)">)([^<]*)</.exec(html);
    if (!m) return body;
    code = m[2];
    return Buffer.from(html.replace(m[0], `${m[1]}۹٬۹۹۹<`), 'utf8');
  });
  try {
    const { page, r, v } = await verifyStation(proxy.url, target.station, 'fa', 360);
    await shot(page, 'screen-tampered-fa-360');
    assert.ok(code, 'the proxy changed a figure');
    assert.equal(r.state, 'failed');
    assert.match(r.verdict, /^تأیید نشد: ارقام این صفحه/);
    assert.equal(r.checks.find((c) => c.id === 'screen').code, 'screen.figure-mismatch');
    const fa = [...code].map((d) => '۰۱۲۳۴۵۶۷۸۹'[d]).join('');
    assert.ok(v.summary.some((s) => s.includes(`نامزد ${fa}: صفحه ۹٬۹۹۹ نشان می‌دهد`)), v.summary.join('\n'));
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('a minutes image swapped in transit fails', async (t) => {
  if (!need(t)) return;
  const proxy = await rewritingProxy((url, body) => {
    if (!url.startsWith('/api/v1/blobs/')) return body;
    const b = Buffer.from(body);
    b[b.length - 20] ^= 1;
    return b;
  });
  try {
    const { page, r } = await verifyStation(proxy.url, target.station, 'en', 1366);
    assert.equal(r.state, 'failed', JSON.stringify(r, null, 1));
    const m = r.checks.find((c) => c.id === 'minutes');
    assert.equal(m.code, 'minutes.digest-mismatch');
    assert.match(r.verdict, /minutes image/);
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('a superseded revision is named as superseded, with the standing one linked', async () => {
  // The station corrects its tally: revision 2, signed with its demo key
  // through the command line (tallyboard demo-keys, submit).
  const bin = process.env.TALLYBOARD_BIN;
  assert.ok(bin, 'TALLYBOARD_BIN (set by tests/browser/run.sh)');
  const other = await stationWithTally(BOARD, 7);
  const st = await getJSON(`${BOARD}/api/v1/stations/${other.station}`);
  const box = st.tallies.find((c) => c.contest === 'president');
  const first = box.revisions[0];
  const f = first.fields;
  const votes = f.votes.map((v) => [v.candidate, v.votes]);
  votes[0][1] += 1; // one more vote found on recount...
  const lines = [
    'tallyboard/tally-revision/v1', `election ${f.election}`, `contest ${f.contest}`, `station ${f.station}`,
    'revision 2', `supersedes ${first.leaf_hash}`, 'reason recount by the county board',
    `counterfoils ${f.counterfoils}`, `ballots-in-box ${f.ballots_in_box}`, `votes-taken ${f.votes_taken}`,
    `void-taken ${f.void_taken - 1}`, `void-not-taken ${f.void_not_taken}`, `valid ${f.valid + 1}`, // ...in a ballot first taken as void
    ...votes.map(([c, n]) => `vote ${c} ${n}`),
  ];
  const dir = mkdtempSync(path.join(tmpdir(), 'tallyboard-revision-'));
  const file = path.join(dir, 'revision.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  execFileSync(bin, ['demo-keys', '--station', other.station, '--out', dir], { stdio: 'pipe' });
  execFileSync(bin, ['submit', '--key', path.join(dir, 'demo', `station-${other.station}.key`), '--url', BOARD, file], { stdio: 'pipe' });
  const after = await getJSON(`${BOARD}/api/v1/stations/${other.station}`);
  const revs = after.tallies.find((c) => c.contest === 'president').revisions;
  assert.equal(revs.length, 2);
  const standing = revs[1].index;
  // Wait until the checkpoint the pages verify holds it (cosigned).
  for (let i = 0; i < 100; i++) {
    const cp = await fetch(`${BOARD}/checkpoint`).then((r) => r.text());
    if (Number(cp.split('\n')[1]) > standing) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }

  // The old revision, pointed at directly: genuine, but superseded.
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto(`${BOARD}/static/verify-test.html?station=${other.station}&index=${first.index}&lang=en`);
  const r = await runVerify(page);
  await shot(page, 'screen-superseded-en-1366');
  assert.equal(r.state, 'failed', JSON.stringify(r, null, 1));
  assert.match(r.verdict, /^NOT verified: these figures were signed, but they are not the standing ones/);
  const rev = r.checks.find((c) => c.id === 'revision');
  assert.equal(rev.code, 'revision.superseded');
  assert.match(rev.text, new RegExp(`entry ${first.index} \\(revision 1\\) is superseded by revision 2 at entry ${standing}`));
  assert.equal(r.checks.find((c) => c.id === 'entry-signature').status, 'pass', 'the old revision is genuine');
  const link = page.locator('.verify-summary a.verify-standing');
  assert.equal(await link.getAttribute('href'), `/api/v1/entries/${standing}`);
  await page.close();

  // The station page now shows revision 2, and says it is the standing one.
  if (site) {
    const { page: p2, r: r2, v } = await verifyStation(BOARD, other.station, 'en', 360);
    await shot(p2, 'screen-revised-en-360');
    assert.equal(r2.state, 'verified', JSON.stringify(r2, null, 1));
    assert.ok(v.summary.some((s) => new RegExp(`revision 2 \\(entry ${standing}\\), the standing one`).test(s)), v.summary.join('\n'));
    await p2.close();
  }
});

test('"Verify here" fetches little: transfer sizes on this board', async (t) => {
  if (!need(t)) return;
  const page = await browser.ctx.newPage();
  try {
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${BOARD}/en/station/${target.station}`);
    const before = await page.evaluate(() => performance.getEntriesByType('resource').length);
    const r = await runVerify(page);
    assert.equal(r.state, 'verified');
    const res = await page.evaluate((n) => performance.getEntriesByType('resource').slice(n).map((e) => e.name.replace(location.origin, '')), before);
    // Each resource fetched, measured as served and gzip-compressed (what a
    // board that compresses its responses sends, spec/site.md §3).
    const rows = [];
    for (const name of res) {
      const body = Buffer.from(await (await fetch(`${BOARD}${name}`)).arrayBuffer());
      rows.push({ name, bytes: body.length, gzip: gzipSync(body, { level: 6 }).length });
    }
    const sum = (xs, k) => xs.reduce((a, e) => a + e[k], 0);
    const isWasm = (e) => /\/static\/wasm\//.test(e.name);
    const report = {
      station: target.station,
      requests: rows.length,
      bytes: sum(rows, 'bytes'),
      gzip: sum(rows, 'gzip'),
      wasm_bytes: sum(rows.filter(isWasm), 'bytes'),
      wasm_gzip: sum(rows.filter(isWasm), 'gzip'),
      resources: rows,
    };
    writeFileSync(path.join(process.env.ARTIFACTS || '.', 'verify-transfer.json'), JSON.stringify(report, null, 1));
    console.log(`verify transfer: ${report.bytes} bytes as served, ${report.gzip} gzip (WebAssembly ${report.wasm_bytes} / ${report.wasm_gzip}) in ${report.requests} requests`);
    // On a board each entry comes alone from the API, never in a bundle.
    assert.ok(rows.some((e) => /^\/api\/v1\/entries\/\d+$/.test(e.name)), `single entries: ${res.join(' ')}`);
    assert.ok(!rows.some((e) => /\/tile\/entries\//.test(e.name)), `no bundle: ${res.join(' ')}`);
    const manifest = rows.filter((e) => /\/api\/v1\/manifest/.test(e.name));
    assert.ok(manifest.length === 1 && /slices/.test(manifest[0].name), `only the slice: ${JSON.stringify(manifest)}`);
    // The budget (issue 16): verify <= 300 KB compressed.
    assert.ok(report.gzip <= 300 * 1024, `verify transfer ${report.gzip} bytes gzip > 300 KB`);
  } finally {
    await page.close();
  }
});
