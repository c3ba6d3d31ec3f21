"""The dashboards' pure helpers: how a figure reads, months back, export names, and the map
page's Content-Security-Policy when a tile server is configured."""

from __future__ import annotations

import pytest

from rounds.errors import NotFound
from rounds.runtime.dashboards.exports import split_name
from rounds.runtime.dashboards.pages import map_csp, shown
from rounds.runtime.dashboards.service import month_days, months_back
from rounds.web.security import CONTENT_SECURITY_POLICY


def test_a_figure_reads_in_its_unit() -> None:
    assert shown(0.5833333, "ratio", "zh") == "58.3%"
    assert shown(85, "percent", "en") == "85%"
    assert shown(12.25, "minutes", "zh") == "12.3 分钟"  # half up, one decimal
    assert shown(3.5, "hours", "en") == "3.5 h"
    assert shown(None, "ratio", "zh") == shown("", "text", "en") == "—"
    assert shown(8, "count", "zh") == "8"


def test_months_back_cross_the_year() -> None:
    assert months_back("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert [d.isoformat() for d in month_days("2024-02")] == ["2024-02-01", "2024-02-29"]


def test_export_names() -> None:
    assert split_name("units.csv") == ("units", "csv")
    assert split_name("units") == ("units", None)
    with pytest.raises(NotFound):
        split_name("units.pdf")


def test_tiles_add_their_origin_to_images_only() -> None:
    assert map_csp("") is None
    assert map_csp("javascript:alert(1)") is None
    csp = map_csp("https://tiles.example.com/{z}/{x}/{y}.png")
    assert csp is not None
    assert "img-src 'self' data: blob: https://tiles.example.com;" in csp
    assert csp.replace(" https://tiles.example.com", "") == CONTENT_SECURITY_POLICY
    sub = map_csp("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert sub is not None and "https://*.tile.example.org" in sub
