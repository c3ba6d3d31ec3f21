"""Browser tests: a real Rounds server (`rounds up`, in a subprocess) and Debian's Chromium.

Playwright drives /usr/bin/chromium; it never downloads a browser of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `rounds up` server with the repository's definitions published."""
    server = LiveServer(tmp_path_factory.mktemp("rounds-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server(live: LiveServer) -> str:
    """The base URL of the live server."""
    return live.url


def _wait_without_eval() -> None:
    """Playwright polls a bare expression given to ``wait_for_function`` with eval(), which
    our Content-Security-Policy forbids (rightly: no 'unsafe-eval'); the same expression as
    an arrow function is compiled through the debugger protocol instead."""
    from playwright.sync_api import Page

    original = Page.wait_for_function
    if getattr(original, "rounds_no_eval", False):
        return

    def wait_for_function(self: Any, expression: str, *args: Any, **kw: Any) -> Any:
        if "=>" not in expression and not expression.lstrip().startswith("function"):
            expression = f"() => ({expression})"
        return original(self, expression, *args, **kw)

    wait_for_function.rounds_no_eval = True  # type: ignore[attr-defined]
    Page.wait_for_function = wait_for_function  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():  # fail, not skip: a browser test that cannot run proves nothing
        pytest.fail("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    _wait_without_eval()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A phone-sized browser context that may read the position (set in the test)."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN",
                              permissions=["geolocation"],
                              geolocation={"latitude": 28.228304, "longitude": 112.938814,
                                           "accuracy": 12})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught script errors of the page (tests assert there are none)."""
    return []


@pytest.fixture
def page(context: Any, page_errors: list[str]) -> Iterator[Any]:
    """A page; every test using it also proves the pages run under the Content-Security-
    Policy (Chromium reports each refused script, style or handler on the console)."""
    p = context.new_page()
    p.on("pageerror", lambda e: page_errors.append(str(e)))
    refused: list[str] = []
    p.on("console", lambda m: refused.append(m.text)
         if "Content Security Policy" in m.text else None)
    yield p
    p.close()
    assert not refused, f"the page broke its Content-Security-Policy: {refused}"
