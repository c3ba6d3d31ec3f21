"""Submissions: a filled form, validated, scored and stored exactly once.

Holds: the tables (``models``), the body as sent (``body``), what is stored and how it is
shown (``documents``), the write path and reading (``service``) and the API (``web``, which
also wires the photo handlers). The slices above register what follows a submission with
failed items (``service.with_failed_items``: in its transaction; ``after_failed_items``:
after the response) and see photos through ``storage.access``.

Imports: every slice before it (definitions ... visits, forms) and any slice's models, the
engines, the shared runtime modules, rounds.db and rounds.web.
"""
