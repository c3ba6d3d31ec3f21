"""Retail licence applications (烟草专卖零售许可证办理), a Rounds extension.

An applicant (a retailer, or someone without a shop yet) applies online with the documents
asked for; a reviewer (clerk or station head) checks the documents and schedules the
on-site inspection; the market inspector fills the inspection standard on the phone (with
the distance rule to the nearest licensed retailer); the head decides, which issues the
licence on the site (made for an applicant without a shop). Every step with who and when;
the statutory limit in working days, with reminders and escalation; renewal reminders
before expiry. Enabled by ``ROUNDS_EXTENSIONS_ENABLED=retail_licence``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rounds.extensions import Extension, MenuEntry

HERE = Path(__file__).resolve().parent


def _handlers(settings: Any) -> list[Any]:
    from rounds_retail_licence import pages, web

    return [*web.handlers(), *pages.handlers(settings)]


async def _demo(db: Any, now: Any) -> None:
    from rounds_retail_licence.demo import seed

    await seed(db, now)


extension = Extension(
    name="retail_licence",
    title={"zh": "烟草专卖零售许可证办理", "en": "Tobacco retail licence applications"},
    distribution="rounds-retail-licence",
    definitions=HERE / "definitions",
    capabilities=("retail_licence.apply", "retail_licence.review", "retail_licence.inspect"),
    # Beside its own roles: a station head reviews, a market inspector inspects, a shop's
    # account applies (a renewal or a change).
    grants={"station_head": ("retail_licence.review",),
            "market_inspector": ("retail_licence.inspect",),
            "retailer_user": ("retail_licence.apply",)},
    models=("rounds_retail_licence.models",),
    migrations=HERE / "migrations",
    handlers=_handlers,
    task_modules=("rounds_retail_licence.jobs",),
    locale=HERE / "locale",
    menu=(
        MenuEntry("/licence-applications", {"zh": "许可证办理", "en": "Licences"},
                  "retail_licence.review"),
        MenuEntry("/licence-applications", {"zh": "许可证核查", "en": "Licence inspections"},
                  "retail_licence.inspect"),
        MenuEntry("/licence-applications", {"zh": "许可证申请", "en": "Licence applications"},
                  "retail_licence.apply"),
    ),
    hooks=("rounds_retail_licence.panels", "rounds_retail_licence.service"),
    demo=_demo,
)
