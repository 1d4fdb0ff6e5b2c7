"""The form a resident fills in to report a dispute: few fields, plain words."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from mediation.areas.models import AreaNode
from mediation.areas.operations import grid_for_address
from mediation.cases.models import Category
from mediation.core import photos
from mediation.core.forms import check_phone, options
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db

NOT_SURE = ""


class ReportForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please give your name.")),
                                                    Length(max=60)],
                       render_kw={"autocomplete": "name"})
    phone = StringField(_l("Your phone"), validators=[
        DataRequired(_l("Please give a phone number.")), Length(max=20), check_phone],
        description=_l("We call or text you on it about your case."),
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
    minor = BooleanField(_l("I am under 18"))
    guardian_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=40)],
                                description=_l("Under 18: a parent or other guardian reports "
                                               "with you."))
    guardian_phone = StringField(_l("Guardian's phone"),
                                 validators=[Optional(), Length(max=20), check_phone],
                                 render_kw={"type": "tel", "inputmode": "tel"})
    other_name = StringField(_l("Name of the other side"), validators=[Optional(),
                                                                       Length(max=60)],
                             description=_l("As far as you know; or how you call them, e.g. "
                                            "楼上住户."))
    other_phone = StringField(_l("Their phone (if you know it)"),
                              validators=[Optional(), Length(max=20), check_phone],
                              render_kw={"type": "tel", "inputmode": "tel"})
    grid = SelectField(_l("Grid"), validators=[Optional()],
                       description=_l("Not sure? Leave it and write the address below."))
    # No Optional(): its check of the grid runs on an empty address too.
    address = StringField(_l("Address where it happened"), validators=[Length(max=200)],
                          description=_l("e.g. 文苑小区7号楼2单元"))
    category = SelectField(_l("Kind of dispute"), validators=[Optional()])
    narrative = TextAreaField(_l("What happened"), validators=[
        DataRequired(_l("Please tell us what happened.")), Length(max=5000)],
        description=_l("Who, what, since when, and what you would like."))
    photos = MultipleFileField(_l("Photos (up to 6)"),
                               description=_l("JPEG, PNG or WebP, up to 8 MB each. Location "
                                              "and camera details are removed."),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})
    in_danger = RadioField(_l("Is anyone in danger of being hurt?"),
                           choices=options([("no", _l("No")), ("yes", _l("Yes"))]),
                           default="no", validators=[InputRequired()])
    consent = BooleanField(_l("I have read the notice and agree."), validators=[
        DataRequired(_l("Please read the notice on personal information and tick the box to "
                        "agree: without it we cannot take the report."))])
    # Hidden from people (off screen, skipped by the keyboard): only robots fill it in.
    website = StringField(_l("Leave this empty"), render_kw={"autocomplete": "off",
                                                               "tabindex": "-1"})

    def __init__(self, *args, grids: list[AreaNode], choose_grid: bool, locale: str,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = grids
        self.picked_grid: AreaNode | None = None
        if choose_grid:
            self.grid.choices = options([(NOT_SURE, _l("Not sure: from the address")), *(
                (str(g.id), g.name) for g in grids)])
        else:
            del self.grid
        rows = db.session.scalars(select(Category).where(Category.active)
                                  .order_by(Category.sort_order)).all()
        self.category.choices = options([(NOT_SURE, _l("Not sure")), *(
            (str(c.id), c.display(locale)) for c in rows)])
        self.categories = {str(c.id): c for c in rows}

    @property
    def robot(self) -> bool:
        return bool(self.website.data)

    @property
    def picked_category(self) -> Category | None:
        return self.categories.get(self.category.data or NOT_SURE)

    def validate_category(self, field):
        if field.data and field.data not in self.categories:
            raise ValidationError(_l("Choose a kind from the list."))

    def validate_address(self, field):
        chosen = self.grid.data if self.grid else NOT_SURE
        if chosen:
            self.picked_grid = next((g for g in self.grids if str(g.id) == chosen), None)
            if self.picked_grid is None:
                raise ValidationError(_l("Choose the grid from the list."))
            return
        address = (field.data or "").strip()
        if not address:
            raise ValidationError(_l("Write the address where it happened (or choose the "
                                     "grid)."))
        self.picked_grid = grid_for_address(address, self.grids)
        if self.picked_grid is None:
            raise ValidationError(_l("We could not tell the grid from this address: add the "
                                     "estate and building (e.g. 文苑小区7号楼), choose the "
                                     "grid, or call the centre."))

    def validate_photos(self, field):
        sent = [f for f in field.data or [] if f and f.filename]
        if len(sent) > photos.MAX_PHOTOS:
            raise ValidationError(_l("Send at most %(n)d photos.", n=photos.MAX_PHOTOS))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.minor.data:
            for name, message in (("guardian_name", _l("Please give the guardian's name.")),
                                  ("guardian_phone", _l("Please give the guardian's phone."))):
                field = getattr(self, name)
                if not field.data and not field.errors:
                    field.errors = [*field.errors, message]
                    valid = False
        if self.other_phone.data and not self.other_name.data:
            self.other_name.errors = [*self.other_name.errors, _l(
                "Give the other side's name, or how you call them (e.g. 楼上住户).")]
            valid = False
        return valid
