{% load i18n %}// Harbour outreach: the service worker of one organization's street app (its scope is the
// organization's /outreach/ pages). It keeps the empty forms and their CSS and script, so they
// open with no connection; it stores no record (records wait in IndexedDB, see outreach.js).
"use strict";
var VERSION = "{{ version }}";
var SCOPE = new URL(self.registration.scope).pathname;
var CACHE = "harbour-outreach:" + SCOPE + ":" + VERSION;
var SHELL = {{ shell|safe }};
var ASSETS = {{ assets|safe }};
var OFFLINE = "{% filter escapejs %}{% translate "You are offline and this page was not saved on this phone." %}{% endfilter %}";
var BACK = "{% filter escapejs %}{% translate "Log an encounter" %}{% endfilter %}";

function keep(cache, url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    // never keep a sign-in page in place of a form (a session that ended redirects)
    if (response.ok && !response.redirected && response.type === "basic") {
      return cache.put(url, response);
    }
  }).catch(function () {});
}

function refresh() {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.concat(ASSETS).map(function (url) { return keep(cache, url); }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(refresh().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  var prefix = "harbour-outreach:" + SCOPE + ":";
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf(prefix) === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data === "refresh") { event.waitUntil(refresh()); }
});

function offlinePage() {
  var html = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>Harbour</title><main><p>" + OFFLINE + "</p><p><a href='" + SHELL[1] + "'>" + BACK +
    "</a></p></main>";
  return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname.indexOf(SCOPE) === 0) {
    // the network first (fresh forms, fresh messages); the kept copy when there is none
    event.respondWith(fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(url.pathname);
      }).then(function (kept) { return kept || offlinePage(); });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    // the kept copy at once (slow connections), refreshed behind it for next time
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (kept) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(url.pathname, response.clone()); }
          return response;
        });
        if (kept) {
          event.waitUntil(fresh.catch(function () {}));
          return kept;
        }
        return fresh;
      });
    }));
  }
});
