"""Submissions: a filled form, validated, scored and stored exactly once."""
