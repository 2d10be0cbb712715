// Harbour's service worker for alerts: shows a pushed alert and opens it when tapped.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "Harbour", {
    body: data.body || "", data: { url: data.url || "{{ alerts_url }}" }, lang: data.lang || "en",
    // the same alert delivered twice (a resend after a failure) replaces, not doubles
    tag: data.tag || undefined
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(clients.openWindow(event.notification.data.url));
});
