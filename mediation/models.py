"""Every model module, so that the metadata (migrations, tests) sees all tables."""

from mediation.agreements.models import (
    Agreement,
    AgreementCounter,
    AgreementParty,
    Instalment,
    JudicialConfirmation,
    Term,
    TermParty,
)
from mediation.api.models import ApiToken, IdempotentReply
from mediation.areas.models import AreaNode, Centre, Committee, Court, Room
from mediation.cases import waiting  # noqa: F401  (keeps Case.proposal_waiting)
from mediation.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    Category,
    EscalationProposal,
    FollowUp,
    HelpRequest,
    LevelRule,
    Party,
    SupervisionNotice,
)
from mediation.cases.search import CaseSearch
from mediation.core.audit import AuditEntry
from mediation.core.calendar import CalendarDay, CalendarYear
from mediation.core.ratelimit import RateLimitCounter
from mediation.portal.models import AccessCode
from mediation.sessions.minutes import Minutes
from mediation.sessions.models import MediationSession, Participant, VolunteerDuty
from mediation.sessions.reminders import OutboxMessage
from mediation.stats.aggregates import StatsCount  # noqa: F401 (and the other kept counts)
from mediation.users.models import User, UserSession, user_areas, user_committees
from mediation.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscriber,
)

__all__ = ["AccessCode", "Agreement", "AgreementCounter", "AgreementParty", "ApiToken", "AreaNode",
           "Assignment", "Attachment", "AuditEntry", "CalendarDay", "CalendarYear", "Case",
           "CaseCounter", "CaseEvent", "CaseSearch", "Category", "Centre", "Committee", "Court",
           "EscalationProposal", "FollowUp", "HelpRequest", "IdempotentReply", "Instalment",
           "JudicialConfirmation", "LevelRule", "MediationSession", "Minutes", "OutboxMessage",
           "Participant", "Party", "RateLimitCounter", "Room", "SupervisionNotice", "Term",
           "TermParty", "User", "UserSession", "VolunteerDuty", "WebhookAttempt", "WebhookDelivery",
           "WebhookEvent", "WebhookSubscriber", "user_areas", "user_committees"]
