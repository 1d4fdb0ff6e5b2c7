"""What every template can use."""

from flask import current_app, g, request
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from mediation.core.calendar import provisional_years, provisional_years_between
from mediation.core.i18n import html_lang
from mediation.core.identity import mask_id, mask_phone
from mediation.core.navigation import menu_for
from mediation.core.permissions import can_view_path


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        locale = str(get_locale())
        return {
            "languages": current_app.config["LANGUAGES"],
            "current_locale": locale,
            "html_lang": html_lang(locale),
            "csrf_token": generate_csrf,
            "current_path": request.full_path.rstrip("?") if request else "/",
            "can_view": lambda node: can_view_path(current_user, node.path),
            "main_menu": lambda: menu_for(current_user),
        }

    # Dates in a year without the official holiday schedule are marked provisional.
    app.jinja_env.globals["provisional_years"] = provisional_years
    app.jinja_env.globals["provisional_years_between"] = provisional_years_between
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["days_left"] = days_left
    app.jinja_env.filters["audit_value"] = audit_value
    app.jinja_env.filters["date"] = lambda value, fmt="yyyy-MM-dd": (
        format_date(value, fmt) if value else "—")
    app.jinja_env.filters["datetime"] = lambda value, fmt="yyyy-MM-dd HH:mm": (
        format_datetime(value, fmt) if value else "—")



def days_left(left: int) -> str:
    """How a deadline reads beside its date, from the days left: 3 days left, due today,
    2 days overdue. The phrases are translated once a request: a list repeats them on
    every row."""
    if "days_phrases" not in g:
        g.days_phrases = (_("%(n)d days overdue"), _("due today"), _("%(n)d days left"))
    overdue, today, ahead = g.days_phrases
    return overdue % {"n": -left} if left < 0 else today if left == 0 else ahead % {"n": left}


def audit_value(value, key: str | None = None):
    """An audit entry's value as shown: identity numbers re-masked, since entries written
    before masks kept only the last four characters still hold the region digits."""
    if key == "id_number" and isinstance(value, str):
        return mask_id(value)
    if isinstance(value, dict):
        return {k: audit_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [audit_value(v) for v in value]
    return value
