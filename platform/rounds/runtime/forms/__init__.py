"""The web side of forms: the forms engine's API and pages, over the definition store.

- ``web``: ``GET /api/forms/{id}/schema`` (a form's JSON Schema) and
  ``POST /api/forms/{id}/check`` (validate and score a body without storing it);
- ``pages``: ``/forms`` (the index), ``/forms/{id}/preview`` (a form as people see it) and
  the routers of the form's static files (``rounds/forms/static``, and the JsonLogic
  engine the page's script loads from npm).

Thin: a handler reads a definition version (``runtime.definitions``) and hands it to the
engine (``rounds.forms``): compiling, validating, scoring and rendering happen there.

May import: the engines (``rounds.forms``, ``rounds.rules``), the foundation,
``rounds.web`` and the runtime slices before it (``runtime.definitions``,
``runtime.visits``).
"""
