"""Stored files (photos), behind one interface: a local folder by default.

Holds: the tables (``models``), the blob store (``store``), decoding and thumbnails
(``images``), uploads, quotas and cleanup (``service``, ``jobs``), who may see a photo
(``access``: a hook the slices whose records use photos register) and the photo API
(``web``).

Imports: the slices before it (definitions, orgs, people, sites) and any slice's models, the
shared runtime modules, rounds.db and rounds.web; never submissions or issues, which use it.
"""
