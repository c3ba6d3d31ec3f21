"""Reading definition files from disk: every file, every JSON error, nothing skipped quietly."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rounds.cache import content_key
from rounds.errors import Problem


@dataclass(frozen=True)
class DefinitionDocument:
    """One definition as read from a file (or received from the admin UI)."""

    source: str  # file path, or a label such as "admin" for documents not from a file
    content: Any

    @property
    def kind(self) -> str | None:
        k = self.content.get("kind") if isinstance(self.content, dict) else None
        return k if isinstance(k, str) else None

    @property
    def id(self) -> str | None:
        i = self.content.get("id") if isinstance(self.content, dict) else None
        return i if isinstance(i, str) else None


def content_hash(content: Any) -> str:
    """A definition version's identity: SHA-256 of its canonical JSON (the content key every
    engine cache uses, so a version's hash is its compiled form's key)."""
    return content_key(content)


def definition_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*.json") if q.is_file()))
        else:
            files.append(p)
    return files


def load_documents(paths: Iterable[Path]) -> tuple[list[DefinitionDocument], list[Problem]]:
    """Read every file under the paths; a file that cannot be read or parsed is a problem."""
    documents: list[DefinitionDocument] = []
    problems: list[Problem] = []
    for path in definition_files(paths):
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem("", "no such file", "not_found", source))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem("", f"cannot be read: {exc}", "unreadable", source))
            continue
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(
                "", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                "invalid_json", source))
            continue
        documents.append(DefinitionDocument(source, content))
    return documents, problems
