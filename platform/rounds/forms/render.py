"""HTML for people: a standard or survey as an accessible, mobile-first form page.

The page works without JavaScript as far as HTML can (labels, controls, the state the rules
give for the values it is rendered with); ``static/rounds-form.js`` then keeps visibility,
required marks, evidence and calculated values in step with the answers, evaluating the same
rules in the browser, and posts the answers as JSON.

Pure: no database and no web framework; templates are loaded from the package.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from rounds.rules.results import EntryResult, FormState
from rounds.rules.standards import compile_standard

STATIC_URL = "/static/rounds"
LANGUAGES = ("zh", "en")
RULE_KEYS = ("visible_if", "required_if", "evidence_if", "calculate")

# The words of the page itself; every word of a form comes from its definition.
CHROME: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "app": "Rounds 巡访",
        "skip": "跳到表单",
        "other_language": "English",
        "other_language_code": "en",
        "submit": "提交",
        "yes": "是",
        "no": "否",
        "na": "不适用",
        "required": "必填",
        "required_note": "带 * 的为必填项。",
        "steps": "操作步骤",
        "add_entry": "添加",
        "remove_entry": "删除",
        "entry": "条目",
        "entries_min": "至少 {n} 条",
        "entries_max": "最多 {n} 条",
        "choose_min": "至少选 {n} 项",
        "choose_max": "最多选 {n} 项",
        "photos_min": "至少 {n} 张",
        "photos_max": "最多 {n} 张",
        "photo_button": "拍照或选择照片",
        "photos_kept": "已有照片",
        "gps_button": "获取我的位置",
        "gps_none": "尚未定位",
        "gps_locating": "正在定位…",
        "gps_done": "已记录位置。",
        "gps_failed": "定位失败：",
        "gps_unsupported": "此设备无法提供位置。",
        "gps_value": "纬度 {lat}，经度 {lng}，精度 ±{accuracy} 米",
        "signature_hint": "请用手指在框内签名。",
        "signature_area": "签名区",
        "signature_clear": "清除签名",
        "signature_done": "已签名。",
        "signature_saving": "正在保存签名…",
        "signature_failed": "签名未能保存，请清除后重新签名。",
        "upload_error_photo_too_large": "照片超过 10 MB，请重新拍摄。",
        "upload_error_photo_too_many_pixels": "照片像素过高，请用手机相机正常拍摄后再上传。",
        "upload_error_photo_unreadable": "文件已损坏或不是图片，请重新拍摄。",
        "upload_error_unsupported_photo_type": "只能上传 JPEG、PNG、WebP 或 HEIC 格式的照片。",
        "upload_error_too_many_uploads": "上传过于频繁，请稍等一分钟再试。",
        "upload_error_photo_quota_exceeded": "您今天上传的照片已达上限，请明天再试。",
        "calculated": "自动计算",
        "not_calculated": "—",
        "evidence_hint": "这个答案需要附上证据。",
        "evidence_photos": "证据照片（至少 {n} 张）",
        "evidence_note": "情况说明",
        "version": "版本 {number}",
        "published": "已发布",
        "draft": "草稿",
        "preview_only": "这是预览，答案不会提交。",
        "sending": "正在提交…",
        "network_error": "网络错误，请稍后重试。",
        "submit_failed": "提交失败",
        "result_title": "结果",
        "score_line": "得分 {percentage}%（{total} / {max} 分）",
        "passed": "合格",
        "not_passed": "不合格",
        "valid": "答案有效（不计分）。",
        "explanation": "计分明细",
        "failed_items": "未达标项",
        "alerts": "预警",
        "errors_title": "有 {n} 个问题需要处理",
        "forms_title": "表单",
        "forms_intro": "工作标准和调查问卷：点“预览”查看手机上的表单。",
        "standards": "工作标准",
        "surveys": "调查问卷",
        "preview": "预览",
        "no_definitions": "还没有导入任何工作标准或调查问卷。",
        "no_published": "未发布",
        "uploading": "正在上传…",
        "uploaded": "已上传",
        "upload_failed": "上传失败，请重新选择这张照片。",
        "remove_photo": "删除这张照片",
        "wait_uploads": "照片还在上传，上传完成后会自动提交…",
        "submitted": "已提交，正在打开结果…",
        "id_conflict": "这张表单已经提交过，内容与这次不同。",
        "view_result": "查看已提交的结果",
        "new_submission": "再次提交会作为一份新的表单。",
    },
    "en": {
        "html_lang": "en",
        "app": "Rounds",
        "skip": "Skip to the form",
        "other_language": "中文",
        "other_language_code": "zh",
        "submit": "Submit",
        "yes": "Yes",
        "no": "No",
        "na": "N/A",
        "required": "required",
        "required_note": "Items marked * are required.",
        "steps": "Steps",
        "add_entry": "Add entry",
        "remove_entry": "Remove",
        "entry": "Entry",
        "entries_min": "at least {n}",
        "entries_max": "at most {n}",
        "choose_min": "choose at least {n}",
        "choose_max": "choose up to {n}",
        "photos_min": "at least {n} photo(s)",
        "photos_max": "up to {n} photos",
        "photo_button": "Take or choose photos",
        "photos_kept": "Photos on file",
        "gps_button": "Get my position",
        "gps_none": "No position yet",
        "gps_locating": "Locating…",
        "gps_done": "Position recorded.",
        "gps_failed": "Could not get the position:",
        "gps_unsupported": "This device cannot report its position.",
        "gps_value": "Lat {lat}, lng {lng}, accuracy ±{accuracy} m",
        "signature_hint": "Sign inside the box with your finger.",
        "signature_area": "Signature pad",
        "signature_clear": "Clear signature",
        "signature_done": "Signed.",
        "signature_saving": "Saving the signature…",
        "signature_failed": "The signature was not saved; please clear it and sign again.",
        "upload_error_photo_too_large": "The photo is over 10 MB; please take it again.",
        "upload_error_photo_too_many_pixels": "The photo has too many pixels; please take it "
                                              "with the phone's camera as usual.",
        "upload_error_photo_unreadable": "The file is damaged or not an image; please take "
                                         "the photo again.",
        "upload_error_unsupported_photo_type": "Only JPEG, PNG, WebP or HEIC photos can be "
                                               "uploaded.",
        "upload_error_too_many_uploads": "Too many uploads; please wait a minute and try again.",
        "upload_error_photo_quota_exceeded": "You have reached today's limit for photos; please "
                                             "try again tomorrow.",
        "calculated": "calculated",
        "not_calculated": "—",
        "evidence_hint": "This answer needs evidence.",
        "evidence_photos": "Evidence photos (at least {n})",
        "evidence_note": "Note",
        "version": "Version {number}",
        "published": "published",
        "draft": "draft",
        "preview_only": "This is a preview; the answers are not sent.",
        "sending": "Sending…",
        "network_error": "Network error; please try again.",
        "submit_failed": "Submission failed",
        "result_title": "Result",
        "score_line": "Score {percentage}% ({total} of {max} points)",
        "passed": "Passed",
        "not_passed": "Not passed",
        "valid": "The answers are valid (not scored).",
        "explanation": "How the score was worked out",
        "failed_items": "Items not met",
        "alerts": "Alerts",
        "errors_title": "{n} problems to fix",
        "forms_title": "Forms",
        "forms_intro": "Job standards and surveys: “Preview” shows the form as a phone shows it.",
        "standards": "Standards",
        "surveys": "Surveys",
        "preview": "Preview",
        "no_definitions": "No standards or surveys have been imported yet.",
        "no_published": "not published",
        "uploading": "Uploading…",
        "uploaded": "Uploaded",
        "upload_failed": "Upload failed; please choose this photo again.",
        "remove_photo": "Remove this photo",
        "wait_uploads": "Photos are still uploading; the form is sent when they are done…",
        "submitted": "Submitted; opening the result…",
        "id_conflict": "This form was already submitted with different answers.",
        "view_result": "See the submitted result",
        "new_submission": "Submitting again makes a new submission.",
    },
}


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
        return "/answers/" + "/".join(_escape(p) for p in self.path)

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


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _text(value: Any, lang: str) -> str:
    """A localized label ({"zh", "en"}) in the page's language."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("zh") or value.get("en") or "")
    return "" if value is None else str(value)


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
            out.append(SectionView(id=s["id"], title=_text(s.get("title"), self.lang),
                                   help=_text(s.get("help"), self.lang) or None, items=views))
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
            title=_text(item.get("title"), lang),
            help=_text(item.get("help"), lang) or None,
            steps=[_text(s, lang) for s in item.get("steps", [])],
            required=required, visible=visible,
            calculated="calculate" in item, value=value,
            unit=_text(item.get("unit"), lang) or None,
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
        notes = {str(v): _text(labels.get(str(v)), self.lang) for v in range(lo, hi + 1)}
        if item.get("allow_na"):
            pairs.append(("na", self.t["na"]))
        chosen = {str(view.value)} if view.value is not None else set()
        self._options(view, pairs, chosen, notes)

    def _for_single_choice(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        pairs = [(str(c["value"]), _text(c.get("label"), self.lang))
                 for c in item.get("choices", [])]
        self._options(view, pairs, {str(view.value)} if view.value is not None else set())

    def _for_multiple_choice(self, view: ItemView, item: Mapping[str, Any], *_: Any) -> None:
        pairs = [(str(c["value"]), _text(c.get("label"), self.lang))
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
        view.entry_title = _text(item.get("entry_title"), self.lang) or self.t["entry"]
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
                    targets.append(("/evidence/" + _escape("/".join(v.path)), v))
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


def _rules(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What the browser evaluates, by dotted item path ("group.item" inside a group)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Iterable[Mapping[str, Any]], prefix: str) -> None:
        for item in items:
            path = f"{prefix}{item['id']}"
            entry = {k: item[k] for k in RULE_KEYS if k in item}
            if item.get("required"):
                entry["required"] = True
            if entry:
                out[path] = entry
            if item.get("type") == "group":
                walk(item.get("items", []), path + ".")

    walk((i for s in definition.get("sections", []) for i in s.get("items", [])), "")
    return out


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("rounds.forms", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.globals["static_url"] = STATIC_URL
    return env


def _language(lang: str) -> str:
    return lang if lang in LANGUAGES else LANGUAGES[0]


def form_context(definition: dict[str, Any], *, lang: str = "zh", action: str | None = None,
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
    lang = _language(lang)
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
    config: dict[str, Any] = {"lang": lang, "items": _rules(definition), "ctx": ctx or {},
                              "text": t}
    if envelope:
        config["envelope"] = envelope
    if photo_upload:
        config["photo_upload"] = photo_upload
    if csrf_token:
        config["csrf_token"] = csrf_token
    return dict(
        lang=lang, t=t, title=_text(definition.get("title"), lang),
        description=_text(definition.get("description"), lang) or None,
        definition_id=definition.get("id", ""), sections=sections, action=action,
        version=version, summary=builder.summary,
        error_count=len(builder.errors), switch_language=switch, config=config)


def render_form(definition: dict[str, Any], *, lang: str = "zh", action: str | None = None,
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


@dataclass(frozen=True)
class IndexEntry:
    """One definition on the forms index page."""

    id: str
    kind: str
    title: Mapping[str, str]
    current_version: int | None


def render_index(entries: Iterable[IndexEntry], *, lang: str = "zh") -> str:
    """The forms index: the standards and surveys, each with a link to its preview."""
    lang = _language(lang)
    t = CHROME[lang]
    listed = list(entries)

    def rows(kind: str) -> list[dict[str, Any]]:
        return [{"id": e.id, "title": _text(e.title, lang), "version": e.current_version,
                 "href": f"/forms/{e.id}/preview?lang={lang}"}
                for e in listed if e.kind == kind]

    return environment().get_template("index.html").render(
        lang=lang, t=t, title=t["forms_title"],
        groups=[(t["standards"], rows("standard")), (t["surveys"], rows("survey"))],
        switch_language=f"?lang={t['other_language_code']}")
