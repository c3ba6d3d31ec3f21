"""The field staff's pages: sign in, my day, check-in, the visit's forms, results.

Holds: the pages and their handlers, the queries they need, their view models and words,
templates and scripts.

Imports: any slice (it is the last), the engines, the shared runtime modules, rounds.db and
rounds.web.
"""
