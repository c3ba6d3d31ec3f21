"""Background jobs (Celery): what should not run inside a request.

Tasks live in the slices (``runtime/<area>/jobs.py``) and are registered here. They are
idempotent, acknowledged late and retried; and the work they do can always be recomputed
from the database (a periodic reconciliation), so a lost message delays work and never
loses it.
"""
