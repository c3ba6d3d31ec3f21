"""Demo data: a realistic city, plausible answers."""
