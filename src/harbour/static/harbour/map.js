// Results map, only when the person asks for it: loading map tiles tells the tile server which
// area is being searched, so nothing is fetched until "Show map" is pressed, and the map
// library itself (Leaflet, about 150 KB) is loaded only then.
(function () {
  "use strict";
  var button = document.querySelector("[data-show-map]");
  var box = document.getElementById("results-map");
  if (!button || !box) { return; }
  button.parentElement.hidden = false;

  function load(done) {
    if (window.L) { done(); return; }
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = button.getAttribute("data-leaflet-css");
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = button.getAttribute("data-leaflet-js");
    script.onload = done;
    document.head.appendChild(script);
  }

  function show() {
    box.hidden = false;
    var map = L.map(box, { scrollWheelZoom: false });
    L.tileLayer(box.getAttribute("data-tiles"), {
      maxZoom: 18,
      attribution: box.getAttribute("data-attribution")
    }).addTo(map);
    L.Icon.Default.imagePath = box.getAttribute("data-images");
    var points = [];
    document.querySelectorAll("[data-lat]").forEach(function (item) {
      var lat = parseFloat(item.getAttribute("data-lat"));
      var lng = parseFloat(item.getAttribute("data-lng"));
      if (isNaN(lat) || isNaN(lng)) { return; }
      var link = item.querySelector("h3 a");
      var marker = L.marker([lat, lng], { title: link ? link.textContent : "" }).addTo(map);
      if (link) {
        var a = document.createElement("a");
        a.href = link.href;
        a.textContent = link.textContent;
        marker.bindPopup(a);
      }
      points.push([lat, lng]);
    });
    if (points.length) { map.fitBounds(points, { padding: [24, 24], maxZoom: 15 }); }
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    load(function () {
      button.parentElement.hidden = true;
      show();
    });
  });
})();
