"""The agreement builder, the issued agreement's page, its PDFs, judicial confirmation and the
public verification page."""

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from mediation.agreements import courts as court_rules
from mediation.agreements import documents, operations, queries, rules
from mediation.agreements.forms import (
    CompareForm,
    ConfirmationForm,
    InstalmentForm,
    IssueForm,
    PartyDetailsForm,
    PerformanceForm,
    RulingForm,
    SignatureForm,
    SignedCopyForm,
    VerifyForm,
    draft_form,
    term_form,
)
from mediation.agreements.models import (
    Agreement,
    ConfirmationResult,
    Instalment,
    JudicialConfirmation,
    Liability,
    SignMethod,
    Term,
)
from mediation.areas.models import Court
from mediation.cases import access
from mediation.cases.models import Case
from mediation.cases.rules import today
from mediation.cases.views import CASE_PAGE_EXTRAS
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, options, show_operation_error
from mediation.core.permissions import require
from mediation.core.ratelimit import limit_views
from mediation.core.views import HOME_PANELS
from mediation.extensions import db
from mediation.users.models import User

bp = Blueprint("agreements", __name__)
# The public verification pages: enough for people checking a few agreements.
limit_views(bp, lambda: current_app.config["VERIFY_RATE_LIMIT"], "agreements.verify",
            "agreements.check")
ISSUE = "agreements.issue"
# Signatures, performance and judicial confirmation: allowed on a closed case too.
TRACK = "agreements.track"


def _case_block(case: Case) -> dict:
    return {"agreements": operations.agreements_of(case),
            "confirmation_deadline": rules.confirmation_deadline,
            "may_draft": access.can(current_user, ISSUE, case)
            and case.state in operations.DRAFTING_STATES
            and operations.open_draft(case) is None}


CASE_PAGE_EXTRAS.append(_case_block)


def _home_panel() -> dict | None:
    if not current_user.can(ISSUE):
        return None
    return queries.attention(current_user, today())


HOME_PANELS.append(("agreements/_home_panel.html", _home_panel))


def _agreement(agreement_id: int, permission: str = "cases.view") -> Agreement:
    """The agreement if its case is visible (404 otherwise), and the permission on it (403)."""
    agreement = db.get_or_404(Agreement, agreement_id)
    if not access.can_view(current_user, agreement.case):
        abort(404)
    if not access.can(current_user, permission, agreement.case):
        abort(403)
    return agreement


def _seen(version: str | None) -> int | None:
    """The lock version a form carried back; anything else is no version."""
    return int(version) if (version or "").isdigit() and len(version) < 10 else None


def _commit(form, action) -> bool:
    """Run one operation and commit once; a refusal is shown and nothing is saved."""
    try:
        action()
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        show_operation_error(form, error)
        return False
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Someone else changed this agreement while you were editing it. Nothing was "
                "saved: reload the page and try again."), "error")
        return False
    return True


def _flash_errors(form) -> None:
    for field, errors in form.errors.items():
        label = form[field].label.text if field in form else ""
        for error in errors:
            flash(f"{label}：{error}" if label else error, "error")


def _mediators(agreement: Agreement):
    return [u for u in access.possible_handlers(agreement.case) if u.can(ISSUE)]


def _courts():
    return db.session.scalars(select(Court).where(Court.active).order_by(Court.name)).all()


def _page(agreement: Agreement, **forms):
    """The agreement's page: the builder while a draft, the record once issued."""
    missing = {}
    track = operations.confirmation_track(agreement)
    if agreement.is_draft:
        forms.setdefault("form", draft_form(agreement, _mediators(agreement), _courts()))
        # What each party's block still lacks, completed here rather than on the case.
        missing = {e.party_id: rules.missing_fields(e.party) for e in agreement.parties}
        details = forms.setdefault("details_forms", {})
        for party_id in missing:
            details.setdefault(party_id, PartyDetailsForm(prefix=f"p{party_id}",
                                                          formdata=None))
        forms.setdefault("issue_form", IssueForm(version=agreement.lock_version))
    else:
        signature_form = forms.setdefault("signature_form", SignatureForm())
        signature_form.signer.choices = options(
            [(f"party:{e.party_id}", e.party.name) for e in agreement.parties]
            + [("mediator", _("Mediator")), ("recorder", _("Recorder")),
               ("seal", _("Committee seal"))])
        forms.setdefault("copy_form", SignedCopyForm())
        confirmation_form = forms.setdefault("confirmation_form", ConfirmationForm())
        confirmation_form.court_id.choices = options(
            [("", "—")] + [(c.court.id, c.name) for c in track.competent if c.court])
        forms.setdefault("ruling_form", RulingForm())
        forms["competent"] = track.competent
    return render_template(
        "agreements/detail.html", agreement=agreement, case=agreement.case,
        problems=operations.problems(agreement) if agreement.is_draft else [],
        eligibility=track.eligibility, today=today(), missing=missing,
        deadline=track.deadline, calendar_warning=track.provisional_years,
        materials=track.materials, performance=queries.performance(agreement, today()),
        action_form=ActionForm(), performance_form=PerformanceForm(),
        instalment_form=InstalmentForm(), enforcement_until=rules.enforcement_deadline,
        can_issue=access.can(current_user, ISSUE, agreement.case),
        can_track=access.can(current_user, TRACK, agreement.case),
        may_correct=not agreement.is_draft and operations.correction_refusal(agreement) is None,
        may_file=track.may_file, application_closed=track.application_closed,
        can_apply=access.can(current_user, TRACK, agreement.case)
        and access.can(current_user, operations.REVEAL, agreement.case),
        **forms)


# ---- drafting ---------------------------------------------------------------------------

@bp.post("/cases/<number>/agreements")
@require(ISSUE)
def start(number: str):
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not access.can_view(current_user, case):
        abort(404)
    if not access.can(current_user, ISSUE, case):
        abort(403)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    result = {}
    if _commit(form, lambda: result.setdefault("a", operations.start_draft(current_user, case))):
        return redirect(url_for("agreements.detail", agreement_id=result["a"].id))
    return redirect(url_for("cases.detail", number=number))


@bp.get("/agreements/<int:agreement_id>")
@require("cases.view")
def detail(agreement_id: int):
    return _page(_agreement(agreement_id))


@bp.post("/agreements/<int:agreement_id>")
@require(ISSUE)
def save_draft(agreement_id: int):
    agreement = _agreement(agreement_id, ISSUE)
    form = draft_form(agreement, _mediators(agreement), _courts())
    if form.validate_on_submit():
        data = operations.DraftInput(
            facts=form.facts.data or "", disputed_matters=form.disputed_matters.data or "",
            copies=form.copies.data,
            mediator=db.session.get(User, form.mediator_id.data)
            if form.mediator_id.data else None,
            recorder_name=form.recorder_name.data,
            inviting_court=db.session.get(Court, form.inviting_court_id.data)
            if form.inviting_court_id.data else None,
            concerns_status=form.concerns_status.data,
            determines_ownership=form.determines_ownership.data,
            responsibilities={e.party_id: form[f"responsibility_{e.party_id}"].data
                              for e in agreement.parties})
        if _commit(form, lambda: operations.update_draft(
                current_user, agreement, data, seen_version=_seen(form.version.data))):
            flash(_("Draft saved."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return _page(agreement, form=form), 422


@bp.route("/agreements/<int:agreement_id>/terms/new", methods=["GET", "POST"])
@bp.route("/agreements/terms/<int:term_id>/edit", methods=["GET", "POST"])
@require(ISSUE)
def term(agreement_id: int | None = None, term_id: int | None = None):
    term = db.get_or_404(Term, term_id) if term_id else None
    agreement = _agreement(term.agreement_id if term else agreement_id, ISSUE)
    if not agreement.is_draft:
        flash(_("Agreement %(number)s has been issued and can no longer change: make a "
                "correction instead.", number=agreement.number), "error")
        return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    form = term_form(agreement, term)
    if term is not None and not form.is_submitted():
        form.amount.data = term.amount_yuan.replace(",", "") if term.amount_fen else ""
        form.instalments.data = "\n".join(f"{i.due_on.isoformat()} {i.amount_yuan}"
                                          for i in term.instalments)
    if form.validate_on_submit():
        data = operations.TermInput(
            content=form.content.data, obligor_ids=form.obligor_ids.data,
            obligee_ids=form.obligee_ids.data,
            liability=Liability(form.liability.data) if form.liability.data else None,
            shares=form.shares_typed(), amount=form.amount.data,
            method=form.method.data, place=form.place.data, due_on=form.due_on.data,
            instalments=form.instalments.data, on_the_spot=form.on_the_spot.data)
        if _commit(form, lambda: operations.save_term(current_user, agreement, term, data)):
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="terms"))
    return render_template("agreements/term_form.html", form=form, agreement=agreement,
                           term=term), 422 if form.is_submitted() else 200


@bp.post("/agreements/terms/<int:term_id>/<any(delete, up, down):action>")
@require(ISSUE)
def term_action(term_id: int, action: str):
    term = db.get_or_404(Term, term_id)
    agreement = _agreement(term.agreement_id, ISSUE)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if action == "delete":
        if request.form.get("confirmed") != "yes":  # the page's confirm step was skipped
            flash(_("Confirm the deletion of the term: nothing was deleted."), "error")
        elif _commit(form, lambda: operations.delete_term(current_user, term)):
            flash(_("Term deleted."), "success")
    else:
        _commit(form, lambda: operations.move_term(current_user, term,
                                                   -1 if action == "up" else 1))
    return redirect(url_for("agreements.detail", agreement_id=agreement.id, _anchor="terms"))


@bp.post("/agreements/<int:agreement_id>/parties/<int:party_id>")
@require(ISSUE)
def complete_party(agreement_id: int, party_id: int):
    """Complete a party's missing details from the builder (the case's party form is the
    place for everything else)."""
    agreement = _agreement(agreement_id, ISSUE)
    entry = next((e for e in agreement.parties if e.party_id == party_id), None)
    if entry is None or not agreement.is_draft:
        abort(404)
    party = entry.party
    form = PartyDetailsForm(prefix=f"p{party_id}")
    if form.validate_on_submit():
        details = {name: form[name].data for name in rules.missing_fields(party)}
        filled = []
        if _commit(form, lambda: filled.extend(
                operations.complete_party(current_user, agreement, party_id, details))):
            if filled:
                flash(_("%(name)s: details saved.", name=party.name), "success")
            else:
                flash(_("Nothing was saved: fill in at least one of the details."), "error")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="parties-h"))
    return _page(agreement, details_forms={party_id: form}), 422


@bp.get("/agreements/<int:agreement_id>/preview")
@require("cases.view")
def preparing(agreement_id: int):
    """Says the preview is being made, then fetches it (a meta refresh: no JavaScript); the
    first one after a start takes a few seconds while the fonts load."""
    agreement = _agreement(agreement_id, ISSUE)
    return render_template("agreements/preparing.html", agreement=agreement,
                           target=url_for("agreements.preview", agreement_id=agreement.id))


@bp.get("/agreements/<int:agreement_id>/preview.pdf")
@require("cases.view")
def preview(agreement_id: int):
    """The draft as it will print, watermarked; rendered on request and never kept."""
    agreement = _agreement(agreement_id, ISSUE)
    if not agreement.is_draft:
        return redirect(url_for("agreements.pdf", agreement_id=agreement.id))
    try:
        pdf = operations.preview_pdf(current_user, agreement)
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return _pdf_response(pdf, f"协议书草稿-{agreement.case.number}.pdf", inline=True)


@bp.post("/agreements/<int:agreement_id>/<any(issue, discard, correct):action>")
@require(ISSUE)
def lifecycle(agreement_id: int, action: str):
    agreement = _agreement(agreement_id, ISSUE)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    if action == "issue":
        if _commit(form, lambda: operations.issue(current_user, agreement,
                                                  verify_url=documents.verify_url(),
                                                  seen_version=_seen(form.version.data))):
            flash(_("Agreement %(number)s issued. Print it for signing.",
                    number=agreement.number), "success")
        return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    if action == "discard":
        if request.form.get("confirmed") != "yes":  # the page's confirm step was skipped
            flash(_("Confirm the discarding of the draft: nothing was discarded."), "error")
            return redirect(url_for("agreements.detail", agreement_id=agreement_id))
        case_number = agreement.case.number
        if _commit(form, lambda: operations.discard_draft(current_user, agreement)):
            flash(_("Draft discarded."), "success")
            return redirect(url_for("cases.detail", number=case_number))
        return redirect(url_for("agreements.detail", agreement_id=agreement_id))
    result = {}
    if _commit(form, lambda: result.setdefault("a", operations.correct(current_user,
                                                                       agreement))):
        return redirect(url_for("agreements.detail", agreement_id=result["a"].id))
    return redirect(url_for("agreements.detail", agreement_id=agreement.id))


def _pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


@bp.get("/agreements/<int:agreement_id>/pdf")
@require("cases.view")
def pdf(agreement_id: int):
    """The issued bytes, exactly as kept (each download is audited: they hold personal data)."""
    agreement = _agreement(agreement_id)
    if agreement.is_draft:
        return redirect(url_for("agreements.preview", agreement_id=agreement.id))
    data = operations.read_pdf(current_user, agreement)
    db.session.commit()
    return _pdf_response(data, f"人民调解协议书-{agreement.number}.pdf",
                         inline=request.args.get("inline") == "1")


# ---- signatures and performance ---------------------------------------------------------

@bp.post("/agreements/<int:agreement_id>/signatures")
@require(TRACK)
def sign(agreement_id: int):
    agreement = _agreement(agreement_id, TRACK)
    form = SignatureForm()
    form.signer.choices = options([(f"party:{e.party_id}", "") for e in agreement.parties]
                                  + [(s, "") for s in operations.SIGNERS])
    if form.validate_on_submit():
        if _commit(form, lambda: operations.record_signature(
                current_user, agreement, form.signer.data, form.signed_on.data,
                SignMethod(form.method.data))):
            flash(_("Signature recorded."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="signatures"))
    return _page(agreement, signature_form=form), 422


@bp.post("/agreements/<int:agreement_id>/signed-copy")
@require(TRACK)
def signed_copy(agreement_id: int):
    agreement = _agreement(agreement_id, TRACK)
    form = SignedCopyForm()
    if form.validate_on_submit():
        upload = form.file.data
        if _commit(form, lambda: operations.attach_signed_copy(
                current_user, agreement, upload.filename or "signed.pdf", upload.read(),
                form.completed_on.data)):
            flash(_("Signed copy kept."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="signatures"))
    return _page(agreement, copy_form=form), 422


@bp.post("/agreements/terms/<int:term_id>/performed")
@require(TRACK)
def performed(term_id: int):
    term = db.get_or_404(Term, term_id)
    agreement = _agreement(term.agreement_id, TRACK)
    form = PerformanceForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    elif _commit(form, lambda: operations.record_performance(
            current_user, term, form.performed_on.data, form.on_the_spot.data)):
        flash(_("Performance recorded."), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                            _anchor="performance"))


@bp.post("/agreements/instalments/<int:instalment_id>/paid")
@require(TRACK)
def instalment_paid(instalment_id: int):
    instalment = db.get_or_404(Instalment, instalment_id)
    agreement = _agreement(instalment.term.agreement_id, TRACK)
    form = InstalmentForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    elif _commit(form, lambda: operations.record_instalment(current_user, instalment,
                                                            form.paid_on.data)):
        flash(_("Payment recorded."), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                            _anchor="performance"))


# ---- judicial confirmation --------------------------------------------------------------

@bp.post("/agreements/<int:agreement_id>/application.pdf")
@require("cases.view")
def application(agreement_id: int):
    """The joint application, prefilled, addressed to the court chosen in the list.

    A POST with the page's CSRF token: producing it reveals (and audits) the parties' full
    ID numbers, which another site's link or image must not do in the user's name."""
    agreement = _agreement(agreement_id, TRACK)
    if not access.can(current_user, operations.REVEAL, agreement.case):
        abort(403)  # it carries the parties' full ID numbers
    if not ActionForm().validate_on_submit():
        abort(400)
    choice = request.args.get("court", "0")
    try:
        data = operations.application_pdf(current_user, agreement,
                                          int(choice) if choice.isdigit() and len(choice) < 4
                                          else 0)
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return _pdf_response(data, f"司法确认申请书-{agreement.number}.pdf")


@bp.post("/agreements/<int:agreement_id>/confirmation")
@require(TRACK)
def file_confirmation(agreement_id: int):
    agreement = _agreement(agreement_id, TRACK)
    form = ConfirmationForm()
    competent = court_rules.competent_courts(agreement)
    form.court_id.choices = options([("", "—")] + [(c.court.id, c.name) for c in competent
                                                   if c.court])
    if form.validate_on_submit():
        court = db.session.get(Court, form.court_id.data) if form.court_id.data else None
        if _commit(form, lambda: operations.file_confirmation(
                current_user, agreement, court=court, court_name=form.court_name.data,
                filed_on=form.filed_on.data, case_reference=form.case_reference.data)):
            flash(_("Filing recorded."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="confirmation"))
    return _page(agreement, confirmation_form=form), 422


@bp.post("/agreements/confirmations/<int:confirmation_id>")
@require(TRACK)
def ruling(confirmation_id: int):
    confirmation = db.get_or_404(JudicialConfirmation, confirmation_id)
    agreement = _agreement(confirmation.agreement_id, TRACK)
    form = RulingForm()
    if form.validate_on_submit():
        if _commit(form, lambda: operations.record_ruling(
                current_user, confirmation, result=ConfirmationResult(form.result.data),
                ruling_number=form.ruling_number.data, ruled_on=form.ruled_on.data,
                note=form.note.data)):
            flash(_("The court's decision is recorded."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id,
                                    _anchor="confirmation"))
    return _page(agreement, ruling_form=form), 422


# ---- public verification ----------------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Anyone holding an agreement can check it: by its code, typed or scanned."""
    form = VerifyForm()
    if form.validate_on_submit():
        code = operations.normalise_code(form.code.data)
        return redirect(url_for("agreements.check", code=code or "-"))
    return render_template("agreements/verify.html", form=form, agreement=None)


@bp.route("/v/<code>", methods=["GET", "POST"])
def check(code: str):
    """What the QR code opens: the agreement's public facts, and an upload to compare."""
    agreement = operations.find_by_code(code)
    compare_form, identical = CompareForm(), None
    if agreement is not None and compare_form.validate_on_submit():
        identical = operations.same_bytes(agreement, compare_form.file.data.read(
            current_app.config["MAX_ATTACHMENT_BYTES"] + 1))
    status = 404 if agreement is None else 200
    return render_template("agreements/verify.html", form=VerifyForm(code=code),
                           agreement=agreement, code=code, compare_form=compare_form,
                           identical=identical, facts=queries.public_facts(agreement)
                           if agreement else None), status
