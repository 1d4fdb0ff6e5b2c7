"""Forms for intake, parties and every action on a case."""

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from mediation.areas.models import AreaKind, AreaNode
from mediation.areas.operations import grid_for_address
from mediation.cases.models import (
    AssignmentRole,
    Category,
    Department,
    Gender,
    PartyKind,
    PartyRole,
)
from mediation.cases.operations import PartyInput, check_nationality
from mediation.cases.states import PORTAL_SOURCES, RISK_FACTORS, STAFF_SOURCES, Level, Source
from mediation.core.errors import OperationError
from mediation.core.forms import check_phone, confirm_field, enum_choices, options
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.identity import DocumentType, check_id_number, check_uscc
from mediation.extensions import db


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_yuan(value: str | None) -> int | None:
    """'1,234.5' yuan → 123450 fen; None for empty; ValueError for anything else."""
    text = (value or "").replace(",", "").replace("，", "").replace("元", "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", text):
        raise ValueError(text)
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:
        raise ValueError(text) from None


class VersionedForm(FlaskForm):
    """Carries the case version the person saw (optimistic locking)."""

    version = HiddenField(validators=[InputRequired()])

    @property
    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


# Offered while typing a nationality; anything else may be typed.
COMMON_NATIONALITIES = (
    "韩国", "美国", "日本", "俄罗斯", "越南", "缅甸", "老挝", "泰国", "蒙古", "印度",
    "巴基斯坦", "哈萨克斯坦", "马来西亚", "新加坡", "印度尼西亚", "菲律宾", "英国", "德国",
    "法国", "意大利", "加拿大", "澳大利亚", "新西兰", "巴西", "尼日利亚",
)


class PartySubform(Form):
    """A party's details; used on its own page and twice inside the intake form."""

    nationalities = COMMON_NATIONALITIES

    kind = RadioField(_l("Kind"), choices=enum_choices(PartyKind), default="person")
    name = StringField(_l("Name of the party"), validators=[Optional(), Length(max=120)])
    gender = SelectField(_l("Gender"), choices=options([("", "—"), *Gender.choices()]),
                         validators=[Optional()])
    ethnicity = StringField(_l("Ethnicity"), validators=[Optional(), Length(max=20)],
                            default="汉族", description=_l("For Chinese citizens only: leave "
                                                            "it empty for a foreign national."))
    nationality = StringField(_l("Nationality"), validators=[Optional(), Length(max=40)],
                              description=_l("A foreign national's, e.g. 美国; leave it empty "
                                             "for a Chinese citizen."))
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=60)])
    id_type = SelectField(_l("Identity document"), choices=enum_choices(DocumentType),
                          default=DocumentType.RESIDENT_ID.value)
    id_number = StringField(_l("Document number"), validators=[Optional(), Length(max=30)],
                            render_kw={"autocomplete": "off"})
    id_issuing_country = StringField(_l("Country that issued the passport"),
                                     validators=[Optional(), Length(max=40)],
                                     description=_l("Passports only; empty: the nationality."))
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20), check_phone])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    community = SelectField(_l("Community where the party lives"), coerce=str,
                            validators=[Optional()])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(),
                                                                     Length(max=18)])
    legal_representative = StringField(_l("Legal representative"),
                                       validators=[Optional(), Length(max=60)])
    legal_representative_title = StringField(_l("Title of the legal representative"),
                                             validators=[Optional(), Length(max=40)])
    agent_name = StringField(_l("Agent"), validators=[Optional(), Length(max=60)])
    agent_phone = StringField(_l("Agent's phone"),
                              validators=[Optional(), Length(max=20), check_phone])
    agent_power_of_attorney = BooleanField(_l("Power of attorney received"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        suggestions = {"list": f"{self.nationality.id}-options", "autocomplete": "off"}
        self.nationality.render_kw = self.id_issuing_country.render_kw = suggestions

    def validate_id_number(self, field):
        if field.data and self.kind.data == PartyKind.PERSON.value:
            try:
                check_id_number(self.id_type.data, field.data)
            except OperationError as error:
                raise ValidationError(error.message) from None

    def validate_uscc(self, field):
        if field.data and self.kind.data == PartyKind.ORGANISATION.value:
            try:
                check_uscc(field.data)
            except OperationError as error:
                raise ValidationError(error.message) from None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == PartyKind.PERSON.value:
            # The document type counts once a number is typed; the operation checks again
            # with a number kept from before.
            document = self.id_type.data if self.id_number.data and not self.id_type.errors \
                else None
            try:
                check_nationality(document, self.nationality.data,
                                  self.id_issuing_country.data, self.ethnicity.data)
            except OperationError as error:
                field = getattr(self, error.field)
                field.errors = [*field.errors, error.message]
                return False
        return valid

    def to_input(self, role: PartyRole) -> PartyInput:
        community = db.session.get(AreaNode, int(self.community.data)) \
            if self.community.data else None
        return PartyInput(
            role=role, kind=PartyKind(self.kind.data), name=self.name.data or "",
            gender=Gender(self.gender.data) if self.gender.data else None,
            ethnicity=self.ethnicity.data, nationality=self.nationality.data,
            birth_date=self.birth_date.data,
            occupation=self.occupation.data, id_type=self.id_type.data,
            id_number=self.id_number.data, id_issuing_country=self.id_issuing_country.data,
            phone=self.phone.data, address=self.address.data,
            community=community, uscc=self.uscc.data,
            legal_representative=self.legal_representative.data,
            legal_representative_title=self.legal_representative_title.data,
            agent_name=self.agent_name.data, agent_phone=self.agent_phone.data,
            agent_power_of_attorney=self.agent_power_of_attorney.data)


def community_choices() -> list[tuple[str, str]]:
    nodes = db.session.scalars(select(AreaNode).where(AreaNode.kind == AreaKind.COMMUNITY)
                               .order_by(AreaNode.path)).all()
    return options([("", "—"), *[(str(n.id), n.name) for n in nodes]])


def category_choices(locale: str) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Category).where(Category.active)
                              .order_by(Category.sort_order)).all()
    return options((str(c.id), c.display(locale)) for c in rows)


class CaseForm(VersionedForm):
    """Intake (and later edits) of a dispute."""

    title = StringField(_l("Short title"), validators=[DataRequired(), Length(max=120)],
                        description=_l("e.g. 楼上漏水导致天花板受损"))
    source = SelectField(_l("Source"))
    hotline_ticket = StringField(_l("Hotline ticket number"),
                                 validators=[Optional(), Length(max=40)],
                                 description=_l("For a case from the 12345 hotline: its own "
                                                "ticket number (工单号), repeated in every "
                                                "message sent back to it."))
    grid = SelectField(_l("Grid"),
                       description=_l("Or leave it on “from the address” to have the grid "
                                      "picked from the place of the dispute."))
    category = SelectField(_l("Category"), validators=[DataRequired()])
    narrative = TextAreaField(_l("What happened"), validators=[DataRequired(),
                                                                Length(max=10000)],
                              description=_l("The facts as reported, the parties' demands "
                                             "and what has been tried."))
    address = StringField(_l("Place of the dispute"), validators=[Optional(),
                                                                  Length(max=200)])
    amount = StringField(_l("Amount in dispute (yuan)"), validators=[Optional()],
                         description=_l("Leave empty if no money is claimed."))
    risks = MultiCheckboxField(_l("Risk assessment"),
                               choices=options((k, label) for k, (label, _s) in
                                               RISK_FACTORS.items()))
    applicant = FormField(PartySubform, label=_l("Applicant"))
    respondent = FormField(PartySubform, label=_l("Respondent"))

    def __init__(self, *args, grids: list[AreaNode], locale: str, editing: bool = False,
                 current_source: Source | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = grids
        # A resident's own report keeps its source; staff choose among theirs.
        kept = current_source in PORTAL_SOURCES
        self.source.choices = options((s.value, s.title) for s in (
            [current_source] if kept else STAFF_SOURCES))
        self.picked_grid: AreaNode | None = None
        self.grid.choices = options([("", _l("— from the address —")), *(
            (str(g.id), f"{g.parent.name if g.parent else ''} · {g.name}") for g in grids)])
        # Chosen, never defaulted (the first kind in the list is not the likeliest).
        self.category.choices = category_choices(locale) if editing else \
            options([("", _l("— choose —"))]) + category_choices(locale)
        communities = community_choices()
        self.applicant.community.choices = communities
        self.respondent.community.choices = communities
        self.amount_fen: int | None = None
        if editing:
            del self.applicant
            del self.respondent

    def validate_amount(self, field):
        try:
            self.amount_fen = parse_yuan(field.data)
        except ValueError:
            raise ValidationError(_l("Write the amount in yuan, e.g. 12000 or 3500.50.")) \
                from None

    def validate_grid(self, field):
        if not field.data:
            address = (self.address.data or "").strip()
            self.picked_grid = grid_for_address(address, self.grids) if address else None
            if self.picked_grid is None:
                raise ValidationError(_l("No grid could be picked from the place of the "
                                         "dispute: choose the grid."))
            field.data = str(self.picked_grid.id)
            return
        self.picked_grid = next((g for g in self.grids if str(g.id) == field.data), None)
        if self.picked_grid is None:
            raise ValidationError(_l("Choose a grid in your jurisdiction."))

    def validate_category(self, field):
        if field.data not in {choice.value for choice in self.category.choices}:
            raise ValidationError(_l("Choose a category from the list."))


class PartyForm(VersionedForm):
    role = SelectField(_l("Role in the dispute"), choices=enum_choices(PartyRole))
    party = FormField(PartySubform, label=_l("Party"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.party.community.choices = community_choices()


class ReasonForm(VersionedForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class NoteForm(VersionedForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class AcceptForm(VersionedForm):
    handler = SelectField(_l("Handler"), coerce=str, validators=[Optional()])


class DeclineForm(ReasonForm):
    referred_to = StringField(_l("Referred to"), validators=[Optional(), Length(max=120)],
                              description=_l("Where the parties were sent instead, e.g. the "
                                             "police station or the court."))
    confirm = confirm_field(_l("I confirm: the case ends as declined and is no longer "
                               "mediated here."))


class WithdrawForm(ReasonForm):
    confirm = confirm_field(_l("I confirm: the case ends as withdrawn and is no longer "
                               "mediated here."))


class SettleForm(VersionedForm):
    partly = BooleanField(_l("Only partly settled"))
    oral_agreement = TextAreaField(
        _l("Oral agreement"), validators=[Optional(), Length(max=4000)],
        description=_l("For an oral agreement: its content, as registered (People’s Mediation "
                       "Law, art. 28). It takes effect today (art. 30). Leave empty when a "
                       "written agreement follows."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class FailForm(ReasonForm):
    routes_told = MultiCheckboxField(
        _l("Other routes the parties were told of"),
        choices=options([("arbitration", _l("Arbitration")),
                         ("administrative", _l("Administrative handling")),
                         ("court", _l("Lawsuit in court"))]),
        validators=[DataRequired(message=_l("Tick the routes you told the parties about "
                                            "(People’s Mediation Law, art. 26)."))])


class ReferForm(ReasonForm):
    referred_to = StringField(_l("Receiving body"), validators=[DataRequired(),
                                                                Length(max=120)],
                              description=_l("e.g. 东湖区人民法院, 区劳动人事争议仲裁委员会"))


class LevelForm(VersionedForm):
    to_level = SelectField(_l("To level"), choices=enum_choices(Level))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"),
                          choices=options([("confirm", _l("Confirm: move the case")),
                                           ("dismiss", _l("Dismiss"))]),
                          validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class SupervisionForm(VersionedForm):
    message = TextAreaField(_l("Supervision notice"), validators=[DataRequired(),
                                                                  Length(max=4000)])
    respond_by = DateField(_l("Respond by"), validators=[Optional()])


class ResponseForm(FlaskForm):
    response = TextAreaField(_l("Response"), validators=[DataRequired(), Length(max=4000)])


class HelpForm(VersionedForm):
    department = SelectField(_l("Department"), choices=enum_choices(Department))
    department_detail = StringField(_l("Which office"), validators=[Optional(),
                                                                     Length(max=120)],
                                    description=_l("e.g. 文汇派出所"))
    message = TextAreaField(_l("Help needed"), validators=[DataRequired(), Length(max=4000)])


class AssignForm(VersionedForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    role = SelectField(_l("As"), choices=options([("handler", _l("Handler")),
                                                  *AssignmentRole.choices()]))


class TextForm(VersionedForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=8000)])


class FollowUpForm(VersionedForm):
    visited_on = DateField(_l("Visited on"), validators=[DataRequired()])
    performance = TextAreaField(_l("Performance of the agreement"),
                                validators=[DataRequired(), Length(max=4000)])
    satisfaction = IntegerField(_l("Satisfaction (1–5)"),
                                validators=[DataRequired(), NumberRange(min=1, max=5)])
    new_lawsuit = BooleanField(_l("A party has since gone to court"))
    remaining_risk = TextAreaField(_l("Remaining risk"), validators=[Optional(),
                                                                     Length(max=4000)])
    measures = TextAreaField(_l("Measures"), validators=[Optional(), Length(max=4000)])


class RefusalForm(VersionedForm):
    party_id = SelectField(_l("Party"), coerce=int)
    reason = TextAreaField(_l("What the party said"), validators=[Optional(),
                                                                  Length(max=2000)])


class AttachmentForm(VersionedForm):
    file = FileField(_l("Photo or document"), validators=[FileRequired()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])


class QuickReportForm(FlaskForm):
    """快速上报 on a phone: what, where, who; the category chosen, never defaulted; photos
    taken with the camera (mediation/cases/quick_report.py)."""

    narrative = TextAreaField(_l("What happened"), validators=[
        DataRequired(_l("Write what happened.")), Length(max=5000)],
        description=_l("Who, what, since when; what the people involved want."))
    category = SelectField(_l("Kind of dispute"), validators=[
        DataRequired(_l("Choose the kind of dispute."))])
    grid = SelectField(_l("Grid"), validators=[DataRequired(_l("Choose the grid."))])
    address = StringField(_l("Where exactly"), validators=[Optional(), Length(max=200)],
                          description=_l("e.g. 文苑小区7号楼2单元"))
    applicant_name = StringField(_l("Who raised it"), validators=[
        DataRequired(_l("Give the name of the person who raised it.")), Length(max=60)],
        description=_l("The other details of the parties can be added later."))
    applicant_phone = StringField(_l("Their phone"), validators=[
        Optional(), Length(max=20), check_phone], render_kw={"type": "tel",
                                                             "inputmode": "tel"})
    other_name = StringField(_l("The other side"), validators=[Optional(), Length(max=60)],
                             description=_l("A name, or how people call them (e.g. 楼上住户)."))
    other_phone = StringField(_l("The other side's phone"), validators=[
        Optional(), Length(max=20), check_phone], render_kw={"type": "tel",
                                                             "inputmode": "tel"})
    in_danger = BooleanField(_l("Someone may get hurt (threats, violence)"))
    # One camera button each: a phone's camera takes one photo at a time.
    photo_1 = FileField(_l("Photo 1"), render_kw={"accept": "image/*",
                                                  "capture": "environment"})
    photo_2 = FileField(_l("Photo 2"), render_kw={"accept": "image/*",
                                                  "capture": "environment"})
    photo_3 = FileField(_l("Photo 3"), render_kw={"accept": "image/*",
                                                  "capture": "environment"})

    def __init__(self, *args, grids: list[AreaNode], locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {str(g.id): g for g in grids}
        single = len(grids) == 1
        self.grid.choices = options([*([] if single else [("", _l("— choose —"))]), *(
            (str(g.id), f"{g.parent.name if g.parent else ''} · {g.name}") for g in grids)])
        self.category.choices = options([("", _l("— choose —"))]) + category_choices(locale)

    @property
    def photos(self) -> list[tuple[str, object]]:
        """(field name, upload) of each photo taken, in order."""
        return [(f.name, f.data) for f in (self.photo_1, self.photo_2, self.photo_3)
                if f.data and getattr(f.data, "filename", "")]

    def validate_grid(self, field):
        if field.data not in self.grids:
            raise ValidationError(_l("Choose the grid from the list."))
