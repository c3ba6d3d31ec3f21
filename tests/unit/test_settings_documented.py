"""docs/settings.md lists every setting Rounds reads, and nothing it does not read."""

from __future__ import annotations

import re

from support.deploy import REPO, SETTING, setting_names

SETTINGS_DOC = REPO / "docs" / "settings.md"
# Read by the test suite, not by Rounds; the page says so.
TEST_ONLY = {"ROUNDS_TEST_PG"}


def _table_rows() -> set[str]:
    """The variables of the table's rows (`| `ROUNDS_X` | default | meaning |`)."""
    return set(re.findall(r"^\| `(ROUNDS_[A-Z0-9_]+)` \|", SETTINGS_DOC.read_text(), flags=re.M))


def test_every_setting_has_a_row_in_docs_settings() -> None:
    missing = setting_names() - _table_rows()
    assert not missing, f"not in docs/settings.md: {sorted(missing)}"


def test_docs_settings_names_no_setting_rounds_does_not_read() -> None:
    named = set(SETTING.findall(SETTINGS_DOC.read_text())) - TEST_ONLY
    unknown = named - setting_names()
    assert not unknown, f"docs/settings.md names what no setting reads: {sorted(unknown)}"


def test_the_rows_make_one_table() -> None:
    """A row after a paragraph is text, not part of the table: rows are added to its end."""
    lines = SETTINGS_DOC.read_text().splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("| `ROUNDS_")]
    header = lines.index("| variable | default | meaning |")
    assert rows == list(range(header + 2, header + 2 + len(rows))), \
        "docs/settings.md: every row follows the one before it, under the header"
