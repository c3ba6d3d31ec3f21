"""The forms engine: a definition version → JSON Schema, a fast decoder, HTML for people.

Pure: no database. Compiled once per definition version (by content hash) and cached.

Imports: the foundation and rounds.rules (and rounds.definitions.loader for a definition's
content hash, when the caller gives none); never rounds.runtime, rounds.web, rounds.db or
the app (the handlers that serve forms belong to the runtime).
"""
