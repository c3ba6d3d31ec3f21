"""A standard's or survey's definition compiled into :class:`StandardRules`, once per content.

``compile_standard(definition)`` gathers every rule of the definition (items' ``visible_if``,
``required_if``, ``evidence_if``, ``fail_if``, ``score``, ``calculate``; problem titles',
alerts', checks' and outcome levels' message params; alerts', checks' and outcome levels'
``when``), compiles them all at once (one code object, every mistake reported together),
works out the order items settle in (each after what its ``visible_if`` or ``calculate``
reads; a cycle is an error) and builds the :mod:`rules.structure` parts an evaluation
reads. How each item scores comes from ``rules.scoring.item_scoring``, the sections' and
the total's models from ``rules.scoring.score_model``.

**Reading the score.** The top-level items whose ``calculate`` reads ``score`` (for a group,
a calculate inside its entries), directly or through another calculated value, settle after
scoring (``Level.late``). Nothing that decides the score may read them or the score: a
``visible_if``, ``required_if``, ``evidence_if`` or ``score`` rule (at any depth), or a
check, that does is a ``score_cycle`` problem at the read (its pointer inside the rule; the
message names the chain, ``note → half_gap → gap → score``), and so is a late item that
scores. ``fail_if``, outcomes, alerts and message params may read the score.

**Outcomes.** Levels keep their order; ``min``/``max`` are the band, ``when`` the rule. A
level without criteria is the fallback, or reached only by force when some item (at any
depth) ``forces`` it.

Compiled standards are kept in a bounded cache (``rounds.cache``) keyed by a hash of the
definition's content: a definition checked by an anonymous client costs one entry, and the
least recently used go first.

May import: ``rounds.errors``, ``rounds.i18n``, ``rounds.cache`` and the ``rounds.rules``
modules below it.
"""

from __future__ import annotations

import heapq
from typing import Any

from rounds import i18n
from rounds.cache import BoundedCache, content_key
from rounds.errors import Problem, RuleError
from rounds.rules.alerts import item_labels, items_by_path, param_rule
from rounds.rules.analysis import reads
from rounds.rules.compiler import CompiledRule, compile_many
from rounds.rules.evaluation import StandardRules
from rounds.rules.results import Evidence
from rounds.rules.scoring import item_scoring, score_model
from rounds.rules.structure import (
    AlertRule,
    Check,
    Item,
    Level,
    Outcome,
    OutcomeLevel,
    Param,
    PlacedRule,
    Section,
    Template,
    as_number,
)

RULE_FIELDS = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate")


def _param_sources(template: Any, base: str, out: dict[str, Any]) -> None:
    params = template.get("params") if isinstance(template, dict) else None
    for name, spec in (params.items() if isinstance(params, dict) else ()):
        rule, _, below = param_rule(spec)
        out[f"{base}/params/{name}{below}"] = rule


def _rule_sources(items: Any, base: str, out: dict[str, Any]) -> None:
    for j, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        p = f"{base}/{j}"
        for name in RULE_FIELDS:
            if item.get(name) is not None:
                out[f"{p}/{name}"] = item[name]
        _param_sources(item.get("problem"), f"{p}/problem", out)
        if item.get("type") == "group":
            _rule_sources(item.get("items"), f"{p}/items", out)


def _sub_items(item: dict[str, Any], ptr: str) -> list[tuple[dict[str, Any], str]] | None:
    subs = item.get("items")
    if item.get("type") != "group" or not isinstance(subs, list):
        return None
    return [(s, f"{ptr}/items/{j}") for j, s in enumerate(subs) if isinstance(s, dict)]


_Edges = dict[int, dict[str, str]]  # item it depends on → {rule kind: pointer of the rule}


def _plan(entries: list[tuple[dict[str, Any], str]], key: str, plans: dict[str, list[int]],
          problems: list[Problem], source: str) -> list[tuple[str, str, str]]:
    """The settle order of one level, into ``plans[key]``; cycles into ``problems``.

    Returns the reads of this level's rules that name no item of the level (kind, id,
    rule pointer): the level above orders its group by them.
    """
    index: dict[Any, int] = {}
    for n, (item, _) in enumerate(entries):
        index.setdefault(item.get("id"), n)
    deps: list[_Edges] = [{} for _ in entries]
    external: list[tuple[str, str, str]] = []

    def edge(x: int, root: str, kind: str, rule_ptr: str) -> None:
        y = index.get(root)
        if y is None:
            external.append((kind, root, rule_ptr))
        elif y != x or kind == "calculate":  # visible_if may read its own answer as sent
            deps[x].setdefault(y, {}).setdefault(kind, rule_ptr)

    for x, (item, ptr) in enumerate(entries):
        for kind in ("visible_if", "calculate"):
            rule = item.get(kind)
            if rule is None:
                continue
            for r in reads(rule):
                if r.path and not r.dynamic and not r.unknown:
                    edge(x, r.root, kind, f"{ptr}/{kind}")
        subs = _sub_items(item, ptr)
        if subs is not None:
            for kind, root, rule_ptr in _plan(subs, ptr, plans, problems, source):
                if index.get(root) != x:  # an entry reading its own group sees it as sent
                    edge(x, root, kind, rule_ptr)

    waiting = [len(d) for d in deps]
    users: list[list[int]] = [[] for _ in entries]
    for x, d in enumerate(deps):
        for y in d:
            users[y].append(x)
    ready = [x for x, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)  # among items ready together, document order
    order: list[int] = []
    while ready:
        y = heapq.heappop(ready)
        order.append(y)
        for x in users[y]:
            waiting[x] -= 1
            if waiting[x] == 0:
                heapq.heappush(ready, x)
    left = [x for x, w in enumerate(waiting) if w > 0]
    if left:
        _report_cycles(entries, deps, left, problems, source)
    plans[key] = order + left
    return external


def _report_cycles(entries: list[tuple[dict[str, Any], str]], deps: list[_Edges],
                   left: list[int], problems: list[Problem], source: str) -> None:
    inside = set(left)

    def reach(v: int) -> set[int]:
        seen: set[int] = set()
        todo = [y for y in deps[v] if y in inside]
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo += [y for y in deps[u] if y in inside]
        return seen

    done: set[int] = set()
    for v in left:
        if v in done:
            continue
        from_v = reach(v)
        if v not in from_v:
            continue  # waits on a cycle without being on one
        members = {v} | {u for u in from_v if v in reach(u)}
        done |= members
        path = _cycle_path(v, members, deps)
        kinds = {k for u in members for y, ks in deps[u].items() if y in members for k in ks}
        ids = [str(entries[u][0].get("id")) for u in path]
        first = deps[v][path[1]]
        if kinds == {"calculate"}:
            code, what = "calculation_cycle", "calculated values depend on each other"
        else:
            code, what = "visibility_cycle", "visible_if and calculated values depend on each other"
        problems.append(Problem(
            pointer=first.get("calculate") or next(iter(first.values())),
            message=f"{what} in a cycle: {' → '.join(ids)}",
            code=code, source=source, params={"cycle": ids}))


def _cycle_path(v: int, members: set[int], deps: list[_Edges]) -> list[int]:
    """A shortest way from ``v`` back to itself through ``members`` (breadth first)."""
    came: dict[int, int] = {}
    frontier = [v]
    while frontier:
        nxt: list[int] = []
        for u in frontier:
            for y in sorted(deps[u]):
                if y == v:
                    back = [u]
                    while back[-1] != v:
                        back.append(came[back[-1]])
                    return [*reversed(back), v]
                if y in members and y not in came:
                    came[y] = u
                    nxt.append(y)
        frontier = nxt
    return [v, v]


def _localized(v: Any) -> dict[str, str]:
    return {k: t for k, t in v.items() if isinstance(t, str)} if isinstance(v, dict) else {}


def _template(v: Any, base: str, fns: dict[str, CompiledRule],
              paths: dict[str, dict[str, Any]]) -> Template:
    params: list[Param] = []
    raw = v.get("params") if isinstance(v, dict) else None
    for name, spec in (raw.items() if isinstance(raw, dict) else ()):
        _, labels_of, below = param_rule(spec)
        ptr = f"{base}/params/{name}{below}"
        rule = PlacedRule(fns[ptr], ptr) if ptr in fns else None
        labels = item_labels(paths.get(labels_of)) if labels_of is not None else None
        params.append(Param(name=str(name), rule=rule,
                             labels=labels if labels_of is None else (labels or {})))
    return Template(texts={k: t for k, t in _localized(v).items() if k in i18n.LANGUAGES},
                     params=tuple(params))


def _forces(v: Any) -> dict[str, str]:
    return {str(k): t for k, t in v.items() if isinstance(t, str)} if isinstance(v, dict) else {}


def _build_level(entries: list[tuple[dict[str, Any], str]], key: str, sections: list[str], *,
                 plans: dict[str, list[int]], fns: dict[str, CompiledRule], scored: bool,
                 severity: str, top: bool, paths: dict[str, dict[str, Any]],
                 late: set[str] | None = None) -> Level:
    items: list[Item] = []
    for (item, ptr), section in zip(entries, sections, strict=True):
        kind = str(item.get("type", ""))
        rules = {name: PlacedRule(fns[f"{ptr}/{name}"], f"{ptr}/{name}") for name in RULE_FIELDS
                 if f"{ptr}/{name}" in fns}
        lo, hi = as_number(item.get("min")), as_number(item.get("max"))
        sc = item_scoring(item, kind, rules, scored=scored, top=top)
        ev: dict[str, Any] = item["evidence"] if isinstance(item.get("evidence"), dict) else {}
        subs = _sub_items(item, ptr)
        items.append(Item(
            id=str(item.get("id")), type=kind, section=section, pointer=ptr,
            title=_localized(item.get("title")), required=item.get("required") is True,
            weight=sc.weight, scores=sc.scores, choices=sc.choices,
            scale=(lo, hi) if lo is not None and hi is not None else None,
            evidence=Evidence(photo_min=int(ev.get("photo_min", 1)),
                              note=ev.get("note") is True),
            severity=str(item.get("severity") or severity), rules=rules,
            sub=None if subs is None else _build_level(
                subs, ptr, [section] * len(subs), plans=plans, fns=fns, scored=scored,
                severity=severity, top=False, paths=paths),
            problem=(_template(item["problem"], f"{ptr}/problem", fns, paths)
                     if isinstance(item.get("problem"), dict) else None),
            absolute=sc.absolute, least=sc.least, reverse=sc.reverse, good=sc.good,
            numbers=sc.numbers, forces=_forces(item.get("forces"))))
    order = [items[i] for i in plans.get(key, list(range(len(items))))]
    after = late or set()
    return Level(items=tuple(items), order=tuple(it for it in order if it.id not in after),
                  ids=frozenset(it.id for it in items),
                  late=tuple(it for it in order if it.id in after))


# -- reading the score: what settles after scoring, and what may not read it -------------------

_NO_SCORE = ("visible_if", "required_if", "evidence_if", "score")  # rules that run before it


def _roots(rule: Any) -> list[tuple[str, str]]:
    """(root, pointer inside the rule) of each static read of a rule."""
    try:
        found = reads(rule)
    except Exception:  # a rule that does not compile is reported by compile_many
        return []
    return [(r.root, r.pointer) for r in found if r.path and not r.dynamic and not r.unknown]


def _calc_roots(item: dict[str, Any]) -> set[str]:
    """What settling a top-level item reads through ``calculate``: its own, or for a group
    every calculate inside its entries (the group's own item ids left out)."""
    rules: list[Any] = []
    inner: set[str] = set()

    def walk(it: dict[str, Any]) -> None:
        if it.get("calculate") is not None:
            rules.append(it["calculate"])
        for sub in (it.get("items") or []) if it.get("type") == "group" else []:
            if isinstance(sub, dict):
                inner.add(str(sub.get("id")))
                walk(sub)

    walk(item)
    return {root for rule in rules for root, _ in _roots(rule)} - inner


def _late(top: list[tuple[dict[str, Any], str]]) -> dict[str, str]:
    """The top-level items that settle after scoring: a calculate (or a calculate inside a
    group's entries) reading ``score``, or reading an item that does. Id → what it reads
    that makes it late (``score`` or a late item's id), to name the chain."""
    roots = {str(item.get("id")): _calc_roots(item) for item, _ in top}
    late: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for iid, rs in roots.items():
            if iid in late:
                continue
            via = "score" if "score" in rs else next((r for r in sorted(rs) if r in late), None)
            if via is not None:
                late[iid] = via
                changed = True
    return late


def _chain(start: str, late: dict[str, str]) -> list[str]:
    chain = [start]
    while chain[-1] in late and len(chain) <= len(late) + 1:
        chain.append(late[chain[-1]])
    return chain


def _score_cycles(top: list[tuple[dict[str, Any], str]], late: dict[str, str],
                  definition: dict[str, Any], source: str, *, scored: bool) -> list[Problem]:
    """``score_cycle``: a rule that decides what scores (visible_if, required_if,
    evidence_if, score) or a check, reading the score or a calculated value that does; and
    a scoring item whose calculated value does."""
    out: list[Problem] = []
    for item, ptr in top:
        iid = str(item.get("id"))
        if iid in late and item.get("calculate") is not None:
            named = {k: True for k in RULE_FIELDS if item.get(k) is not None}
            if item_scoring(item, str(item.get("type", "")), named, scored=scored,
                            top=True).scores:
                chain = _chain(iid, late)
                out.append(Problem(
                    pointer=f"{ptr}/calculate",
                    message=f"item {iid!r} scores, but its calculated value reads the score: "
                            f"{' → '.join(chain)}",
                    code="score_cycle", source=source, params={"cycle": chain}))

    def check(rule: Any, ptr: str, who: str, what: str) -> None:
        for root, at in _roots(rule):
            if root != "score" and root not in late:
                continue
            chain = [who, *_chain(root, late)]
            out.append(Problem(
                pointer=f"{ptr}{at}",
                message=f"{what} reads the score, which is known only after scoring "
                        f"(it may not decide what scores): {' → '.join(chain)}",
                code="score_cycle", source=source, params={"cycle": chain}))

    def walk(entries: list[tuple[dict[str, Any], str]]) -> None:
        for item, ptr in entries:
            for kind in _NO_SCORE:
                if item.get(kind) is not None:
                    check(item[kind], f"{ptr}/{kind}", str(item.get("id")),
                          f"{kind} of {item.get('id')!r}")
            subs = _sub_items(item, ptr)
            if subs is not None:
                walk(subs)

    walk(top)
    for ci, c in enumerate(definition.get("checks") or []):
        if isinstance(c, dict) and c.get("when") is not None:
            check(c["when"], f"/checks/{ci}/when", str(c.get("id")), f"check {c.get('id')!r}")
    return out


def _entries_read_score(top: list[tuple[dict[str, Any], str]]) -> bool:
    """Whether a ``fail_if`` inside a group's entries reads the score."""
    def walk(entries: list[tuple[dict[str, Any], str]], inside: bool) -> bool:
        for item, ptr in entries:
            if inside and any(r == "score" for r, _ in _roots(item.get("fail_if"))):
                return True
            subs = _sub_items(item, ptr)
            if subs is not None and walk(subs, True):
                return True
        return False

    return walk(top, False)


def _placed(fns: dict[str, CompiledRule], ptr: str) -> PlacedRule | None:
    return PlacedRule(fns[ptr], ptr) if ptr in fns else None


def _outcomes(definition: dict[str, Any], level: Level, fns: dict[str, CompiledRule],
              paths: dict[str, dict[str, Any]]) -> tuple[Outcome, ...]:
    forced: set[tuple[str, str]] = set()

    def collect(lv: Level) -> None:
        for it in lv.items:
            forced.update(it.forces.items())
            if it.sub is not None:
                collect(it.sub)

    collect(level)
    out: list[Outcome] = []
    for oi, o in enumerate(definition.get("outcomes") or []):
        if not isinstance(o, dict):
            continue
        oid = str(o.get("id"))
        levels: list[OutcomeLevel] = []
        for li, lv in enumerate(o.get("levels") or []):
            if not isinstance(lv, dict):
                continue
            base = f"/outcomes/{oi}/levels/{li}"
            low, high = as_number(lv.get("min")), as_number(lv.get("max"))
            when = _placed(fns, f"{base}/when")
            lid = str(lv.get("id"))
            bare = low is None and high is None and lv.get("when") is None
            levels.append(OutcomeLevel(
                id=lid, pointer=base, label=_localized(lv.get("label")), low=low, high=high,
                when=when, passed=lv["passed"] if isinstance(lv.get("passed"), bool) else None,
                message=(_template(lv["message"], f"{base}/message", fns, paths)
                         if isinstance(lv.get("message"), dict) else None),
                forced_only=bare and (oid, lid) in forced))
        of = o.get("of")
        out.append(Outcome(id=oid, title=_localized(o.get("title")),
                           of=None if of in (None, "total") else str(of), levels=tuple(levels)))
    return tuple(out)


def _compile(definition: dict[str, Any]) -> StandardRules:
    source = str(definition.get("id") or "definition")
    sources: dict[str, Any] = {}
    top: list[tuple[dict[str, Any], str]] = []
    top_sections: list[str] = []
    for si, sec in enumerate(definition.get("sections") or []):
        if not isinstance(sec, dict):
            continue
        _rule_sources(sec.get("items"), f"/sections/{si}/items", sources)
        for j, item in enumerate(sec.get("items") or []):
            if isinstance(item, dict):
                top.append((item, f"/sections/{si}/items/{j}"))
                top_sections.append(str(sec.get("id")))
    for ci, c in enumerate(definition.get("checks") or []):
        if isinstance(c, dict) and c.get("when") is not None:
            sources[f"/checks/{ci}/when"] = c["when"]
        if isinstance(c, dict):
            _param_sources(c.get("message"), f"/checks/{ci}/message", sources)
    for oi, o in enumerate(definition.get("outcomes") or []):
        for li, lv in enumerate(o.get("levels") or [] if isinstance(o, dict) else []):
            if isinstance(lv, dict) and lv.get("when") is not None:
                sources[f"/outcomes/{oi}/levels/{li}/when"] = lv["when"]
            if isinstance(lv, dict):
                _param_sources(lv.get("message"), f"/outcomes/{oi}/levels/{li}/message", sources)
    alerts = definition.get("alerts") or []
    for ai, a in enumerate(alerts):
        if isinstance(a, dict) and a.get("when") is not None:
            sources[f"/alerts/{ai}/when"] = a["when"]
        if isinstance(a, dict):
            _param_sources(a.get("message"), f"/alerts/{ai}/message", sources)

    problems: list[Problem] = []
    fns: dict[str, CompiledRule] = {}
    try:
        fns = compile_many(sources)
    except RuleError as e:
        # The compiler names the rule by its label (its place in the definition) as source.
        problems += [Problem(pointer=f"{p.source}{p.pointer}" if p.source else p.pointer,
                             message=p.message, code=p.code, source=source, params=p.params)
                     for p in e.problems]
    plans: dict[str, list[int]] = {}
    _plan(top, "", plans, problems, source)
    scored = definition.get("kind") != "survey" or definition.get("scored") is True
    late = _late(top)
    problems += _score_cycles(top, late, definition, source, scored=scored)
    if problems:
        raise RuleError.of(problems)

    issues: dict[str, Any] = (definition["issues"] if isinstance(definition.get("issues"), dict)
                              else {})
    severity = str(issues.get("default_severity") or "medium")
    paths = items_by_path(definition)
    level = _build_level(top, "", top_sections, plans=plans, fns=fns, scored=scored,
                         severity=severity, top=True, paths=paths, late=set(late))
    by_id = {it.pointer: it for it in level.items}
    spec = definition.get("scoring")
    model = score_model(spec)
    has_total = not (isinstance(spec, dict) and spec.get("total") is False)
    secs = tuple(
        Section(id=str(sec.get("id")), title=_localized(sec.get("title")),
                 items=tuple(by_id[f"/sections/{si}/items/{j}"]
                             for j in range(len(sec.get("items") or []))
                             if f"/sections/{si}/items/{j}" in by_id),
                 model=score_model(sec.get("scoring"), model))
        for si, sec in enumerate(definition.get("sections") or []) if isinstance(sec, dict))
    alert_rules = tuple(
        AlertRule(code=str(a.get("code")), severity=str(a.get("severity") or "medium"),
                   when=(PlacedRule(fns[f"/alerts/{ai}/when"], f"/alerts/{ai}/when")
                         if f"/alerts/{ai}/when" in fns else None),
                   message=_template(a.get("message"), f"/alerts/{ai}/message", fns, paths),
                   items=tuple(str(i) for i in a.get("items") or []))
        for ai, a in enumerate(alerts) if isinstance(a, dict))
    pp = as_number(definition.get("pass_percentage"))
    check_rules = tuple(
        Check(id=str(c.get("id")), item=str(c.get("item")),
              when=_placed(fns, f"/checks/{ci}/when"),
              message=_template(c.get("message"), f"/checks/{ci}/message", fns, paths),
              reads=frozenset(r for r, _ in _roots(c.get("when"))))
        for ci, c in enumerate(definition.get("checks") or []) if isinstance(c, dict))
    return StandardRules(definition_id=source, scored=scored, pass_percentage=pp,
                         model=model, has_total=has_total,
                         sections=secs, level=level, alerts=alert_rules,
                         outcomes=_outcomes(definition, level, fns, paths),
                         checks=check_rules, form_scores=_entries_read_score(top))


_compiled: BoundedCache[str, StandardRules] = BoundedCache(256)


def compile_standard(definition: dict[str, Any]) -> StandardRules:
    """Compile every rule of a standard or survey definition; cached by the content.

    Raises :class:`RuleError` with every problem at once: rules that don't compile (pointer
    inside the definition, e.g. ``/sections/0/items/3/visible_if/and/1``), calculated
    values (``calculation_cycle``) or visibility (``visibility_cycle``) depending on
    themselves in a cycle, and rules deciding the score that read it (``score_cycle``).
    Each problem's ``source`` is the definition's id.
    """
    return _compiled.get_or_make(content_key(definition), lambda: _compile(definition))
