"""The home page, the language switch, the audit log and the error pages."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mediation.core.audit import AuditEntry
from mediation.core.forms import ActionForm, is_safe_next
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.pages import Page
from mediation.core.permissions import require
from mediation.extensions import db

bp = Blueprint("core", __name__)


# Domains above core add panels to the workbench: (template, function giving its context).
HOME_PANELS: list[tuple[str, object]] = []
# Parts that answer errors in their own format (the JSON API): a function of the error that
# returns a response, or None to leave it to the HTML error pages.
ERROR_RESPONDERS: list = []
# What a visitor who has not logged in gets at "/" (the residents' portal puts its front
# page here); without it, "/" asks for the login like every staff page.
PUBLIC_HOME: list = []


def _responded(error):
    return next((r for r in (respond(error) for respond in ERROR_RESPONDERS) if r is not None),
                None)


@bp.get("/")
def home():
    """Staff: their workbench. Anyone else: the residents' front page."""
    if not current_user.is_authenticated:
        return PUBLIC_HOME[0]() if PUBLIC_HOME else current_app.login_manager.unauthorized()
    panels = [(template, provide()) for template, provide in HOME_PANELS]
    return render_template("home.html", panels=[(t, c) for t, c in panels if c is not None])


@bp.post("/language")
def set_language():
    """Switch the interface language (a POST: it changes the session)."""
    lang = request.form.get("lang")
    if ActionForm().validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("core.home"))


@bp.get("/admin/audit")
@require("audit.view")
def audit_log():
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor_name) == actor.lower())
    page = Page(stmt, request.args.get("page", 1, type=int), current_app.config["PAGE_SIZE"])
    return render_template("audit/list.html", page=page, action=action, actor=actor)


ERROR_MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, reload the page "
                                "and try again.")),
    403: (_l("Not allowed"), _l("Your account may not open this page. If you need it, ask your "
                                "administrator.")),
    404: (_l("Not found"), _l("This page does not exist, or it is outside your jurisdiction.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("The file is too large.")),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("The server could not finish this. Please check "
                                         "whether your change was saved, try again, and tell "
                                         "your administrator if it happens again.")),
}


def _error_page(code: int, message=None):
    title, default = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title,
                           message=message or default), code


def register_error_pages(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _error_page(400, _("The form had expired or was sent from elsewhere. Nothing "
                                  "was saved: reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        # A description given where the error was raised is for the user; Werkzeug's
        # default ones are not translated.
        given = error.description if error.description != type(error).description else None
        response = current_app.make_response(_responded(error) or _error_page(error.code, given))
        # A 405 names the methods the address takes (RFC 9110, 15.5.6).
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _responded(error) or _error_page(500)

