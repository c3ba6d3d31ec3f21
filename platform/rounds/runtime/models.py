"""Every slice's models, imported in one place so the metadata (and Alembic) sees them all."""

from rounds.runtime.definitions.models import Definition, DefinitionVersion

__all__ = ["Definition", "DefinitionVersion"]
