"""The definition store: definitions and their immutable published versions."""
