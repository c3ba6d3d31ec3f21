"""The external registry of businesses (a market regulator's lookup, or a company's own
service in front of it): an interface, and its HTTP implementation.

Settings (read from the environment when the app is created, not by the core's settings,
which know no extension; :meth:`RegistrySettings.from_env`):

- ``ROUNDS_BUSINESS_LICENCE_REGISTRY_URL``: the lookup's base URL; a code is looked up with
  ``GET {url}/{code}``. Empty (the default): no registry, the check says "not made".
- ``ROUNDS_BUSINESS_LICENCE_REGISTRY_TOKEN``: sent as ``Authorization: Bearer {token}``.
- ``ROUNDS_BUSINESS_LICENCE_REGISTRY_TIMEOUT``: seconds a lookup may take (default 5).

The service answers 200 with ``{"code", "holder", "status", "address"}`` (``status`` as
the registry writes it: 存续, 在业, 注销, 吊销...), or 404 for a code it does not know.
Anything else (another status, a body that is not that, a timeout, no connection) is the
registry not reachable: the verification says so and its local checks still stand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

PREFIX = "ROUNDS_BUSINESS_LICENCE_REGISTRY_"
# The statuses of a business that may trade; every other (注销, 吊销, 撤销, 迁出...) may not.
TRADING = frozenset({"存续", "在业", "开业", "正常"})


@dataclass(frozen=True)
class RegistryAnswer:
    """What the registry says of a code it knows."""

    code: str
    holder: str
    status: str
    address: str = ""

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "holder": self.holder, "status": self.status,
                "address": self.address}


class RegistryUnavailable(Exception):
    """The registry could not be asked, or gave no usable answer (the reason, in a line)."""


class Registry(Protocol):
    async def lookup(self, code: str) -> RegistryAnswer | None:
        """The registry's record of ``code``, None if it knows no such code; raises
        :class:`RegistryUnavailable` when it cannot say."""
        ...


@dataclass(frozen=True)
class RegistrySettings:
    url: str = ""
    token: str = ""
    timeout_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RegistrySettings:
        """The settings from ``env`` (``os.environ``); a timeout that is not a positive
        number is refused at start (a ValueError naming the variable)."""
        raw = env.get(PREFIX + "TIMEOUT", "").strip()
        timeout = 5.0
        if raw:
            try:
                timeout = float(raw)
            except ValueError:
                timeout = -1.0
            if not timeout > 0:
                raise ValueError(f"{PREFIX}TIMEOUT must be a positive number of seconds, "
                                 f"not {raw!r}")
        return cls(url=env.get(PREFIX + "URL", "").strip().rstrip("/"),
                   token=env.get(PREFIX + "TOKEN", "").strip(), timeout_s=timeout)


class HttpRegistry:
    """:class:`Registry` over HTTP (``GET {url}/{code}``)."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings

    async def lookup(self, code: str) -> RegistryAnswer | None:
        s = self.settings
        headers = {"Accept": "application/json"}
        if s.token:
            headers["Authorization"] = f"Bearer {s.token}"
        try:
            async with httpx.AsyncClient(timeout=s.timeout_s) as client:
                response = await client.get(f"{s.url}/{code}", headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryUnavailable(f"the registry answered {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError as exc:
            raise RegistryUnavailable("the registry's answer is not JSON") from exc
        if not isinstance(body, dict) or not all(
                isinstance(body.get(k), str) for k in ("holder", "status")):
            raise RegistryUnavailable("the registry's answer has no holder and status")
        return RegistryAnswer(code=str(body.get("code") or code), holder=body["holder"],
                              status=body["status"], address=str(body.get("address") or ""))


def registry_from(settings: RegistrySettings) -> Registry | None:
    """The configured registry, or None when no URL is set."""
    return HttpRegistry(settings) if settings.url else None
