// Check-ins: "Share my location" fills the hidden position (never sent until the form is);
// a countdown to the next step. Without JavaScript the pages work as plain forms.
(function () {
  "use strict";
  var button = document.querySelector("[data-share-location]");
  if (button && navigator.geolocation) {
    button.parentElement.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-target"));
      var status = document.querySelector("[data-location-status]");
      navigator.geolocation.getCurrentPosition(function (pos) {
        field.value = pos.coords.latitude.toFixed(5) + "," + pos.coords.longitude.toFixed(5);
        status.textContent = button.getAttribute("data-done");
      }, function () {
        status.textContent = button.getAttribute("data-error");
      }, { timeout: 15000, maximumAge: 60000, enableHighAccuracy: true });
    });
  }
  var clock = document.querySelector("[data-due]");
  if (clock) {
    var due = Date.parse(clock.getAttribute("data-due"));
    var tick = function () {
      var left = Math.max(0, Math.round((due - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (left > 0) { window.setTimeout(tick, 1000); }
    };
    tick();
  }
})();
