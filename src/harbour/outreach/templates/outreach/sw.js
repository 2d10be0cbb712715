{% load i18n %}// Harbour outreach: the service worker of one organization's street app (its scope is the
// organization's /outreach/ pages). It keeps the empty forms and their CSS and script, so they
// open with no connection; it stores no record (records wait in IndexedDB, see outreach.js).
"use strict";
var VERSION = "{{ version }}";
var SCOPE = new URL(self.registration.scope).pathname;
var CACHE = "harbour-outreach:" + SCOPE + ":" + VERSION;
var SHELL = {{ shell|safe }};
var ASSETS = {{ assets|safe }};
{% get_current_language as LANGUAGE_CODE %}var LANG = "{{ LANGUAGE_CODE|escapejs }}";
// the words of the offline page (from the view: makemessages does not read .js templates)
var TITLE = "{{ words.title|escapejs }}";
var OFFLINE = "{{ words.offline|escapejs }}";
var BACK = "{{ words.back|escapejs }}";
var EXIT = "{{ words.exit|escapejs }}";
var EXIT_HELP = "{{ words.exit_help|escapejs }}";
var EXIT_URL = "{{ QUICK_EXIT_URL|escapejs }}";

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

function attr(text) {
  return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function offlinePage() {
  // a Harbour page in the language the street app was opened in, with the quick exit (its
  // script and the CSS are kept on the phone with the forms)
  var html = "<!doctype html><html lang=\"" + attr(LANG) + "\"><head><meta charset=utf-8>" +
    "<meta name=viewport content=\"width=device-width, initial-scale=1\">" +
    "<title>" + attr(TITLE) + " · Harbour</title>" +
    "<link rel=stylesheet href=\"" + attr(ASSETS[0]) + "\">" +
    "<script src=\"" + attr(ASSETS[3]) + "\" defer></script></head><body>" +
    "<header class=site-header><div class=bar><span class=brand>Harbour</span>" +
    "<a class=quick-exit href=\"" + attr(EXIT_URL) + "\" rel=\"noreferrer noopener\" " +
    "data-quick-exit title=\"" + attr(EXIT_HELP) + "\">" + attr(EXIT) + "</a></div></header>" +
    "<main id=main tabindex=-1><h1>" + attr(TITLE) + "</h1><p>" + attr(OFFLINE) + "</p>" +
    "<p><a href=\"" + attr(SHELL[1]) + "\">" + attr(BACK) + "</a></p></main></body></html>";
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
