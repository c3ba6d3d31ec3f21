"""Closed-loop issues: a problem found in the field, assigned, rectified, verified, closed.

The assigner (交办人) and the assignee (整改责任人) both sign it off; every step is an event kept
forever.

Holds: the tables, who rectifies and who verifies an issue, the loop and its events,
reminders, escalations and reconciliation, and the issues API. It registers its hooks with
the slices below: issues made from a submission's failed items, and who sees its photos.

Imports: every slice before it (definitions ... submissions, notifications) and any slice's
models, the shared runtime modules, rounds.db and rounds.web.
"""
