"""People: users with a role (a role definition) in an org unit, and how they sign in.

Holds: the tables (``models``), passwords, sessions, tokens and principals (``auth``), the
sign-in throttle (``throttle``), resolving a request's credential to a principal
(``guards``, installed by the app), managing users (``service``, ``admin_web``), the CSV
import (``imports``) and the sign-in API (``web``).

Imports: definitions and orgs (and any slice's models), the shared runtime modules,
rounds.db and rounds.web.
"""
