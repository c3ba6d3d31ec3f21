"""The extensions the tests under tests/extensions run with: all of the repository's, in
one pytest process of its own (tests/conftest.py keeps them apart from the core's run). As
in production, a process runs one set of extensions: their operations, capabilities, words
and hooks are the process's, and every database the tests make has all their tables."""

ENABLED = "business_licence,retail_licence"
