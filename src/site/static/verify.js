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
      fa: 'تأیید شد: ارقام این صفحه همان ارقامی است که شعبه امضا کرده و در دفتر عمومی ثبت است، و نسخهٔ کنونی است.',
      en: 'Verified: the figures on this page are the ones the station signed and the public log holds, in the standing revision.',
    },
    verifiedEntry: {
      fa: 'تأیید شد: مدخل نشان‌داده‌شده همان است که شعبه امضا کرده و در دفتر عمومی ثبت است.',
      en: 'Verified: the entry shown is the one the station signed and the public log holds.',
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
    screenFailed: {
      fa: 'تأیید نشد: ارقام این صفحه با ارقامی که شعبه امضا کرده و در دفتر عمومی ثبت است یکی نیست (خانه‌های نادرست در زیر نام برده شده‌اند).',
      en: 'NOT verified: the figures on this page are not the ones the station signed and the public log holds (the wrong cells are named below).',
    },
    superseded: {
      fa: 'تأیید نشد: این ارقام امضاشده‌اند، اما نسخهٔ کنونی نیستند؛ نسخهٔ تازه‌تری جای آنها را گرفته است (در زیر).',
      en: 'NOT verified: these figures were signed, but they are not the standing ones; a later revision supersedes them (below).',
    },
    minutesFailed: {
      fa: 'تأیید نشد: تصویر صورتجلسهٔ این صفحه همان نیست که شعبه امضا کرده است.',
      en: 'NOT verified: the minutes image on this page is not the one the station signed.',
    },
    notWitnessed: {
      fa: 'تأیید نشد: ناظران مستقل هنوز به حد نصاب لازم این نقطهٔ وارسی را امضا نکرده‌اند.',
      en: 'NOT verified: the independent witnesses have not cosigned this checkpoint to the quorum the election requires.',
    },
    steps: { fa: 'گام‌های فنی بررسی', en: 'Technical steps' },
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
  // An identifier (hash, key name, code, station id) isolated
  // left-to-right in the text (U+2066 LRI … U+2069 PDI); rich() turns
  // each into <bdi dir="ltr">, so that bidirectional reordering in a
  // Persian sentence never scrambles it.
  function iso(x) {
    return '\u2066' + String(x) + '\u2069';
  }
  function short(h) {
    return iso(String(h || '').slice(0, 16));
  }
  // A count with thousands separators, in the language's digits (as the
  // page writes its figures).
  function num(x, l) {
    var s = String(x).replace(/\B(?=(\d{3})+(?!\d))/g, l === 'fa' ? '\u066c' : ',');
    return n(s, l);
  }
  function rich(text) {
    var frag = document.createDocumentFragment();
    String(text).split(/(\u2066[^\u2069]*\u2069)/).forEach(function (part) {
      if (!part) return;
      if (part.charAt(0) === '\u2066') {
        var b = document.createElement('bdi');
        b.setAttribute('dir', 'ltr');
        b.textContent = part.slice(1, -1);
        frag.appendChild(b);
      } else {
        frag.appendChild(document.createTextNode(part));
      }
    });
    return frag;
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
    revision: { fa: 'نسخهٔ نشان‌داده‌شده نسخهٔ معتبر کنونی است', en: 'The revision shown is the standing one' },
    screen: { fa: 'ارقام این صفحه همان ارقام امضاشده است', en: 'The figures on this page are the signed ones' },
    minutes: { fa: 'تصویر صورتجلسه همان است که صورتجلسه به آن متعهد است', en: 'The minutes image is the one the tally names' },
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
    'screen.figure-mismatch': { fa: 'رقم صفحه با رقم امضاشده یکی نیست', en: 'a figure on the page differs from the signed one' },
    'screen.figure-missing': { fa: 'رقمی امضاشده در صفحه نیامده است', en: 'a signed figure is missing from the page' },
    'screen.unreadable': { fa: 'رقم صفحه خوانا نیست', en: 'a figure on the page is not a number' },
    'screen.unknown-field': { fa: 'خانه‌ای از جدول در صورتجلسه نیست', en: 'a cell of the table is not a figure of the tally' },
    'screen.unverified': { fa: 'مدخل نشان‌داده‌شده تأیید نشد', en: 'the entry shown did not verify' },
    'revision.superseded': { fa: 'نسخهٔ دیگری جای آن را گرفته است', en: 'a later revision supersedes it' },
    'revision.standing-unproven': { fa: 'نسخهٔ کنونی‌ای که سرور نام می‌برد ثابت نشد', en: 'the standing revision the board names is not proven' },
    'minutes.digest-mismatch': { fa: 'چکیدهٔ تصویر با چکیدهٔ امضاشده یکی نیست', en: 'the image does not hash to the signed digest' },
    'minutes.not-committed': { fa: 'صورتجلسه به این تصویر متعهد نیست', en: 'the tally does not name this image' },
    'policy.log-not-listed': {
      fa: 'سیاست ناظران کلید این دفتر را نمی‌شناسد',
      en: "the witness policy does not list this log's key",
    },
  };
  function reason(code, l) {
    var r = REASON[code];
    if (!r && /^tally\.arithmetic\./.test(code)) r = { fa: 'حساب صورتجلسه نادرست است', en: 'the arithmetic does not hold' };
    if (!r && /^entry\./.test(code)) r = { fa: 'مدخل قابل خواندن نیست', en: 'the entry does not parse' };
    return (r ? r[l] + ' ' : '') + '(' + iso(code) + ')';
  }

  function label(c, l) {
    var e = c.data && c.data.entries && c.data.entries[0];
    if (c.id === 'entry-signature' && e && ROLE_LABEL[e.role]) return ROLE_LABEL[e.role][l];
    return (LABEL[c.id] || { fa: c.id, en: c.id })[l];
  }

  function cosigners(d, l) {
    return d.cosigned.length
      ? list(d.cosigned.map(function (x) { return iso(x.witness); }), l)
      : pick('هیچ‌کس', 'none', l);
  }

  // One entry as a check saw it, when it failed.
  function entryProblem(id, e, station, l) {
    var i = n(e.index, l);
    switch (e.code) {
      case 'station.other-station':
        return id === 'registration-inclusion'
          ? pick('مدخل ' + i + ' مدخل کلید شعبهٔ ' + iso(n(station, l)) + ' نیست', 'entry ' + e.index + ' is not a key entry of station ' + iso(station), l)
          : pick('مدخل ' + i + ' از شعبهٔ ' + iso(n(e.station || '—', l)) + ' است، نه ' + iso(n(station, l)),
                 'entry ' + e.index + " is station " + (e.station || '—') + "'s, not " + station + "'s", l);
      case 'proof.inclusion-failed':
        return pick('مدخل ' + i + ' با برگ ' + short(e.leaf) + '… در درخت امضاشده نیست',
                    'entry ' + e.index + ' with leaf ' + short(e.leaf) + '… is not in the signed tree', l);
      case 'station.no-tally':
        return pick('شعبهٔ ' + iso(n(station, l)) + ' صورتجلسه‌ای در دفتر ندارد', 'station ' + iso(station) + ' has no tally in the log', l);
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
      return iso(d.name) + pick(' — اثر انگشت ', ' — fingerprint ', l) + iso(d.fingerprint) +
        pick(' (شناسه ', ' (key ID ', l) + iso(d.key_id) + ')' + pick('، ', ', ', l) + src[l];
    },
    'checkpoint-signature': function (c, d, l) {
      if (c.status === 'pass') {
        return pick('درخت ' + num(d.size, l) + ' مدخلی، ریشه ' + iso(d.root) + '، مبدأ ' + iso(d.origin),
                    'tree of ' + num(d.size, l) + ' entries, root ' + iso(d.root) + ', origin ' + iso(d.origin), l);
      }
      return pick('نقطهٔ وارسی پذیرفته نشد: ', 'the checkpoint was refused: ', l) + reason(c.code, l);
    },
    'tiles-root': function (c, d, l) {
      if (c.status === 'pass') {
        return pick('ریشهٔ بازسازی‌شده از ' + n(d.tiles, l) + ' کاشی همان ریشهٔ امضاشده است',
                    'the root rebuilt from ' + d.tiles + ' tiles is the signed root', l);
      }
      if (c.code === 'tile.root-mismatch') {
        return pick('ریشهٔ کاشی‌ها ' + iso(d.found) + ' است و ریشهٔ امضاشده ' + iso(d.expected),
                    'the tiles give root ' + iso(d.found) + ', the checkpoint signs ' + iso(d.expected), l);
      }
      if (c.code === 'tile.parent-mismatch') {
        return pick('کاشی نادرست: ' + iso(d.path) + ' با درایهٔ خود در کاشی بالاتر نمی‌خواند',
                    'wrong tile: ' + iso(d.path) + ' does not hash to its entry in the tile above', l);
      }
      return pick('کاشی لازم در دست نیست: ', 'a needed tile is missing or unusable: ', l) + iso(d.path || '') + ' — ' + reason(c.code, l);
    },
    manifest: function (c, d, l) {
      if (c.status === 'pass' && d.slice_parts) {
        return pick('مدخل ۰ در درخت است و به ریشهٔ مانیفست ' + short(d.root) + '… متعهد است؛ ' + n(d.slice_parts, l) + ' بخش لازم این شعبه زیر همین ریشه ثابت شد؛ انتخابات ' + iso(d.election),
                    'entry 0 is in the tree and commits to the manifest root ' + short(d.root) + '…; the ' + d.slice_parts + ' parts this station needs are proven under it; election ' + iso(d.election), l);
      }
      if (c.status === 'pass') {
        return pick('مدخل ۰ در درخت است و به همین مانیفست (SHA-256 ' + short(d.manifest_sha256) + '…) متعهد است؛ انتخابات ' + iso(d.election),
                    'entry 0 is in the tree and commits to this manifest (SHA-256 ' + short(d.manifest_sha256) + '…); election ' + iso(d.election), l);
      }
      if (c.code === 'manifest.digest-mismatch') {
        return pick('چکیدهٔ مانیفست دریافتی ' + short(d.manifest_sha256) + '… است و مدخل ۰ به ' + short(d.committed) + '… متعهد است',
                    'the manifest served hashes to ' + short(d.manifest_sha256) + '…, entry 0 commits to ' + short(d.committed) + '…', l);
      }
      if (d.field) {
        return pick('مانیفست برای ' + iso(d.field) + ' چیز دیگری جز آنچه به کار رفته می‌گوید: ' + iso(d.found),
                    'the manifest names a different ' + iso(d.field) + ' than the one used: ' + iso(d.found), l);
      }
      if (c.code === 'proof.inclusion-failed') return pick('مدخل ۰ در درخت امضاشده نیست', 'entry 0 is not in the signed tree', l);
      return (d.path ? iso(d.path) + ' — ' : '') + reason(c.code, l);
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
        s = pick('حد نصاب ' + iso(d.quorum || 'none') + ' فراهم است؛ امضای همراه: ' + cosigners(d, l),
                 'quorum ' + iso(d.quorum || 'none') + ' met; cosigned by ' + cosigners(d, l), l);
      } else if (c.code === 'policy.quorum-not-met') {
        s = pick('حد نصاب ' + iso(d.quorum) + ' فراهم نیست؛ امضای همراه: ' + cosigners(d, l),
                 'quorum ' + iso(d.quorum) + ' not met; cosigned by ' + cosigners(d, l), l);
        (d.unsatisfied || []).forEach(function (g) {
          s += pick('؛ گروه ' + g.group + ' به ' + n(g.threshold, l) + ' امضا نیاز دارد و اینها نیستند: ' + list(g.missing, l),
                    '; group ' + g.group + ' needs ' + g.threshold + ', missing ' + list(g.missing, l), l);
        });
      } else {
        s = reason(c.code, l);
      }
      if (d.invalid && d.invalid.length) s += pick('؛ امضای همراه نامعتبر از ', '; invalid cosignature by ', l) + list(d.invalid.map(iso), l);
      if (d.policy_source === 'manifest') {
        s += pick(' (سیاست ناظران خود انتخابات، که مدخل ۰ به آن متعهد است)', " (the election's own witness policy, committed by entry 0)", l);
      }
      if (d.keys && d.keys.length) {
        s += pick('؛ کلیدهای ناظران: ', '; witness keys: ', l) +
          list(d.keys.map(function (k) { return iso(k.witness) + ' ' + iso(k.fingerprint); }), l);
      }
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
        return pick('پیش از این مدخل هیچ ثبت کلیدی برای شعبهٔ ' + iso(n(d.station, l)) + ' فهرست نشده است',
                    'no key registration for station ' + iso(d.station) + ' is listed before this entry', l);
      }
      return list(d.entries.map(function (e) { return entryProblem(c.id, e, d.station, l); }), l);
    },
    'registration-signature': function (c, d, l) {
      if (c.status === 'info') return pick('مدخل کلیدی فهرست نشده است', 'no key entry is listed', l);
      if (c.status === 'pass') {
        return pick('امضای ' + iso(d.entries[0].signer) + ' درست است', 'signed by ' + iso(d.entries[0].signer), l);
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
            ? pick('امضای ' + iso(e.signer) + ' با کلید ثبت‌شده در مدخل ' + n(e.key_index, l) + ' درست است',
                   'signed by ' + iso(e.signer) + ' with the key registered at index ' + e.key_index, l)
            : pick('امضای ' + iso(e.signer) + ' (' + role + ') درست است', 'signed by the ' + role + ' key ' + iso(e.signer), l);
        }
        if (e.code === 'station.key-not-registered') {
          return pick('شعبه ' + iso(n(d.station, l)) + ' پیش از مدخل ' + n(e.index, l) + ' کلید معتبری نداشت',
                      'station ' + iso(d.station) + ' had no valid key before entry ' + e.index, l);
        }
        if (e.code === 'note.bad-signature') {
          return pick('امضای ' + role + ' نادرست است', "the " + role + "'s signature does not verify", l) + ' (' + e.code + ')';
        }
        return pick('مدخل ' + n(e.index, l) + ': ', 'entry ' + e.index + ': ', l) + reason(e.code, l) +
          (e.signer ? pick('؛ کلید لازم: ' + iso(e.signer), '; the key required: ' + iso(e.signer), l) : '');
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

  // The screen checks (spec/browser-verification.md §3.1).
  function field(f, l) {
    var m = /^vote\/(\d+)$/.exec(f);
    if (m) return pick('نامزد ' + n(m[1], l), 'candidate ' + m[1], l);
    var F = {
      counterfoils: { fa: 'تعرفه‌ها', en: 'counterfoils' },
      'ballots-in-box': { fa: 'آرای داخل صندوق', en: 'ballots in the box' },
      'votes-taken': { fa: 'آرای مأخوذه', en: 'votes taken' },
      valid: { fa: 'آرای صحیح', en: 'valid' },
      'void-taken': { fa: 'باطلهٔ مأخوذه', en: 'void taken' },
      'void-not-taken': { fa: 'باطلهٔ غیرمأخوذه', en: 'void not taken' },
    }[f];
    return F ? F[l] : iso(f);
  }
  function mismatch(m, l) {
    if (m.code === 'screen.figure-missing') {
      return pick(field(m.field, l) + ': در صفحه نیامده؛ امضاشده ' + num(m.signed, l),
                  field(m.field, l) + ': not on the page; signed ' + num(m.signed, l), l);
    }
    if (m.code === 'screen.figure-mismatch') {
      return pick(field(m.field, l) + ': صفحه ' + iso(m.shown) + ' نشان می‌دهد و شعبه ' + num(m.signed, l) + ' امضا کرده است',
                  field(m.field, l) + ': the page shows ' + iso(m.shown) + ', the station signed ' + num(m.signed, l), l);
    }
    return field(m.field, l) + ' — ' + reason(m.code, l);
  }
  function contestName(c) {
    var el = c && document.querySelector('[data-verify-index][data-contest="' + c + '"]');
    var h = el && el.closest('section') && el.closest('section').querySelector('h2');
    return h ? h.textContent : iso(c || '');
  }
  DETAIL.revision = function (c, d, l) {
    return list((d.revisions || []).map(function (r) {
      if (r.state === 'superseded') {
        return pick('مدخل ' + n(r.index, l) + ' (نسخهٔ ' + n(r.revision, l) + ') کنار رفته است؛ نسخهٔ کنونی نسخهٔ ' + n(r.standing_revision, l) + ' در مدخل ' + n(r.standing_index, l) + ' است',
                    'entry ' + r.index + ' (revision ' + r.revision + ') is superseded by revision ' + r.standing_revision + ' at entry ' + r.standing_index, l);
      }
      if (r.code) return pick('مدخل ' + n(r.index, l) + ': ', 'entry ' + r.index + ': ', l) + reason(r.code, l);
      return pick(contestName(r.contest) + ': نسخهٔ ' + n(r.revision, l) + ' در مدخل ' + n(r.index, l) + '، نسخهٔ کنونی بنا بر فهرست سرور',
                  contestName(r.contest) + ': revision ' + r.revision + ' at entry ' + r.index + ', the standing one as the board lists them', l);
    }), l);
  };
  DETAIL.screen = function (c, d, l) {
    if (c.status === 'info') return pick('این صفحه جدولی از ارقام ندارد که مقایسه شود', 'this page shows no table of figures to compare', l);
    return list((d.tables || []).map(function (t) {
      var head = pick(contestName(t.contest) + ': ' + n(t.matched, l) + ' از ' + n(t.compared, l) + ' رقم برابر',
                      contestName(t.contest) + ': ' + t.matched + ' of ' + t.compared + ' figures match', l);
      if (t.mismatches && t.mismatches.length) {
        return head + ' — ' + t.mismatches.map(function (m) { return mismatch(m, l); }).join(pick('؛ ', '; ', l));
      }
      return t.code ? head + ' — ' + reason(t.code, l) : head;
    }), l);
  };
  DETAIL.minutes = function (c, d, l) {
    return list((d.minutes || []).map(function (m) {
      var at = pick('مدخل ' + n(m.index, l) + ': ', 'entry ' + m.index + ': ', l);
      if (m.code) return at + reason(m.code, l);
      if (m.state === 'checked') {
        return at + pick('چکیدهٔ SHA-256 تصویر (' + num(m.bytes, l) + ' بایت) ' + short(m.sha256) + '… همان است که شعبه امضا کرده',
                         'the image (' + num(m.bytes, l) + ' bytes) hashes to ' + short(m.sha256) + '…, the digest the station signed', l);
      }
      if (m.state === 'not-shown') return at + pick('تصویری در صفحه نیست', 'no image is shown', l);
      if (m.state === 'not-served') return at + pick('سرور تصویر را ارائه نمی‌کند', 'the board does not serve the image', l);
      return at + pick('صورتجلسه تصویری نام نمی‌برد', 'the tally names no image', l);
    }), l);
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
    // data-policy="manifest": the election's own witness policy, which the
    // manifest commits to (checked in the WebAssembly once the manifest is
    // verified); a URL: that policy file.
    var policyUrl = box.getAttribute('data-policy');
    var policy = policyUrl === 'manifest' ? 'manifest' : policyUrl ? await getText(policyUrl) : undefined;
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
    var shown = null;
    if (index !== null && station) {
      var st = await getJSON(base + '/api/v1/stations/' + encodeURIComponent(station));
      keyIndexes = (st.key_entries || []).map(function (e) {
        return e.index;
      });
      shown = readScreen(index, st);
    }

    // 3. Tiles, bundles, the manifest and the minutes images shown.
    var wanted = index === null ? keyIndexes : keyIndexes.slice();
    (shown || []).forEach(function (x) {
      wanted.push(x.index);
      if (x.standing !== null) wanted.push(x.standing);
    });
    var plan = JSON.parse(wasm.fetch_plan(size, Float64Array.from(wanted)));
    var ev = new wasm.Evidence();
    ev.add('checkpoint', cpBytes);
    for (var i = 0; i < plan.tiles.length; i++) {
      say(t(box, 'fetching') + plan.tiles[i]);
      await addResource(ev, base, plan.tiles[i]);
    }
    // Each entry alone from the board's API (about a kilobyte, where its
    // bundle holds up to 256 entries); a read path without the API (a
    // static copy) answers 404, and the bundles are fetched instead. The
    // WebAssembly proves an entry from the tiles either way.
    var alone = true;
    for (var j = 0; j < plan.entries.length && alone; j++) {
      say(t(box, 'fetching') + 'entry ' + plan.entries[j]);
      try {
        var entryPath = 'api/v1/entries/' + plan.entries[j];
        alone = ev.add(entryPath, await getBytes(base + '/' + entryPath));
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
        alone = false;
      }
    }
    for (var b = 0; !alone && b < plan.bundles.length; b++) {
      say(t(box, 'fetching') + plan.bundles[b]);
      await addResource(ev, base, plan.bundles[b]);
    }
    // A station needs only its slice of the manifest (spec/manifest.md §5),
    // proven by the root entry 0 names; a log whose entry 0 names none
    // answers 404, and the whole manifest is fetched.
    var haveSlice = false;
    if (index !== null && station) {
      say(t(box, 'fetching') + 'manifest slice');
      var slicePath = 'api/v1/manifest/slices/' + encodeURIComponent(station);
      try {
        haveSlice = ev.add(slicePath, await getBytes(base + '/' + slicePath));
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
      }
    }
    if (!haveSlice) {
      say(t(box, 'fetching') + 'manifest');
      try {
        ev.add('manifest', await getBytes(base + '/api/v1/manifest'));
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
      }
    }

    for (var k = 0; k < (shown || []).length; k++) {
      var hex = shown[k].minutes;
      if (!hex) continue;
      say(t(box, 'fetching') + 'minutes');
      try {
        ev.add('api/v1/blobs/' + hex, await getBytes(base + '/api/v1/blobs/' + encodeURIComponent(hex)));
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
      }
    }

    // 4. Every check, in the WebAssembly.
    var json =
      index === null
        ? wasm.verify_log(ev, vkey, keySource, origin, policy)
        : wasm.verify_station_screen(
            ev,
            vkey,
            keySource,
            origin,
            station,
            JSON.stringify(shown),
            Float64Array.from(keyIndexes),
            policy
          );
    ev.free();
    return result(json);
  }

  // What the page shows (spec/browser-verification.md §3.1): each
  // [data-verify-index] element (one per contest on a station page) with
  // the text of its [data-field] cells and the minutes image it shows.
  // The page without tables (verify-test.html) shows the entry at `index`
  // alone. The standing revision of each is the last one the board lists
  // for its box (untrusted: the WebAssembly proves it).
  function readScreen(index, st) {
    function standingOf(i) {
      var found = null;
      (st.tallies || []).forEach(function (c) {
        var revs = c.revisions || [];
        if (revs.some(function (r) { return r.index === i; })) found = revs[revs.length - 1].index;
      });
      return found;
    }
    var els = document.querySelectorAll('[data-verify-index]');
    if (!els.length) return [{ index: index, standing: standingOf(index), table: false, cells: [] }];
    return Array.prototype.map.call(els, function (el) {
      var i = Number(el.getAttribute('data-verify-index'));
      var img = el.querySelector('img');
      // The image the page shows is the one at its src, whatever else
      // the markup says.
      var m = img && /^\/api\/v1\/blobs\/([^/?#]+)$/.exec(img.getAttribute('src') || '');
      return {
        index: i,
        standing: standingOf(i),
        table: true,
        cells: Array.prototype.map.call(el.querySelectorAll('[data-field]'), function (c) {
          return { field: c.getAttribute('data-field'), text: c.textContent };
        }),
        minutes: img ? (m ? m[1] : img.getAttribute('src') || '') : null,
      };
    });
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

  function check(report, id) {
    for (var i = 0; i < report.checks.length; i++) if (report.checks[i].id === id) return report.checks[i];
    return null;
  }

  // The verdict in plain words, first: what a citizen needs to know.
  // Made from the same checks as the steps below, never decided here.
  function headline(report, l) {
    var ok = report.verified;
    var scr = check(report, 'screen');
    var rev = check(report, 'revision');
    if (ok) {
      if (scr && scr.status === 'pass') return T.verifiedStation[l];
      return (report.entry ? T.verifiedEntry : T.verified)[l];
    }
    if (scr && scr.status === 'fail' && scr.code !== 'screen.unverified') return T.screenFailed[l];
    if (rev && rev.status === 'fail' && rev.code === 'revision.superseded') return T.superseded[l];
    var m = check(report, 'minutes');
    if (m && m.status === 'fail' && m.code !== 'screen.unverified') return T.minutesFailed[l];
    var w = check(report, 'witness-cosignatures');
    if (w && w.status === 'fail' && w.code === 'policy.quorum-not-met') return T.notWitnessed[l];
    return T.failed[l];
  }

  // One line per tally shown: contest, revision, standing or not, figures
  // matched, and the minutes image.
  function summary(report, l) {
    var lines = [];
    var rev = check(report, 'revision');
    var scr = check(report, 'screen');
    var min = check(report, 'minutes');
    ((rev && rev.data && rev.data.revisions) || []).forEach(function (r) {
      var tbl = ((scr && scr.data && scr.data.tables) || []).filter(function (x) { return x.index === r.index; })[0];
      var mi = ((min && min.data && min.data.minutes) || []).filter(function (x) { return x.index === r.index; })[0];
      var bad = !!(r.code || (tbl && tbl.code) || (mi && mi.code));
      var s = (r.contest ? contestName(r.contest) + ' — ' : '') +
        pick('نسخهٔ ' + n(r.revision || '?', l) + ' (مدخل ' + n(r.index, l) + ')', 'revision ' + (r.revision || '?') + ' (entry ' + r.index + ')', l);
      if (r.state === 'superseded') {
        s += pick('، کنارگذاشته؛ نسخهٔ کنونی: ', ', superseded; the standing one: ', l);
      } else if (!r.code) {
        s += pick('، نسخهٔ کنونی', ', the standing one', l);
      }
      if (tbl && tbl.compared) {
        s += pick('؛ ' + n(tbl.matched, l) + ' از ' + n(tbl.compared, l) + ' رقم صفحه برابر با ارقام امضاشده',
                  '; ' + tbl.matched + ' of ' + tbl.compared + ' figures on the page match the signed ones', l);
      }
      if (tbl && tbl.mismatches && tbl.mismatches.length) {
        s += ' — ' + tbl.mismatches.map(function (m) { return mismatch(m, l); }).join(pick('؛ ', '; ', l));
      }
      if (mi && mi.state === 'checked' && !mi.code) s += pick('؛ تصویر صورتجلسه درست است', '; the minutes image checks out', l);
      if (mi && mi.code) s += pick('؛ تصویر صورتجلسه: ', '; minutes image: ', l) + reason(mi.code, l);
      lines.push({ text: s, bad: bad, link: r.state === 'superseded' ? r.standing_index : null });
    });
    return lines;
  }

  // The keys this browser trusted, as fingerprints a person compares with
  // those the ministry and the witnesses publish (spec/keys.md §6).
  function anchors(report, l) {
    var k = check(report, 'log-key');
    var w = check(report, 'witness-cosignatures');
    var out = [];
    if (k && k.data && k.data.fingerprint) {
      out.push(pick('اثر انگشت کلید دفتر: ', 'Log key fingerprint: ', l) + iso(k.data.fingerprint));
    }
    ((w && w.data && w.data.keys) || []).forEach(function (x) {
      out.push(pick('ناظر ', 'Witness ', l) + iso(x.witness) + ': ' + iso(x.fingerprint));
    });
    if (w && w.data && w.data.policy) {
      out.push(w.data.quorum_met
        ? pick('حد نصاب ناظران ' + iso(w.data.quorum || '') + ' فراهم است', 'Witness quorum ' + iso(w.data.quorum || '') + ' met', l)
        : pick('حد نصاب ناظران ' + iso(w.data.quorum || '') + ' فراهم نیست', 'Witness quorum ' + iso(w.data.quorum || '') + ' NOT met', l));
    }
    return out;
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
      var d = el('span', 'verify-detail', ' — ');
      d.appendChild(rich(detail(c, l)));
      li.appendChild(d);
      li.title = label(c, l === 'fa' ? 'en' : 'fa');
      if (c.code) li.setAttribute('data-code', c.code);
      list.appendChild(li);
    });
    var ok = report.verified;
    var verdict = box.querySelector('.verify-verdict');
    verdict.textContent = headline(report, l);
    verdict.className = 'verify-verdict ' + (ok ? 'verify-ok' : 'verify-bad');
    var sum = box.querySelector('.verify-summary');
    sum.textContent = '';
    summary(report, l).forEach(function (x) {
      var li = el('li', x.bad ? 'verify-bad' : 'verify-ok');
      li.appendChild(rich(x.text));
      if (x.link !== null) {
        var a = el('a', 'verify-standing', pick('مدخل ' + n(x.link, l), 'entry ' + x.link, l));
        a.href = '/api/v1/entries/' + x.link;
        li.appendChild(a);
      }
      sum.appendChild(li);
    });
    var anc = box.querySelector('.verify-anchors');
    anc.textContent = '';
    anchors(report, l).forEach(function (x) {
      anc.appendChild(el('li')).appendChild(rich(x));
    });
    box.querySelector('.verify-steps-label').textContent = T.steps[l] + ' (' + n(report.checks.length, l) + ')';
    box.querySelector('.verify-steps').hidden = false;
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
    // The verdict first, in plain words; what was compared; the keys
    // trusted; the technical steps folded away below.
    var verdict = el('p', 'verify-verdict');
    verdict.setAttribute('role', 'status');
    var sum = el('ul', 'verify-summary');
    var anc = el('ul', 'verify-anchors');
    var steps = el('details', 'verify-steps');
    steps.hidden = true;
    steps.appendChild(el('summary', 'verify-steps-label'));
    var list = el('ol', 'verify-checks');
    steps.appendChild(list);
    box.appendChild(button);
    box.appendChild(status);
    box.appendChild(verdict);
    box.appendChild(sum);
    box.appendChild(anc);
    box.appendChild(steps);
    box.setAttribute('data-state', 'ready');
    var last = null;
    button.addEventListener('click', function () {
      button.disabled = true;
      box.setAttribute('data-state', 'running');
      list.textContent = '';
      verdict.textContent = '';
      sum.textContent = '';
      anc.textContent = '';
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
