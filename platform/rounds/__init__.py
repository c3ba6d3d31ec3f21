"""Rounds: a low-code platform for field teams that work to written standards.

The packages, in layers (lowest first; each imports only its own layer or lower ones; the
order is spelled out in ``rounds.runtime``'s docstring):

1. foundation: ``errors``, ``settings``, ``textsafety``, ``i18n``;
2. engines: ``rules`` -> ``forms`` -> ``definitions`` (pure: no database, no HTTP);
3. ``db`` (the SQL store) and ``web`` (the HTTP toolkit);
4. ``runtime``: the slices (definitions, people, sites, visits, submissions, issues...);
5. composition: ``jobs``, ``demo``, ``cli``, ``app``, ``migrate`` and ``migrations``.
"""

__version__ = "0.1.0"
