"""The scheduling form and the small forms of a session's page."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mediation.areas.models import Room
from mediation.cases.forms import MultiCheckboxField
from mediation.core.forms import confirm_field, enum_choices, options
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.validators import is_web_link, normalise_phone, split_codes
from mediation.extensions import db
from mediation.sessions.minutes import MinutesOutcome
from mediation.sessions.models import PlaceKind
from mediation.users.models import User

LOCAL = ZoneInfo("Asia/Shanghai")
# What an invited person's line ends with when it gives a phone rather than an organisation.
PHONE_LIKE = re.compile(r"^[\d\s+()（）-]+$")


class WhenWhereForm(FlaskForm):
    """When and where a session is: booking it and moving it ask the same."""
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Start time"), validators=[DataRequired()], default=time(9, 0))
    end = TimeField(_l("End time"), validators=[DataRequired()], default=time(10, 30))
    place_kind = SelectField(_l("Kind of place"), choices=enum_choices(PlaceKind),
                             default="room")
    room = SelectField(_l("Room"), validators=[Optional()])
    address = StringField(_l("Address (on site)"), validators=[Optional(), Length(max=200)])
    video_link = StringField(_l("Video link"), validators=[Optional(), Length(max=300)])
    override_reason = StringField(
        _l("Reason for a weekend, holiday or out-of-hours session"),
        validators=[Optional(), Length(max=300)])

    def __init__(self, *args, rooms: list[Room], **kwargs):
        super().__init__(*args, **kwargs)
        self.room.choices = options([("", "—"), *(
            (str(r.id), f"{r.centre.name} · {r.name}（{r.capacity}）") for r in rooms)])

    def validate_video_link(self, field):
        if field.data and field.data.strip() and not is_web_link(field.data.strip()):
            raise ValidationError(_l("The video link must start with https:// or http://."))

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day.data, self.start.data, LOCAL)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day.data, self.end.data, LOCAL)

    @property
    def chosen_room(self) -> Room | None:
        return db.session.get(Room, int(self.room.data)) if self.room.data else None


class SessionForm(WhenWhereForm):
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=2000)],
                            description=_l("e.g. 首次面对面调解：核实漏水原因与维修费用"))
    lead = SelectField(_l("Lead mediator"), validators=[DataRequired()])
    co_mediators = StringField(_l("Co-mediators (usernames)"), validators=[Optional()],
                               description=_l("Separated by spaces or commas."))
    legal_aid = MultiCheckboxField(_l("Legal-aid volunteers"))
    parties = MultiCheckboxField(_l("Parties"))
    with_agents = BooleanField(_l("Invite the parties' agents too"), default=True)
    invited = TextAreaField(
        _l("Other invited people"), validators=[Optional(), Length(max=2000)],
        description=_l("One a line: name, organisation, phone (e.g. 刘医生, 区心理咨询中心, "
                       "13805461234); the organisation and the phone may be left out. The "
                       "parties must agree to each (People’s Mediation Law, art. 20)."))
    consent = BooleanField(_l("The parties agreed to the invited people"))
    prefill = HiddenField()

    def __init__(self, *args, case, rooms: list[Room], handlers: list[User],
                 volunteers: list[tuple[User, str]], **kwargs):
        super().__init__(*args, rooms=rooms, **kwargs)
        self.lead.choices = options((u.username, u.full_name) for u in handlers)
        self.legal_aid.choices = options((u.username, label) for u, label in volunteers)
        self.parties.choices = options((str(p.id), f"{p.name}（{p.role.title}）")
                                       for p in case.parties)
        self.co_mediator_users: list[User] = []

    def validate_co_mediators(self, field):
        names = split_codes(field.data)
        users = list(db.session.scalars(select(User).where(User.username.in_(names)))) \
            if names else []
        unknown = sorted(set(names) - {u.username for u in users})
        if unknown:
            raise ValidationError(_l("Unknown usernames: %(names)s", names=", ".join(unknown)))
        self.co_mediator_users = users

    def validate_invited(self, field):
        for name, _organisation, phone in self.invitees():
            if phone and not normalise_phone(phone):
                raise ValidationError(_l(
                    "The phone number given for %(name)s is not valid: a mobile has 11 digits "
                    "starting with 13–19; a landline has its area code, e.g. 0546-8888888.",
                    name=name))

    def invitees(self) -> list[tuple[str, str | None, str | None]]:
        """(name, organisation, phone) a line: "姓名, 单位, 电话"; a last part of digits
        after the name alone is the phone, the organisation left out."""
        people = []
        for line in (self.invited.data or "").splitlines():
            if line.strip():
                name, *rest = [part.strip() for part in line.replace("，", ",").split(",")]
                phone = rest.pop() if len(rest) >= 2 or rest and PHONE_LIKE.match(rest[0]) \
                    else None
                people.append((name, ", ".join(rest).strip() or None,
                               normalise_phone(phone) or phone or None))
        return people


class MoveForm(WhenWhereForm):
    """Another time or place for a planned session; the people invited stay."""
    version = HiddenField()
    reason = TextAreaField(_l("Why is it moved?"), validators=[DataRequired(), Length(max=1000)],
                           description=_l("e.g. 被申请人因病住院，申请改期"))


class CancelForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(_l("Why is it cancelled?"), validators=[DataRequired(),
                                                                    Length(max=1000)])
    confirm = confirm_field(_l("I confirm: the session is cancelled and every participant "
                               "is told."))


class MinutesForm(FlaskForm):
    matter = StringField(_l("Matter"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("Record"), validators=[DataRequired(), Length(max=20000)],
                         description=_l("What each side said, the evidence shown, the mediators' "
                                        "explanations and what was agreed."),
                         render_kw={"rows": 12})
    outcome = SelectField(_l("Outcome"), choices=enum_choices(MinutesOutcome))
    next_date = DateField(_l("Mediation continues on"), validators=[Optional()])
    recorder = SelectField(_l("Recorder"), validators=[Optional()])


class DutyForm(FlaskForm):
    centre = SelectField(_l("Centre"), validators=[DataRequired()])
    weekday = SelectField(_l("Weekday"), choices=options([
        ("0", _l("Monday")), ("1", _l("Tuesday")), ("2", _l("Wednesday")),
        ("3", _l("Thursday")), ("4", _l("Friday")), ("5", _l("Saturday")),
        ("6", _l("Sunday"))]))
    starts_at = TimeField(_l("On duty from"), validators=[DataRequired()], default=time(9, 0))
    ends_at = TimeField(_l("On duty until"), validators=[DataRequired()], default=time(12, 0))
