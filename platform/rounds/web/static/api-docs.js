// Starts Swagger UI on /api/docs. A file of ours rather than the inline script Litestar's
// page has, so the page runs under the same Content-Security-Policy as every other
// (script-src 'self', no inline script). The page names the OpenAPI document's URL.
"use strict";
(function () {
  var root = document.getElementById("swagger-container");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
