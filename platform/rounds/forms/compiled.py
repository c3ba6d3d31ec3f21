"""A definition version compiled into a form: validate a submission body, every error at once.

``compile_form(definition)`` is cached by the definition's content hash. ``validate(body)``
takes the raw bytes a client sent:

1. The fast path decodes them with msgspec into the form's Structs (``decoder``). When that
   succeeds the body is well formed and only the conditional checks remain (``required`` /
   ``required_if`` of shown items, ``evidence_if``, unique choices, date bounds). A plan
   compiled from the definition's rules (``_FastPlan``) runs them on the Structs, doing only
   the work a check needs: an answered item's ``required_if`` never runs, and decisions that
   depend only on yes/no, check, scale or choice answers are remembered across submissions.
2. When msgspec rejects the body (it stops at the first error) the slow path lists every
   structural error with a jsonschema validator of ``answers_schema`` (compiled once per
   form), then runs the conditional checks on the parts that are well formed, with
   ``StandardRules.form`` deciding visibility and required-ness. ``validate_reference``
   always takes this path; the tests hold the two to the same result.

Decisions:

- **Hidden answers are dropped.** An item hidden by its ``visible_if`` (or inside a hidden
  group entry) is neither required nor checked: errors inside its answer, or in its evidence,
  are not reported (the client may have filled it before hiding it), and
  ``ValidSubmission.answers`` leaves it out, exactly as ``StandardRules`` does.
- "Answered" means present and not empty: ``""`` and ``[]`` are unanswered (whitespace is an
  answer, as in HTML), and a required ``check`` must be ticked (``true``).
- Calculated items are computed by the server; a value a client sends for one is ignored.
- The evaluation (score, failed items, alerts) is computed on first use of
  ``ValidSubmission.evaluation`` (or ``.answers``), once, from the decoded answers: scoring
  costs some twenty times what validating does, and a caller that only asks whether a body
  is valid should not pay for it.

Every error is a :class:`Problem` with a JSON pointer into the body (``/answers/<item>``,
``/answers/<group>/<entry>/<item>``, ``/evidence/<item>/photos``), a stable code and a message
in the user's language (``zh`` or ``en``) that names the item by its title.
"""

from __future__ import annotations

import datetime
import operator
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from jsonschema import Draft202012Validator, ValidationError, validators

from rounds.definitions.loader import content_hash as hash_of
from rounds.errors import InvalidInput, Problem, RuleEvaluationError
from rounds.forms.decoder import BodyTypes, body_types
from rounds.forms.schema import (
    DATE_PATTERN,
    FormItem,
    answers_schema,
    entry_evidence_pattern,
    evidence_demand,
    form_items,
    text,
)
from rounds.rules import compile_many
from rounds.rules import semantics as js
from rounds.rules.analysis import reads
from rounds.rules.compiler import CompiledRule
from rounds.rules.evaluation import StandardRules
from rounds.rules.results import EntryResult, Evaluation, FormState
from rounds.rules.standards import compile_standard

UNSET = msgspec.UNSET
SOURCE = "body"
Path = tuple[str | int, ...]
Raw = tuple[Path, str, dict[str, Any]]  # an error before it has words: where, what, details


class SubmissionInvalid(InvalidInput):
    """A submission body with mistakes; ``problems`` lists every one of them."""

    code = "submission_invalid"
    title = "Invalid submission"


# -- messages ------------------------------------------------------------------------------------

# zh, en by error key (a JSON Schema keyword, or one of ours).
_TEXTS: dict[str, tuple[str, str]] = {
    "required": ("必须填写", "is required"),
    "must_tick": ("必须勾选", "must be ticked"),
    "type": ("应为{what}", "must be {what}"),
    "minimum": ("不能小于 {limit}", "must be at least {limit}"),
    "maximum": ("不能大于 {limit}", "must be at most {limit}"),
    "exclusiveMinimum": ("必须大于 {limit}", "must be more than {limit}"),
    "exclusiveMaximum": ("必须小于 {limit}", "must be less than {limit}"),
    "minLength": ("至少 {limit} 个字", "must be at least {limit} character{s} long"),
    "maxLength": ("不能超过 {limit} 个字", "must be at most {limit} character{s} long"),
    "pattern": ("格式不正确", "is not in the expected format"),
    "enum": ("应为以下之一：{options}", "must be one of: {options}"),
    "anyOf": ("应为 {low} 到 {high} 的整数，或“不适用”",
              "must be a whole number from {low} to {high}, or “not applicable”"),
    "minItems": ("至少选择 {limit} 项", "needs at least {limit} choice{s}"),
    "maxItems": ("最多选择 {limit} 项", "takes at most {limit} choice{s}"),
    "minItems.photo": ("至少 {limit} 张照片", "needs at least {limit} photo{s}"),
    "maxItems.photo": ("最多 {limit} 张照片", "takes at most {limit} photo{s}"),
    "minItems.group": ("至少 {limit} 条", "needs at least {limit} entr{ies}"),
    "maxItems.group": ("最多 {limit} 条", "takes at most {limit} entr{ies}"),
    "minItems.list": ("至少 {limit} 个", "needs at least {limit} value{s}"),
    "maxItems.list": ("最多 {limit} 个", "takes at most {limit} value{s}"),
    "uniqueItems": ("不能重复选择同一项", "must not repeat a choice"),
    "additionalProperties": ("不是本表单的项目", "is not an item of this form"),
    "unknown_field": ("不是可接受的字段", "is not an accepted field"),
    "format": ("不是有效日期（YYYY-MM-DD）", "is not a valid date (YYYY-MM-DD)"),
    "formatMinimum": ("不能早于 {limit}", "must not be before {limit}"),
    "formatMaximum": ("不能晚于 {limit}", "must not be after {limit}"),
    "evidence_photos": ("需要至少 {limit} 张佐证照片", "needs at least {limit} evidence photo{s}"),
    "evidence_note": ("需要填写佐证说明", "needs a note as evidence"),
    "invalid_json": ("不是有效的 JSON（{detail}）", "is not valid JSON ({detail})"),
    "invalid": ("不符合要求", "is not valid"),
    "type.signature": ("请在签名框内签名（应为上传的签名图片）",
                       "must be signed on the signature pad (an uploaded PNG image)"),
}
_CODES = {
    "must_tick": "required", "minLength": "min_length", "maxLength": "max_length",
    "minItems": "min_items", "maxItems": "max_items", "uniqueItems": "unique_items",
    "additionalProperties": "unknown_field", "formatMinimum": "date_min",
    "formatMaximum": "date_max", "anyOf": "enum", "exclusiveMinimum": "minimum",
    "exclusiveMaximum": "maximum",
}
_TYPE_WORDS: dict[str, tuple[str, str]] = {
    "boolean": ("是或否（true/false）", "true or false"), "integer": ("整数", "a whole number"),
    "number": ("数字", "a number"), "string": ("文本", "text"), "array": ("列表", "a list"),
    "object": ("对象", "an object"), "null": ("空值", "null"),
}
_GPS_FIELDS = {"lat": {"zh": "纬度", "en": "latitude"}, "lng": {"zh": "经度", "en": "longitude"},
               "accuracy_m": {"zh": "精度（米）", "en": "accuracy (m)"}}
_BODY = {"zh": "提交内容", "en": "The submission"}
_ANSWERS = {"zh": "答案", "en": "Answers"}
_EVIDENCE = {"zh": "佐证", "en": "Evidence"}
_YES_NO = {"yes": {"zh": "是", "en": "yes"}, "no": {"zh": "否", "en": "no"},
           "na": {"zh": "不适用", "en": "not applicable"}}


def normalize_lang(lang: str | None) -> str:
    return "zh" if (lang or "zh").lower().startswith("zh") else "en"


def pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _Words:
    """Turns raw errors into problems: labels from the definition, texts by error key."""

    def __init__(self, items: list[FormItem]) -> None:
        self.top = {fi.id: fi for fi in items}
        self.order = {fi.id: n for n, fi in enumerate(items)}
        self.entry = {(fi.id, sub.id): sub for fi in items if fi.type == "group"
                      for sub in fi.entry_items()}

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
        zh = lang == "zh"
        if not path:
            return _BODY[lang]
        if path[0] == "evidence":
            if len(path) == 1:
                return _EVIDENCE[lang]
            key = str(path[1])
            fi = self.item_at(path)
            name = self._name(fi, key, lang)
            if "/" in key and fi is not None and fi.group is not None:
                g, i, *_ = key.split("/")
                if i.isdigit():
                    name = self._entry(self._name(fi.group, g, lang), int(i), lang) + (
                        " · " if zh else ", ") + name
            return f"{name} · 佐证" if zh else f"Evidence for {name}"
        if path[0] != "answers":
            return str(path[0])
        if len(path) == 1:
            return _ANSWERS[lang]
        head = str(path[1])
        top = self.top.get(head)
        name = self._name(top, head, lang)
        if top is None or len(path) == 2:
            return name
        if top.type == "group" and isinstance(path[2], int):
            name = self._entry(name, path[2], lang)
            if len(path) >= 4:
                sub = self.entry.get((head, str(path[3])))
                name += (" · " if zh else ", ") + self._name(sub, str(path[3]), lang)
            return name
        if top.type == "gps" and str(path[2]) in _GPS_FIELDS:
            return name + (" · " if zh else ", ") + text(_GPS_FIELDS[str(path[2])], lang)
        return name

    @staticmethod
    def _name(fi: FormItem | None, fallback: str, lang: str) -> str:
        return (text(fi.title, lang) or fallback) if fi is not None else fallback

    @staticmethod
    def _entry(group_name: str, index: int, lang: str) -> str:
        return f"{group_name}第 {index + 1} 条" if lang == "zh" else (
            f"{group_name}, entry {index + 1}")

    def options(self, fi: FormItem | None, values: Any, lang: str) -> str:
        labels: dict[str, Any] = {}
        if fi is not None:
            labels = {str(c.get("value")): c.get("label") for c in fi.item.get("choices") or []}
            if fi.type in ("yes_no", "scale"):
                labels = dict(_YES_NO)
        shown = [text(labels[str(v)], lang) if str(v) in labels else str(v)
                 for v in (values if isinstance(values, list) else [])]
        return ("、" if lang == "zh" else ", ").join(shown)

    def problem(self, raw: Raw, lang: str) -> Problem:
        path, key, params = raw
        fi = self.item_at(path)
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
        zh_en = _TEXTS.get(words_key) or _TEXTS["invalid"]
        fmt = dict(params)
        if key == "type":
            what = params.get("limit")
            names = what if isinstance(what, list) else [what]
            idx = 0 if lang == "zh" else 1
            fmt["what"] = ("或" if lang == "zh" else " or ").join(
                _TYPE_WORDS.get(str(n), (str(n), str(n)))[idx] for n in names)
        if key == "enum":
            fmt["options"] = self.options(fi, params.get("limit"), lang)
        if key == "anyOf" and fi is not None:
            fmt["low"], fmt["high"] = fi.item.get("min"), fi.item.get("max")
        for k, v in list(fmt.items()):
            if isinstance(v, float) and v.is_integer():
                fmt[k] = int(v)
        one = fmt.get("limit") == 1
        fmt["s"], fmt["ies"] = ("", "y") if one else ("s", "ies")
        try:
            what = zh_en[0 if lang == "zh" else 1].format(**fmt)
        except (KeyError, IndexError):
            what = zh_en[0 if lang == "zh" else 1]
        sep = "：" if lang == "zh" else ": "
        return Problem(pointer(path), f"{self.label(path, lang)}{sep}{what}",
                       _CODES.get(key, key), SOURCE, {"keyword": key, **params})

    def problems(self, raws: Iterable[Raw], lang: str) -> list[Problem]:
        """Every problem once, in the order of the form (answers, then evidence)."""
        seen: set[tuple[str, str]] = set()
        out: list[tuple[tuple[Any, ...], Problem]] = []
        for raw in raws:
            p = self.problem(raw, lang)
            if (p.pointer, p.message) in seen:
                continue
            seen.add((p.pointer, p.message))
            path = raw[0]
            area = {"answers": 1, "evidence": 2}.get(str(path[0]) if path else "", 0)
            head = str(path[1]).split("/")[0] if len(path) > 1 else ""
            # Entry 10 after entry 2: indexes sort as numbers.
            rest = tuple((0, k, "") if isinstance(k, int) else (1, 0, str(k)) for k in path[1:])
            out.append(((area, self.order.get(head, -1), rest), p))
        out.sort(key=lambda t: t[0])
        return [p for _, p in out]


def _invalid(problems: list[Problem], lang: str) -> SubmissionInvalid:
    n = len(problems)
    detail = (f"提交内容有 {n} 处错误" if lang == "zh"
              else f"the submission has {n} problem{'s' if n != 1 else ''}")
    return SubmissionInvalid(detail, problems)


# -- what "answered" means -----------------------------------------------------------------------

def answered(value: Any, tick: bool = False) -> bool:
    """Present and not empty; a check (``tick``) only when ticked."""
    if value is None or value is UNSET:
        return False
    if tick:
        return value is True
    cls = value.__class__
    return not ((cls is str or cls is list) and not value)


def _evidence_raws(path_key: str, entry: Any, photo_min: int, note: bool) -> Iterator[Raw]:
    """Problems with the evidence sent for one item (a dict or an ``EvidenceEntry``)."""
    if isinstance(entry, Mapping):
        photos, text_ = entry.get("photos"), entry.get("note")
    elif entry is None or entry is UNSET:
        photos = text_ = None
    else:
        photos, text_ = entry.photos, entry.note
    count = len(photos) if isinstance(photos, list) else 0
    if count < photo_min:
        yield ("evidence", path_key, "photos"), "evidence_photos", {"limit": photo_min}
    if note and not (isinstance(text_, str) and text_.strip()):
        yield ("evidence", path_key, "note"), "evidence_note", {}


# -- the fast path's plan ------------------------------------------------------------------------

_NO_CTX: Mapping[str, Any] = {}
_MEMO_SIZE = 4096  # decisions remembered per check; past that, they are worked out each time
# Answers with few possible values: decisions that depend only on them are worth remembering
# (numbers, texts and dates would fill the memo with values that never come again).
_FEW_VALUES = frozenset({"check", "yes_no", "scale", "single_choice"})


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Node:
    """One top-level item as the rules see it."""

    id: str
    type: str
    visible_if: CompiledRule | None
    visible_reads: tuple[str, ...]  # the other items its visible_if reads
    reads_self: bool  # its visible_if reads its own answer, as sent
    calculate: CompiledRule | None
    calculate_reads: tuple[str, ...]


def _no_key(_answers: Any) -> tuple[()]:
    return ()


def _tuple_getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return _no_key


class _Decision:
    """A yes/no that a check needs: is ``target`` shown, and (when ``rule`` is given) does its
    ``required_if`` or ``evidence_if`` hold.

    A small program settles only what the rules behind it read, in dependency order, the way
    ``StandardRules`` settles a whole form: raw answers loaded, each ``visible_if`` run (a hidden
    item's answer dropped before a later rule reads it, an unticked shown check read as false),
    each calculated value computed, a rule that raises counting as null.

    The result is remembered by the raw answers it depends on when those all have few possible
    values (yes/no, check, scale, choice) and no ``ctx`` is read: such decisions repeat across
    submissions, and the rules behind them need not run again.
    """

    __slots__ = ("converts", "fills", "get", "key", "loads", "memo", "rule", "steps", "target")

    def __init__(self, target: str, rule: CompiledRule | None, loads: list[str], *,
                 converts: list[str], fills: list[str],
                 steps: list[tuple[str, CompiledRule | None, CompiledRule | None, bool]],
                 memo: bool) -> None:
        self.target = target
        self.rule = rule
        self.loads = tuple(loads)
        self.get = _tuple_getter(loads)
        self.converts = tuple(converts)
        self.fills = tuple(fills)
        self.steps = tuple(steps)
        # One answer: the value itself is the key (attrgetter of one name returns it bare).
        self.key: Callable[[Any], Any] | None = (
            operator.attrgetter(*loads) if loads else _no_key) if memo else None
        self.memo: dict[Any, bool] = {}

    def __call__(self, answers: Any, ctx: Mapping[str, Any] | None) -> bool:
        key = self.key
        if key is None:
            return self.solve(answers, ctx)
        k = key(answers)
        found = self.memo.get(k)
        if found is None:
            found = self.solve(answers, ctx)
            if len(self.memo) < _MEMO_SIZE:
                self.memo[k] = found
        return found

    def solve(self, answers: Any, ctx: Mapping[str, Any] | None) -> bool:
        data: dict[str, Any] = {"ctx": ctx if ctx is not None else _NO_CTX}
        for name, v in zip(self.loads, self.get(answers)):  # noqa: B905 - same length
            if v is not UNSET:
                data[name] = v
        for name in self.converts:
            if name in data:
                data[name] = msgspec.to_builtins(data[name])
        for name in self.fills:
            if name not in data:
                data[name] = False
        truthy = js.truthy
        for name, visible_if, calculate, fill in self.steps:
            if visible_if is not None:
                try:
                    shown = truthy(visible_if(data))
                except RuleEvaluationError:
                    shown = False
                if not shown:
                    if name == self.target:
                        return False
                    data.pop(name, None)
                    continue
                if fill and name not in data:
                    data[name] = False
            if calculate is not None:
                try:
                    value = calculate(data)
                except RuleEvaluationError:
                    value = None
                if value is None:
                    data.pop(name, None)
                else:
                    data[name] = value
        if self.rule is None:
            return True
        try:
            return truthy(self.rule(data))
        except RuleEvaluationError:
            return False


@dataclass(frozen=True, slots=True)
class _Required:
    """An item whose required-ness depends on the rules (``visible_if`` or ``required_if``)."""

    id: str
    tick: bool
    needed: _Decision  # shown and (required or required_if)


@dataclass(frozen=True, slots=True)
class _EvidenceIf:
    id: str
    wanted: _Decision  # shown and evidence_if
    photo_min: int
    note: bool


@dataclass(frozen=True, slots=True)
class _Values:
    """What msgspec cannot check on one level (top or group entries): unique choices, dates."""

    unique: tuple[tuple[str, _Decision], ...]
    dates: tuple[tuple[str, datetime.date | None, datetime.date | None, _Decision], ...]

    def raws(self, obj: Any, base: Path) -> list[tuple[Raw, _Decision]]:
        """Value errors, each with the decision whether its item is shown."""
        out: list[tuple[Raw, _Decision]] = []
        for name, shown in self.unique:
            v = getattr(obj, name)
            if v is not UNSET and len(v) > 1 and len(set(v)) != len(v):
                out.append((((*base, name), "uniqueItems", {}), shown))
        for name, lo, hi, shown in self.dates:
            v = getattr(obj, name)
            if v is UNSET:
                continue
            if lo is not None and v < lo:
                out.append((((*base, name), "formatMinimum", {"limit": lo.isoformat()}), shown))
            if hi is not None and v > hi:
                out.append((((*base, name), "formatMaximum", {"limit": hi.isoformat()}), shown))
        return out


class _FastPlan:
    """The conditional checks of one form, run on the decoded Structs.

    Does only the work a check needs: an answered item's ``required_if`` is never run,
    sufficient evidence never runs ``evidence_if``, a visibility is worked out only for an item
    that is unanswered but maybe required or has a value error, and decisions are remembered
    when they can be (:class:`_Decision`). ``build`` returns None when the rules do what this
    plan does not follow (rules inside group entries, rules reading a group, computed ``var``
    paths): such forms use ``StandardRules.form`` after decoding.
    """

    def __init__(self, required: list[_Required], evidence: list[_EvidenceIf],
                 values: _Values | None, groups: list[tuple[str, _Values]]) -> None:
        self.required = tuple(required)
        self.evidence = tuple(evidence)
        self.values = values
        self.groups = tuple(groups)

    @classmethod
    def build(cls, items: list[FormItem]) -> _FastPlan | None:
        rule_keys = ("visible_if", "required_if", "evidence_if", "calculate")
        top = {fi.id: fi for fi in items}
        for fi in items:
            for sub in fi.entry_items() if fi.type == "group" else ():
                if sub.type == "group" or any(k in sub.item for k in rule_keys):
                    return None
        sources = {f"{fi.id}/{k}": fi.item[k] for fi in items for k in rule_keys if k in fi.item}
        deps: dict[str, tuple[str, ...]] = {}  # "<id>/<rule>" → the items it reads
        with_ctx: set[str] = set()  # rules that read ctx
        for label, rule in sources.items():
            roots: list[str] = []
            for r in reads(rule):
                if r.dynamic or not r.path or r.unknown:
                    return None
                if r.root == "ctx":
                    with_ctx.add(label)
                    continue
                if r.root in top and top[r.root].type == "group":
                    return None
                if r.root not in roots:
                    roots.append(r.root)
            deps[label] = tuple(roots)
        fns = compile_many(sources) if sources else {}
        nodes: dict[str, _Node] = {}
        for fi in items:
            vis = deps.get(f"{fi.id}/visible_if", ())
            nodes[fi.id] = _Node(
                id=fi.id, type=fi.type, visible_if=fns.get(f"{fi.id}/visible_if"),
                visible_reads=tuple(r for r in vis if r != fi.id),
                reads_self=fi.id in vis and not fi.calculated,
                calculate=fns.get(f"{fi.id}/calculate"),
                calculate_reads=deps.get(f"{fi.id}/calculate", ()))
        order = _settle_order(nodes)
        if order is None:
            return None  # a cycle: compile_standard reports it

        def decision(target: str, kind: str | None) -> _Decision:
            """``target`` shown and (``kind`` given) its ``required_if``/``evidence_if`` true."""
            node = nodes[target]
            rule = fns[f"{target}/{kind}"] if kind else None
            labels = [f"{target}/{kind}"] if kind else []
            stepped: set[str] = set()
            loads: set[str] = set()
            todo = list(deps.get(f"{target}/{kind}", ())) if kind else []
            if node.visible_if is not None:
                labels.append(f"{target}/visible_if")
                stepped.add(target)
                todo += node.visible_reads
                if node.reads_self:
                    loads.add(target)
            seen: set[str] = set()
            while todo:
                name = todo.pop()
                n = nodes.get(name)
                if name in seen or n is None:
                    continue  # not an item: the rules find nothing there
                seen.add(name)
                if n.visible_if is not None:
                    stepped.add(name)
                    labels.append(f"{name}/visible_if")
                    todo += n.visible_reads
                    if n.reads_self:
                        loads.add(name)
                if n.calculate is not None:
                    stepped.add(name)
                    labels.append(f"{name}/calculate")
                    todo += n.calculate_reads
                else:
                    loads.add(name)
            load_list = sorted(loads)
            memo = not any(label in with_ctx for label in labels) and all(
                nodes[n].type in _FEW_VALUES for n in load_list)
            return _Decision(
                target, rule, load_list,
                converts=[n for n in load_list
                          if nodes[n].type in ("gps", "date", "signature")],
                fills=[n for n in load_list if nodes[n].type == "check"
                       and nodes[n].visible_if is None],
                steps=[(n, nodes[n].visible_if, nodes[n].calculate, nodes[n].type == "check")
                       for n in order if n in stepped],
                memo=memo)

        def values(level: list[FormItem], shown: Callable[[str], _Decision]) -> _Values | None:
            unique = tuple((fi.id, shown(fi.id)) for fi in level if fi.type == "multiple_choice")
            dates = tuple((fi.id, _date(fi.item.get("min")), _date(fi.item.get("max")),
                           shown(fi.id)) for fi in level if fi.type == "date"
                          and (fi.item.get("min") is not None or fi.item.get("max") is not None))
            return _Values(unique, dates) if unique or dates else None

        required = [
            _Required(fi.id, fi.type == "check",
                      decision(fi.id, None if fi.item.get("required") is True else "required_if"))
            for fi in items if not fi.calculated and not fi.unconditionally_required
            and (fi.item.get("required") is True or "required_if" in fi.item)]
        evidence = []
        for fi in items:
            if "evidence_if" in fi.item:
                demand = evidence_demand(fi.item)
                evidence.append(_EvidenceIf(fi.id, decision(fi.id, "evidence_if"),
                                            int(demand.get("photo_min") or 0),
                                            demand.get("note") is True))
        groups = []
        for fi in items:
            if fi.type == "group":
                group_shown = decision(fi.id, None)

                def same(_name: str, d: _Decision = group_shown) -> _Decision:
                    return d  # an entry's items are checked when the group is shown

                v = values(fi.entry_items(), same)
                if v is not None:
                    groups.append((fi.id, v))
        return cls(required, evidence, values(items, lambda name: decision(name, None)), groups)

    def check(self, answers: Any, evidence: Any, ctx: Mapping[str, Any] | None) -> list[Raw]:
        # The hot path of every valid body: checks and memo look-ups inlined; rules run only
        # when a check needs them and the answer is not remembered.
        out: list[Raw] = []
        for req in self.required:
            v = getattr(answers, req.id)
            if v is not UNSET and (v is True if req.tick else (
                    (v.__class__ is not str and v.__class__ is not list) or v)):
                continue  # answered: whether it had to be does not matter
            d = req.needed
            needed: bool | None
            if d.key is None:
                needed = d.solve(answers, ctx)
            elif (needed := d.memo.get(d.key(answers))) is None:
                needed = d(answers, ctx)
            if needed:
                out.append((("answers", req.id), "must_tick" if req.tick else "required", {}))
        for ev in self.evidence:
            sent = UNSET if evidence is UNSET else getattr(evidence, ev.id)
            if sent is not UNSET:
                photos, note = sent.photos, sent.note
                if (ev.photo_min == 0 or (photos is not UNSET and len(photos) >= ev.photo_min)
                        ) and (not ev.note or (note is not UNSET and note.strip())):
                    continue  # enough evidence, whether it was asked for or not
            elif ev.photo_min == 0 and not ev.note:
                continue
            d = ev.wanted
            wanted: bool | None
            if d.key is None:
                wanted = d.solve(answers, ctx)
            elif (wanted := d.memo.get(d.key(answers))) is None:
                wanted = d(answers, ctx)
            if wanted:
                out.extend(_evidence_raws(ev.id, sent, ev.photo_min, ev.note))
        values = self.values
        if values is not None:
            for name, _shown in values.unique:
                v = getattr(answers, name)
                if v is not UNSET and (n := len(v)) > 1 and (
                        v[0] == v[1] if n == 2 else len(set(v)) != n):
                    break
            else:
                if not values.dates:
                    values = None  # nothing wrong: skip the general pass below
            if values is not None:
                out += [raw for raw, shown in values.raws(answers, ("answers",))
                        if shown(answers, ctx)]
        for name, values in self.groups:
            entries = getattr(answers, name)
            if entries is UNSET:
                continue
            for i, entry in enumerate(entries):
                out += [raw for raw, shown in values.raws(entry, ("answers", name, i))
                        if shown(answers, ctx)]
        return out


def _settle_order(nodes: Mapping[str, _Node]) -> list[str] | None:
    """The items in an order where each comes after what its visible_if or calculate reads
    (document order otherwise); None if they depend on each other in a cycle."""
    state: dict[str, int] = {}  # 1: on the path, 2: placed
    order: list[str] = []

    def visit(name: str) -> bool:
        if state.get(name) == 2 or name not in nodes:
            return True
        if state.get(name) == 1:
            return False
        state[name] = 1
        node = nodes[name]
        if not all(visit(d) for d in (*node.visible_reads, *node.calculate_reads)):
            return False
        state[name] = 2
        order.append(name)
        return True

    return order if all(visit(n) for n in nodes) else None


# -- the slow path -------------------------------------------------------------------------------

def _date_bound(keyword: str) -> Callable[..., Iterator[ValidationError]]:
    def check(_validator: Any, bound: Any, instance: Any, _schema: Any
              ) -> Iterator[ValidationError]:
        if not (isinstance(instance, str) and isinstance(bound, str)
                and re.fullmatch(DATE_PATTERN, instance)):
            return
        if (instance < bound) if keyword == "formatMinimum" else (instance > bound):
            yield ValidationError(f"{instance!r} is out of bounds ({keyword} {bound})")
    return check


_SlowValidator = validators.extend(Draft202012Validator, {  # type: ignore[no-untyped-call]
    "formatMinimum": _date_bound("formatMinimum"),
    "formatMaximum": _date_bound("formatMaximum"),
})


def _schema_raws(error: ValidationError) -> Iterator[Raw]:
    path: Path = tuple(error.absolute_path)
    kw = str(error.validator)
    inst, value = error.instance, error.validator_value
    if kw == "required":
        for name in value if isinstance(value, list) else []:
            if isinstance(inst, dict) and name not in inst:
                yield (*path, name), "required", {}
        return
    if kw == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = schema.get("properties") or {}
        patterns = list((schema.get("patternProperties") or {}).keys())
        key = "additionalProperties" if path in (("answers",), ("evidence",)) or (
            len(path) == 3 and path[0] == "answers") else "unknown_field"
        for name in inst if isinstance(inst, dict) else {}:
            if name not in known and not any(re.search(p, name) for p in patterns):
                yield (*path, name), key, {}
        return
    if kw == "const" and value is True:
        if isinstance(inst, bool):  # not a boolean at all: the type error says it
            yield path, "must_tick", {}
        return
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
              "maxLength", "minItems", "maxItems", "formatMinimum", "formatMaximum", "type",
              "enum"):
        yield path, kw, {"limit": value}
        return
    if kw in ("pattern", "format", "uniqueItems", "anyOf"):
        yield path, kw, {}
        return
    yield path, "invalid", {"keyword": kw}


class _Broken:
    """Where the body has structural errors: those values are taken out before the rules run,
    and no second error (e.g. "required") is reported for them."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()

    def add(self, path: Path) -> None:
        self.paths.add(path)

    def __contains__(self, path: Path) -> bool:
        return any(path[:k] in self.paths for k in range(1, len(path) + 1))


def _clean(doc: dict[str, Any], raws: list[Raw], items: dict[str, FormItem], broken: _Broken
           ) -> None:
    """Take the values with structural errors out of the body (in place)."""
    answers = doc.get("answers")
    evidence = doc.get("evidence")
    for path, key, _ in raws:
        if not path:
            continue
        if path[0] == "evidence" and len(path) >= 2:
            broken.add(path[:2])
            if len(path) == 2 and isinstance(evidence, dict):
                evidence.pop(str(path[1]), None)  # not an item of this form
            continue
        if path[0] != "answers" or len(path) < 2 or not isinstance(answers, dict):
            continue
        name = str(path[1])
        fi = items.get(name)
        if key == "required":
            continue  # reported by the conditional checks, which know what is shown
        if len(path) == 2:
            broken.add(path)
            if key in ("minItems", "maxItems", "uniqueItems") and fi is not None:
                continue  # the entries are still worth checking
            answers.pop(name, None)
            continue
        value = answers.get(name)
        if fi is not None and fi.type == "group" and isinstance(path[2], int) and isinstance(
                value, list) and path[2] < len(value):
            entry = value[path[2]]
            if len(path) == 3:
                broken.add(path)
                if not isinstance(entry, dict):
                    value[path[2]] = {}
            elif isinstance(entry, dict):
                broken.add(path[:4])
                entry.pop(str(path[3]), None)
            continue
        broken.add(path[:2])
        answers.pop(name, None)


def _entry_path(e_pointer: str) -> Path:
    return tuple(int(p) if p.isdigit() else p for p in e_pointer.strip("/").split("/"))


def _reference_raws(answers: dict[str, Any], evidence: Mapping[str, Any], state: FormState,
                    items: list[FormItem], broken: _Broken) -> list[Raw]:
    """The conditional checks decided by ``StandardRules.form`` (any form; the slow path)."""
    out: list[Raw] = []
    for fi in items:
        path: Path = ("answers", fi.id)
        if state.required.get(fi.id) and path not in broken:
            tick = fi.type == "check"
            if not answered(answers.get(fi.id), tick):
                out.append((path, "must_tick" if tick else "required", {}))
    for name, demand in state.evidence.items():
        if ("evidence", name) not in broken:
            out.extend(_evidence_raws(name, evidence.get(name), demand.photo_min, demand.note))
    for e in state.entries:
        where = _entry_path(e.pointer)
        entry: Any = answers
        for step in where:
            if isinstance(entry, dict):
                entry = entry.get(str(step))
            elif isinstance(entry, list) and isinstance(step, int) and step < len(entry):
                entry = entry[step]
            else:
                entry = None
        entry = entry if isinstance(entry, dict) else {}
        base: Path = ("answers", *where)
        subs = {sub.id: sub for fi in items if fi.id == e.group for sub in fi.entry_items()}
        for name, needed in e.required.items():
            if needed and (*base, name) not in broken:
                tick = subs[name].type == "check" if name in subs else False
                if not answered(entry.get(name), tick):
                    out.append(((*base, name), "must_tick" if tick else "required", {}))
        for name, demand in e.evidence.items():
            key = "/".join(str(p) for p in (*where, name))
            if ("evidence", key) not in broken:
                out.extend(_evidence_raws(key, evidence.get(key), demand.photo_min, demand.note))
    return out


def _shown(path: Path, visible: Mapping[str, bool], entries: Mapping[str, EntryResult]
           ) -> bool:
    """False when the path lies in an answer (or evidence) of a hidden item."""
    if len(path) < 2 or path[0] not in ("answers", "evidence"):
        return True
    parts: Path = path[1:]
    if path[0] == "evidence":
        parts = _entry_path(str(path[1]))
    if visible.get(str(parts[0])) is False:
        return False
    if len(parts) >= 3 and isinstance(parts[1], int):
        e = entries.get(pointer(parts[:2]))
        if e is not None and e.visible.get(str(parts[2])) is False:
            return False
    return True


def _post_structural(answers: dict[str, Any], state: FormState, items: list[FormItem],
                     entries: Mapping[str, EntryResult]) -> list[Raw]:
    """Unique choices and date bounds of shown items, on plain data (no plan, fast decode)."""
    out: list[Raw] = []

    def one(fi: FormItem, value: Any, path: Path) -> None:
        if fi.type == "multiple_choice" and isinstance(value, list) and len(
                set(value)) != len(value):
            out.append((path, "uniqueItems", {}))
        if fi.type == "date" and isinstance(value, str):
            lo, hi = fi.item.get("min"), fi.item.get("max")
            if lo is not None and value < lo:
                out.append((path, "formatMinimum", {"limit": lo}))
            if hi is not None and value > hi:
                out.append((path, "formatMaximum", {"limit": hi}))

    for fi in items:
        path: Path = ("answers", fi.id)
        if not _shown(path, state.visible, entries) or fi.id not in answers:
            continue
        value = answers[fi.id]
        one(fi, value, path)
        if fi.type == "group" and isinstance(value, list):
            for i, entry in enumerate(value):
                for sub in fi.entry_items():
                    p: Path = (*path, i, sub.id)
                    if isinstance(entry, dict) and sub.id in entry and _shown(
                            p, state.visible, entries):
                        one(sub, entry[sub.id], p)
    return out


# -- errors that follow from another -------------------------------------------------------------

_REQUIRED_CODES = frozenset({"required", "must_tick"})
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


def _without_follow_ups(raws: list[Raw], inputs: Mapping[str, Inputs]) -> list[Raw]:
    """Leave out "required" errors of items whose condition reads an answer that is itself
    invalid: the one error to fix is the input's (its value decides the rest)."""
    bad = [r[0] for r in raws if r[1] not in _REQUIRED_CODES and len(r[0]) >= 2
           and r[0][0] == "answers"]
    if not bad or not inputs:
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


# -- the compiled form ---------------------------------------------------------------------------

class ValidSubmission:
    """A body that passed ``validate``. ``evaluation`` (score, failed items, alerts) and the
    kept ``answers`` are computed once, on first use."""

    __slots__ = ("_answers", "_evaluation", "_evidence", "_sent_evidence", "ctx", "form")

    def __init__(self, form: CompiledForm, answers: Any, evidence: Any,
                 ctx: Mapping[str, Any] | None) -> None:
        self.form = form
        self.ctx = ctx
        self._answers = answers  # a Struct (fast path) or a dict (slow path)
        self._sent_evidence = evidence
        self._evaluation: Evaluation | None = None
        self._evidence: dict[str, Any] | None = None

    @property
    def definition_id(self) -> str:
        return self.form.definition_id

    @property
    def content_hash(self) -> str:
        return self.form.content_hash

    def sent_answers(self) -> dict[str, Any]:
        """The answers as sent (plain data), hidden items' answers included."""
        a = self._answers
        return a if isinstance(a, dict) else msgspec.to_builtins(a)

    @property
    def evaluation(self) -> Evaluation:
        ev = self._evaluation
        if ev is None:  # two threads racing here compute the same value: no lock needed
            ev = self._evaluation = self.form.rules.evaluate(self.sent_answers(), self.ctx)
        return ev

    @property
    def answers(self) -> dict[str, Any]:
        """The answers kept: hidden items' dropped, calculated values left out (they are in
        ``evaluation.calculated``), an unanswered shown check as false."""
        return self.evaluation.answers

    @property
    def dropped(self) -> list[dict[str, str]]:
        """What was sent but not kept, each ``{"pointer", "reason"}``: ``hidden`` (the answer
        or evidence of an item its ``visible_if`` hides) or ``calculated`` (a value the
        server computes itself). A client tells from it that an answer was not stored."""
        ev = self.evaluation
        entries = {e.pointer: e for e in ev.entries}
        out: list[dict[str, str]] = []
        sent_answers = self.sent_answers()
        for fi in self.form.items:  # in the form's order, however the body was ordered
            name = fi.id
            if name not in sent_answers:
                continue
            value = sent_answers[name]
            if fi.calculated:
                out.append({"pointer": pointer(("answers", name)), "reason": "calculated"})
            elif ev.visible.get(name) is False:
                out.append({"pointer": pointer(("answers", name)), "reason": "hidden"})
            elif fi.type == "group" and isinstance(value, list):
                subs = {s.id: s for s in fi.entry_items()}
                for i, entry in enumerate(value):
                    e = entries.get(pointer((name, i)))
                    for sub_id in entry if isinstance(entry, dict) else ():
                        sub = subs.get(sub_id)
                        reason = ("calculated" if sub is not None and sub.calculated else
                                  "hidden" if e is not None and e.visible.get(sub_id) is False
                                  else None)
                        if reason:
                            out.append({"pointer": pointer(("answers", name, i, sub_id)),
                                        "reason": reason})
        sent = self._sent_evidence
        kept = self.evidence
        for key in sorted(sent if isinstance(sent, dict) else (
                () if sent is UNSET or sent is None else msgspec.to_builtins(sent))):
            if key not in kept:
                out.append({"pointer": pointer(("evidence", key)), "reason": "hidden"})
        return out

    @property
    def evidence(self) -> dict[str, Any]:
        """The evidence sent, for shown items only."""
        if self._evidence is None:
            sent = self._sent_evidence
            data: dict[str, Any] = ({} if sent is UNSET or sent is None else sent
                                    if isinstance(sent, dict) else msgspec.to_builtins(sent))
            ev = self.evaluation
            entries = {e.pointer: e for e in ev.entries}
            self._evidence = {k: v for k, v in data.items()
                              if _shown(("evidence", k), ev.visible, entries)}
        return self._evidence


class CompiledForm:
    """One definition version as a form. Immutable after construction; share it freely."""

    def __init__(self, definition: dict[str, Any], content_hash: str) -> None:
        self.definition = definition
        self.definition_id = str(definition.get("id"))
        self.content_hash = content_hash
        self.items = form_items(definition)
        self.rules: StandardRules = compile_standard(definition)
        self.types: BodyTypes = body_types(definition)
        self._decode = self.types.decoder.decode
        self._plan = _FastPlan.build(self.items)
        self._words = _Words(self.items)
        self._by_id = {fi.id: fi for fi in self.items}
        self._inputs = condition_inputs(self.items)
        pattern = entry_evidence_pattern(self.items)
        self._entry_evidence = re.compile(pattern) if pattern else None
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validator: Any = None
        self._lock = threading.Lock()

    @property
    def fast(self) -> bool:
        """Whether the conditional checks run on the fast plan (else ``StandardRules.form``)."""
        return self._plan is not None

    def schema(self, lang: str = "zh") -> dict[str, Any]:
        """The answers JSON Schema, titles in ``lang``."""
        lang = normalize_lang(lang)
        s = self._schemas.get(lang)
        if s is None:
            s = self._schemas[lang] = answers_schema(self.definition, lang)
        return s

    @property
    def json_schema(self) -> dict[str, Any]:
        return self.schema("zh")

    def validator(self) -> Any:
        """The jsonschema validator of the slow path (compiled on first use)."""
        if self._validator is None:
            with self._lock:
                if self._validator is None:
                    self._validator = _SlowValidator(
                        self.json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validator

    def validate(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                 lang: str = "zh") -> ValidSubmission:
        """Check a submission body; raise :class:`SubmissionInvalid` listing every problem."""
        try:
            decoded = self._decode(body)
        except msgspec.ValidationError:
            return self._slow(body, ctx, lang)
        except msgspec.DecodeError:
            return self._slow(body, ctx, lang)
        answers, evidence = decoded.answers, decoded.evidence
        plan = self._plan
        if plan is not None:
            raws = plan.check(answers, evidence, ctx)
            if raws:
                raise self._problems(raws, lang)
            return ValidSubmission(self, answers, evidence, ctx)
        if self._entry_evidence is not None and evidence is not UNSET and any(
                k not in self._by_id and not self._entry_evidence.match(k) for k in evidence):
            return self._slow(body, ctx, lang)  # keys that jsonschema will name
        plain = msgspec.to_builtins(answers)
        sent = {} if evidence is UNSET else msgspec.to_builtins(evidence)
        state = self.rules.form(plain, ctx)
        entries = {e.pointer: e for e in state.entries}
        raws = _reference_raws(plain, sent, state, self.items, _Broken())
        raws += _post_structural(plain, state, self.items, entries)
        if raws:
            raise self._problems(raws, lang)
        return ValidSubmission(self, plain, sent, ctx)

    def validate_reference(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                           lang: str = "zh") -> ValidSubmission:
        """The slow path, always: jsonschema for the structure, ``StandardRules.form`` for the
        conditional checks. The same outcome as :meth:`validate` (the tests hold the two to
        it), a hundred times slower."""
        return self._slow(body, ctx, lang)

    def problems(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                 lang: str = "zh") -> list[Problem]:
        """Every problem of a body (empty when it is valid)."""
        try:
            self.validate(body, ctx, lang)
        except SubmissionInvalid as e:
            return e.problems
        return []

    def _problems(self, raws: list[Raw], lang: str) -> SubmissionInvalid:
        lang = normalize_lang(lang)
        raws = _without_follow_ups(raws, self._inputs)
        return _invalid(self._words.problems(raws, lang), lang)

    def _answer_path(self, path: Path) -> bool:
        """Whether the path is an answer or an entry field: the conditional checks say whether
        it is required there (they know what is shown)."""
        if len(path) == 2 and path[0] == "answers":
            return True
        if len(path) == 4 and path[0] == "answers" and isinstance(path[2], int):
            fi = self._by_id.get(str(path[1]))
            return fi is not None and fi.type == "group"
        return False

    def _slow(self, body: bytes | str, ctx: Mapping[str, Any] | None, lang: str
              ) -> ValidSubmission:
        try:
            doc = msgspec.json.decode(body)
        except msgspec.DecodeError as e:
            raise self._problems([((), "invalid_json", {"detail": str(e)})], lang) from None
        raws = [r for err in self.validator().iter_errors(doc) for r in _schema_raws(err)]
        if not isinstance(doc, dict) or not isinstance(doc.get("answers"), dict):
            raise self._problems(raws, lang)
        broken = _Broken()
        _clean(doc, raws, self._by_id, broken)
        answers: dict[str, Any] = doc["answers"]
        sent = doc.get("evidence")
        evidence: dict[str, Any] = sent if isinstance(sent, dict) else {}
        state = self.rules.form(answers, ctx)
        entries = {e.pointer: e for e in state.entries}
        kept = [r for r in raws
                if not (r[1] == "required" and self._answer_path(r[0]))
                and _shown(r[0], state.visible, entries)]
        kept += _reference_raws(answers, evidence, state, self.items, broken)
        if kept:
            raise self._problems(kept, lang)
        return ValidSubmission(self, answers, evidence, ctx)


_cache: dict[str, CompiledForm] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 128


def compile_form(definition: dict[str, Any], content_hash: str | None = None) -> CompiledForm:
    """The form of a standard or survey definition, compiled once per content hash.

    Pass ``content_hash`` when it is known (a stored version has it) to skip hashing.
    Raises ``RuleError`` when the definition's rules do not compile.
    """
    key = content_hash or hash_of(definition)
    form = _cache.get(key)
    if form is not None:
        return form
    form = CompiledForm(definition, key)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = form
    return form
