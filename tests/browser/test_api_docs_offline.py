"""The API explorer works on a machine with no internet: every file it needs comes from our
server (the npm package in package-lock.json), none from a CDN. And it runs under the same
Content-Security-Policy as every page (the `page` fixture fails on any violation)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

LOCAL = {"127.0.0.1", "localhost"}


def test_api_docs_render_with_every_other_origin_blocked(page: Any, server: str,
                                                         page_errors: list[str]) -> None:
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", only_local)
    response = page.goto(server + "/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # Swagger UI drew the API: its title and the operations of the schema it was given.
    page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
    assert "Rounds API" in page.inner_text(".swagger-ui .info .title")
    # Every tag is listed (closed); opening two shows their operations.
    page.wait_for_selector(".opblock-tag[data-tag='submissions']", timeout=30000)
    assert page.locator(".opblock-tag").count() >= 15
    for tag in ("submissions", "system"):
        page.locator(f".opblock-tag[data-tag='{tag}']").click()
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    page.wait_for_function("[...document.querySelectorAll('.opblock-summary-path')]"
                           ".some((e) => e.textContent.includes('/api/health'))", timeout=30000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/submissions" in p for p in paths)
    assert any("/api/health" in p for p in paths)
    # An operation opens to show its parameters and responses.
    page.locator(".opblock-summary", has_text="/api/health").first.click()
    page.wait_for_selector(".opblock.is-open .responses-wrapper", timeout=30000)
    assert "200" in page.inner_text(".opblock.is-open .responses-wrapper")
    assert blocked == []  # it did not even try another origin
    assert page_errors == []
