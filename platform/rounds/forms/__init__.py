"""The forms engine: a definition version → JSON Schema, a fast decoder, HTML for people.

Pure: no database and no web framework; the web side (API and pages) is the runtime slice
``rounds.runtime.forms``. Compiled once per definition version (by content hash) and cached.

Its modules, lowest first:

- ``schema``: a form's items, and the JSON Schema (2020-12) of a submission body;
- ``decoder``: msgspec Structs that decode a body and check its shape in one pass;
- ``messages``: raw errors → problems with labels and words, in the user's language;
- ``conditions``: what both paths agree on ("answered", "shown", missing evidence);
- ``fast_path``: the conditional checks on decoded Structs (the plan of a form's rules);
- ``slow_path``: every error of any body (jsonschema, then ``StandardRules.form``);
- ``compiled``: ``compile_form``, ``CompiledForm.validate``, ``ValidSubmission``;
- ``render``: a form as an HTML page (templates in ``templates/``, assets in ``static/``).

May import: the foundation (``rounds.errors``, ``rounds.i18n``, ``rounds.cache``,
``rounds.pointer``) and ``rounds.rules``; never ``rounds.definitions`` (above it),
``rounds.runtime``, ``rounds.web``, ``rounds.db`` or ``rounds.app``.
"""
