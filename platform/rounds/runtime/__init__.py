"""The domain: one slice per area, each with its models, services, web handlers and jobs.

Layers of Rounds, lowest first; a module imports only from its own layer or lower ones
(``tests/unit/test_layers.py`` checks every import, function-local ones too):

1. foundation: ``rounds.errors``, ``rounds.settings``, ``rounds.textsafety``, ``rounds.i18n``
2. engines: ``rounds.rules`` -> ``rounds.forms`` -> ``rounds.definitions`` (pure: never the
   runtime, the web toolkit, the database or the app)
3. ``rounds.db``, ``rounds.web`` (the HTTP toolkit the slices share; it knows no slice)
   and ``rounds.ops.metrics`` (the counters slices move)
4. ``rounds.runtime`` (this package): first the shared modules every slice may use,
   ``models`` (every table, for the metadata), ``sql``, ``access`` (the principal and its
   scope), ``imports`` (CSV imports), ``audit`` (the trail of administrative changes);
   then the slices, in this order:

   definitions -> orgs -> people -> sites -> storage -> visits -> forms -> submissions
   -> notifications -> issues -> store -> okr -> fieldwork -> campaigns -> surveys -> portals
   -> dashboards -> admin

5. composition: ``rounds.jobs``, ``rounds.demo``, ``rounds.cli``, ``rounds.app``, the rest
   of ``rounds.ops`` (may import anything; the app wires every slice's handlers and hooks)

Why each slice sits where it does (each uses only the ones before it):

- ``definitions``: the stored definitions; everything else is configured by them.
- ``orgs``: the org unit tree, which scopes people and sites.
- ``people``: users with a role (a definition) in an org unit; signing in.
- ``sites``: the places people visit, in an org unit, assigned to people.
- ``storage``: uploaded photos; who may see one is a hook the slices using photos register.
- ``visits``: plans, check-ins and check-outs of people at sites.
- ``forms``: the web side of the forms engine (the form pages and their API).
- ``submissions``: a form filled at a visit, stored once, with its photos.
- ``notifications``: each user's inbox and its live pushes; it knows nothing of their topic.
- ``issues``: the closed loop from a submission's failed items; it notifies people.
- ``store``: the query store, facts rolled up from visits, submissions and issues.
- ``okr``: OKR grades per period, person and org unit, from the store's figures.
- ``fieldwork``: the field staff's pages, built on all of the above.
- ``campaigns``: check campaigns (双随机抽查) drawn on the record; their visits and
  submissions are the ones above, and the leader's campaign pages are drawn in the field
  pages' chrome, so it comes after fieldwork (which lists drawn sites through the
  ``visits.plans.more_stops`` hook, not by importing it).
- ``surveys``: survey campaigns (问卷调查) asked of retailers, consumers through public
  links, and industry users; their responses, scored, and their results.
- ``portals``: the pages of those outside the company: the retailer's own shop, the
  consumer's page, the industry user's figures; the company's notices to them.
- ``dashboards``: the leaders' and each person's figures, charts and exports (pages in the
  field pages' chrome).
- ``admin``: the administrators' app under ``/admin`` (definitions and their lifecycle,
  the audit trail, people and places), over every slice before it; its templates and
  static files are the top-level ``admin_ui/`` folder (``ROUNDS_ADMIN_UI_DIR``).

Models are the one database schema: any slice may import any ``*/models.py`` (foreign keys
cross slices), and a models module imports only other models and the shared modules.
Services, web handlers and jobs depend one way, in the order above. A lower slice that must
let a higher one act (a photo seen through an issue, issues made after a submission) offers
a hook the higher one registers.
"""
