// API 文档: starts Swagger UI (kehu/static/vendor/swagger-ui, from npm) with the settings the
// docs view put in #swagger-settings. A separate file: the Content-Security-Policy allows no
// inline script. Requests send the session's CSRF cookie back as the header Django checks.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  config.dom_id = "#swagger-ui";
  config.presets = [SwaggerUIBundle.presets.apis];
  config.requestInterceptor = function (request) {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) request.headers["X-CSRFToken"] = decodeURIComponent(match[1]);
    return request;
  };
  window.kehuSwagger = SwaggerUIBundle(config);
})();
