"""The one place that decides a language and picks a text, and the catalogues it reads."""

from __future__ import annotations

import string

import pytest

from rounds import i18n


def test_languages_are_the_catalogue_folders_with_chinese_first() -> None:
    assert i18n.LANGUAGES[0] == "zh"
    assert set(i18n.LANGUAGES) == {"zh", "en"}


@pytest.mark.parametrize(("tag", "expected"), [
    ("zh-CN", "zh"), ("zh_Hans_CN", "zh"), ("EN-us", "en"), ("fr", "zh"), (None, "zh"), ("", "zh"),
])
def test_normalize(tag: str | None, expected: str) -> None:
    assert i18n.normalize(tag) == expected


def test_negotiate_explicit_choices_then_accept_language_by_quality() -> None:
    assert i18n.negotiate("en", "zh") == "en"
    assert i18n.negotiate(None, "fr", accept_language="en") == "en"
    assert i18n.negotiate(accept_language="fr;q=1, zh;q=0.4, en-GB;q=0.8") == "en"
    assert i18n.negotiate(accept_language="en;q=0, de") == "zh"
    assert i18n.negotiate(accept_language="en;q=bad, zh") == "zh"


def test_pick_has_one_fallback_order() -> None:
    both = {"zh": "现场", "en": "On site"}
    assert i18n.pick(both, "en") == "On site"
    assert i18n.pick({"zh": "现场"}, "en") == "现场"
    assert i18n.pick({"en": "On site", "zh": ""}, "zh") == "On site"
    assert i18n.pick({"fr": "Sur place"}, "zh") == "Sur place"
    assert i18n.pick({}, "zh", "item_1") == "item_1"
    assert i18n.pick(None, "zh", "item_1") == "item_1"
    assert i18n.pick("plain", "en") == "plain"


def test_text_fills_fields_and_an_unknown_key_is_an_error() -> None:
    assert i18n.text("common", "en", "language_name") == "English"
    with pytest.raises(KeyError, match="no_such_key"):
        i18n.text("common", "zh", "no_such_key")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("domain", i18n.domains())
def test_every_catalogue_has_every_key_with_the_same_fields(domain: str) -> None:
    catalogues = {lang: i18n._catalogue(domain, lang) for lang in i18n.LANGUAGES}
    keys = set().union(*catalogues.values())
    for lang, words in catalogues.items():
        missing = sorted(keys - set(words))
        assert not missing, f"{lang}/{domain}.po lacks {missing}"
    for key in keys:
        fields = {lang: _fields(words[key]) for lang, words in catalogues.items()}
        assert len({frozenset(f) for f in fields.values()}) == 1, (domain, key, fields)
