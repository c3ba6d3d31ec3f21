"""People: users with a role (a role definition) in an org unit, and how they sign in."""
