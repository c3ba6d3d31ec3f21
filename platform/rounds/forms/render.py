"""HTML for people: a standard or survey as an accessible, mobile-first form page.

The page works without JavaScript as far as HTML can (labels, controls, the state the rules
give for the values it is rendered with); ``static/rounds-form.js`` then keeps visibility,
required marks, evidence and calculated values in step with the answers, evaluating the same
rules in the browser, and posts the answers as JSON.

Pure: no database and no web framework; templates are loaded from the package. The page's
own words are the ``forms`` catalogue's ``page.*`` (``rounds.i18n``); labels from the
definition are picked with ``rounds.i18n.pick``.

May import: ``rounds.i18n``, ``rounds.pointer`` and ``rounds.rules``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from rounds import i18n
from rounds import pointer as json_pointer
from rounds.rules.results import EntryResult, FormState
from rounds.rules.standards import compile_standard

# The page's own files (script, styles) and the URL the page expects them at; the web side
# (runtime.forms.pages) serves the one at the other.
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static/rounds"

# The words of the page itself (every word of a form comes from its definition): the forms
# catalogue's "page.*" words, by language, without the prefix. The page's script gets them
# too (config.text).
PAGE_PREFIX = "page."


def page_words(lang: str) -> dict[str, str]:
    """The words of a form's page in ``lang`` (a language of ``rounds.i18n.LANGUAGES``)."""
    words = {key.removeprefix(PAGE_PREFIX): text
             for key, text in i18n.table("forms", lang).items() if key.startswith(PAGE_PREFIX)}
    # A failed check between fields, said live in the browser as the server's 422 says it
    # (forms.messages): "<item>：<the check's message>", or the general words without one.
    words["check_separator"] = i18n.text("forms", lang, "separator.label")
    words["check_failed"] = i18n.text("forms", lang, "problem.check_failed")
    # The score and outcomes said live (form-live.js) in the words the result page and the
    # check API use: one catalogue, ``results``.
    words.update({f"results.{key}": text for key, text in i18n.table("results", lang).items()})
    return words


CHROME: dict[str, dict[str, str]] = {lang: page_words(lang) for lang in i18n.LANGUAGES}

# The words a filled message uses (true/false, the list separator, yes/no/N/A), from the
# scoring catalogue as rounds.rules.alerts uses them: the browser's standard.js fills messages
# in every language as the server does, so it gets them all.
MESSAGE_WORDS: dict[str, dict[str, str]] = {
    lang: {key: text for key, text in i18n.table("scoring", lang).items()
           if key.startswith(("value.", "answer."))}
    for lang in i18n.LANGUAGES}


# -- what the templates see -------------------------------------------------------------------

@dataclass
class Option:
    value: str
    label: str
    checked: bool
    dom_id: str
    note: str = ""  # a scale value's own label ("very satisfied")


@dataclass
class Evidence:
    shown: bool
    photo_min: int
    note: bool
    note_value: str
    photos: list[str]
    dom_id: str


@dataclass
class ItemView:
    id: str
    type: str
    path: tuple[str, ...]
    dom_id: str
    title: str
    help: str | None
    steps: list[str]
    required: bool
    visible: bool
    calculated: bool
    value: Any
    unit: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    options: list[Option] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    calc_text: str = ""
    calc_json: str = "null"
    entries: list[list[ItemView]] = field(default_factory=list)
    template: list[ItemView] = field(default_factory=list)
    token: str = ""
    entry_title: str = ""
    min_count: int | None = None
    max_count: int | None = None
    evidence: Evidence | None = None
    errors: list[str] = field(default_factory=list)
    gps: dict[str, str] = field(default_factory=dict)
    photos: list[str] = field(default_factory=list)
    multiline: bool = False

    @property
    def pointer(self) -> str:
        return json_pointer.join("answers", *self.path)

    @property
    def described_by(self) -> str:
        ids = [f"{self.dom_id}-help"] if self.help else []
        ids += [f"{self.dom_id}-error-{n}" for n in range(len(self.errors))]
        return " ".join(ids)


@dataclass
class SectionView:
    id: str
    title: str
    help: str | None
    items: list[ItemView]


def _number_text(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Builder:
    """Turns a definition and the values it is shown with into views for the templates.

    What is shown, required, asked for evidence and calculated comes from the server's own
    evaluation (``StandardRules.form``), so the page starts in the state the server would
    judge it in; the browser then follows the answers with the same rules.
    """

    def __init__(self, definition: Mapping[str, Any], lang: str, answers: Mapping[str, Any],
                 evidence: Mapping[str, Any], errors: Iterable[Mapping[str, Any]], *,
                 ctx: Mapping[str, Any] | None = None) -> None:
        self.definition = definition
        self.lang = lang
        self.t = CHROME[lang]
        items = [i for s in definition.get("sections", []) for i in s.get("items", [])]
        # a required group starts with the entries it needs, and is judged with them
        self.answers = self.with_blank_entries(items, answers)
        self.evidence = evidence
        self.errors = list(errors)
        self.summary: list[tuple[str, str | None]] = []  # (message, id of its item)
        self.state: FormState = compile_standard(dict(definition)).form(self.answers, ctx)
        self.entry_state: dict[str, EntryResult] = {e.pointer: e for e in self.state.entries}

    @staticmethod
    def entry(e: Any) -> Mapping[str, Any]:
        return e if isinstance(e, Mapping) else {}

    def with_blank_entries(self, items: Iterable[Mapping[str, Any]], answers: Mapping[str, Any]
                           ) -> dict[str, Any]:
        out = dict(answers)
        for item in items:
            if item.get("type") != "group":
                continue
            value = out.get(item["id"])
            if not isinstance(value, list):
                if not (item.get("required") and item.get("min_count")):
                    continue
                value = [{} for _ in range(int(item["min_count"]))]
            out[item["id"]] = [self.with_blank_entries(item.get("items", []), self.entry(e))
                               for e in value]
        return out

    def judged(self, item: Mapping[str, Any], path: tuple[str, ...], template: bool
               ) -> tuple[bool, bool, bool, Any]:
        """(visible, required, evidence asked for, calculated value) of an item."""
        item_id = str(item["id"])
        if template:  # a new entry: the browser judges it once it is added
            return True, bool(item.get("required")) and "calculate" not in item, False, None
        if len(path) == 1:
            st = self.state
            return (st.visible.get(item_id, True), st.required.get(item_id, False),
                    item_id in st.evidence, st.calculated.get(item_id))
        entry = self.entry_state.get("/" + "/".join(path[:-1]))
        if entry is None:  # inside a hidden group
            return True, bool(item.get("required")), False, None
        return (entry.visible.get(item_id, True), entry.required.get(item_id, False),
                item_id in entry.evidence, entry.calculated.get(item_id))

    # -- views ----------------------------------------------------------------------------

    def sections(self) -> list[SectionView]:
        out = []
        for s in self.definition.get("sections", []):
            views = [self.item(i, (), answers=self.answers, template=False)
                     for i in s.get("items", [])]
            out.append(SectionView(id=s["id"], title=i18n.pick(s.get("title"), self.lang),
                                   help=i18n.pick(s.get("help"), self.lang) or None, items=views))
        self.place_errors(out)
        return out

    def item(self, item: Mapping[str, Any], prefix: tuple[str, ...], *,
             answers: Mapping[str, Any], template: bool) -> ItemView:
        lang, t = self.lang, self.t
        kind, item_id = str(item["type"]), str(item["id"])
        path = (*prefix, item_id)
        value = answers.get(item_id)
        visible, required, evidence_shown, calc = self.judged(item, path, template)
        view = ItemView(
            id=item_id, type=kind, path=path, dom_id="f-" + "-".join(path),
            title=i18n.pick(item.get("title"), lang),
            help=i18n.pick(item.get("help"), lang) or None,
            steps=[i18n.pick(s, lang) for s in item.get("steps", [])],
            required=required, visible=visible,
            calculated="calculate" in item, value=value,
            unit=i18n.pick(item.get("unit"), lang) or None,
            min_count=item.get("min_count"), max_count=item.get("max_count"))
        if view.calculated:
            view.calc_json = json.dumps(calc, ensure_ascii=False)
            if isinstance(calc, int | float) and not isinstance(calc, bool):
                view.calc_text = _number_text(round(calc, 2))
            elif calc is not None:
                view.calc_text = calc if isinstance(calc, str) else view.calc_json
            else:
                view.calc_text = t["not_calculated"]
        builder = getattr(self, f"_for_{kind}", None)
        if builder is not None:
            builder(view, item, answers, template)
        if "evidence_if" in item:
            spec = item.get("evidence") or {}
            # keyed by the item's id, or "<group>/<entry>/<item>" inside a group entry
            given = {} if template else self.entry(self.evidence.get("/".join(path)))
            photos = given.get("photos")
            view.evidence = Evidence(
                shown=evidence_shown,
                photo_min=int(spec.get("photo_min", 1)), note=bool(spec.get("note", False)),
                note_value=str(given.get("note") or ""),
                photos=[str(p) for p in photos] if isinstance(photos, list) else [],
                dom_id=f"{view.dom_id}-evidence")
        return view

    def _options(self, view: ItemView, pairs: list[tuple[str, str]], chosen: set[str],
                 notes: Mapping[str, str] | None = None) -> None:
        view.options = [Option(value=v, label=label, checked=v in chosen,
                               dom_id=f"{view.dom_id}-{n}", note=(notes or {}).get(v, ""))
                        for n, (v, label) in enumerate(pairs)]

    def _for_yes_no(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        pairs = [("yes", self.t["yes"]), ("no", self.t["no"])]
        if item.get("allow_na"):
            pairs.append(("na", self.t["na"]))
        self._options(view, pairs, {str(view.value)} if view.value is not None else set())

    def _for_scale(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        lo, hi = int(item["min"]), int(item["max"])
        labels = item.get("labels") or {}
        pairs = [(str(v), str(v)) for v in range(lo, hi + 1)]
        notes = {str(v): i18n.pick(labels.get(str(v)), self.lang) for v in range(lo, hi + 1)}
        if item.get("allow_na"):
            pairs.append(("na", self.t["na"]))
        chosen = {str(view.value)} if view.value is not None else set()
        self._options(view, pairs, chosen, notes)

    def _for_single_choice(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        pairs = [(str(c["value"]), i18n.pick(c.get("label"), self.lang))
                 for c in item.get("choices", [])]
        self._options(view, pairs, {str(view.value)} if view.value is not None else set())

    def _for_multiple_choice(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        pairs = [(str(c["value"]), i18n.pick(c.get("label"), self.lang))
                 for c in item.get("choices", [])]
        chosen = {str(v) for v in view.value} if isinstance(view.value, list) else set()
        self._options(view, pairs, chosen)
        if item.get("min_count"):
            view.hints.append(self.t["choose_min"].format(n=item["min_count"]))
        if item.get("max_count"):
            view.hints.append(self.t["choose_max"].format(n=item["max_count"]))

    def _for_number(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        attrs = {"step": "1" if item.get("integer") else "any",
                 "inputmode": "numeric" if item.get("integer") else "decimal"}
        for key in ("min", "max"):
            if key in item:
                attrs[key] = _number_text(item[key])
        view.attrs = attrs

    def _for_text(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        view.multiline = bool(item.get("multiline"))
        if "max_length" in item:
            view.attrs["maxlength"] = str(item["max_length"])
        if "min_length" in item:
            view.attrs["minlength"] = str(item["min_length"])

    def _for_date(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        view.attrs = {k: str(item[k]) for k in ("min", "max") if k in item}

    def _for_photo(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        view.photos = [str(p) for p in view.value] if isinstance(view.value, list) else []
        if item.get("min_count"):
            view.hints.append(self.t["photos_min"].format(n=item["min_count"]))
        if item.get("max_count"):
            view.hints.append(self.t["photos_max"].format(n=item["max_count"]))

    def _for_gps(self, view: ItemView, *_: Any) -> None:
        v = view.value if isinstance(view.value, Mapping) else {}
        view.gps = {k: _number_text(v.get(k)) for k in ("lat", "lng", "accuracy_m")}

    def _for_group(self, view: ItemView, item: Mapping[str, Any], answers: Mapping[str, Any],
                   template: bool) -> None:
        sub_items = item.get("items", [])
        view.entry_title = i18n.pick(item.get("entry_title"), self.lang) or self.t["entry"]
        ids = [p for n, p in enumerate(view.path) if n % 2 == 0]  # the group ids, no indexes
        view.token = "__n_" + "_".join(ids) + "__"
        entries = answers.get(view.id)
        for n, e in enumerate(entries if isinstance(entries, list) and not template else []):
            sub = (*view.path, str(n))
            view.entries.append([self.item(i, sub, answers=self.entry(e), template=False)
                                 for i in sub_items])
        blank = (*view.path, view.token)
        view.template = [self.item(i, blank, answers={}, template=True) for i in sub_items]
        if item.get("min_count"):
            view.hints.append(self.t["entries_min"].format(n=item["min_count"]))
        if item.get("max_count"):
            view.hints.append(self.t["entries_max"].format(n=item["max_count"]))

    # -- errors next to the fields they are about --------------------------------------

    def place_errors(self, sections: list[SectionView]) -> None:
        targets: list[tuple[str, ItemView]] = []

        def walk(views: list[ItemView]) -> None:
            for v in views:
                targets.append((v.pointer, v))
                if v.evidence is not None:  # evidence is keyed by the item's path
                    targets.append((json_pointer.join("evidence", "/".join(v.path)), v))
                for entry in v.entries:
                    walk(entry)

        for s in sections:
            walk(s.items)
        for err in self.errors:
            pointer, message = str(err.get("pointer") or ""), str(err.get("message") or "")
            best: tuple[str, ItemView] | None = None
            for p, v in targets:
                if (pointer == p or pointer.startswith(p + "/")) and (
                        best is None or len(p) > len(best[0])):
                    best = (p, v)
            if best is None:
                self.summary.append((message, None))
            else:
                best[1].errors.append(message)
                self.summary.append((message, f"item-{best[1].dom_id}"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("rounds.forms", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.globals["static_url"] = STATIC_URL
    return env


def form_context(definition: dict[str, Any], *, lang: str = i18n.DEFAULT, action: str | None = None,
                 values: dict[str, Any] | None = None, errors: list[Any] | None = None,
                 version: dict[str, Any] | None = None, ctx: dict[str, Any] | None = None,
                 envelope: dict[str, Any] | None = None, photo_upload: str | None = None,
                 csrf_token: str | None = None) -> dict[str, Any]:
    """What ``form.html`` renders, for pages that extend it (see :func:`render_form`).

    ``ctx``: what the rules read under ``ctx`` (site attributes, user, visit), the same on
    the server and in the browser. ``envelope``: ``{"definition_id", "version", "visit_id",
    "result_url"}`` makes the browser post a submission (``{id, definition_id, version,
    visit_id, answers, evidence}``, the id kept per visit and form until it is stored) and
    open ``result_url`` (``{id}`` replaced) afterwards. ``photo_upload``: a URL each chosen
    photo is uploaded to at once; answers then carry the ids it returns. ``csrf_token``: sent
    as ``X-CSRF-Token`` (a signed-in page has it; otherwise it is asked for).
    """
    lang = i18n.normalize(lang)
    values = values or {}
    if isinstance(values.get("answers"), Mapping):
        answers: Mapping[str, Any] = values["answers"]
        evidence: Mapping[str, Any] = values.get("evidence") or {}
    else:
        answers, evidence = values, {}
    builder = _Builder(definition, lang, answers, evidence,
                       [e for e in errors or [] if isinstance(e, Mapping)], ctx=ctx)
    sections = builder.sections()
    t = CHROME[lang]
    switch = f"?lang={t['other_language_code']}"
    if version and version.get("number") is not None:
        switch += f"&version={version['number']}"
    # The browser evaluates the definition itself (standard.js), as the server will.
    config: dict[str, Any] = {"lang": lang, "definition": definition, "ctx": ctx or {},
                              "text": t, "words": MESSAGE_WORDS}
    if envelope:
        config["envelope"] = envelope
    if photo_upload:
        config["photo_upload"] = photo_upload
    if csrf_token:
        config["csrf_token"] = csrf_token
    return dict(
        lang=lang, t=t, title=i18n.pick(definition.get("title"), lang),
        description=i18n.pick(definition.get("description"), lang) or None,
        definition_id=definition.get("id", ""), sections=sections, action=action,
        version=version, summary=builder.summary,
        error_count=len(builder.errors), switch_language=switch, config=config)


def render_form(definition: dict[str, Any], *, lang: str = i18n.DEFAULT, action: str | None = None,
                values: dict[str, Any] | None = None, errors: list[Any] | None = None,
                version: dict[str, Any] | None = None, **options: Any) -> str:
    """A full HTML page with the form of a standard or survey.

    ``values``: the answers to show (or ``{"answers": ..., "evidence": ...}`` as submitted);
    ``errors``: ``[{"pointer", "message"}]`` as the API's problem details give them, shown next
    to the fields they point at; ``version``: ``{"number", "content_hash", "status"}``;
    ``options``: ``ctx``, ``envelope``, ``photo_upload``, ``csrf_token`` (see
    :func:`form_context`).
    """
    context = form_context(definition, lang=lang, action=action, values=values, errors=errors,
                           version=version, **options)
    return environment().get_template("form.html").render(**context)


class IndexEntry(Protocol):
    """What the forms index reads of each definition listed (the definition store's
    summaries have it)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> Mapping[str, str]: ...
    @property
    def current_version(self) -> int | None: ...


def render_index(entries: Iterable[IndexEntry], *, lang: str = i18n.DEFAULT) -> str:
    """The forms index: the standards and surveys, each with a link to its preview."""
    lang = i18n.normalize(lang)
    t = CHROME[lang]
    listed = list(entries)

    def rows(kind: str) -> list[dict[str, Any]]:
        return [{"id": e.id, "title": i18n.pick(e.title, lang), "version": e.current_version,
                 "href": f"/forms/{e.id}/preview?lang={lang}"}
                for e in listed if e.kind == kind]

    return environment().get_template("index.html").render(
        lang=lang, t=t, title=t["forms_title"],
        groups=[(t["standards"], rows("standard")), (t["surveys"], rows("survey"))],
        switch_language=f"?lang={t['other_language_code']}")
