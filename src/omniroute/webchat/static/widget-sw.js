/* omniroute web chat service worker: shows the business's replies as notifications when
 * the chat is not open, and opens the page with the chat when one is clicked.
 * Serve it from your own site (a service worker must be same-origin with the page):
 * copy {omniroute}/widget-sw.js to /widget-sw.js, or proxy that path. */
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "New message", {
      body: data.body || "",
      tag: "omniroute-chat",
      renotify: true,
      data: { url: data.url || null, message_id: data.message_id || null }
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = (event.notification.data && event.notification.data.url) || self.registration.scope;
  var url = new URL(target, self.registration.scope);
  if (url.origin === self.location.origin && !url.hash) url.hash = "omniroute-chat";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url.split("#")[0] === url.href.split("#")[0] && "focus" in windows[i]) {
          return windows[i].navigate(url.href).then(function (client) { return client && client.focus(); });
        }
      }
      return self.clients.openWindow(url.href);
    })
  );
});
