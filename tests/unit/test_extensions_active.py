"""What a set of enabled extensions gives the app and the worker (rounds.extensions.Active),
from Extension values made here: nothing is activated in this process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rounds.extensions import Active, Extension, MenuEntry, enabled_names
from rounds.settings import load_settings
from rounds.web.extension_assets import operations_module


def test_the_setting_names_each_extension_once_in_order() -> None:
    assert enabled_names(" b, a ,,b,") == ["b", "a"]
    assert enabled_names("") == []


def test_periodic_entries_are_named_by_their_extension(tmp_path: Path) -> None:
    one = Extension(name="one", title={"en": "One"}, task_modules=("one.jobs",),
                    schedule=lambda s: {"tick": {"task": "one.tick",
                                                 "schedule": timedelta(hours=1)}})
    two = Extension(name="two", title={"en": "Two"}, task_modules=("two.jobs", "two.more"),
                    schedule=lambda s: {"tick": {"task": "two.tick",
                                                 "schedule": timedelta(days=1)}})
    active = Active((one, two))
    assert active.task_modules() == ["one.jobs", "two.jobs", "two.more"]
    entries = active.schedule(load_settings({}))
    assert sorted(entries) == ["one.tick", "two.tick"]
    assert entries["two.tick"]["task"] == "two.tick"


def test_the_browser_imports_the_operations_of_those_that_have_them(tmp_path: Path) -> None:
    (tmp_path / "with" / "static").mkdir(parents=True)
    (tmp_path / "with" / "static" / "operations.js").write_text("export const operations = {}")
    (tmp_path / "without" / "static").mkdir(parents=True)
    active = Active((Extension(name="a", title={}, static=tmp_path / "with" / "static"),
                     Extension(name="b", title={}, static=tmp_path / "without" / "static"),
                     Extension(name="c", title={})))
    assert active.browser_operations() == ["a"]
    module = operations_module(active)
    assert 'import { operations as ext0 } from "/static/extensions/a/operations.js"' in module
    assert module.endswith("export const operations = { ...ext0 }\n")
    assert operations_module(Active()) == "export const operations = {  }\n"


def test_menu_entries_keep_their_order_and_contributions_name_each_page_once() -> None:
    ext = Extension(name="a", title={}, menu=(
        MenuEntry("/x", {"zh": "办理"}, "a.review"), MenuEntry("/x", {"zh": "申请"}, "a.apply"),
        MenuEntry("/y", {"zh": "另一页"})))
    assert [m.href for m in Active((ext,)).menu()] == ["/x", "/x", "/y"]
    assert ext.contributes()["menu"] == ["/x", "/y"]
