"""Definitions: the kinds of JSON definition, their meta-schemas, loading and validation.

Pure: files and JSON in, problems out; storing definitions is ``rounds.runtime.definitions``.

Imports: the foundation, rounds.rules (to compile and check the rules a definition holds);
never rounds.runtime, rounds.web, rounds.db or the app.
"""
