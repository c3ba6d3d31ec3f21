"""An extension that cannot start: its import fails."""

raise RuntimeError("its licence server is not configured")
