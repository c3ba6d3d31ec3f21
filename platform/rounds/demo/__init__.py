"""Demo data: a realistic city, plausible answers.

It runs the services as the app does, so it loads every slice (``rounds.slices``) first.
"""

import rounds.slices  # noqa: F401  (the hooks the slices fill in each other)
