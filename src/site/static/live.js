// tallyboard: live updates for the results pages (spec/site.md §5). A
// progressive enhancement: every page reads fully without this script.
//
// One connection per browser: a SharedWorker (live-worker.js) holds the
// only /live stream and tells every tab of the site which checkpoint the
// board is at. Where SharedWorker is missing, the tab opens its own stream.
//
// On a new checkpoint, a page whose figures follow (data-live-figures="1")
// fetches itself again and swaps its <main> and <footer> together, so the
// figures, charts, status line, outcome and footer all come from one
// server rendering; changed figures (data-live keys) are marked. Other
// pages (a station, a region) change nothing and offer a reload.
(function () {
  "use strict";
  var body = document.body;
  var lang = body.getAttribute("data-lang") || "fa";
  var shown = Number(body.getAttribute("data-size") || "0");
  var liveFigures = body.getAttribute("data-live-figures") === "1";
  var status = document.getElementById("live-status");
  // At most one fetch of this page per GAP ms, however fast the log grows:
  // pages are cached for 5 s anyway (Cache-Control: max-age=5).
  var GAP = 10000;
  var last = 0, busy = false, wanted = 0, timer = null, stale = 0;

  function say(fa, en) {
    if (!status) return;
    status.textContent = lang === "fa" ? fa : en;
    status.hidden = false;
  }
  function mark(el) {
    el.classList.add("changed");
    setTimeout(function () { el.classList.remove("changed"); }, 4000);
  }
  function texts() {
    var t = {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      t[el.getAttribute("data-live")] = el.textContent;
    });
    return t;
  }
  function offerReload(label) {
    say("ارقام تازه‌ای هست (نقطه وارسی " + label + ")؛ صفحه را دوباره بارگذاری کنید.",
        "New figures are available (checkpoint " + label + "); reload the page.");
  }
  // Swaps in the page as the server renders it now; false if it is not newer.
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var size = Number(doc.body.getAttribute("data-size") || "0");
    if (!(size > shown)) return false;
    var main = document.getElementById("main");
    var foot = document.querySelector("body > footer");
    var nmain = doc.getElementById("main");
    var nfoot = doc.querySelector("body > footer");
    if (!main || !foot || !nmain || !nfoot) return false;
    var before = texts();
    main.replaceWith(document.adoptNode(nmain));
    foot.replaceWith(document.adoptNode(nfoot));
    shown = size;
    body.setAttribute("data-size", String(size));
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var k = el.getAttribute("data-live");
      if (k in before && before[k] !== el.textContent) mark(el);
    });
    var label = (document.querySelector('footer [data-live="size"]') || {}).textContent || String(size);
    say("ارقام به‌روز شد؛ نقطه وارسی " + label, "Figures updated at checkpoint " + label);
    return true;
  }
  function refresh() {
    timer = null;
    if (busy || wanted <= shown) return;
    var wait = last + GAP - Date.now();
    if (wait > 0) { timer = setTimeout(refresh, wait); return; }
    busy = true;
    last = Date.now();
    fetch(location.pathname + location.search, {
      headers: { "Accept": "text/html" }, cache: "no-cache", credentials: "same-origin"
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (html) {
      // A cache may hold the page a little longer; try a few times, then
      // leave it to the reader.
      stale = swap(html) ? 0 : stale + 1;
    }).catch(function () {
      stale += 1;
    }).then(function () {
      busy = false;
      if (stale >= 3) { stale = 0; wanted = shown; offerReload(String(shown)); return; }
      if (wanted > shown && !timer) timer = setTimeout(refresh, GAP);
    });
  }
  function onEvent(d) {
    if (!d || typeof d.size !== "number" || d.size <= shown || d.size <= wanted) return;
    wanted = d.size;
    var label = (d.text && d.text[lang]) || String(d.size);
    if (liveFigures) { if (!timer && !busy) refresh(); } else { offerReload(label); }
  }
  function parse(data) {
    try { return JSON.parse(data); } catch (e) { return null; }
  }

  var worker = body.getAttribute("data-live-worker");
  if (window.SharedWorker && worker) {
    try {
      var w = new SharedWorker(worker, { name: "tallyboard-live" });
      w.port.onmessage = function (e) { onEvent(e.data); };
      w.port.start();
      window.addEventListener("pagehide", function () { w.port.postMessage("bye"); });
      return;
    } catch (e) { /* fall through to a stream of our own */ }
  }
  if (!window.EventSource) return;
  var es = new EventSource("/live");
  es.addEventListener("checkpoint", function (ev) { onEvent(parse(ev.data)); });
})();
