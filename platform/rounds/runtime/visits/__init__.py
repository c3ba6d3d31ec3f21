"""Visit plans, check-ins (打卡入戶) and check-outs.

Holds: the tables (``models``), checking in and out and a visit's forms and rule context
(``service``, ``web``), monthly plans and my day (``plans``, ``plans_web``).

Imports: definitions, orgs, people, sites and storage (and any slice's models), the engines,
the shared runtime modules, rounds.db and rounds.web.
"""
