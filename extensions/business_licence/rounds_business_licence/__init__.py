"""营业执照核验: the business-licence verification extension of Rounds.

- rule operations ``uscc_valid`` and ``uscc_region`` (:mod:`.uscc`; in the browser
  ``static/operations.js``), usable in any definition's rules once enabled;
- the verification of a site's licence (:mod:`.service`): the page
  ``/sites/{id}/business-licence`` and ``/api/sites/{id}/business-licence-checks``
  (:mod:`.web`), for roles with ``business_licence.verify``; the latest result as a panel on
  the site's pages and the retailer's ``/shop`` (:mod:`.hooks`);
- an issue before a licence expires (:mod:`.jobs`, the periodic reconciliation);
- an optional external registry (:mod:`.registry`: ``ROUNDS_BUSINESS_LICENCE_REGISTRY_URL``,
  ``..._TOKEN``, ``..._TIMEOUT``).

Enable with ``ROUNDS_EXTENSIONS_ENABLED=business_licence``; its table comes with its own
Alembic branch (``migrations/``, ``business_licence@head``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rounds.extensions import Extension
from rounds.rules.operations import Operation
from rounds_business_licence.uscc import uscc_region, uscc_valid

HERE = Path(__file__).resolve().parent


def _handlers(settings: Any) -> list[Any]:
    from rounds_business_licence import web  # the web side only when an app is made

    return web.handlers(settings)


async def _demo(db: Any, now: Any) -> None:
    from rounds_business_licence import demo

    await demo.seed(db, now)


extension = Extension(
    name="business_licence",
    title={"zh": "营业执照核验", "en": "Business licence verification"},
    distribution="rounds-business-licence",
    operations=(
        Operation("uscc_valid", uscc_valid, 1, 1, "bool",
                  "whether a text is a Unified Social Credit Code (GB 32100-2015 check "
                  "character); false for anything else"),
        Operation("uscc_region", uscc_region, 1, 1, "any",
                  "the 6-digit administrative division code of a valid USCC, else null"),
    ),
    capabilities=("business_licence.verify",),
    # The staff who visit shops verify their licences (the installation's own roles may
    # list the capability instead, once the extension is always enabled).
    grants={"customer_manager": ("business_licence.verify",),
            "market_inspector": ("business_licence.verify",)},
    models=("rounds_business_licence.models",),
    migrations=HERE / "migrations",
    handlers=_handlers,
    task_modules=("rounds_business_licence.jobs",),
    locale=HERE / "locale",
    static=HERE / "static",
    hooks=("rounds_business_licence.hooks",),
    demo=_demo,
)
