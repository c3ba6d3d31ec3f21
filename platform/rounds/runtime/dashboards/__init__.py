"""Dashboards: the leaders' and the field staff's figures, read from the query store only
(``rounds.runtime.store``), as pages, an API and streamed CSV / XLSX exports."""
