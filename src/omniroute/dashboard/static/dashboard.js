// omniroute dashboard: live countdowns and the live stream (Server-Sent Events).
// Elements with data-watch="kind:id" are kept current by GET /dashboard/stream, which
// sends {"target": element id, "html": fragment} when one changes.
(function () {
  "use strict";
  var source = null;
  var watching = "";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? h + "h " + pad(m) + "m " + pad(s) + "s" : m + "m " + pad(s) + "s";
  }

  function startCountdowns(root) {
    root.querySelectorAll("[data-seconds-left]").forEach(function (el) {
      if (el.dataset.deadline) { return; }
      el.dataset.deadline = String(Date.now() + Number(el.dataset.secondsLeft) * 1000);
    });
  }

  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - Date.now()) / 1000));
      var text = left > 0 ? format(left) : "now";
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  function watchList() {
    var seen = {};
    document.querySelectorAll("[data-watch]").forEach(function (el) { seen[el.dataset.watch] = true; });
    return Object.keys(seen).sort();
  }

  function connect() {
    var list = watchList();
    var key = list.join("&");
    if (key === watching) { return; }
    watching = key;
    if (source) { source.close(); source = null; }
    if (!list.length) { return; }
    var query = list.map(function (w) { return "watch=" + encodeURIComponent(w); }).join("&");
    source = new EventSource("/dashboard/stream?" + query);
    source.addEventListener("swap", function (event) {
      var part = JSON.parse(event.data);
      var el = document.getElementById(part.target);
      if (!el) { return; }
      var holder = document.createElement("template");
      holder.innerHTML = part.html.trim();
      var fresh = holder.content.firstElementChild;
      if (!fresh) { return; }
      el.replaceWith(fresh);
      if (window.htmx) { window.htmx.process(fresh); }
      startCountdowns(fresh);
      connect();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    tick();
    setInterval(tick, 1000);
    connect();
    document.body.addEventListener("htmx:afterSettle", function (event) {
      startCountdowns(event.target.ownerDocument || document);
      connect();
    });
  });
})();
