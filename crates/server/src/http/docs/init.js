// Starts Swagger UI on the API document this server serves. A file of its own, not an inline
// script, so that the page's content security policy can allow scripts from this origin only.
'use strict';

window.addEventListener('DOMContentLoaded', () => {
  window.ui = SwaggerUIBundle({
    // Relative to the page, so the reference works wherever the server is mounted.
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // Swagger UI would otherwise send the document to an outside validator and show its badge.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
