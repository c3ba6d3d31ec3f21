"""Check campaigns (双随机抽查): stored, drawn on the record, worked as visits.

``models``: campaigns, their draws (never changed once written) and the drawn assignments;
``service``: create, draw, re-draw, close, progress, the inspector's campaign visits, and
the hooks this slice fills in lower ones: a drawn inspector's scope takes in the drawn site
during the period (``access.widen_site_scope``) and "my day" lists it
(``visits.plans.more_stops``); ``web``: the API (``/api/campaigns``).
"""
