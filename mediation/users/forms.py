"""Forms for logging in, passwords and account administration."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from mediation.areas.models import AreaNode, Committee
from mediation.core.forms import check_phone, enum_choices
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.validators import split_codes
from mediation.extensions import db
from mediation.users.roles import Role


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class SecondFactorForm(FlaskForm):
    """The login's second step: a code from the app, or a recovery code."""

    code = StringField(
        _l("Verification code"), validators=[DataRequired(), Length(max=40)],
        description=_l("The six-digit code your authenticator app shows now. Without your "
                       "phone, enter one of your recovery codes instead."),
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                   "autocapitalize": "off"},
    )


class EnrolForm(FlaskForm):
    """The first code from the app, proving it holds the secret."""

    code = StringField(
        _l("Six-digit code from the app"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "autofocus": True},
    )


class ConfirmPasswordForm(FlaskForm):
    """Asked again before the second factor is switched off or its recovery codes renewed."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 12 characters. A short sentence is easier to remember and "
                       "harder to guess than a word with digits."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class UserForm(FlaskForm):
    """Create or edit an account and its jurisdiction."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=2, max=40),
                    Regexp(r"^[A-Za-z0-9_.-]+$",
                           message=_l("Use only letters, digits, dot, dash and underscore."))],
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=60)])
    role = SelectField(_l("Role"), choices=enum_choices(Role), validators=[DataRequired()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20), check_phone],
                        description=_l("Mobile (11 digits) or landline with area code."))
    email = StringField(_l("Email"), validators=[Optional(), Email(), Length(max=120)])
    area_codes = TextAreaField(
        _l("Areas (codes)"),
        description=_l("Codes of the grids, streets or district this account covers, separated "
                       "by spaces or commas. Grid workers: grids; coordinators: streets or the "
                       "district."),
    )
    committee_names = TextAreaField(
        _l("Mediation committees (short names)"),
        description=_l("For mediators: the short names of their committees, e.g. 文苑社区, "
                       "separated by spaces or commas (see the list of committees)."),
    )
    must_change_password = BooleanField(_l("Must change the password at first login"),
                                        default=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.selected_areas: list[AreaNode] = []
        self.selected_committees: list[Committee] = []
        if editing:
            del self.username
            del self.must_change_password

    def validate_area_codes(self, field):
        codes = split_codes(field.data)
        nodes = db.session.scalars(select(AreaNode).where(AreaNode.code.in_(codes))).all() \
            if codes else []
        unknown = sorted(set(codes) - {n.code for n in nodes})
        if unknown:
            raise ValidationError(_l("Unknown area codes: %(codes)s", codes=", ".join(unknown)))
        self.selected_areas = sorted(nodes, key=lambda n: n.code)

    def validate_committee_names(self, field):
        names = split_codes(field.data)
        found = db.session.scalars(select(Committee).where(Committee.short_name.in_(names))
                                   ).all() if names else []
        unknown = sorted(set(names) - {c.short_name for c in found})
        if unknown:
            raise ValidationError(_l("Unknown committees: %(names)s", names=", ".join(unknown)))
        self.selected_committees = sorted(found, key=lambda c: c.short_name)


class NewUserForm(NewPasswordMixin, UserForm):
    pass
