"""What every template can use."""

from flask import current_app, request
from flask_babel import format_datetime, get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from mediation.core.i18n import html_lang
from mediation.core.identity import mask_phone
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
        }

    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["datetime"] = lambda value, fmt="yyyy-MM-dd HH:mm": (
        format_datetime(value, fmt) if value else "—")
