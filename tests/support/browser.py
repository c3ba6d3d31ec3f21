"""Helpers for the browser tests: signing in through the sign-in page as a person does."""

from __future__ import annotations

import re
from typing import Any

from support.field import PASSWORD


def sign_in(page: Any, url: str, username: str, next_path: str = "/today",
            password: str = PASSWORD) -> None:
    """Sign in on the sign-in page and wait for the page it sends on to (``next_path``)."""
    page.goto(f"{url}/sign-in?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[data-sign-in-form] button[type=submit]")
    # A pattern, not a glob: the sign-in page's own address holds next_path too.
    path = next_path.split("?", maxsplit=1)[0]
    page.wait_for_url(re.compile(re.escape(url + path) + r"(\?.*)?$"))
