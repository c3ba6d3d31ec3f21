"""The definition store: definitions and their immutable published versions.

Holds: the tables (``models``), syncing from files, drafts, publishing and reading versions
and a role's content (``service``), the compiled form of a published standard or survey
(``compiled``), and the definitions API (``web``).

Imports: the engines, rounds.db, rounds.web and the shared runtime modules; the first slice,
it imports no other.
"""
