"""Org units: the company's tree (city company → station / market department → area).

Holds: the table (``models``), scope checks and the visible tree (``service``), the CSV
import (``imports``) and the org-unit API (``web``).

Imports: the definitions slice, the shared runtime modules, rounds.db and rounds.web.
"""
