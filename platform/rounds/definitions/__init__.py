"""Definitions: the kinds of JSON definition, their meta-schemas, loading and validation."""
