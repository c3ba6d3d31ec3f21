"""Closed-loop issues: a problem found in the field, assigned, rectified, verified, closed.

The assigner (交办人) and the assignee (整改责任人) both sign it off; every step is an event kept
forever.

Where things are (each module imports only those listed before it, and the models):

- ``models``: the tables (issues, their events, their photos) and the states;
- ``texts``: the slice's words (notifications, generated titles), from the ``issues``
  gettext catalogue;
- ``views``: the shapes an issue is shown in (the API's JSON, the pages' data);
- ``routing``: who rectifies and who verifies (the rules, the fallback, why);
- ``states``: which action from which state, by whom; the loop's conflicts;
- ``checks``: the checks of what a person sends (texts, photos, the assignee);
- ``events``: the history (an event per step) and who is told of it;
- ``deadlines``: due dates, reminders and escalation;
- ``queries``: who sees which issues; the board, my issues, one issue;
- ``lifecycle``: the steps of the loop (start … close, reopen, cancel, reassign, comment);
- ``sources``: where issues come from (failed items, 交办, feedback) and the reconciliation;
- ``bulk``: a submission's issues in its own transaction, set-based, routed from memory;
- ``web`` (HTTP handlers) and ``jobs`` (the periodic work, the on-demand task).

It registers its hooks with the slices below it when its modules are imported (the app
imports them): ``bulk`` makes issues from a submission's failed items in its transaction
(``submissions.service.with_failed_items``), ``queries`` lets whoever sees an issue see its
photos (``storage.access.photo_use``).

Imports: every slice before it (definitions ... submissions, notifications) and any slice's
models, the shared runtime modules, rounds.db and rounds.web.
"""
