"""The extension's words: the same keys and fields in Chinese and English, no English on
the Chinese side, and every state, step and document the pages name has its words."""

from __future__ import annotations

import re
import string

from rounds_retail_licence import service, states

from rounds import i18n
from rounds.extensions import activate
from support.extensions import ENABLED

activate(ENABLED)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_every_key_with_the_same_fields() -> None:
    zh, en = (i18n._catalogue("retail_licence", lang) for lang in ("zh", "en"))
    assert zh.keys() == en.keys()
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key


def test_the_chinese_words_have_no_english() -> None:
    zh = i18n._catalogue("retail_licence", "zh")
    latin = {k: v for k, v in zh.items() if re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}",
                                                                              "", v))}
    assert latin == {}


def test_every_state_step_and_choice_has_words() -> None:
    keys = [*(f"state_{s}" for s in states.STATES),
            *(f"action_{s}" for s in (*states.STEPS, "submit", "reminded", "escalated")),
            *(f"doc_{d}" for d in service.DOCUMENT_KINDS),
            *(f"business_{b}" for b in service.BUSINESS_TYPES),
            *(f"area_{a}" for a in service.MARKET_AREAS),
            *(f"scope_{s}" for s in service.SCOPES)]
    for lang in ("zh", "en"):
        words = i18n._catalogue("retail_licence", lang)
        assert [k for k in keys if k not in words] == [], lang
