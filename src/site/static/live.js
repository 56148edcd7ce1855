// tallyboard: live updates for the results pages (progressive enhancement;
// every page reads fully without this script). Listens to /live (server-sent
// events) and swaps the figures marked data-live="<key>" with the texts the
// server formatted for the page's language; changed figures are marked.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var body = document.body;
  var lang = body.getAttribute("data-lang") || "fa";
  var shown = Number(body.getAttribute("data-size") || "0");
  var liveFigures = body.getAttribute("data-live-figures") === "1";
  var status = document.getElementById("live-status");
  var W = 600;
  function mark(el) {
    el.classList.add("changed");
    setTimeout(function () { el.classList.remove("changed"); }, 4000);
  }
  function apply(ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (typeof d.size !== "number" || d.size <= shown) return;
    shown = d.size;
    var text = (d.text && d.text[lang]) || {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var k = el.getAttribute("data-live");
      if (k !== "size" && !liveFigures) return;
      var t = text[k];
      if (typeof t === "string" && el.textContent !== t) { el.textContent = t; mark(el); }
    });
    if (liveFigures && d.bars) {
      document.querySelectorAll("[data-live-bar]").forEach(function (el) {
        var bp = d.bars[el.getAttribute("data-live-bar")];
        if (typeof bp !== "number") return;
        var w = Math.max(1, Math.round(Math.min(bp, 10000) * W / 10000));
        el.setAttribute("width", String(w));
        if (el.getAttribute("data-dir") === "rtl") el.setAttribute("x", String(W - w));
      });
    }
    if (status) {
      var msg = lang === "fa" ? "ارقام به‌روز شد؛ نقطه وارسی " + (text.size || d.size)
                              : "Figures updated at checkpoint " + (text.size || d.size);
      if (!liveFigures) {
        msg = lang === "fa" ? "ارقام تازه‌ای هست (نقطه وارسی " + (text.size || d.size) + ")؛ صفحه را دوباره بارگذاری کنید."
                            : "New figures are available (checkpoint " + (text.size || d.size) + "); reload the page.";
      }
      status.textContent = msg;
      status.hidden = false;
    }
    body.setAttribute("data-size", String(d.size));
  }
  var es = new EventSource("/live");
  es.addEventListener("checkpoint", apply);
})();
