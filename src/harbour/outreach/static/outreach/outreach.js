// Harbour outreach, the street app. Without JavaScript the forms post as usual. With it:
// every encounter and overdose response gets a UUID made here, waits in IndexedDB, and is sent
// to the JSON API in batches; a record is removed only once the server has it ("stored" or
// "duplicate"), so a retry or a double tap never stores it twice. What the server refuses
// stays here with the reason until the worker fixes or discards it. A session that ended
// leaves the records here until the worker signs in again.
(function () {
  "use strict";
  var app = document.getElementById("outreach-app");
  if (!app || !window.indexedDB || !window.fetch || !window.Promise) { return; }
  var T = app.dataset;
  var DB = "harbour-outreach", STORE = "records", BATCH = 50;
  var state = "", syncing = false, timer = null;

  // --- IndexedDB ---------------------------------------------------------------------------
  var opened = null;
  function db() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }
  function tx(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var t = database.transaction(STORE, mode);
        var request = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(request ? request.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(record) { return tx("readwrite", function (s) { s.put(record); }); }
  function remove(id) { return tx("readwrite", function (s) { s["delete"](id); }); }
  function get(id) { return tx("readonly", function (s) { return s.get(id); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- forms <-> records -------------------------------------------------------------------
  var LISTS = { services: 1, referrals: 1, substances: 1 };
  var BOOLS = { naloxone_trained: 1, consent: 1, oxygen: 1 };
  var SKIP = { csrfmiddlewaretoken: 1, id: 1 };

  function readForm(form) {
    var data = { supplies: {} };
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name;
      if (!name || SKIP[name] || el.type === "submit" || el.type === "button") { return; }
      if (LISTS[name]) {
        data[name] = data[name] || [];
        if (el.checked) { data[name].push(el.value); }
      } else if (BOOLS[name]) {
        data[name] = el.checked;
      } else if (el.type === "radio") {
        if (el.checked) { data[name] = el.value; }
      } else if (name.indexOf("supply-") === 0) {
        var n = parseInt(el.value, 10);
        if (n) { data.supplies[name.slice(7)] = n; } // the server refuses what is out of range
      } else if (el.type === "number") {
        data[name] = parseInt(el.value, 10) || 0;
      } else if (name === "occurred_at") {
        // the device's time when saved (not when sent), with its offset
        data[name] = el.value ? new Date(el.value).toISOString() : new Date().toISOString();
      } else if (name === "lat" || name === "lng") {
        data[name] = el.value === "" ? null : parseFloat(el.value);
      } else {
        data[name] = el.value;
      }
    });
    return data;
  }

  function localInput(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    d = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }

  function fillForm(form, data, withTime) {
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name;
      if (!name || SKIP[name] || el.type === "submit" || el.type === "button") { return; }
      if (LISTS[name]) { el.checked = (data[name] || []).indexOf(el.value) !== -1; }
      else if (BOOLS[name]) { el.checked = !!data[name]; }
      else if (el.type === "radio") { if (data[name] !== undefined) { el.checked = data[name] === el.value; } }
      else if (name.indexOf("supply-") === 0) { el.value = (data.supplies || {})[name.slice(7)] || 0; }
      else if (name === "occurred_at") { el.value = withTime && data[name] ? localInput(data[name]) : ""; }
      else if (data[name] !== undefined && data[name] !== null) { el.value = data[name]; }
    });
  }

  function showErrors(form, errors) {
    Array.prototype.forEach.call(form.querySelectorAll(".js-error"), function (p) { p.remove(); });
    var box = form.querySelector("[data-form-errors]");
    var lines = [];
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.elements[name] || form.elements["supply-" + name] ||
        (name === "supplies" || name === "kits" ? form.querySelector(".supplies input") : null);
      var messages = errors[name].join(" ");
      if (field && field.length && !field.tagName) { field = field[0]; }
      var holder = field && field.closest ? field.closest(".field, .count-field, fieldset") : null;
      if (holder) {
        var p = document.createElement("p");
        p.className = "error js-error";
        p.textContent = messages;
        holder.insertBefore(p, holder.firstChild.nextSibling);
      }
      lines.push(messages);
    });
    if (box) {
      box.textContent = lines.join(" ");
      box.hidden = !lines.length;
    }
  }

  // --- the outbox on every page ------------------------------------------------------------
  var outbox = document.querySelector("[data-outbox]");
  function say(text) {
    var el = outbox && outbox.querySelector("[data-outbox-state]");
    if (el) { el.textContent = text || ""; }
  }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : d.toLocaleString(document.documentElement.lang + "-CA",
      { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function render() {
    if (!outbox) { return Promise.resolve(); }
    return all().then(function (records) {
      var mine = records.filter(function (r) { return r.user === T.user; });
      var others = records.length - mine.length;
      var pending = mine.filter(function (r) { return r.state === "pending"; });
      var rejected = mine.filter(function (r) { return r.state === "rejected"; });
      var count = outbox.querySelector("[data-outbox-count]");
      var n = pending.length + rejected.length;
      var parts = [];
      if (n) { parts.push(n === 1 ? T.tOne : T.tMany.replace("{n}", n)); }
      if (others) { parts.push(T.tOtherUser.replace("{n}", others)); }
      count.textContent = parts.join(" ");
      outbox.hidden = !(n || others || state);
      outbox.querySelector("[data-outbox-send]").hidden = !pending.length;
      outbox.querySelector("[data-outbox-login]").hidden = state !== "signed-out";
      var list = outbox.querySelector("[data-outbox-rejected]");
      list.textContent = "";
      rejected.forEach(function (r) {
        var li = document.createElement("li");
        li.className = "card rejected";
        var what = document.createElement("p");
        var strong = document.createElement("strong");
        strong.textContent = (r.kind === "response" ? T.tResponse : T.tEncounter) + " · " + when(r.data.occurred_at);
        what.appendChild(strong);
        var why = document.createElement("p");
        why.className = "error";
        why.textContent = r.detail || "";
        var fix = document.createElement("a");
        fix.className = "button small";
        fix.href = (r.kind === "response" ? T.overdose : T.log) + "#fix=" + r.id;
        fix.textContent = T.tFix;
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "secondary small";
        drop.textContent = T.tDiscard;
        drop.addEventListener("click", function () {
          if (window.confirm(T.tConfirmDiscard)) { remove(r.id).then(render); }
        });
        var actions = document.createElement("p");
        actions.className = "actions";
        actions.appendChild(fix);
        actions.appendChild(drop);
        li.appendChild(what);
        li.appendChild(why);
        li.appendChild(actions);
        list.appendChild(li);
      });
      outbox.querySelector("[data-outbox-rejected-wrap]").hidden = !rejected.length;
      if (!n && !others && state !== "signed-out") { state = ""; say(""); }
    });
  }

  // --- sending -----------------------------------------------------------------------------
  function rejectAll(batch, detail) {
    return Promise.all(batch.map(function (r) {
      r.state = "rejected";
      r.detail = detail;
      r.errors = {};
      return put(r);
    }));
  }

  function send(me, batch) {
    var body = { encounters: [], responses: [] };
    batch.forEach(function (r) {
      (r.kind === "response" ? body.responses : body.encounters).push(r.data);
    });
    var url = T.sync.replace(T.org, batch[0].org);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": me.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { state = "signed-out"; throw new Error("auth"); }
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (response.ok) {
          var byId = {};
          batch.forEach(function (r) { byId[r.id] = r; });
          return Promise.all((json.results || []).map(function (result) {
            var r = byId[result.id];
            if (!r) { return null; }
            if (result.status === "stored" || result.status === "duplicate") { return remove(r.id); }
            r.state = "rejected";
            r.detail = result.detail;
            r.errors = result.errors || {};
            return put(r);
          }));
        }
        if (response.status >= 400 && response.status < 500) {
          var detail = typeof json.detail === "string" ? json.detail : JSON.stringify(json.detail || response.status);
          return rejectAll(batch, detail);
        }
        throw new Error("server " + response.status);
      });
    });
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    syncing = true;
    return all().then(function (records) {
      var pending = records.filter(function (r) { return r.state === "pending" && r.user === T.user; });
      if (!pending.length) { return; }
      if (navigator.onLine === false) { state = "offline"; say(T.tOffline); return; }
      say(T.tSending);
      return fetch(T.status, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if ((response.status === 403 || response.status === 404) && type.indexOf("json") !== -1) {
            return response.json().then(function (json) {
              state = "refused";
              say(json.detail || T.tFailed);
              throw new Error("refused");
            });
          }
          if (response.status === 401 || response.redirected || type.indexOf("json") === -1) {
            state = "signed-out";
            throw new Error("auth");
          }
          return response.json();
        })
        .then(function (me) {
          var mine = pending.filter(function (r) { return r.user === me.user; });
          var chain = Promise.resolve();
          for (var i = 0; i < mine.length; i += BATCH) {
            (function (batch) { chain = chain.then(function () { return send(me, batch); }); })(mine.slice(i, i + BATCH));
          }
          return chain.then(function () { state = ""; say(""); });
        });
    }).catch(function (error) {
      if (state === "refused") { return; }
      if (state === "signed-out") { say(T.tSignedOut); }
      else if (navigator.onLine === false || error instanceof TypeError) { state = "offline"; say(T.tOffline); }
      else { state = "failed"; say(T.tFailed); }
    }).then(function () {
      syncing = false;
      return render();
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { sync().then(later); }, 30000);
  }

  // --- the forms ---------------------------------------------------------------------------
  var form = document.querySelector("form[data-offline]");
  var LAST = "harbour-outreach:last:" + T.org + ":";

  function sticky(data) {
    // what stays for the next record: who and where (the rest starts afresh)
    ["team", "spot", "fsa"].forEach(function (name) {
      if (form.elements[name] && data[name] !== undefined) { form.elements[name].value = data[name]; }
    });
  }

  if (form) {
    var kind = form.getAttribute("data-offline");
    var fixing = null;
    var loadFix = function () {
      // "Fix" on a refused record: back into the form, with the reasons at the fields
      var fix = /#fix=([0-9a-f-]{36})/.exec(window.location.hash);
      if (!fix || fix[1] === fixing) { return; }
      get(fix[1]).then(function (record) {
        if (!record || record.kind !== kind) { return; }
        fixing = record.id;
        fillForm(form, record.data, true);
        showErrors(form, record.errors || { "__all__": [record.detail] });
        var box = form.querySelector("[data-form-errors]");
        if (box) { box.textContent = T.tFixing + " " + box.textContent; box.hidden = false; }
        form.scrollIntoView({ block: "start" });
      });
    };
    loadFix();
    window.addEventListener("hashchange", loadFix);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = readForm(form);
      var id = fixing || uuid();
      data.id = id;
      var record = { id: id, kind: kind, org: T.org, user: T.user, data: data, state: "pending", saved: new Date().toISOString() };
      var button = form.querySelector("[type=submit]");
      if (button) { button.disabled = true; }
      put(record).then(function () {
        try { localStorage.setItem(LAST + kind, JSON.stringify(data)); } catch (e) { /* private mode */ }
        fixing = null;
        if (window.location.hash) { history.replaceState(null, "", window.location.pathname); }
        form.reset();
        sticky(data);
        showErrors(form, {});
        return sync();
      }).then(function () {
        return get(id);
      }).then(function (left) {
        var message = !left ? T.tSent : left.state === "rejected" ? "" : T.tSavedOffline;
        if (message) { say(message); outbox.hidden = false; }
        if (left && left.state === "rejected") {
          fixing = id;
          history.replaceState(null, "", "#fix=" + id);
          fillForm(form, left.data, true);
          showErrors(form, left.errors);
        }
      }).then(function () {
        if (button) { button.disabled = false; }
        if (outbox) { outbox.scrollIntoView({ block: "nearest" }); }
      });
    });
    var repeat = form.querySelector("[data-repeat]");
    if (repeat) {
      repeat.addEventListener("click", function (event) {
        var last = null;
        try { last = JSON.parse(localStorage.getItem(LAST + kind) || "null"); } catch (e) { last = null; }
        if (!last) { return; } // the server's "same as last time" (the link) still works
        event.preventDefault();
        delete last.occurred_at; delete last.notes; delete last.client_code; delete last.consent;
        fillForm(form, last, false);
      });
    }
    // big + and - buttons next to each count
    Array.prototype.forEach.call(form.querySelectorAll("[data-step]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-for"));
        var value = (parseInt(input.value, 10) || 0) + parseInt(button.getAttribute("data-step"), 10);
        var max = parseInt(input.getAttribute("max"), 10);
        input.value = Math.max(0, isNaN(max) ? value : Math.min(max, value));
      });
    });
    // the device position, rounded by the server to about 100 m
    var locate = form.querySelector("[data-locate]");
    if (locate && navigator.geolocation) {
      locate.parentElement.hidden = false;
      locate.addEventListener("click", function () {
        var status = form.querySelector("[data-locate-status]");
        navigator.geolocation.getCurrentPosition(function (pos) {
          form.elements.lat.value = pos.coords.latitude.toFixed(3);
          form.elements.lng.value = pos.coords.longitude.toFixed(3);
          status.textContent = T.tLocated;
        }, function () { status.textContent = T.tNoLocation; }, { timeout: 15000, maximumAge: 300000 });
      });
    }
  }

  if (outbox) {
    outbox.querySelector("[data-outbox-send]").addEventListener("click", function () { sync(); });
  }
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { state = "offline"; say(T.tOffline); render(); });

  // --- the service worker: the forms open with no connection ------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(T.sw, { scope: T.scope }).then(function () {
      var key = "harbour-outreach:refreshed:" + T.scope;
      var last = 0;
      try { last = parseInt(localStorage.getItem(key) || "0", 10); } catch (e) { last = 0; }
      if (navigator.onLine !== false && navigator.serviceWorker.controller && Date.now() - last > 600000) {
        navigator.serviceWorker.controller.postMessage("refresh");
        try { localStorage.setItem(key, String(Date.now())); } catch (e) { /* private mode */ }
      }
    }).catch(function () {});
  }

  render().then(sync).then(later);
})();
