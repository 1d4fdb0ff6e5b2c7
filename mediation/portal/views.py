"""Residents check their case with its number and their access code (查询进度).

The number and the code travel only in a POST body: the right pair opens the party's view
for a while, kept in the signed session cookie (the party's id and when its code was
issued: a renewed code closes the views opened with the old one), so no URL, browser
history or access log line ever holds either.  A wrong code and an unknown number get the
same page; failures are counted per client address and per case number (limits.py).
"""

import time
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from mediation.agreements.models import Agreement
from mediation.cases import access
from mediation.cases.models import Case, Party
from mediation.cases.views import CASE_PAGE_EXTRAS
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, show_operation_error
from mediation.core.permissions import require
from mediation.extensions import db
from mediation.portal import limits, operations
from mediation.portal.blueprint import bp
from mediation.portal.models import AccessCode, Satisfaction
from mediation.portal.status_forms import RatingForm, ReplyForm, StatusForm
from mediation.sessions import documents
from mediation.sessions.models import Reply

VIEW = "portal_party"  # the session key of an open party view
SHOWN = "access_codes_shown"  # codes waiting to be shown once on their case page


def _private(response: Response) -> Response:
    """A party's pages are not kept by the browser or a proxy (shared and borrowed phones)."""
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- check my case -----------------------------------------------------------------------

@bp.route("/status", methods=["GET", "POST"])
def status():
    """The form; with the right pair, the party's view opens."""
    form = StatusForm()
    if not form.validate_on_submit():
        return _private(Response(render_template("portal/status.html", form=form)))
    party, wait = limits.party_for(form.case_number.data, form.access_code.data)
    if wait:
        return _refused(form, wait)
    if party is None:
        return _private(Response(render_template("portal/status.html", form=_emptied(form),
                                                 wrong=True)))
    party_id = party.id
    issued = db.session.get(AccessCode, party_id).issued_at
    session[VIEW] = {"party": party_id, "issued": issued.isoformat(),
                     "until": time.time() + current_app.config["PORTAL_VIEW_MINUTES"] * 60}
    operations.open_view(party)
    db.session.commit()
    return redirect(url_for("portal.case"), code=303)


def _emptied(form: StatusForm) -> StatusForm:
    """Neither the number nor the code goes back into the page: a wrong code and an
    unknown number get the very same answer."""
    form.case_number.data = form.access_code.data = ""
    return form


def _refused(form: StatusForm, retry_after: int):
    minutes = max(1, round(retry_after / 60))
    response = Response(render_template("portal/status.html", form=_emptied(form),
                                        refused=True, minutes=minutes), status=429)
    response.headers["Retry-After"] = str(retry_after)
    return _private(response)


def _party() -> Party:
    """The party whose view is open in this browser; otherwise back to the form."""
    held = session.get(VIEW)
    party = db.session.get(Party, held["party"]) if isinstance(held, dict) and \
        isinstance(held.get("party"), int) else None
    code = db.session.get(AccessCode, party.id) if party is not None else None
    if party is None or code is None or code.issued_at.isoformat() != held.get("issued") \
            or not time.time() < float(held.get("until") or 0):
        session.pop(VIEW, None)
        abort(_expired())
    return party


def _expired() -> Response:
    flash(_("Please enter your case number and access code again."), "warning")
    return redirect(url_for("portal.status"))


@bp.get("/status/case")
def case():
    party = _party()
    view = operations.view_of(party)
    forms = {item.session.id: ReplyForm(prefix=f"s{item.session.id}",
                                        data={"reply": item.participant.reply.value
                                              if item.participant.reply else None})
             for item in view["sessions"] if item.may_reply}
    return _private(Response(render_template(
        "portal/case.html", **view, reply_forms=forms, rating_form=RatingForm(),
        leave_form=ActionForm())))


@bp.post("/status/sessions/<int:session_id>/reply")
def reply(session_id: int):
    party = _party()
    form = ReplyForm(prefix=f"s{session_id}")
    if form.validate_on_submit():
        try:
            operations.reply_to_session(party, session_id, Reply(form.reply.data),
                                        form.reason.data)
            db.session.commit()
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
            for message in form.reason.errors:
                flash(message, "error")
        else:
            flash(_("Thank you: the mediator sees your answer."), "success")
    else:
        flash(_("Please choose an answer."), "error")
    return redirect(url_for("portal.case") + f"#session-{session_id}", code=303)


@bp.post("/status/rating")
def rate():
    """The party's rating of the service, once the case has its outcome."""
    party = _party()
    form = RatingForm()
    if not form.validate_on_submit():
        for message in [m for messages in form.errors.values() for m in messages]:
            flash(message, "error")
        return redirect(url_for("portal.case") + "#rating", code=303)
    try:
        operations.rate_service(party, Satisfaction(form.satisfaction.data),
                                form.comment.data)
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Thank you for your rating: it helps us improve."), "success")
    return redirect(url_for("portal.case") + "#rating", code=303)


@bp.get("/status/sessions/<int:session_id>/notice.pdf")
def notice(session_id: int):
    """The party's own notice (调解通知书) of one of its sessions."""
    party = _party()
    item = operations.own_session(party, session_id)
    if item is None or not item.session.is_active:
        abort(404)
    try:
        data = documents.notice_pdf(item.session, item.participant)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("portal.case"))
    return _pdf(data, f"调解通知书-{party.case.number}.pdf")


@bp.get("/status/agreements/<int:agreement_id>.pdf")
def agreement(agreement_id: int):
    """The issued agreement as stored, for a party it names."""
    party = _party()
    found = db.session.get(Agreement, agreement_id)
    if found is None or not operations.may_download(party, found) or not found.pdf:
        abort(404)
    return _pdf(found.pdf, f"人民调解协议书-{found.number}.pdf")


def _pdf(data: bytes, filename: str) -> Response:
    return _private(Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}))


@bp.post("/status/leave")
def leave():
    """Close the party's view on this device."""
    if ActionForm().validate_on_submit():
        session.pop(VIEW, None)
    return redirect(url_for("portal.status"), code=303)


# ---- for staff: the codes, shown once on the case page -----------------------------------

@bp.post("/cases/<number>/parties/<int:party_id>/access-code")
@require("cases.handle")
def renew_code(number: str, party_id: int):
    """A new code for a party (the old one stops working), shown once on the case page."""
    case = db.session.scalar(db.select(Case).where(Case.number == number))
    if case is None or not access.can_view(current_user, case):
        abort(404)
    if not access.can(current_user, "cases.handle", case):
        abort(403)
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.issue_code(current_user, party)
    db.session.commit()
    return redirect(url_for("cases.detail", number=case.number) + "#parties")


@bp.after_app_request
def _remember_new_codes(response: Response) -> Response:
    """Codes issued by a page that went on to redirect (its work committed) are kept for
    the next render of their case page, and only that one."""
    issued = g.pop("new_access_codes", None)
    if issued and response.status_code in (302, 303) and current_user.is_authenticated:
        session[SHOWN] = [*session.get(SHOWN, []), *issued]
    return response


def _case_block(case: Case) -> dict:
    shown = []
    if session.get(SHOWN):
        shown, rest = operations.shown_codes(case, session[SHOWN])
        if rest:
            session[SHOWN] = rest
        else:
            session.pop(SHOWN)
    handles = access.can(current_user, "cases.handle", case)
    return {"new_access_codes": shown, "ratings": operations.ratings_of(case),
            "parties_with_codes": operations.parties_with_codes(case) if handles else set(),
            "may_issue_codes": handles}


CASE_PAGE_EXTRAS.append(_case_block)
