"""HTTP plumbing shared by the slices' handlers: problem details, sessions, pagination."""
