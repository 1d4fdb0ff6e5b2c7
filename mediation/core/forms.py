"""Small helpers shared by the HTML views."""

from flask import flash
from flask_wtf import FlaskForm

from mediation.core.errors import OperationError


def show_operation_error(form, error: OperationError) -> None:
    """Put a refused operation's message on its field, or flash it if it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) \
            else [error.message]
    else:
        flash(error.message, "error")


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths may be redirected to after login."""
    return bool(target) and target.startswith("/") and not target.startswith("//") \
        and "\\" not in target


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST."""
