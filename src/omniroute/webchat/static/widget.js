/* omniroute web chat widget. Hand-written, no dependencies, no build step.
 *
 *   <script src="https://omniroute.example.com/widget.js" data-key="pk_..." async></script>
 *
 * Optional attributes: data-sw="/widget-sw.js" (the service worker, served from the
 * site's own origin, for notifications), data-open="true" (open the chat at once).
 * Everything lives in a shadow root: the page's CSS cannot reach it, and it adds no
 * global but window.OmnirouteChat. Text is only ever set with textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.OmnirouteChat) return;
  var KEY = script.getAttribute("data-key");
  var BASE = new URL(script.src).origin;
  var SW_PATH = script.getAttribute("data-sw") || "/widget-sw.js";
  var STORE = "omniroute-chat:" + KEY;
  var HASH = "#omniroute-chat";
  var TYPING_EVERY_MS = 3000;

  var state = { config: null, session: load(), open: false, seen: {}, lastId: null, unread: 0,
                stream: null, retryMs: 1000, lastTyping: 0, readUpTo: null };

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }
  function save(session) {
    state.session = session;
    try {
      if (session) localStorage.setItem(STORE, JSON.stringify(session)); else localStorage.removeItem(STORE);
    } catch (e) { /* private mode: the chat lasts as long as the page */ }
  }

  function api(method, path, body, params) {
    var url = new URL(BASE + "/widget/v1" + path);
    url.searchParams.set("key", KEY);
    Object.keys(params || {}).forEach(function (k) { url.searchParams.set(k, params[k]); });
    var headers = { "Content-Type": "application/json" };
    if (state.session) headers.Authorization = "Bearer " + state.session.token;
    return fetch(url, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        if (response.status === 401 && state.session) {  // the chat was reset: start again
          save(null);
          throw new Error("session expired");
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.status === 204 ? null : response.json();
      });
  }

  function ensureSession() {
    if (state.session) return Promise.resolve(state.session);
    return api("POST", "/sessions", { public_key: KEY }).then(function (session) {
      save({ visitor_id: session.visitor_id, token: session.token });
      connect();
      return state.session;
    });
  }

  /* ---------- the DOM, inside a shadow root ---------- */
  var host = document.createElement("div");
  host.setAttribute("data-omniroute-chat", "");
  var root = host.attachShadow({ mode: "open" });
  var css =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}" +
    ".launcher svg{width:26px;height:26px;fill:#fff}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;" +
    "color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;height:520px;max-height:calc(100vh - 108px);" +
    "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:14px;overflow:hidden;" +
    "box-shadow:0 10px 40px rgba(0,0,0,.25);z-index:2147483000}" +
    ".panel[hidden]{display:none}" +
    "header{background:var(--c);color:#fff;padding:14px 16px;display:flex;align-items:center;gap:8px}" +
    "header h2{font-size:16px;margin:0;flex:1}" +
    "header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:12px;font-size:14px;line-height:1.4;white-space:pre-wrap;" +
    "word-wrap:break-word}" +
    ".business{align-self:flex-start;background:#fff;border:1px solid #e5e7eb}" +
    ".visitor{align-self:flex-end;background:var(--c);color:#fff}" +
    ".greeting{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;color:#374151}" +
    ".msg img{max-width:100%;border-radius:8px;display:block}" +
    ".choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}" +
    ".choices button{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:14px;padding:4px 10px;cursor:pointer}" +
    ".notify{border:0;background:#eef2ff;color:#3730a3;padding:8px;font-size:13px;cursor:pointer}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb}" +
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:8px;font-size:14px;height:40px}" +
    "form button{border:0;border-radius:10px;background:var(--c);color:#fff;padding:0 14px;cursor:pointer}" +
    ":focus-visible{outline:2px solid #f59e0b;outline-offset:2px}" +
    ".status{font-size:12px;color:#6b7280;text-align:center}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:100%;border-radius:0}}";
  root.innerHTML =
    "<style>" + css + "</style>" +
    '<button class="launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-controls="panel">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="badge" hidden></span></button>' +
    '<section class="panel" id="panel" role="dialog" aria-modal="false" hidden>' +
    '<header><h2 id="title"></h2><button type="button" class="close" aria-label="Close chat">&times;</button></header>' +
    '<button type="button" class="notify" hidden>Get notified when we reply</button>' +
    '<div class="log" role="log" aria-live="polite" aria-labelledby="title" tabindex="0"></div>' +
    '<p class="status" hidden></p>' +
    '<form><label for="text" style="position:absolute;left:-9999px">Your message</label>' +
    '<textarea id="text" rows="1" placeholder="Write a message…" maxlength="4000"></textarea>' +
    '<button type="submit">Send</button></form></section>';
  var $ = function (selector) { return root.querySelector(selector); };
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), input = $("textarea"),
      badge = $(".badge"), notify = $(".notify"), status = $(".status");
  panel.setAttribute("aria-labelledby", "title");

  function applyConfig(config) {
    state.config = config;
    host.style.setProperty("--c", config.color);
    $("#title").textContent = config.title;
    if (config.greeting) {
      var greeting = document.createElement("div");
      greeting.className = "msg greeting";
      greeting.textContent = config.greeting;
      log.insertBefore(greeting, log.firstChild);
    }
    if ("Notification" in window && "serviceWorker" in navigator && "PushManager" in window &&
        config.vapid_public_key && Notification.permission !== "denied") {
      notify.hidden = false;
    }
  }

  function render(message) {
    if (state.seen[message.id]) return;
    state.seen[message.id] = true;
    if (!state.lastId || message.id > state.lastId) state.lastId = message.id;
    var bubble = document.createElement("div");
    bubble.className = "msg " + message.author;
    bubble.setAttribute("data-id", message.id);
    var content = message.content || {};
    if (message.type === "text") {
      bubble.textContent = content.body || "";
    } else if (message.type === "image" && /^https?:\/\//.test(content.link || "")) {
      var image = document.createElement("img");
      image.src = content.link;
      image.alt = content.caption || "Image";
      bubble.appendChild(image);
      if (content.caption) bubble.appendChild(document.createTextNode(content.caption));
    } else if (message.type === "interactive") {
      bubble.textContent = (content.body && content.body.text) || "";
      var choices = document.createElement("div");
      choices.className = "choices";
      ((content.action && content.action.buttons) || []).forEach(function (button) {
        var title = (button.reply && button.reply.title) || button.title;
        if (!title) return;
        var choice = document.createElement("button");
        choice.type = "button";
        choice.textContent = title;
        choice.addEventListener("click", function () { send(title); });
        choices.appendChild(choice);
      });
      bubble.appendChild(choices);
    } else if (message.type === "push") {
      bubble.textContent = [content.title, content.body].filter(Boolean).join("\n");
    } else {
      bubble.textContent = "[" + message.type + "]";
    }
    var children = log.querySelectorAll(".msg[data-id]"), before = null;
    for (var i = 0; i < children.length; i++) {
      if (children[i].getAttribute("data-id") > message.id) { before = children[i]; break; }
    }
    log.insertBefore(bubble, before);
    log.scrollTop = log.scrollHeight;
    if (message.author === "business") {
      if (state.open && document.visibilityState === "visible") markRead(); else showUnread(state.unread + 1);
    }
  }

  function showUnread(count) {
    state.unread = count;
    badge.hidden = count === 0;
    badge.textContent = String(count);
    launcher.setAttribute("aria-label", count ? "Open chat, " + count + " unread" : "Open chat");
  }

  function latestBusinessId() {
    var bubbles = log.querySelectorAll(".msg.business[data-id]");
    return bubbles.length ? bubbles[bubbles.length - 1].getAttribute("data-id") : null;
  }

  function markRead() {
    var id = latestBusinessId();
    showUnread(0);
    if (!id || id === state.readUpTo || !state.session) return;
    state.readUpTo = id;
    api("POST", "/markers", { type: "read", message_id: id }).catch(function () { state.readUpTo = null; });
  }

  function history() {
    return api("GET", "/messages", null, { limit: 100 }).then(function (page) {
      page.data.forEach(render);
      var id = latestBusinessId();  // what waited for this visit has now reached the browser
      if (id) return api("POST", "/markers", { type: "delivered", message_id: id });
    });
  }

  /* ---------- the live stream: EventSource, reconnecting after drops ---------- */
  function connect() {
    if (!state.session) return;
    if (state.stream) state.stream.close();
    api("POST", "/stream-tickets").then(function (ticket) {
      var url = new URL(BASE + "/widget/v1/stream");
      url.searchParams.set("key", KEY);
      url.searchParams.set("ticket", ticket.ticket);
      if (state.lastId) url.searchParams.set("last_event_id", state.lastId);
      var stream = new EventSource(url.toString());
      state.stream = stream;
      stream.addEventListener("open", function () {
        state.retryMs = 1000;
        status.hidden = true;
        host.setAttribute("data-stream", "open");  // for the page (and tests): replies arrive live
      });
      stream.addEventListener("message", function (event) { render(JSON.parse(event.data)); });
      stream.addEventListener("error", function () {
        host.removeAttribute("data-stream");
        // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: the
        // server refused (an expired ticket): start again with a new ticket.
        if (stream.readyState === EventSource.CLOSED && state.stream === stream) reconnectLater();
      });
    }).catch(reconnectLater);
  }

  function reconnectLater() {
    status.textContent = "Reconnecting…";
    status.hidden = !state.open;
    var wait = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, 30000);
    setTimeout(connect, wait);
  }

  window.addEventListener("online", function () { if (state.session) connect(); });

  /* ---------- sending ---------- */
  function send(text) {
    text = text.trim();
    if (!text) return;
    ensureSession()
      .then(function () { return api("POST", "/messages", { text: text }); })
      .then(render)
      .catch(function () {
        status.textContent = "Not sent. Check your connection and try again.";
        status.hidden = false;
        input.value = input.value || text;
      });
  }

  $("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("form").requestSubmit();
    }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (!state.session || now - state.lastTyping < TYPING_EVERY_MS) return;
    state.lastTyping = now;
    api("POST", "/markers", { type: "typing" }).catch(function () {});
  });

  /* ---------- open and close, keyboard first ---------- */
  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      input.focus();
      markRead();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(!state.open); });
  $(".close").addEventListener("click", function () { setOpen(false); });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.open) setOpen(false);
  });
  document.addEventListener("visibilitychange", function () {
    if (state.open && document.visibilityState === "visible") markRead();
  });

  /* ---------- notifications (Web Push) ---------- */
  function applicationServerKey(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  notify.addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { notify.hidden = true; throw new Error("notifications not allowed"); }
      return Promise.all([ensureSession(), navigator.serviceWorker.register(SW_PATH)]);
    }).then(function (results) {
      return results[1].pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: applicationServerKey(state.config.vapid_public_key)
      });
    }).then(function (subscription) {
      var json = subscription.toJSON();
      return api("POST", "/push-subscriptions", { endpoint: json.endpoint, keys: json.keys });
    }).then(function () {
      notify.textContent = "We will notify you when we reply.";
      notify.disabled = true;
    }).catch(function () {
      notify.textContent = "Notifications are not available in this browser.";
      notify.disabled = true;
    });
  });

  /* ---------- start ---------- */
  function start() {
    document.body.appendChild(host);
    api("GET", "/config").then(function (config) {
      applyConfig(config);
      if (state.session) {
        history().catch(function () {}).then(connect);
      }
      if (script.getAttribute("data-open") === "true" || location.hash === HASH) setOpen(true);
    }).catch(function () { host.remove(); });  // not allowed on this site, or no such chat
  }
  window.OmnirouteChat = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
