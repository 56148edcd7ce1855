// tallyboard "Verify here": verification in the browser with the verifier's
// own procedure (crates/verify) compiled to WebAssembly through the thin
// binding crates/wasm (spec/browser-verification.md).
//
// Loaded with <script src="/static/verify.js" defer> on pages holding
//   <div id="verify-here" data-station="ID" data-index="N" data-lang="fa|en">
// (the checkpoint page has no data-index). Optional attributes:
//   data-log-vkey  the log's verifier key, pinned by the page (otherwise it
//                  is fetched from /api/v1/log: trust on first use, and the
//                  report says so);
//   data-origin    the checkpoint origin (default: the key's name);
//   data-policy    the URL of a witness policy (C2SP tlog-policy): the
//                  checkpoint must meet its quorum (without one the
//                  cosignatures are reported, not required);
//   data-base      a URL prefix of the read path (default: this site).
//
// JavaScript fetches and words; every check runs in the WebAssembly, which
// returns each check's stable id, status, code and data (never a sentence).
// The Persian and English texts below are made from that data. No inline
// script or style is used (the site's CSP allows 'self' and
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

  // ---- The words for the procedure's results (keyed by check id and
  // status; the data is interpolated). Numbers are written in Persian
  // digits in the Persian texts; hashes and keys stay as they are.

  function toFa(s) {
    return String(s).replace(/[0-9]/g, function (d) {
      return String.fromCharCode(0x06f0 + Number(d));
    });
  }
  // A number (or an identifier made of digits, such as a station id) in
  // the language's digits.
  function n(x, l) {
    return l === 'fa' ? toFa(x) : String(x);
  }
  function short(h) {
    return String(h || '').slice(0, 16);
  }
  function list(xs, l) {
    return xs.join(l === 'fa' ? '، ' : ', ');
  }
  function pick(fa, en, l) {
    return l === 'fa' ? fa : en;
  }

  var LABEL = {
    'log-key': { fa: 'کلید عمومی دفتر', en: "The log's public key" },
    'checkpoint-signature': { fa: 'امضای دفتر بر نقطهٔ وارسی', en: "The log's signature on the checkpoint" },
    'witness-cosignatures': { fa: 'امضای همراه ناظران', en: 'Witness cosignatures' },
    'tiles-root': { fa: 'ریشهٔ درخت از کاشی‌ها برابر ریشهٔ امضاشده', en: 'The tiles rebuild the signed root' },
    manifest: { fa: 'مانیفست انتخابات و تعهد به آن در مدخل ۰', en: 'The election manifest and its commitment in entry 0' },
    'registration-inclusion': { fa: 'ثبت کلید شعبه در دفتر آمده است', en: 'The station key registration is in the log' },
    'registration-signature': {
      fa: 'امضای مرجع برگزاری بر ثبت کلید شعبه',
      en: "The authority's signature on the station key registration",
    },
    'entry-inclusion': { fa: 'اثبات گنجاندن مدخل در درخت امضاشده', en: "The entry's inclusion in the signed tree" },
    'entry-signature': { fa: 'امضای شعبه بر صورتجلسه با کلید ثبت‌شده', en: "The station's signature with its registered key" },
    arithmetic: { fa: 'درستی حساب صورتجلسه', en: "The tally's arithmetic" },
  };
  // The entry signature's label names the role that signs the entry.
  var ROLE_LABEL = {
    supervisor: { fa: 'امضای ناظر (شورای نگهبان) بر این مدخل', en: "The supervisor's signature on the entry" },
    authority: { fa: 'امضای مرجع برگزاری بر این مدخل', en: "The authority's signature on the entry" },
  };
  var ROLE = {
    station: { fa: 'شعبه', en: 'station' },
    supervisor: { fa: 'ناظر', en: 'supervisor' },
    authority: { fa: 'مرجع برگزاری', en: 'authority' },
  };

  // Why a check failed, by code (the code is always shown too).
  var REASON = {
    'key.malformed': { fa: 'کلید نامعتبر است', en: 'the key is malformed' },
    'key.wrong-type': { fa: 'کلید دفتر باید از نوع Ed25519 باشد', en: 'the log key must be an Ed25519 (type 0x01) key' },
    'note.bad-signature': { fa: 'امضا درست نیست', en: 'the signature does not verify' },
    'note.no-known-signature': { fa: 'امضایی با این کلید ندارد', en: 'it carries no signature by this key' },
    'checkpoint.wrong-origin': { fa: 'مبدأ آن دیگری است', en: 'its origin is another one' },
    'checkpoint.malformed': { fa: 'قالب آن نادرست است', en: 'it is malformed' },
    'source.missing': { fa: 'سرور آن را ارائه نمی‌کند', en: 'the board does not serve it' },
    'tile.malformed': { fa: 'کاشی نامعتبر است', en: 'the tile is malformed' },
    'proof.inclusion-failed': { fa: 'در درخت امضاشده نیست', en: 'it is not in the signed tree' },
    'proof.out-of-range': { fa: 'در درختی به این اندازه نیست', en: 'it is not in a tree of this size' },
    'manifest.not-committed': { fa: 'مدخل ۰ تعهد به مانیفست نیست', en: 'entry 0 is not the manifest commitment' },
    'entry.wrong-signer': { fa: 'با کلیدی که نوع آن می‌خواهد امضا نشده است', en: 'it is not signed by the key its kind requires' },
    'station.key-not-registered': { fa: 'کلید معتبری ثبت نشده بود', en: 'no valid key was registered' },
    'station.key-revoked': { fa: 'کلید شعبه پیش از آن باطل شده بود', en: "the station's key had been revoked before it" },
    'contest.unknown': { fa: 'رقابت در مانیفست نیست', en: 'the contest is not in the manifest' },
    'cosignature.invalid': { fa: 'امضای همراه نامعتبر است', en: 'a cosignature does not verify' },
    'policy.quorum-not-met': { fa: 'حد نصاب ناظران فراهم نیست', en: 'the witness quorum is not met' },
    'policy.log-not-listed': {
      fa: 'سیاست ناظران کلید این دفتر را نمی‌شناسد',
      en: "the witness policy does not list this log's key",
    },
  };
  function reason(code, l) {
    var r = REASON[code];
    if (!r && /^tally\.arithmetic\./.test(code)) r = { fa: 'حساب صورتجلسه نادرست است', en: 'the arithmetic does not hold' };
    if (!r && /^entry\./.test(code)) r = { fa: 'مدخل قابل خواندن نیست', en: 'the entry does not parse' };
    return (r ? r[l] + ' ' : '') + '(' + code + ')';
  }

  function label(c, l) {
    var e = c.data && c.data.entries && c.data.entries[0];
    if (c.id === 'entry-signature' && e && ROLE_LABEL[e.role]) return ROLE_LABEL[e.role][l];
    return (LABEL[c.id] || { fa: c.id, en: c.id })[l];
  }

  function cosigners(d, l) {
    return d.cosigned.length
      ? list(d.cosigned.map(function (x) { return x.witness; }), l)
      : pick('هیچ‌کس', 'none', l);
  }

  // One entry as a check saw it, when it failed.
  function entryProblem(id, e, station, l) {
    var i = n(e.index, l);
    switch (e.code) {
      case 'station.other-station':
        return id === 'registration-inclusion'
          ? pick('مدخل ' + i + ' مدخل کلید شعبهٔ ' + n(station, l) + ' نیست', 'entry ' + e.index + ' is not a key entry of station ' + station, l)
          : pick('مدخل ' + i + ' از شعبهٔ ' + n(e.station || '—', l) + ' است، نه ' + n(station, l),
                 'entry ' + e.index + " is station " + (e.station || '—') + "'s, not " + station + "'s", l);
      case 'proof.inclusion-failed':
        return pick('مدخل ' + i + ' با برگ ' + short(e.leaf) + '… در درخت امضاشده نیست',
                    'entry ' + e.index + ' with leaf ' + short(e.leaf) + '… is not in the signed tree', l);
      case 'station.no-tally':
        return pick('شعبهٔ ' + n(station, l) + ' صورتجلسه‌ای در دفتر ندارد', 'station ' + station + ' has no tally in the log', l);
      default:
        return pick('مدخل ' + i + ': ', 'entry ' + e.index + ': ', l) + reason(e.code, l);
    }
  }

  var DETAIL = {
    'log-key': function (c, d, l) {
      if (c.status === 'fail') return reason(c.code, l);
      var src = {
        page: { fa: 'از صفحه', en: 'from the page' },
        board: {
          fa: 'از خود سرور (اعتماد در نخستین استفاده؛ با کلید منتشرشده مقایسه کنید)',
          en: 'from the board itself (trust on first use: compare it with the published key)',
        },
      }[d.source] || { fa: '', en: '' };
      return d.name + pick(' — شناسه ', ' — key ID ', l) + d.key_id + pick('، ', ', ', l) + src[l];
    },
    'checkpoint-signature': function (c, d, l) {
      if (c.status === 'pass') {
        return pick('درخت ' + n(d.size, l) + ' مدخلی، ریشه ' + d.root + '، مبدأ ' + d.origin,
                    'tree of ' + d.size + ' entries, root ' + d.root + ', origin ' + d.origin, l);
      }
      return pick('نقطهٔ وارسی پذیرفته نشد: ', 'the checkpoint was refused: ', l) + reason(c.code, l);
    },
    'tiles-root': function (c, d, l) {
      if (c.status === 'pass') {
        return pick('ریشهٔ بازسازی‌شده از ' + n(d.tiles, l) + ' کاشی همان ریشهٔ امضاشده است',
                    'the root rebuilt from ' + d.tiles + ' tiles is the signed root', l);
      }
      if (c.code === 'tile.root-mismatch') {
        return pick('ریشهٔ کاشی‌ها ' + d.found + ' است و ریشهٔ امضاشده ' + d.expected,
                    'the tiles give root ' + d.found + ', the checkpoint signs ' + d.expected, l);
      }
      if (c.code === 'tile.parent-mismatch') {
        return pick('کاشی نادرست: ' + d.path + ' با درایهٔ خود در کاشی بالاتر نمی‌خواند',
                    'wrong tile: ' + d.path + ' does not hash to its entry in the tile above', l);
      }
      return pick('کاشی لازم در دست نیست: ', 'a needed tile is missing or unusable: ', l) + (d.path || '') + ' — ' + reason(c.code, l);
    },
    manifest: function (c, d, l) {
      if (c.status === 'pass') {
        return pick('مدخل ۰ در درخت است و به همین مانیفست (SHA-256 ' + short(d.manifest_sha256) + '…) متعهد است؛ انتخابات ' + d.election,
                    'entry 0 is in the tree and commits to this manifest (SHA-256 ' + short(d.manifest_sha256) + '…); election ' + d.election, l);
      }
      if (c.code === 'manifest.digest-mismatch') {
        return pick('چکیدهٔ مانیفست دریافتی ' + short(d.manifest_sha256) + '… است و مدخل ۰ به ' + short(d.committed) + '… متعهد است',
                    'the manifest served hashes to ' + short(d.manifest_sha256) + '…, entry 0 commits to ' + short(d.committed) + '…', l);
      }
      if (d.field) {
        return pick('مانیفست برای ' + d.field + ' چیز دیگری جز آنچه به کار رفته می‌گوید: ' + d.found,
                    'the manifest names a different ' + d.field + ' than the one used: ' + d.found, l);
      }
      if (c.code === 'proof.inclusion-failed') return pick('مدخل ۰ در درخت امضاشده نیست', 'entry 0 is not in the signed tree', l);
      return (d.path ? d.path + ' — ' : '') + reason(c.code, l);
    },
    'witness-cosignatures': function (c, d, l) {
      var k = n(d.cosigned.length, l);
      var of = n(d.witnesses, l);
      var s;
      if (!d.policy && c.status !== 'fail') {
        s = d.cosigned.length
          ? pick(k + ' از ' + of + ' ناظر امضا کرده‌اند: ' + cosigners(d, l) + ' (سیاست ناظرانی داده نشده است؛ حد نصاب بررسی نشد)',
                 k + ' of ' + of + ' witnesses cosigned: ' + cosigners(d, l) + ' (no witness policy given: no quorum checked)', l)
          : pick('هیچ امضای همراهی از ناظران بر این نقطهٔ وارسی نیست (' + of + ' ناظر در مانیفست)',
                 'no witness cosignatures on this checkpoint (' + d.witnesses + ' witnesses in the manifest)', l);
      } else if (c.status === 'pass') {
        s = pick('حد نصاب ' + (d.quorum || 'none') + ' فراهم است؛ امضای همراه: ' + cosigners(d, l),
                 'quorum ' + (d.quorum || 'none') + ' met; cosigned by ' + cosigners(d, l), l);
      } else if (c.code === 'policy.quorum-not-met') {
        s = pick('حد نصاب ' + d.quorum + ' فراهم نیست؛ امضای همراه: ' + cosigners(d, l),
                 'quorum ' + d.quorum + ' not met; cosigned by ' + cosigners(d, l), l);
        (d.unsatisfied || []).forEach(function (g) {
          s += pick('؛ گروه ' + g.group + ' به ' + n(g.threshold, l) + ' امضا نیاز دارد و اینها نیستند: ' + list(g.missing, l),
                    '; group ' + g.group + ' needs ' + g.threshold + ', missing ' + list(g.missing, l), l);
        });
      } else {
        s = reason(c.code, l);
      }
      if (d.invalid && d.invalid.length) s += pick('؛ امضای همراه نامعتبر از ', '; invalid cosignature by ', l) + list(d.invalid, l);
      return s;
    },
    'registration-inclusion': function (c, d, l) {
      if (c.status === 'info') return pick('مدخل کلیدی فهرست نشده و لازم هم نیست', 'no key entry is listed, and none is needed', l);
      if (c.status === 'pass') {
        var at = list(d.entries.map(function (e) { return n(e.index, l); }), l);
        return pick('ثبت کلید در مدخل ' + at + '، با اثبات گنجاندن از کاشی‌ها',
                    'key registration at index ' + at + ', proven included from the tiles', l);
      }
      if (!d.entries.length) {
        return pick('پیش از این مدخل هیچ ثبت کلیدی برای شعبهٔ ' + n(d.station, l) + ' فهرست نشده است',
                    'no key registration for station ' + d.station + ' is listed before this entry', l);
      }
      return list(d.entries.map(function (e) { return entryProblem(c.id, e, d.station, l); }), l);
    },
    'registration-signature': function (c, d, l) {
      if (c.status === 'info') return pick('مدخل کلیدی فهرست نشده است', 'no key entry is listed', l);
      if (c.status === 'pass') {
        return pick('امضای ' + d.entries[0].signer + ' درست است', 'signed by ' + d.entries[0].signer, l);
      }
      return pick('امضای مرجع نامعتبر: ', 'bad authority signature: ', l) +
        list(d.entries.map(function (e) { return entryProblem(c.id, e, d.station, l); }), l);
    },
    'entry-inclusion': function (c, d, l) {
      if (c.status === 'pass') {
        return list(d.entries.map(function (e) {
          return pick('مدخل ' + n(e.index, l) + ' (برگ ' + short(e.leaf) + '…) با اثبات ' + n(e.proof_hashes, l) + ' گره‌ای از کاشی‌ها در درخت ' + n(e.size, l) + ' مدخلی است',
                      'entry ' + e.index + ' (leaf ' + short(e.leaf) + '…) is in the tree of ' + e.size + ' entries: ' + e.proof_hashes + '-hash proof computed from the tiles', l);
        }), l);
      }
      return list(d.entries.map(function (e) { return entryProblem(c.id, e, d.station, l); }), l);
    },
    'entry-signature': function (c, d, l) {
      return list(d.entries.map(function (e) {
        var role = (ROLE[e.role] || { fa: '', en: '' })[l];
        if (!e.code) {
          return e.role === 'station'
            ? pick('امضای ' + e.signer + ' با کلید ثبت‌شده در مدخل ' + n(e.key_index, l) + ' درست است',
                   'signed by ' + e.signer + ' with the key registered at index ' + e.key_index, l)
            : pick('امضای ' + e.signer + ' (' + role + ') درست است', 'signed by the ' + role + ' key ' + e.signer, l);
        }
        if (e.code === 'station.key-not-registered') {
          return pick('شعبه ' + n(d.station, l) + ' پیش از مدخل ' + n(e.index, l) + ' کلید معتبری نداشت',
                      'station ' + d.station + ' had no valid key before entry ' + e.index, l);
        }
        if (e.code === 'note.bad-signature') {
          return pick('امضای ' + role + ' نادرست است', "the " + role + "'s signature does not verify", l) + ' (' + e.code + ')';
        }
        return pick('مدخل ' + n(e.index, l) + ': ', 'entry ' + e.index + ': ', l) + reason(e.code, l) +
          (e.signer ? pick('؛ کلید لازم: ' + e.signer, '; the key required: ' + e.signer, l) : '');
      }), l);
    },
    arithmetic: function (c, d, l) {
      if (c.status === 'info') return pick('این مدخل صورتجلسه نیست', 'this entry is not a tally', l);
      return list(d.entries.map(function (e) {
        var f = e.fields;
        if (!f) return reason(e.code, l);
        var s = pick('آرای مأخوذه ' + n(f.votes_taken, l) + ' + باطلهٔ غیرمأخوذه ' + n(f.void_not_taken, l) + ' = آرای داخل صندوق ' + n(f.ballots_in_box, l) + '؛ آرای صحیح ' + n(f.valid, l),
                     'votes taken ' + f.votes_taken + ' + void not taken ' + f.void_not_taken + ' = ballots in box ' + f.ballots_in_box + '; valid ' + f.valid, l);
        return e.code ? pick('حساب صورتجلسه نادرست است: ', 'the arithmetic does not hold: ', l) + reason(e.code, l) + ' — ' + s : s;
      }), l);
    },
  };

  function detail(c, l) {
    if (c.status === 'skip') {
      var after = LABEL[c.data.after] || { fa: c.data.after, en: c.data.after };
      return pick('بررسی نشد: پیش‌نیاز آن (' + after.fa + ') نادرست بود', 'not checked: it depends on “' + after.en + '”, which failed', l);
    }
    var f = DETAIL[c.id];
    return f ? f(c, c.data || {}, l) : c.code || '';
  }

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
  async function getText(url) {
    var r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.text();
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
    var policyUrl = box.getAttribute('data-policy');
    var policy = policyUrl ? await getText(policyUrl) : undefined;
    say(t(box, 'fetching') + 'checkpoint');
    var cpBytes = await getBytes(base + '/checkpoint', true);
    var cpReport = result(
      wasm.verify_checkpoint(new TextDecoder().decode(cpBytes), vkey, origin, keySource, policy)
    );
    // Without the log's signature nothing else means anything; a quorum
    // not met is reported with everything else, by the full verification.
    var signed = cpReport.checks.some(function (c) {
      return c.id === 'checkpoint-signature' && c.status === 'pass';
    });
    if (!signed) return cpReport;
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
        ? wasm.verify_log(ev, vkey, keySource, origin, policy)
        : wasm.verify_station_entry(
            ev,
            vkey,
            keySource,
            origin,
            station,
            index,
            Float64Array.from(keyIndexes),
            policy
          );
    ev.free();
    return result(json);
  }

  // The WebAssembly's JSON; a verification that could not run (a
  // malformed policy, no checkpoint) is an error, not a failed check.
  function result(json) {
    var r = JSON.parse(json);
    if (r.error) {
      throw new Error(r.error + (r.line ? ' (line ' + r.line + ')' : '') + (r.reason ? ': ' + r.reason : ''));
    }
    return r;
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
      li.appendChild(el('strong', 'verify-label', ' ' + label(c, l)));
      li.appendChild(el('span', 'verify-detail', ' — ' + detail(c, l)));
      li.title = label(c, l === 'fa' ? 'en' : 'fa');
      if (c.code) li.setAttribute('data-code', c.code);
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
      ['station', 'index', 'lang', 'policy'].forEach(function (k) {
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
