"""Small helpers shared by the HTML views."""

from urllib.parse import urlsplit

from flask import flash
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from mediation.core.errors import OperationError
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.validators import PHONE_INVALID, normalise_phone


def show_operation_error(form, error: OperationError) -> None:
    """Put a refused operation's message on its field, or flash it if it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if isinstance(field, Field):
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) \
            else [error.message]
    else:
        flash(error.message, "error")


def is_safe_next(target: str | None) -> bool:
    """Only a plain same-site path may be redirected to after login or a language switch."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return False  # browsers and Werkzeug drop tabs and newlines: "/\t/evil" → "//evil"
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST."""


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(enum_cls) -> list[SelectChoice]:
    """A TitledEnum's members as select options, labelled in the user's language."""
    return options(enum_cls.choices())


def check_phone(form, field) -> None:
    """WTForms validator: a mainland mobile or landline, stored normalised."""
    if field.data:
        normalised = normalise_phone(field.data)
        if not normalised:
            raise ValidationError(PHONE_INVALID)
        field.data = normalised


def confirm_field(label):
    """A box to tick before a step that cannot be undone (works without JavaScript)."""
    return BooleanField(label, validators=[DataRequired(
        _l("Tick the box to confirm: this cannot be undone."))])
