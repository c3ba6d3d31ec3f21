"""The domain: one slice per area, each with its models, services and web handlers."""
