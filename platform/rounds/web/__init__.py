"""The HTTP toolkit the slices' handlers share: errors as problem details (``problems``),
bounded path and query parameters such as ids and page numbers (``params``), JSON body
bounds (``bodies``), security headers and body rules (``security``), deny-by-default sign-in
and CSRF (``auth``), the database session and settings as dependencies (``deps``), and the
OpenAPI document and its explorer (``openapi``, ``apidocs``).

It knows no slice. Imports: the foundation and rounds.db; never rounds.runtime (what needs
a slice, such as resolving a session to a user, lives in that slice and the app wires it).
"""
