"""The forms engine: a definition version → JSON Schema, a fast decoder, HTML for people.

Pure: no database. Compiled once per definition version (by content hash) and cached.
"""
