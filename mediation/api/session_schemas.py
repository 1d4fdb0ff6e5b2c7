"""The shapes of the session operations (marshmallow): booking with everyone the page's
form invites, free slots, attendance, minutes and legal-aid volunteers' duty hours."""

import marshmallow as ma
from marshmallow import validate

from mediation.api.schemas import (
    Strict,
    day,
    moment,
    one_of,
    required_text,
    row_id,
    text,
    web_link,
)
from mediation.core.i18n import lazy_gettext as _l
from mediation.sessions.minutes import MinutesOutcome
from mediation.sessions.models import Attendance, PlaceKind

# A local time of day, as the duty form takes it (no seconds, no zone: China's time).
CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


def clock(**kwargs):
    return ma.fields.String(validate=validate.Regexp(CLOCK, error=_l(
        "Not a valid time: give hours and minutes, e.g. 09:00.")), metadata={
        "pattern": CLOCK, "description": "Local time (Asia/Shanghai), HH:MM."}, **kwargs)


def usernames(description: str):
    return ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=64)),
                          load_default=list, validate=validate.Length(max=20),
                          metadata={"description": description})


class InviteeIn(Strict):
    """Someone the parties agreed to invite (a doctor, a village head, a lawyer to explain
    the law; People's Mediation Law art. 20)."""

    name = required_text(120)
    organisation = text(120, allow_none=True)
    phone = text(20, allow_none=True, metadata={
        "description": "A mainland mobile or a landline with its area code. The clash check "
                       "knows the guest by it (also as an agent in other cases); without it, "
                       "by name and organisation."})
    consent_recorded = ma.fields.Boolean(load_default=False, metadata={
        "description": "The parties agreed to this guest: required to book."})


class PeopleIn(Strict):
    """Who comes to a session: the room holding them, and everyone checked for clashes."""

    place_kind = one_of(PlaceKind, load_default=PlaceKind.ROOM.value)
    room_id = row_id(allow_none=True, metadata={
        "description": "Rooms under GET /api/v1/rooms?case=…"})
    lead_mediator = text(64, allow_none=True,
                         metadata={"description": "Username; default: the caller."})
    co_mediators = usernames("Usernames of staff who also handle the case.")
    legal_aid = usernames("Usernames of legal-aid volunteers assigned to the case or on duty "
                          "at the room's centre then (GET /api/v1/cases/{number}/volunteers); "
                          "one on duty is assigned to the case by the booking.")
    parties = ma.fields.List(row_id(), allow_none=True, metadata={
        "description": "Party ids; default: every party that has not refused mediation."})
    with_agents = ma.fields.Boolean(load_default=True, metadata={
        "description": "Invite the chosen parties' agents too."})
    invited = ma.fields.List(ma.fields.Nested(InviteeIn), load_default=list,
                             validate=validate.Length(max=20))


class SessionIn(PeopleIn):
    starts_at = moment(required=True)
    ends_at = moment(required=True)
    address = text(200, allow_none=True)
    video_link = web_link(metadata={"description": "https:// or http:// only."})
    purpose = required_text(2000)
    override_reason = text(500, allow_none=True, metadata={
        "description": "Why a session outside the centre's hours or on a holiday is needed."})


class FreeSlotsIn(PeopleIn):
    around = moment(required=True, metadata={
        "description": "Where to look: that day first, then the following working days (two "
                       "weeks at most); never before now."})
    duration_minutes = ma.fields.Integer(required=True, validate=validate.Range(15, 720))
    count = ma.fields.Integer(load_default=3, validate=validate.Range(1, 20))


class FreeSlots(ma.Schema):
    slots = ma.fields.List(ma.fields.DateTime(), metadata={
        "description": "Starts free for the room and everyone, within the centre's opening "
                       "hours on working days; nothing else of other sessions."})


class AttendanceEntryIn(Strict):
    participant_id = row_id(required=True, metadata={
        "description": "A participant's id, from the session."})
    attendance = one_of(Attendance, required=True)


class AttendanceIn(Strict):
    attendance = ma.fields.List(ma.fields.Nested(AttendanceEntryIn), required=True,
                                validate=validate.Length(min=1, max=200))


class MinutesIn(Strict):
    matter = required_text(300)
    body = required_text(20000, metadata={
        "description": "What each side said, the evidence shown, the mediators' explanations "
                       "and what was agreed."})
    outcome = one_of(MinutesOutcome, required=True)
    next_date = day(allow_none=True, metadata={
        "description": "When mediation continues: required for `adjourned`."})
    recorder = text(64, allow_none=True, metadata={
        "description": "Username of a staff member at the session; default: the caller."})


class Minutes(ma.Schema):
    session_id = ma.fields.Integer()
    matter = ma.fields.String()
    body = ma.fields.String()
    outcome = ma.fields.Function(lambda m: m.outcome.value,
                                 metadata={"enum": [o.value for o in MinutesOutcome]})
    next_date = ma.fields.Date(allow_none=True)
    recorder = ma.fields.Function(lambda m: m.recorder.username if m.recorder else None)
    recorder_name = ma.fields.Function(lambda m: m.recorder.full_name if m.recorder else None)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class DutyIn(Strict):
    centre_id = row_id(required=True, metadata={"description": "Centres under "
                                                               "GET /api/v1/centres."})
    weekday = ma.fields.Integer(required=True, validate=validate.Range(0, 6),
                                metadata={"description": "0 Monday … 6 Sunday."})
    starts_at = clock(required=True)
    ends_at = clock(required=True)


class Duty(ma.Schema):
    id = ma.fields.Integer()
    centre_id = ma.fields.Integer()
    centre = ma.fields.Function(lambda d: d.centre.name)
    weekday = ma.fields.Integer(metadata={"description": "0 Monday … 6 Sunday."})
    starts_at = ma.fields.Function(lambda d: d.starts_at.strftime("%H:%M"))
    ends_at = ma.fields.Function(lambda d: d.ends_at.strftime("%H:%M"))


class DutyList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Duty))
    total = ma.fields.Integer()


class Volunteer(ma.Schema):
    username = ma.fields.String()
    name = ma.fields.String()
    assigned = ma.fields.Boolean(metadata={
        "description": "On the case; otherwise bookable only in the duty hours listed."})
    duties = ma.fields.List(ma.fields.Nested(Duty), metadata={
        "description": "Duty hours at the centres serving the case."})


class VolunteerList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Volunteer))
    total = ma.fields.Integer()
