// tallyboard: the one /live stream of a browser (spec/site.md §5), a
// SharedWorker shared by every tab of the site. Browsers open at most six
// HTTP/1.1 connections to a host; a stream per tab would leave the seventh
// tab with none. Each tab connects here, gets the latest event at once and
// every newer one after; it says "bye" when it goes away.
"use strict";
var ports = [];
var latest = null;
var stream = null;

function send(p, d) {
  try { p.postMessage(d); } catch (e) { /* a tab that went away */ }
}
function open() {
  stream = new EventSource("/live");
  stream.addEventListener("checkpoint", function (ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (typeof d.size !== "number" || (latest && d.size <= latest.size)) return;
    latest = d;
    ports.forEach(function (p) { send(p, d); });
  });
}
self.onconnect = function (e) {
  var p = e.ports[0];
  ports.push(p);
  p.onmessage = function (m) {
    if (m.data === "bye") ports = ports.filter(function (q) { return q !== p; });
  };
  p.start();
  if (latest) send(p, latest);
  if (!stream) open();
};
