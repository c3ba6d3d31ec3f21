"""Login CSRF in a real browser (issue 9): a page on another origin auto-submits a
``text/plain`` form whose body is JSON to the sign-in endpoint. The victim's browser must
not end up signed in as the attacker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from support.live import LiveServer, add_user, free_port

EVIL_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" action="{target}/api/auth/sign-in" enctype="text/plain">
<input type="hidden" name='{{"username": "mallory", "password": "password-123", "x": "'
       value='"}}'>
</form>
<script>document.getElementById('f').submit()</script>
</body></html>"""


@pytest.fixture
def evil_origin(live: LiveServer) -> Iterator[str]:
    """Another site: 127.0.0.2 is not 127.0.0.1 to the browser (a different host)."""
    page = EVIL_PAGE.format(target=live.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.2", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_origin_cannot_sign_the_browser_in(
        live: LiveServer, evil_origin: str, page: Any) -> None:
    add_user(live, "mallory", "customer_manager")
    with page.expect_navigation(url=f"{live.url}/api/auth/sign-in"):
        page.goto(evil_origin + "/")
    answered = page.evaluate("document.body.innerText")
    me = page.goto(live.url + "/api/auth/me")
    assert me.status == 401, me.text()  # not signed in, as mallory or anyone
    assert "mallory" not in me.text()
    assert "unsupported_media_type" in answered
