"""The runtime's slices, loaded together: what runs the product imports this first.

A lower slice offers a hook that a higher one fills when its module is imported: a
submission's failed items become issues in its transaction
(``submissions.service.with_failed_items``, filled by ``issues.bulk``), and whoever may see
a submission or an issue may see its photos (``storage.access.photo_use``, filled by
``submissions.service`` and ``issues.queries``); a drawn inspector's scope takes in the drawn
site during a check campaign (``access.widen_site_scope``) and "my day" lists it
(``visits.plans.more_stops``), both filled by ``campaigns.service``; a checked-out visit
asks the shop about it (``visits.service.after_check_out``, filled by ``surveys.service``).
The app, the job worker and the demo import this module so that no hook is missing
because a module happened not to be imported yet. A hook left empty fails closed: a photo
no slice claims is shown to its uploader only, and a failed item waits for the
reconciliation.

Composition: it may import any slice.
"""

from __future__ import annotations

from types import ModuleType

from rounds.runtime.campaigns import service as campaigns
from rounds.runtime.issues import bulk as issue_bulk
from rounds.runtime.issues import queries as issue_queries
from rounds.runtime.issues import sources as issue_sources
from rounds.runtime.submissions import service as submissions
from rounds.runtime.surveys import service as surveys

# The modules that fill the lower slices' hooks.
HOOKED: tuple[ModuleType, ...] = (submissions, issue_queries, issue_sources, issue_bulk,
                                  campaigns, surveys)
