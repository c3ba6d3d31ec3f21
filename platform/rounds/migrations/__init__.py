"""Alembic migrations: the schema of the SQL store, the same on SQLite and PostgreSQL."""
