// Shared helpers of the browser tests: the board under test, headless
// Chromium through playwright-core, screenshots, a tampering proxy.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';

export const BOARD = (process.env.BOARD_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ARTIFACTS = process.env.ARTIFACTS || path.resolve('../../target/browser-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Launches Debian's Chromium headless with a fresh, empty profile. */
export async function launch() {
  const profile = mkdtempSync(path.join(tmpdir(), 'tallyboard-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1100, height: 1400 },
  });
  const errors = [];
  ctx.on('weberror', (e) => errors.push(String(e.error())));
  return {
    ctx,
    errors,
    async close() {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as ARTIFACTS/<name>.png. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/** A station of the board with a logged tally: {station, index, keyIndexes}. */
export async function stationWithTally(base = BOARD, nth = 0) {
  const m = await getJSON(`${base}/api/v1/manifest`);
  let seen = 0;
  for (const s of m.stations) {
    const st = await fetch(`${base}/api/v1/stations/${s.id}`).then((r) => r.json());
    const t = (st.tallies || [])[0];
    if (t && t.revisions.length) {
      if (seen++ < nth) continue;
      return { station: s.id, index: t.revisions.at(-1).index, keyIndexes: st.key_entries.map((e) => e.index) };
    }
  }
  throw new Error('no station has a tally');
}

/** Clicks "Verify here" in the page and waits for the verdict. */
export async function runVerify(page) {
  const box = page.locator('#verify-here');
  await box.locator('button.verify-button').click();
  await page.waitForFunction(
    () => ['verified', 'failed', 'error'].includes(document.querySelector('#verify-here')?.getAttribute('data-state')),
    null,
    { timeout: 60_000 }
  );
  const state = await box.getAttribute('data-state');
  const checks = await box.locator('li.verify-check').evaluateAll((lis) =>
    lis.map((li) => ({
      id: li.getAttribute('data-check'),
      status: li.getAttribute('data-status'),
      code: li.getAttribute('data-code'),
      mark: li.querySelector('.verify-mark').textContent,
      text: li.textContent,
    }))
  );
  const verdict = await box.locator('.verify-verdict').textContent();
  return { state, checks, verdict };
}

/**
 * A proxy in front of the board that alters the served copy of one
 * station's entry wherever it travels: in a /tile/entries/* bundle, or in
 * the signed note of a /api/v1/entries/<i> answer (a JSON string, so its
 * newlines are `\n`), one digit of its "valid" line is changed (the length
 * stays the same). With `noEntriesApi`, every /api/v1/entries/ answer is
 * replaced by a page that is not an entry, as a static copy without the
 * API would answer, so that the verifier falls back to the bundles.
 * Returns {url, close, hits}.
 */
export async function tamperingProxy(station, { noEntriesApi = false } = {}) {
  const alter = (body, nl) => {
    const at = body.lastIndexOf(Buffer.from(`${nl}station ${station}${nl}revision `));
    const v = at < 0 ? -1 : body.indexOf(`${nl}valid `, at);
    if (v < 0) return body;
    const out = Buffer.from(body);
    const d = v + nl.length + 6;
    out[d] = out[d] === 0x39 ? 0x31 : out[d] + 1;
    return out;
  };
  return rewritingProxy((url, body) => {
    if (url.startsWith('/tile/entries/')) return alter(body, '\n');
    if (url.startsWith('/api/v1/entries/')) {
      return noEntriesApi ? Buffer.from('<!doctype html><title>no API here</title>') : alter(body, '\\n');
    }
    return body;
  });
}

/** Whether the results site (the h-site branch's pages) is served. */
export async function siteAvailable() {
  const r = await fetch(`${BOARD}/`);
  const ct = r.headers.get('content-type') || '';
  return r.ok && ct.startsWith('text/html');
}

/**
 * A proxy in front of the board that rewrites responses in transit:
 * `rewrite(url, body: Buffer, contentType)` returns the body to send (or
 * the same one). Asks the board for uncompressed bodies. Returns {url,
 * close, hits}: hits counts the responses changed.
 */
export async function rewritingProxy(rewrite) {
  const target = new URL(BOARD);
  let hits = 0;
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: target.host };
    delete headers['accept-encoding'];
    const up = http.request(
      // No pooled upstream sockets: nothing keeps the test process alive.
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false },
      (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          const body = Buffer.concat(chunks);
          const out = r.statusCode === 200 ? rewrite(req.url, body, r.headers['content-type'] || '') : body;
          if (!out.equals(body)) hits++;
          const h = { ...r.headers };
          delete h['content-length'];
          delete h['transfer-encoding'];
          delete h['etag'];
          res.writeHead(r.statusCode, h);
          res.end(out);
        });
      }
    );
    up.on('error', (e) => {
      if (res.headersSent) return;
      res.writeHead(502);
      res.end(String(e));
    });
    // A stream the page leaves (/live) must not outlive it upstream.
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    hits: () => hits,
    close: () =>
      new Promise((ok) => {
        server.close(ok);
        server.closeAllConnections();
      }),
  };
}

/** The verdict block of a finished "Verify here": summary lines, anchors. */
export async function verdictBlock(page) {
  const box = page.locator('#verify-here');
  return {
    summary: await box.locator('.verify-summary li').allTextContents(),
    anchors: await box.locator('.verify-anchors li').allTextContents(),
    stepsOpen: await box.locator('details.verify-steps').evaluate((d) => d.open),
    bdi: await box.locator('bdi[dir="ltr"]').count(),
  };
}
