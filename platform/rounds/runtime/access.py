"""Who may do what, where: denied by default, granted by the role's capabilities and scope.

A role is a definition (``definitions/roles/*.json``): its ``capabilities`` say what its
users may do and its ``org_scope`` says over which sites:

- ``own_sites``: the sites the user is assigned to (a customer manager's retailers);
- ``org_unit``: sites of the user's own org unit;
- ``org_subtree``: sites of the user's org unit and every unit below it (a station head);
- ``city``: every site (a city leader);
- ``own_shop``: the one site the user acts for (a retailer's own account);
- ``public``: no site at all (consumers, industry users see only public pages).

Services take a :class:`Principal` explicitly and ask :func:`site_scope` for the SQL
condition that limits a query to the sites in scope, so an out-of-scope site is simply not
found (404: the caller learns nothing about it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true

# The two errors of access live with the others (the web toolkit raises them too); the
# services import them from here, with the principal they concern.
from rounds.errors import Forbidden, NotAuthenticated
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site, SiteAssignment

__all__ = ["ADMIN_CAPABILITIES", "Forbidden", "NotAuthenticated", "Principal", "has_admin",
           "has_dashboard", "site_scope",
           "site_scope_bound", "site_scope_params", "widen_site_scope"]

# Scopes that cover whole subtrees of units. Dashboards sum a unit's subtree, so only these
# get one; an ``org_unit`` role (an enforcement officer at the city company) covers the
# sites of its own unit but not the units under it, and gets its own month like the field.
SUBTREE_SCOPES = ("city", "org_subtree")


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the services see them."""

    user_id: int
    username: str
    display_name: str
    role_id: str
    role_title: dict[str, str]
    capabilities: frozenset[str]
    org_scope: str
    org_unit_id: int
    org_path: str
    site_id: int | None
    language: str
    check_in_radius_m: float
    check_in_max_accuracy_m: float
    credential: str = "session"  # or "api"
    # The role's check-in methods ("qr", "gps") and what happens to another one.
    check_in_methods: frozenset[str] = frozenset({"qr", "gps"})
    check_in_other_method: str = "refuse"  # or "flag"
    csrf_token: str | None = None

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise Forbidden(f"your role ({self.role_id}) may not {capability}")


def has_dashboard(principal: Principal) -> bool:
    """Whether the principal reads a unit's dashboard (``/dashboard``, its nav link, the home
    they land on): ``report.view_scope`` over a subtree of units."""
    return principal.can("report.view_scope") and principal.org_scope in SUBTREE_SCOPES


# Any of these opens the administrators' app (``/admin``, its nav link): writing definitions,
# managing people and org units, managing sites. Each section asks for its own.
ADMIN_CAPABILITIES = ("definition.author", "user.manage", "site.manage")


def has_admin(principal: Principal) -> bool:
    """Whether the principal reaches the admin app (``/admin``) and sees its nav link."""
    return any(principal.can(c) for c in ADMIN_CAPABILITIES)


def site_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``Site`` that keeps only the sites in the principal's scope."""
    return _scope_condition(principal.org_scope, principal.user_id, principal.org_unit_id,
                            principal.org_path, principal.site_id)


def site_scope_bound(org_scope: str) -> ColumnElement[bool]:
    """:func:`site_scope` for every principal of one kind of scope, with bound parameters
    (:func:`site_scope_params` gives their values): a statement built once, for hot paths."""
    return _scope_condition(org_scope, bindparam("scope_user_id"),
                            bindparam("scope_org_unit_id"), bindparam("scope_org_path"),
                            bindparam("scope_site_id"))


def site_scope_params(principal: Principal) -> dict[str, Any]:
    return {"scope_user_id": principal.user_id, "scope_org_unit_id": principal.org_unit_id,
            "scope_org_path": principal.org_path, "scope_site_id": principal.site_id}


# Sites a higher slice adds to a person's scope for a while (a drawn inspector's campaign
# site during the campaign's period: ``campaigns.service``), each a condition on ``Site``
# given the user id (a value or a bound parameter). Filled when that slice is imported.
ScopeWidening = Callable[[Any], ColumnElement[bool]]
_widenings: list[ScopeWidening] = []


def widen_site_scope(widening: ScopeWidening) -> ScopeWidening:
    """Register ``widening``: every scope but ``city`` (already every site) and ``public``
    (no site at all) takes in the sites it selects."""
    if widening not in _widenings:
        _widenings.append(widening)
    return widening


def _scope_condition(scope: str, user_id: Any, org_unit_id: Any, org_path: Any, site_id: Any
                     ) -> ColumnElement[bool]:
    base = _base_condition(scope, user_id, org_unit_id, org_path, site_id)
    if scope in ("city", "public") or not _widenings:
        return base
    return or_(base, *(widening(user_id) for widening in _widenings))


def _base_condition(scope: str, user_id: Any, org_unit_id: Any, org_path: Any, site_id: Any
                    ) -> ColumnElement[bool]:
    if scope == "city":
        return true()
    if scope == "own_sites":
        assigned = select(SiteAssignment.site_id).where(SiteAssignment.user_id == user_id)
        return Site.id.in_(assigned)
    if scope == "org_unit":
        same_unit: ColumnElement[bool] = Site.org_unit_id == org_unit_id
        return same_unit
    if scope == "org_subtree":
        units = select(OrgUnit.id).where(OrgUnit.path.startswith(org_path))
        return Site.org_unit_id.in_(units)
    if scope == "own_shop" and site_id is not None:
        own: ColumnElement[bool] = Site.id == site_id
        return own
    return false()
