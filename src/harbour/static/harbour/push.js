// "Get alerts on this device": web push, offered only where the browser can do it.
(function () {
  "use strict";
  var box = document.querySelector("[data-push-key]");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
  var button = box.querySelector("button");
  var status = box.querySelector("[data-push-status]");
  box.hidden = false;

  function keyBytes(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.serviceWorker.register(box.getAttribute("data-worker"), { scope: box.getAttribute("data-scope") })
      .then(function (registration) { return Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { throw new Error("denied"); }
        return registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-push-key"))
        });
      }); })
      .then(function (subscription) {
        return fetch(box.getAttribute("data-endpoint"), {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf") },
          body: JSON.stringify({
            subscription: subscription.toJSON(),
            areas: (document.getElementById("push-areas") || {}).value || "",
            lang: document.documentElement.lang
          })
        });
      })
      .then(function (response) {
        status.textContent = box.getAttribute(response.ok ? "data-done" : "data-failed");
      })
      .catch(function () {
        status.textContent = box.getAttribute("data-failed");
        button.disabled = false;
      });
  });
})();
