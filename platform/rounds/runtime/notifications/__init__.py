"""Notifications: an inbox per user, pushed live to open pages (Server-Sent Events).

Holds: the table (``models``), writing and reading inboxes (``service``), the live pushes
and their Redis fan-out (``push``, ``jobs``) and the inbox API and event stream (``web``).

Imports: the shared runtime modules, rounds.db and rounds.web (and any slice before it); it
knows nothing of what a notification is about, so issues and the others can use it.
"""
