"""Problems with a submission in words: raw errors → :class:`Problem`, labelled and worded.

Both paths of ``CompiledForm.validate`` find errors as *raw* errors (:data:`Raw`: where in
the body, a key, details), without words. :class:`Messages` turns them into problems a
person reads: a JSON pointer into the body (``/answers/<item>``,
``/answers/<group>/<entry>/<item>``, ``/evidence/<item>/photos``), a stable code, and a
message in the user's language that names the place by its title ("Shelf, entry 2, SKU:
is required"). The words are the ``forms`` gettext catalogue's (``problem.*``, ``label.*``,
``type.*``, ``gps.*``, ``separator.*``; read with ``rounds.i18n``); titles and choice labels
come from the definition, picked with ``rounds.i18n.pick``. Every problem is listed once,
in the order of the form.

Errors that follow from another are left out first (:func:`without_follow_ups`): an item
whose required-ness depends on an answer that is itself invalid is not also reported as
missing; the input's error is the one to fix.

May import: ``rounds.errors``, ``rounds.i18n``, ``rounds.pointer``, ``rounds.rules`` and
``rounds.forms.schema``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rounds import i18n
from rounds import pointer as json_pointer
from rounds.errors import InvalidInput, Problem
from rounds.forms.schema import FormItem
from rounds.rules.alerts import YES_NO_LABELS
from rounds.rules.analysis import reads

DOMAIN = "forms"
SOURCE = "body"
Path = tuple[str | int, ...]
Raw = tuple[Path, str, dict[str, Any]]  # an error before it has words: where, what, details


class SubmissionInvalid(InvalidInput, code="submission_invalid", title="Invalid submission"):
    """A submission body with mistakes; ``problems`` lists every one of them."""


# The problem's code by error key, where the two differ.
_CODES = {
    "must_tick": "required", "minLength": "min_length", "maxLength": "max_length",
    "minItems": "min_items", "maxItems": "max_items", "uniqueItems": "unique_items",
    "additionalProperties": "unknown_field", "formatMinimum": "date_min",
    "formatMaximum": "date_max", "anyOf": "enum", "exclusiveMinimum": "minimum",
    "exclusiveMaximum": "maximum",
}


_REMEMBERED = 4096  # labels, pointers, option lists, problems remembered per form, at most
# Problems whose words depend on more than the place and the error's details (a check's
# message over the answers) or that hardly come twice (a JSON parser's detail).
_UNREMEMBERED = frozenset({"check_failed", "invalid_json"})
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _signature(params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The details of an error as a key (classes too: 1, 1.0 and True are worded apart);
    None for details other than plain values and lists of them."""
    if not params:
        return ()
    out: list[Any] = []
    for k, v in params.items():
        cls = v.__class__
        if cls is list:
            classes = frozenset(map(type, v))
            if not classes <= _PLAIN:
                return None
            out.append((k, tuple(map(type, v)), tuple(v)))
        elif cls in _PLAIN:
            out.append((k, cls, v))
        else:
            return None
    return tuple(out)


def _words(lang: str) -> Mapping[str, str]:
    return i18n.table(DOMAIN, lang)


class Messages:
    """Turns raw errors into problems: labels from the definition, words by error key."""

    def __init__(self, items: list[FormItem]) -> None:
        self.top = {fi.id: fi for fi in items}
        self.order = {fi.id: n for n, fi in enumerate(items)}
        self.entry = {(fi.id, sub.id): sub for fi in items if fi.type == "group"
                      for sub in fi.entry_items()}
        # What a problem's words are made of depends only on the place (and the language):
        # each label, pointer and list of options is worked out once and remembered.
        self._tables: dict[str, Mapping[str, str]] = {}
        self._labels: dict[tuple[Path, str], str] = {}
        self._pointers: dict[Path, str] = {}
        self._options: dict[tuple[str, tuple[Any, ...], str], str] = {}
        # (pointer, message, code) by (path, key, details, language)
        self._worded: dict[tuple[Path, str, tuple[Any, ...], str], tuple[str, str, str]] = {}
        self._places: dict[Path, tuple[Any, ...]] = {}  # the order of a place in the form

    def invalid(self, raws: Iterable[Raw], lang: str) -> SubmissionInvalid:
        """The exception listing the problems of ``raws``."""
        return invalid(self.problems(raws, lang), lang, self._w(lang))

    def _w(self, lang: str) -> Mapping[str, str]:
        w = self._tables.get(lang)
        if w is None:
            w = self._tables[lang] = _words(lang)
        return w

    def pointer(self, path: Path) -> str:
        found = self._pointers.get(path)
        if found is None:
            found = json_pointer.path(path)
            if len(self._pointers) < _REMEMBERED:  # paths hold entry indexes and sent keys
                self._pointers[path] = found
        return found

    def item_at(self, path: Path) -> FormItem | None:
        """The item whose answer (or evidence) the path points into."""
        if len(path) < 2 or path[0] not in ("answers", "evidence"):
            return None
        head = str(path[1])
        if path[0] == "evidence" and "/" in head:  # "<group>/<entry>/<item>"
            parts = head.split("/")
            return self.entry.get((parts[0], parts[2])) if len(parts) == 3 else None
        top = self.top.get(head)
        if top is not None and top.type == "group" and len(path) >= 4 and path[0] == "answers":
            return self.entry.get((head, str(path[3]))) or top
        return top

    def label(self, path: Path, lang: str) -> str:
        """The place a path points at, in words ("Shelf, entry 2, SKU")."""
        key = (path, lang)
        found = self._labels.get(key)
        if found is None:
            found = self._label(path, lang)
            if len(self._labels) < _REMEMBERED:
                self._labels[key] = found
        return found

    def _label(self, path: Path, lang: str) -> str:
        w = self._w(lang)
        part = w["separator.part"]
        if not path:
            return w["label.body"]
        if path[0] == "evidence":
            if len(path) == 1:
                return w["label.evidence"]
            key = str(path[1])
            fi = self.item_at(path)
            name = self._name(fi, key, lang)
            if "/" in key and fi is not None and fi.group is not None:
                g, i, *_ = key.split("/")
                if i.isdigit():
                    name = self._entry(self._name(fi.group, g, lang), int(i), lang) + part + name
            return w["label.evidence_for"].format(name=name)
        if path[0] != "answers":
            return str(path[0])
        if len(path) == 1:
            return w["label.answers"]
        head = str(path[1])
        top = self.top.get(head)
        name = self._name(top, head, lang)
        if top is None or len(path) == 2:
            return name
        if top.type == "group" and isinstance(path[2], int):
            name = self._entry(name, path[2], lang)
            if len(path) >= 4:
                sub = self.entry.get((head, str(path[3])))
                name += part + self._name(sub, str(path[3]), lang)
            return name
        gps = w.get(f"gps.{path[2]}")
        if top.type == "gps" and gps is not None:
            return name + part + gps
        return name

    @staticmethod
    def _name(fi: FormItem | None, fallback: str, lang: str) -> str:
        return i18n.pick(fi.title, lang, fallback) if fi is not None else fallback

    @staticmethod
    def _entry(group_name: str, index: int, lang: str) -> str:
        return _words(lang)["label.entry"].format(group=group_name, number=index + 1)

    def options(self, fi: FormItem | None, values: Any, lang: str) -> str:
        if fi is None or not isinstance(values, list):
            return self._list_options(fi, values, lang)
        try:
            key = (fi.id, tuple(values), lang)
            found = self._options.get(key)
        except TypeError:  # a value that is no key (a list): not remembered
            return self._list_options(fi, values, lang)
        if found is None:
            found = self._list_options(fi, values, lang)
            if len(self._options) < _REMEMBERED:
                self._options[key] = found
        return found

    def _list_options(self, fi: FormItem | None, values: Any, lang: str) -> str:
        labels: dict[str, Any] = {}
        if fi is not None:
            labels = {str(c.get("value")): c.get("label") for c in fi.item.get("choices") or []}
            if fi.type in ("yes_no", "scale"):
                labels = dict(YES_NO_LABELS)
        shown = [i18n.pick(labels[str(v)], lang) if str(v) in labels else str(v)
                 for v in (values if isinstance(values, list) else [])]
        return self._w(lang)["separator.list"].join(shown)

    def problem(self, raw: Raw, lang: str) -> Problem:
        path, key, params = raw
        sig = _signature(params) if key not in _UNREMEMBERED else None
        if sig is None:
            return self._problem(raw, lang)
        memo = (path, key, sig, lang)
        found = self._worded.get(memo)
        if found is None:
            p = self._problem(raw, lang)
            if len(self._worded) < _REMEMBERED:
                self._worded[memo] = (p.pointer, p.message, p.code)
            return p
        pointer, message, code = found
        return Problem(pointer, message, code, SOURCE, {"keyword": key, **params})

    def _problem(self, raw: Raw, lang: str) -> Problem:
        path, key, params = raw
        w = self._w(lang)
        fi = self.item_at(path)
        if key == "check_failed":
            # A check between fields: the definition's message, in the reader's language.
            said = i18n.pick(params.get("message"), lang, w["problem.check_failed"])
            return Problem(self.pointer(path), f"{self.label(path, lang)}"
                           f"{w['separator.label']}{said}", key, SOURCE,
                           {"keyword": key, "check": params.get("check")})
        words_key = key
        if key in ("minItems", "maxItems") and fi is not None:
            kind = {"photo": "photo", "group": "group"}.get(fi.type)
            if kind is None and fi.type != "multiple_choice":
                kind = "list"
            if kind and (len(path) == 2 or (fi.group is not None and len(path) == 4)):
                words_key = f"{key}.{kind}"
        if key == "type" and fi is not None and fi.type == "signature":
            words_key = "type.signature"  # a string is no signature: say what one is
        if key == "pattern" and fi is not None and fi.type == "date":
            words_key = "format"  # one message for a malformed date, whichever rule caught it
        if f"problem.{words_key}" not in w:
            words_key = "invalid"
        fmt = dict(params)
        if key == "type":
            what = params.get("limit")
            names = what if isinstance(what, list) else [what]
            fmt["what"] = w["separator.or"].join(w.get(f"type.{n}", str(n)) for n in names)
        if key == "enum":
            fmt["options"] = self.options(fi, params.get("limit"), lang)
        if key == "anyOf" and fi is not None:
            fmt["low"], fmt["high"] = fi.item.get("min"), fi.item.get("max")
        for k, v in list(fmt.items()):
            if isinstance(v, float) and v.is_integer():
                fmt[k] = int(v)
        template = w[f"problem.{words_key}"]
        if fmt.get("limit") == 1:  # "needs at least 1 photo": English has a singular
            template = w.get(f"problem.{words_key}.one", template)
        try:
            what = template.format(**fmt)
        except (KeyError, IndexError):
            what = template
        return Problem(self.pointer(path), f"{self.label(path, lang)}"
                       f"{w['separator.label']}{what}", _CODES.get(key, key), SOURCE,
                       {"keyword": key, **params})

    def problems(self, raws: Iterable[Raw], lang: str) -> list[Problem]:
        """Every problem once, in the order of the form (answers, then evidence)."""
        seen: set[tuple[str, str]] = set()
        out: list[tuple[tuple[Any, ...], Problem]] = []
        for raw in raws:
            p = self.problem(raw, lang)
            if (p.pointer, p.message) in seen:
                continue
            seen.add((p.pointer, p.message))
            out.append((self.place(raw[0]), p))
        out.sort(key=lambda t: t[0])
        return [p for _, p in out]

    def place(self, path: Path) -> tuple[Any, ...]:
        """Where a path comes in the form's order (answers, then evidence)."""
        found = self._places.get(path)
        if found is None:
            area = {"answers": 1, "evidence": 2}.get(str(path[0]) if path else "", 0)
            head = str(path[1]).split("/")[0] if len(path) > 1 else ""
            # Entry 10 after entry 2: indexes sort as numbers.
            rest = tuple((0, k, "") if isinstance(k, int) else (1, 0, str(k)) for k in path[1:])
            found = (area, self.order.get(head, -1), rest)
            if len(self._places) < _REMEMBERED:
                self._places[path] = found
        return found


def invalid(problems: list[Problem], lang: str, words: Mapping[str, str] | None = None
            ) -> SubmissionInvalid:
    """The exception listing a body's problems, its detail in ``lang`` (``words``: its
    words, when the caller holds them)."""
    n = len(problems)
    w = words if words is not None else _words(lang)
    detail = w["problem.summary.one" if n == 1 else "problem.summary"].format(n=n)
    return SubmissionInvalid(detail, problems)


# -- errors that follow from another -------------------------------------------------------------

_REQUIRED_CODES = frozenset({"required", "must_tick"})
# A failed check is about how answers agree, not a value that cannot be read: the required
# errors it would hide are still to fix.
_NOT_INPUT_ERRORS = _REQUIRED_CODES | {"check_failed"}
Inputs = frozenset[tuple[str, ...]]  # ("top", id) or ("entry", id): answers a decision reads


def _direct_reads(item: Mapping[str, Any], keys: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for key in keys:
        rule = item.get(key)
        if rule is None or isinstance(rule, bool):
            continue
        try:
            found = reads(rule)
        except Exception:  # a rule that does not compile is reported elsewhere
            continue
        out |= {r.root for r in found if r.root and r.root != "ctx" and not r.unknown}
    return out


def condition_inputs(items: list[FormItem]) -> dict[str, Inputs]:
    """For each item whose required-ness depends on other answers (``visible_if``,
    ``required_if``): the answers it depends on, through the ``visible_if`` and
    ``calculate`` of the items those read. Keys: ``<id>`` at the top, ``<group>/<id>`` in
    a group's entries; inputs ``("entry", id)`` are the same entry's fields."""
    top = {fi.id: fi.item for fi in items}

    def closure(start: set[str], siblings: Mapping[str, Mapping[str, Any]]) -> Inputs:
        seen: set[tuple[str, ...]] = set()
        todo = [("entry" if n in siblings else "top", n) for n in start]
        while todo:
            where, name = todo.pop()
            if (where, name) in seen:
                continue
            seen.add((where, name))
            item = (siblings if where == "entry" else top).get(name)
            if item is not None:
                inner = siblings if where == "entry" else {}
                todo += [("entry" if n in inner else "top", n) for n in _direct_reads(
                    item, ("visible_if", "calculate"))]
        return frozenset(seen)

    out: dict[str, Inputs] = {}
    keys = ("required_if", "visible_if")
    for fi in items:
        if any(k in fi.item for k in keys):
            out[fi.id] = closure(_direct_reads(fi.item, keys), {})
        if fi.type == "group":
            subs = {s.id: s.item for s in fi.entry_items()}
            for sid, sub in subs.items():
                if any(k in sub for k in keys):
                    out[f"{fi.id}/{sid}"] = closure(_direct_reads(sub, keys), subs)
    return out


def without_follow_ups(raws: list[Raw], inputs: Mapping[str, Inputs]) -> list[Raw]:
    """Leave out "required" errors of items whose condition reads an answer that is itself
    invalid: the one error to fix is the input's (its value decides the rest)."""
    bad: list[Path] = []
    required = False  # nothing to leave out without a "required" error
    for path, key, _ in raws:
        if key in _REQUIRED_CODES:
            required = True
        elif key not in _NOT_INPUT_ERRORS and len(path) >= 2 and path[0] == "answers":
            bad.append(path)
    if not bad or not required or not inputs:
        return raws
    bad_top = {str(p[1]) for p in bad}
    bad_entry = {(str(p[1]), p[2], str(p[3])) for p in bad if len(p) >= 4}

    def follows(path: Path) -> bool:
        if len(path) == 2:
            deps = inputs.get(str(path[1]), frozenset())
            return any(d[1] in bad_top for d in deps)
        if len(path) == 4:
            group, index = str(path[1]), path[2]
            deps = inputs.get(f"{group}/{path[3]}", frozenset())
            return any((group, index, d[1]) in bad_entry if d[0] == "entry"
                       else d[1] in bad_top for d in deps)
        return False

    return [r for r in raws if not (r[1] in _REQUIRED_CODES and r[0][:1] == ("answers",)
                                    and follows(r[0]))]


