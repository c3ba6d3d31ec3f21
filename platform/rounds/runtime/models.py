"""Every slice's models, imported in one place so the metadata (and Alembic) sees them all."""

from rounds.runtime.admin.models import DefinitionTestCase
from rounds.runtime.audit import AuditEntry
from rounds.runtime.campaigns.models import CampaignAssignment, CampaignDraw, CheckCampaign
from rounds.runtime.definitions.models import Definition, DefinitionVersion
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.notifications.models import Notification
from rounds.runtime.okr.models import OkrGrade, OkrRecompute
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import Credential, KnownDevice, SignInThrottle, User
from rounds.runtime.portals.models import Notice
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.storage.models import Photo
from rounds.runtime.store.models import (
    ClosedDay,
    DayFact,
    ItemDayFact,
    ItemMonthFact,
    MonthFact,
    MonthPlan,
    MonthSite,
    Refresh,
    StoreMark,
)
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.surveys.models import SurveyCampaign, SurveyLinkKey, SurveyResponse
from rounds.runtime.visits.models import PlannedVisit, Visit

__all__ = [
    "AuditEntry",
    "CampaignAssignment",
    "CampaignDraw",
    "CheckCampaign",
    "ClosedDay",
    "Credential",
    "DayFact",
    "Definition",
    "DefinitionTestCase",
    "DefinitionVersion",
    "FailedItem",
    "Issue",
    "IssueEvent",
    "ItemDayFact",
    "ItemMonthFact",
    "KnownDevice",
    "MonthFact",
    "MonthPlan",
    "MonthSite",
    "Notice",
    "Notification",
    "OkrGrade",
    "OkrRecompute",
    "OrgUnit",
    "Photo",
    "PlannedVisit",
    "Refresh",
    "SignInThrottle",
    "Site",
    "SiteAssignment",
    "StoreMark",
    "Submission",
    "SurveyCampaign",
    "SurveyLinkKey",
    "SurveyResponse",
    "User",
    "Visit",
]
