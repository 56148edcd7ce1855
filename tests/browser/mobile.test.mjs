// The site on a phone and on a desktop (issue: phone first; spec/site.md
// §7): every kind of page, in both languages, at 360 px and 1366 px wide.
// At 360 px nothing may overflow sideways, tables collapse to cards, and
// every tap target is at least 44 × 44 CSS px (WCAG 2.5.5; links inside a
// sentence are exempt, as WCAG 2.5.8 exempts inline targets). Screenshots
// of every page at both widths are kept in target/browser-artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BOARD, launch, shot, siteAvailable } from './lib.mjs';

let browser;
let site = false;
before(async () => {
  site = await siteAvailable();
  if (site) browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** One page of each kind, found by following links from the home page. */
async function pagesToVisit(page) {
  const paths = new Map([['home', '/'], ['checkpoints', '/checkpoints'], ['downloads', '/downloads']]);
  await page.goto(`${BOARD}/`);
  let at = '/';
  for (const kind of ['contest', 'province', 'county', 'constituency', 'station']) {
    for (const from of [at, ...paths.values()]) {
      await page.goto(`${BOARD}${from}`);
      const links = page.locator(`main a[href^="/${kind}/"]`);
      const href = (await links.count()) ? await links.first().getAttribute('href') : null;
      if (href) {
        paths.set(kind, href);
        at = href;
        break;
      }
    }
  }
  // A search that finds something: the first word of the first candidate.
  const m = await fetch(`${BOARD}/api/v1/manifest`).then((r) => r.json());
  const word = m.contests[0].candidates[0].name_fa.split(' ')[0];
  paths.set('search', `/search?q=${encodeURIComponent(word)}`);
  return paths;
}

async function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > w + 1 || r.left < -1) && !el.closest('.skip, .sr')) {
        wide.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ')[0] : ''} ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
    return { scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 5) };
  });
}

async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, summary')) {
      if (el.closest('.skip, p, .sr')) continue; // off-screen skip link; links inside a sentence
      const r = el.getBoundingClientRect();
      if (!r.width && !r.height) continue; // not rendered
      if (r.width < 44 || r.height < 44) {
        out.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 24)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  });
}

test('every page fits a 360 px phone, with tables as cards and tap targets of 44 px', async (t) => {
  if (!site) return t.skip(`no results site at ${BOARD}/`);
  const page = await browser.ctx.newPage();
  const paths = await pagesToVisit(page);
  assert.ok(paths.has('station') && paths.has('contest'), `found pages: ${[...paths.keys()]}`);
  const problems = [];
  for (const [kind, path] of paths) {
    for (const lang of ['fa', 'en']) {
      const url = `${BOARD}${lang === 'en' ? '/en' : ''}${path === '/' && lang === 'en' ? '/' : path}`;
      for (const width of [360, 1366]) {
        await page.setViewportSize({ width, height: width === 360 ? 800 : 900 });
        await page.goto(url);
        await shot(page, `${width === 360 ? 'phone' : 'desktop'}-${width}-${lang}-${kind}`);
        const o = await overflow(page);
        if (o.scroll > o.width) problems.push(`${lang} ${kind} at ${width}px: ${o.scroll}px wide (${o.wide.join('; ')})`);
        if (width !== 360) continue;
        const small = await smallTargets(page);
        if (small.length) problems.push(`${lang} ${kind}: small tap targets: ${small.slice(0, 4).join('; ')}${small.length > 4 ? ` (+${small.length - 4})` : ''}`);
        // Tables are cards: one cell per line, each with its column's name.
        const tables = await page.evaluate(() =>
          [...document.querySelectorAll('main table')].map((tb) => {
            const td = tb.querySelector('tbody td');
            if (!td) return null;
            return {
              cls: tb.className,
              display: getComputedStyle(td).display,
              label: td.getAttribute('data-label') !== null || td.closest('tr').children.length <= 2,
            };
          }).filter(Boolean)
        );
        for (const tb of tables) {
          if (tb.display !== 'block' && tb.display !== 'flex' && tb.display !== 'grid') problems.push(`${lang} ${kind}: table.${tb.cls} is not a card (${tb.display})`);
          if (!tb.label) problems.push(`${lang} ${kind}: table.${tb.cls} cells have no data-label`);
        }
      }
    }
  }
  assert.deepEqual(browser.errors, [], 'no script errors');
  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});
