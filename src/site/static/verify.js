// tallyboard "Verify here": verification in the browser with the board's own
// core code compiled to WebAssembly (crates/wasm, spec/browser-verification.md).
//
// Loaded with <script src="/static/verify.js" defer> on pages holding
//   <div id="verify-here" data-station="ID" data-index="N" data-lang="fa|en">
// (the checkpoint page has no data-index). Optional attributes:
//   data-log-vkey  the log's verifier key, pinned by the page (otherwise it
//                  is fetched from /api/v1/log: trust on first use, and the
//                  report says so);
//   data-origin    the checkpoint origin (default: the key's name);
//   data-base      a URL prefix of the read path (default: this site).
//
// JavaScript only fetches; every check runs in the WebAssembly module. No
// inline script or style is used (the site's CSP allows 'self' and
// 'wasm-unsafe-eval' only).
(function () {
  'use strict';

  var T = {
    button: { fa: 'تأیید در مرورگر', en: 'Verify here' },
    running: { fa: 'در حال بررسی…', en: 'Verifying…' },
    fetching: { fa: 'دریافت ', en: 'Fetching ' },
    verified: {
      fa: 'تأیید شد: آنچه بالا آمده همان است که در دفتر عمومی امضا و ثبت شده است.',
      en: 'Verified: what is shown is what the public log signed and holds.',
    },
    verifiedStation: {
      fa: 'تأیید شد: ارقام این صورتجلسه همان ارقام امضاشده به دست شعبه و ثبت‌شده در دفتر عمومی است.',
      en: 'Verified: these figures are the ones the station signed and the public log holds.',
    },
    failed: {
      fa: 'تأیید نشد: دست‌کم یک بررسی نادرست بود (✗ را ببینید).',
      en: 'NOT verified: at least one check failed (see ✗).',
    },
    error: {
      fa: 'بررسی انجام نشد (خطای شبکه یا بارگذاری): ',
      en: 'Could not run the verification (network or loading error): ',
    },
    again: { fa: 'بررسی دوباره', en: 'Verify again' },
  };
  var MARK = { pass: '✓', fail: '✗', info: 'ℹ', skip: '–' };

  function lang(box) {
    var l = document.documentElement.getAttribute('lang') || box.getAttribute('data-lang') || 'fa';
    return l.slice(0, 2) === 'en' ? 'en' : 'fa';
  }
  function t(box, key) {
    return T[key][lang(box)];
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var wasmPromise = null;
  function loadWasm(base) {
    if (!wasmPromise) {
      // A dynamic import works from a classic script; the module finds its
      // .wasm next to itself (import.meta.url).
      wasmPromise = import(base + '/static/wasm/tallyboard_wasm.js').then(function (m) {
        return m.default().then(function () {
          return m;
        });
      });
      wasmPromise.catch(function () {
        wasmPromise = null;
      });
    }
    return wasmPromise;
  }

  function NotFound(path) {
    this.path = path;
  }

  async function getBytes(url, noCache) {
    var r = await fetch(url, noCache ? { cache: 'no-cache' } : {});
    if (r.status === 404) throw new NotFound(url);
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return new Uint8Array(await r.arrayBuffer());
  }
  async function getJSON(url) {
    var r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }

  // Fetches a tile or bundle; if the partial is gone, the full one (as
  // tlog-tiles allows). A resource the checkpoint needs that the board does
  // not serve is left out: the verifier then reports it missing (a failed
  // check, not an error to run).
  async function addResource(ev, base, path) {
    try {
      ev.add(path, await getBytes(base + '/' + path));
      return;
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    var full = path.replace(/\.p\/\d+$/, '');
    if (full === path) return;
    try {
      ev.add(full, await getBytes(base + '/' + full));
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
  }

  async function verify(box) {
    var base = (box.getAttribute('data-base') || '').replace(/\/$/, '');
    var station = box.getAttribute('data-station') || '';
    var indexAttr = box.getAttribute('data-index');
    var index = indexAttr === null || indexAttr === '' ? null : Number(indexAttr);
    var status = box.querySelector('.verify-status');
    var say = function (s) {
      status.textContent = s;
    };

    say(t(box, 'running'));
    var wasm = await loadWasm(base);

    // 1. The trust anchor and the checkpoint.
    var vkey = box.getAttribute('data-log-vkey');
    var origin = box.getAttribute('data-origin') || '';
    var keySource = 'page';
    if (!vkey) {
      var info = await getJSON(base + '/api/v1/log');
      vkey = info.log_vkey;
      origin = origin || info.origin;
      keySource = 'board';
    }
    say(t(box, 'fetching') + 'checkpoint');
    var cpBytes = await getBytes(base + '/checkpoint', true);
    var cpReport = JSON.parse(
      wasm.verify_checkpoint(new TextDecoder().decode(cpBytes), vkey, origin)
    );
    if (!cpReport.verified) return cpReport;
    var size = cpReport.size;

    // 2. The station's key entries, as the board lists them (each one is
    //    proven and its signature checked in the WebAssembly).
    var keyIndexes = [];
    if (index !== null && station) {
      var st = await getJSON(base + '/api/v1/stations/' + encodeURIComponent(station));
      keyIndexes = (st.key_entries || []).map(function (e) {
        return e.index;
      });
    }

    // 3. Tiles, bundles and the manifest.
    var wanted = index === null ? keyIndexes : [index].concat(keyIndexes);
    var plan = JSON.parse(wasm.fetch_plan(size, Float64Array.from(wanted)));
    var ev = new wasm.Evidence();
    ev.add('checkpoint', cpBytes);
    var paths = plan.tiles.concat(plan.bundles);
    for (var i = 0; i < paths.length; i++) {
      say(t(box, 'fetching') + paths[i]);
      await addResource(ev, base, paths[i]);
    }
    say(t(box, 'fetching') + 'manifest');
    try {
      ev.add('manifest', await getBytes(base + '/api/v1/manifest'));
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }

    // 4. Every check, in the WebAssembly.
    var json =
      index === null
        ? wasm.verify_log(ev, vkey, keySource, origin)
        : wasm.verify_station_entry(
            ev,
            vkey,
            keySource,
            origin,
            station,
            index,
            Float64Array.from(keyIndexes)
          );
    ev.free();
    return JSON.parse(json);
  }

  function render(box, report) {
    var l = lang(box);
    var list = box.querySelector('.verify-checks');
    list.textContent = '';
    report.checks.forEach(function (c) {
      var li = el('li', 'verify-check verify-' + c.status);
      li.setAttribute('data-check', c.id);
      li.setAttribute('data-status', c.status);
      var mark = el('span', 'verify-mark', MARK[c.status] || '?');
      mark.setAttribute('aria-hidden', 'true');
      li.appendChild(mark);
      li.appendChild(el('strong', 'verify-label', ' ' + c.label[l]));
      li.appendChild(el('span', 'verify-detail', ' — ' + c.detail[l]));
      li.title = c.label[l === 'fa' ? 'en' : 'fa'];
      list.appendChild(li);
    });
    var verdict = box.querySelector('.verify-verdict');
    var ok = report.verified;
    verdict.textContent = ok
      ? (ok && report.entry ? T.verifiedStation : T.verified)[l]
      : T.failed[l];
    verdict.className = 'verify-verdict ' + (ok ? 'verify-ok' : 'verify-bad');
    box.setAttribute('data-state', ok ? 'verified' : 'failed');
    box.querySelector('.verify-status').textContent = '';
  }

  function setup(box) {
    if (box.querySelector('.verify-button')) return;
    // The test page (/static/verify-test.html?station=..&index=..&lang=..)
    // takes its target from the query string.
    if (box.hasAttribute('data-from-query')) {
      var q = new URLSearchParams(location.search);
      ['station', 'index', 'lang'].forEach(function (k) {
        if (q.get(k) !== null) box.setAttribute('data-' + k, q.get(k));
      });
      if (q.get('lang')) {
        document.documentElement.setAttribute('lang', q.get('lang'));
        document.documentElement.setAttribute('dir', q.get('lang') === 'en' ? 'ltr' : 'rtl');
      }
    }
    var button = el('button', 'verify-button', t(box, 'button') + ' / ' + T.button[lang(box) === 'fa' ? 'en' : 'fa']);
    button.type = 'button';
    var status = el('p', 'verify-status');
    status.setAttribute('aria-live', 'polite');
    var list = el('ol', 'verify-checks');
    var verdict = el('p', 'verify-verdict');
    verdict.setAttribute('role', 'status');
    box.appendChild(button);
    box.appendChild(status);
    box.appendChild(list);
    box.appendChild(verdict);
    box.setAttribute('data-state', 'ready');
    var last = null;
    button.addEventListener('click', function () {
      button.disabled = true;
      box.setAttribute('data-state', 'running');
      list.textContent = '';
      verdict.textContent = '';
      verify(box)
        .then(function (report) {
          last = report;
          render(box, report);
        })
        .catch(function (e) {
          box.setAttribute('data-state', 'error');
          var msg = e instanceof NotFound ? e.path + ': 404' : (e && e.message) || String(e);
          verdict.className = 'verify-verdict verify-bad';
          verdict.textContent = t(box, 'error') + msg;
          status.textContent = '';
        })
        .finally(function () {
          button.disabled = false;
          button.textContent = t(box, 'again');
        });
    });
    // Re-render in the other language when the page switches without reload.
    new MutationObserver(function () {
      if (last) render(box, last);
      button.textContent = last ? t(box, 'again') : t(box, 'button') + ' / ' + T.button[lang(box) === 'fa' ? 'en' : 'fa'];
    }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  }

  function start() {
    var boxes = document.querySelectorAll('#verify-here, .verify-here');
    for (var i = 0; i < boxes.length; i++) setup(boxes[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
