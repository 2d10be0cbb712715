/* Starts Swagger UI on the API docs page (templates/api/docs.html); no inline script. */
(function () {
  "use strict";
  var holder = document.getElementById("swagger-settings");
  if (!holder || typeof window.SwaggerUIBundle !== "function") return;
  var config = JSON.parse(holder.textContent);
  var token = document.body.dataset.csrfToken;
  config.dom_id = "#swagger-ui";
  config.presets = [window.SwaggerUIBundle.presets.apis];
  if (token) {
    config.requestInterceptor = function (req) {
      req.headers["X-CSRFToken"] = token;
      return req;
    };
  }
  window.SwaggerUIBundle(config);
})();
