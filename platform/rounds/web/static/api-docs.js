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
    // Tags start closed: with every operation open at once (about 140 now) Swagger UI drew
    // the first few and stopped; a tag opens on a click, with its operations.
    docExpansion: "none",
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
