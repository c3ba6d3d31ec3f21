"""A submission's body: its envelope decoded, every mistake in it named, its content hash.

``answers`` and ``evidence`` stay raw bytes (``msgspec.Raw``) and go as they are to the
compiled form, whose fast path decodes and checks them in one pass. The content hash of the
body (canonical JSON) is what tells a retry from a reuse of the id for other content.

Imports: the foundation, the forms engine.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from rounds.db import DB_INT_MAX, IdField
from rounds.errors import Problem
from rounds.forms.compiled import SubmissionInvalid
from rounds.pointer import path as pointer


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """A submission body. ``answers``/``evidence`` are left raw: the compiled form decodes
    them (its own Structs check them while decoding)."""

    id: uuid.UUID
    definition_id: str
    version: str  # the content hash of the version the client filled
    answers: msgspec.Raw
    evidence: msgspec.Raw = msgspec.Raw(b"")
    visit_id: IdField | None = None


_decode_envelope = msgspec.json.Decoder(Envelope).decode
_FIELDS = {"id": "a UUID the client made for this submission",
           "definition_id": "the standard's or survey's id",
           "version": "the content hash of the version you filled",
           "answers": "an object: item id → answer",
           "evidence": "an object: item id → {photos, note}",
           "visit_id": "the id of your open visit"}


def _envelope_problems(raw: bytes) -> list[Problem]:
    """Every problem of a body's envelope (msgspec stops at the first one)."""
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        return [Problem("", f"the body is not valid JSON ({e})", "invalid_json", "body")]
    if not isinstance(doc, dict):
        return [Problem("", "the body must be a JSON object", "type", "body")]
    out: list[Problem] = []

    def bad(name: str, code: str = "type") -> None:
        out.append(Problem(f"/{name}", f"{name}: expected {_FIELDS[name]}", code, "body"))

    for name in ("id", "definition_id", "version", "answers"):
        if name not in doc:
            bad(name, "required")
    if "id" in doc:
        try:
            uuid.UUID(str(doc["id"]))
        except ValueError:
            bad("id")
    for name in ("definition_id", "version"):
        if name in doc and not isinstance(doc[name], str):
            bad(name)
    for name in ("answers", "evidence"):
        if name in doc and not isinstance(doc[name], dict):
            bad(name)
    visit = doc.get("visit_id")
    if visit is not None and (not isinstance(visit, int) or isinstance(visit, bool)
                              or not 1 <= visit <= DB_INT_MAX):
        bad("visit_id")
    for name in doc:
        if name not in _FIELDS:
            out.append(Problem(pointer([name]), f"{name!r} is not a field of a "
                               f"submission; fields: {', '.join(_FIELDS)}", "unknown_field",
                               "body"))
    return out or [Problem("", "the body is not a valid submission", "invalid", "body")]


def decode(raw: bytes) -> Envelope:
    try:
        return _decode_envelope(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise invalid(_envelope_problems(raw)) from None


@dataclass(frozen=True)
class Parsed:
    """A decoded body: the envelope, the answers and evidence as sent, and the content hash."""

    env: Envelope
    answers: Any
    evidence: Any
    digest: str


def parse(raw: bytes) -> Parsed:
    env = decode(raw)
    answers = msgspec.json.decode(env.answers)
    evidence = msgspec.json.decode(env.evidence) if len(env.evidence) else {}
    # SHA-256 of the content in canonical form (keys sorted, no spaces): a retry that
    # re-serialises the same content differently is still the same content.
    canonical = msgspec.json.encode(
        [env.definition_id, env.version, env.visit_id, answers, evidence], order="sorted")
    return Parsed(env, answers, evidence, hashlib.sha256(canonical).hexdigest())


def form_body(env: Envelope) -> bytes:
    """The part of the body the compiled form validates, without decoding it again."""
    if len(env.evidence):
        return b'{"answers":' + bytes(env.answers) + b',"evidence":' + bytes(env.evidence) + b"}"
    return b'{"answers":' + bytes(env.answers) + b"}"


def invalid(problems: list[Problem]) -> SubmissionInvalid:
    """One error listing every problem of a submission."""
    n = len(problems)
    return SubmissionInvalid(f"the submission has {n} problem{'s' if n != 1 else ''}",
                             problems)
