"""Forms for the area tree, committees, centres and rooms."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from mediation.areas.models import AreaNode
from mediation.core.forms import check_phone
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db


class AreaCodeField(StringField):
    """A text box for an area code that resolves to the node (``field.node``)."""

    node: AreaNode | None = None

    def pre_validate(self, form):
        code = (self.data or "").strip()
        self.node = db.session.scalar(select(AreaNode).where(AreaNode.code == code)) \
            if code else None
        if code and self.node is None:
            raise ValidationError(_l("No area has the code %(code)s.", code=code))


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("The administrative division code, or your own code for "
                                      "a grid."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    address_hints = TextAreaField(
        _l("Addresses covered (grids)"), validators=[Optional(), Length(max=4000)],
        description=_l("One address fragment a line, e.g. 文苑小区7号楼: a dispute whose address "
                       "contains it is placed in this grid."))
    households = IntegerField(_l("Households"),
                              validators=[Optional(), NumberRange(min=0, max=9_999_999)])


class CommitteeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("e.g. 文苑社区人民调解委员会"))
    short_name = StringField(_l("Short name"), validators=[DataRequired(), Length(max=30)],
                             description=_l("Used in agreement numbers: （2026）<short name>"
                                            "人调字第N号"))
    agreement_number_pattern = StringField(
        _l("Agreement number pattern"), validators=[Optional(), Length(max=80)],
        description=_l("Leave empty for （{year}）{short_name}人调字第{n}号. {year} and {n} are "
                       "required."))
    area_code = AreaCodeField(_l("Area code"), validators=[DataRequired()],
                              description=_l("The community or street it is set up in."))
    registration_number = StringField(_l("Registration number"),
                                      validators=[Optional(), Length(max=64)])
    registered_on = DateField(_l("Registered on"), validators=[Optional()])
    registration_authority = StringField(_l("Registered with"),
                                         validators=[Optional(), Length(max=120)],
                                         description=_l("e.g. the district justice bureau"))
    seal_holder = StringField(_l("Seal holder"), validators=[Optional(), Length(max=60)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30), check_phone])
    active = BooleanField(_l("Active"), default=True)


class CentreForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    area_code = AreaCodeField(_l("Area code"), validators=[DataRequired()],
                              description=_l("The street or district it serves."))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30), check_phone])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    capacity = IntegerField(_l("Capacity (people)"),
                            validators=[DataRequired(), NumberRange(min=1, max=500)])
    video_capable = BooleanField(_l("Equipped for video mediation"))
    active = BooleanField(_l("In use"), default=True)


class CourtForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("e.g. 东营市东湖区人民法院"))
    area_code = AreaCodeField(_l("Area code"), validators=[DataRequired()],
                              description=_l("The district (or other area) it serves: it is "
                                             "competent for parties, places and committees "
                                             "there."))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30), check_phone])
    active = BooleanField(_l("Active"), default=True)
