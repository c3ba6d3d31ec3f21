"""The administrators' app under ``/admin``: definitions and their lifecycle (list, versions,
publish, roll back, export, import, diff), the audit trail, and (built by others in the same
shell) the structured editor and the people and places pages.

``pages``: the shell every admin page renders through (templates from ``admin_ui/``, the
field pages' chrome, the admin sub-navigation, the guard); ``service``: what the pages read
(counts, lists) over the slices before this one.
"""
