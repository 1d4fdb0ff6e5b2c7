"""The session's papers as PDFs, always in Chinese: notices (调解通知书) and minutes (调解记录)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale

from mediation.cases.queries import committee_for
from mediation.core.calendar import provisional_years
from mediation.core.pdf import render_pdf
from mediation.sessions.minutes import Minutes
from mediation.sessions.models import MediationSession, Participant, ParticipantRole
from mediation.sessions.notices import place_text, status_page, when_text

LOCAL = ZoneInfo("Asia/Shanghai")
PARTY_ROLES = (ParticipantRole.PARTY, ParticipantRole.AGENT)
STAFF_ROLES = (ParticipantRole.LEAD_MEDIATOR, ParticipantRole.CO_MEDIATOR,
               ParticipantRole.LEGAL_AID)


def chinese_datetime(moment: datetime) -> str:
    local = moment.astimezone(LOCAL)
    return f"{local.year}年{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"


def chinese_date(moment: datetime) -> str:
    local = moment.astimezone(LOCAL)
    return f"{local.year}年{local.month}月{local.day}日"


def notice_pdf(session: MediationSession, participant: Participant) -> bytes:
    """The notice for one participant: who, with whom, when, where, what to bring.

    A party's (or its agent's) notice names no staff but the case's handling mediator: a
    resident learns no other staff member's name (the staff's notices list everyone).
    """
    case = session.case
    listed = list(session.participants)
    if participant.role in PARTY_ROLES:
        listed = [p for p in listed if p.role not in STAFF_ROLES
                  or (p.user_id is not None and p.user_id == case.handler_id)]
    committee = committee_for(case)
    committee_name = committee.name if committee else "人民调解委员会"
    party = participant.party
    if participant.role in PARTY_ROLES and party is not None:
        subject = "你" if party.kind.value == "person" else "你单位"
        others = "、".join(p.name for p in case.parties if p.id != party.id) or "对方当事人"
        addressee = participant.display_name
    else:
        subject = "、".join(p.name for p in case.parties[:1]) or "当事人"
        others = "、".join(p.name for p in case.parties[1:]) or "对方当事人"
        addressee = participant.display_name
    with force_locale("zh"):
        return render_pdf(
            "session_notice.html", title=f"调解通知书 {case.number}", author=committee_name,
            keywords=case.number, case=case, session=session, addressee=addressee,
            subject=subject, others=others, participants=listed,
            committee_name=committee_name,
            phone=committee.phone if committee else None, place=place_text(session),
            when=when_text(session), issued=chinese_date(session.created_at),
            provisional=provisional_years(session.starts_at, session.ends_at),
            status_page=status_page() if participant.role in PARTY_ROLES else None)


def minutes_pdf(minutes: Minutes) -> bytes:
    """The minutes with signature lines for every party, the mediators and the recorder."""
    session = minutes.session
    parties = [p for p in session.participants if p.role is ParticipantRole.PARTY]
    others = [p for p in session.participants if p.role is not ParticipantRole.PARTY]
    mediators = "、".join(p.display_name for p in session.participants
                         if p.role in (ParticipantRole.LEAD_MEDIATOR,
                                       ParticipantRole.CO_MEDIATOR))
    with force_locale("zh"):
        return render_pdf(
            "session_minutes.html", title=f"调解记录 {session.case.number}",
            keywords=session.case.number, case=session.case, minutes=minutes, parties=parties,
            others=others, mediators=mediators, place=place_text(session),
            when=f"{chinese_datetime(session.starts_at)}至"
                 f"{session.ends_at.astimezone(LOCAL):%H时%M分}",
            provisional=provisional_years(session.starts_at, minutes.next_date))
