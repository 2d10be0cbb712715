// "Use my location": fills the Near field with the browser's position (rounded to ~100 m).
(function () {
  "use strict";
  var button = document.querySelector("[data-locate]");
  if (!button || !navigator.geolocation) { return; }
  button.parentElement.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-target"));
    navigator.geolocation.getCurrentPosition(function (pos) {
      field.value = pos.coords.latitude.toFixed(3) + "," + pos.coords.longitude.toFixed(3);
      field.form.submit();
    }, function () {
      field.setAttribute("aria-describedby", "");
      window.alert(button.getAttribute("data-error"));
    }, { timeout: 10000, maximumAge: 300000 });
  });
})();
