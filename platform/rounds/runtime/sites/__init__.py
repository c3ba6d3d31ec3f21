"""Sites staff visit (retailers above all), of a site kind from the definitions.

Holds: the tables (``models``), attributes checked against the site kind (``attributes``),
distances (``geo``), creating, listing, staffing and QR codes (``service``), the CSV import
(``imports``) and the sites API (``web``).

Imports: definitions, orgs and people (and any slice's models), the shared runtime modules,
rounds.db and rounds.web.
"""
