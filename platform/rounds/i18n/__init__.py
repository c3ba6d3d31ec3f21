"""Languages and words: the one place that decides a language and picks a text.

Everything that shows words to a person goes through here; this package imports nothing
from the rest of Rounds, so the engines and the runtime may both use it.

- **Languages.** :data:`LANGUAGES` are the folders of ``locale/`` (today ``zh`` and ``en``);
  :data:`DEFAULT` is Chinese, the language of the source standards. :func:`normalize` turns a
  tag such as ``zh-CN`` or ``en_US`` into one of them; :func:`negotiate` chooses for a
  request: explicit choices first (``?lang=``, the account's language), then the
  browser's ``Accept-Language`` by quality, then the default.
- **Labels from definitions.** A definition's titles are ``{"zh": …, "en": …}`` maps.
  :func:`pick` reads one with the single fallback order of the product: the asked
  language, then the others in :data:`LANGUAGES` order, then any language the label has,
  then the caller's fallback (usually the item's id).
- **The product's own words** live in gettext catalogues, one per area (a *domain*:
  ``fieldwork``, ``forms``, ``issues``, …) at ``locale/<lang>/LC_MESSAGES/<domain>.po``. The
  message id is a stable key (``check_in_here``), the string is Python ``str.format``
  text (``{name}``). :func:`text` fills one; :func:`table` gives a domain's words for a
  script. A third language is a folder of catalogues, not a code change; a key missing
  in a language falls back in the same order as :func:`pick`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh"


def _languages() -> tuple[str, ...]:
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    # The default first: it is the fallback after the asked language.
    return tuple(sorted(found, key=lambda lang: (lang != DEFAULT, lang)))


LANGUAGES: tuple[str, ...] = _languages()


def normalize(tag: str | None, default: str = DEFAULT) -> str:
    """The supported language a tag names (``zh-Hans-CN`` → ``zh``), else ``default``."""
    if tag:
        primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
        if primary in LANGUAGES:
            return primary
    return default


def _accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, n, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(*choices: str | None, accept_language: str | None = None,
              default: str = DEFAULT) -> str:
    """The language to answer in: the first supported explicit choice, else the first
    supported language the browser accepts, else ``default``."""
    for choice in (*choices, *_accepted(accept_language or "")):
        lang = normalize(choice, default="")
        if lang:
            return lang
    return normalize(default)


def _order(lang: str) -> tuple[str, ...]:
    return (lang, *(other for other in LANGUAGES if other != lang))


def pick(label: Mapping[str, Any] | str | None, lang: str, fallback: str = "") -> str:
    """A label in ``lang``: the asked language, then the others in :data:`LANGUAGES`
    order, then any the label has, then ``fallback``. A plain string is its own label."""
    if label is None:
        return fallback
    if isinstance(label, str):
        return label or fallback
    for candidate in _order(lang):
        value = label.get(candidate)
        if value:
            return str(value)
    for value in label.values():
        if value:
            return str(value)
    return fallback


def table(domain: str, lang: str) -> Mapping[str, str]:
    """Every word of a domain in ``lang``, missing keys filled in the :func:`pick` order."""
    return _table(domain, normalize(lang))  # normalized first: the cache keeps one per language


@functools.cache
def _table(domain: str, lang: str) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for candidate in reversed(_order(lang)):
        merged.update(_catalogue(domain, candidate))
    return merged


# Folders of more catalogues: the enabled extensions' (rounds.extensions), each a folder
# ``<lang>/LC_MESSAGES/<domain>.po`` like ``locale/``. A domain lives in one folder.
_MORE_DIRS: list[Path] = []


def add_locale_dir(folder: Path) -> None:
    """Read catalogues from ``folder`` too (an extension's words, in its own domains)."""
    if folder not in _MORE_DIRS:
        _MORE_DIRS.append(folder)
        _table.cache_clear()
        _catalogue.cache_clear()


def _catalogue_path(domain: str, lang: str) -> Path:
    for folder in (LOCALE_DIR, *_MORE_DIRS):
        path = folder / lang / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            return path
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


@functools.cache
def _catalogue(domain: str, lang: str) -> dict[str, str]:
    path = _catalogue_path(domain, lang)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=domain)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def text(domain: str, lang: str, key: str, /, **params: Any) -> str:
    """One word or sentence of a domain in ``lang``, with ``{name}`` fields filled.
    An unknown key is a programming error and raises ``KeyError``."""
    words = table(domain, lang)
    if key not in words:
        raise KeyError(f"no text {key!r} in the {domain!r} catalogue")
    return words[key].format(**params) if params else words[key]


def domains() -> list[str]:
    """The catalogues there are (the union over languages)."""
    return sorted({p.stem for folder in (LOCALE_DIR, *_MORE_DIRS) for lang in LANGUAGES
                   for p in (folder / lang / "LC_MESSAGES").glob("*.po")})
