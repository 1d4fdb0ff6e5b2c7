"""The case pages: queues, intake, the case page with its timeline, and every action."""

from dataclasses import dataclass
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import access, attachments, operations, queries, rules
from mediation.cases import quick_report as quick
from mediation.cases.forms import (
    AcceptForm,
    AssignForm,
    AttachmentForm,
    CaseForm,
    DecisionForm,
    DeclineForm,
    FailForm,
    FollowUpForm,
    HelpForm,
    LevelForm,
    NoteForm,
    PartyForm,
    QuickReportForm,
    ReferForm,
    RefusalForm,
    ResponseForm,
    SettleForm,
    SupervisionForm,
    TextForm,
    WithdrawForm,
)
from mediation.cases.models import (
    Attachment,
    Case,
    Category,
    Department,
    EscalationProposal,
    FollowUp,
    HelpRequest,
    Party,
    PartyRole,
    SupervisionNotice,
)
from mediation.cases.operations import CaseInput
from mediation.cases.states import ALLOWED, RISK_FACTORS, CaseState, Level, RiskLevel, Source
from mediation.core import photos
from mediation.core.calendar import provisional_years
from mediation.core.db import write_intent
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, options, show_operation_error
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.pages import Page
from mediation.core.permissions import require, scope_query
from mediation.core.templating import days_left
from mediation.core.views import HOME_PANELS
from mediation.extensions import db
from mediation.users.operations import find_user

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _work_panel():
    """The workbench's summary of this person's queues."""
    if not current_user.can("cases.view"):
        return None
    return {"counts": queries.queue_counts(current_user),
            "quick_report": current_user.role in quick.OFFERED_TO}


HOME_PANELS.append(("cases/_home_panel.html", _work_panel))

@bp.app_template_global("deadline_status")
def deadline_status_of(case: Case) -> rules.DeadlineStatus:
    """Yellow/red for lists and pages alike, with the level's own warning days."""
    if "level_rules" not in g:
        g.level_rules = rules.level_rules()
        g.deadline_day = rules.today()
    rule = g.level_rules.get(case.level)
    return rules.deadline_status(case, g.deadline_day, rule.warn_days_before if rule else 1)


@dataclass(frozen=True)
class ShownDeadline:
    """A level's deadline as the lists and the case page show it."""

    day: date
    colour: str | None  # "yellow", "red" (deadline_status) or None
    provisional: bool  # in a year without the official holiday schedule
    phrase: str  # （3 days left）


@bp.app_template_global("shown_deadline")
def shown_deadline(case: Case) -> ShownDeadline | None:
    """The open case's level deadline with its colour and the days left, or None."""
    if not case.is_open or case.level_deadline is None:
        return None
    status = deadline_status_of(case)
    return ShownDeadline(case.level_deadline, status.colour,
                         bool(provisional_years(case.level_deadline)),
                         days_left((case.level_deadline - g.deadline_day).days))


@bp.app_template_global("case_columns")
def case_columns() -> dict[str, str]:
    """The lists' column names, translated once a request: a phone shows each beside its
    cell, so every row of a page repeats them."""
    if "case_columns" not in g:
        g.case_columns = {"number": _("Number"), "dispute": _("Dispute"),
                          "status": _("Status"), "level": _("Level"), "grid": _("Grid"),
                          "handler": _("Handler"), "deadline": _("Level deadline")}
    return g.case_columns


# Domains above cases add to the case page's context: functions of the case giving a dict.
CASE_PAGE_EXTRAS: list = []

S = CaseState


def _load(number: str, permission: str = "cases.view") -> Case:
    """The case, if this user may see it (404 otherwise: no hint that it exists)."""
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not access.can_view(current_user, case):
        abort(404)
    if not access.can(current_user, permission, case):
        abort(403)
    return case


def _grids_in_scope() -> list[AreaNode]:
    stmt = scope_query(current_user, select(AreaNode), AreaNode.path) \
        .where(AreaNode.kind == AreaKind.GRID).order_by(AreaNode.path)
    return list(db.session.scalars(stmt))


def _case_input(form: CaseForm) -> CaseInput:
    parties = []
    if form.applicant:
        parties.append(form.applicant.form.to_input(PartyRole.APPLICANT))
        if form.respondent.form.name.data:
            parties.append(form.respondent.form.to_input(PartyRole.RESPONDENT))
    return CaseInput(
        title=form.title.data, source=Source(form.source.data),
        grid=form.picked_grid,
        category=db.session.get(Category, int(form.category.data)),
        narrative=form.narrative.data, address=form.address.data, amount_fen=form.amount_fen,
        risks={name: name in (form.risks.data or []) for name in RISK_FACTORS},
        parties=parties, hotline_ticket=form.hotline_ticket.data)


def _save(form, action, *, success: str | None) -> bool:
    """Run one operation and commit once; on a refused rule or a stale edit, say so, save
    nothing and keep what the person typed. ``success`` is flashed (None: the caller says
    what happened itself)."""
    try:
        action()
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        show_operation_error(form, error)
        return False
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Someone else changed this case while you were editing it. Nothing was "
                "saved: reload the page, check the changes and try again."), "error")
        return False
    if success:
        flash(success, "success")
    return True


# ---- lists and intake -------------------------------------------------------------------

@bp.get("/")
@require("cases.view")
def queue():
    filters = queries.Filters.from_args(request.args)
    counts = queries.queue_counts(current_user)
    # A queue without filters has its badge's count already.
    total = counts.get(filters.queue) if filters == queries.Filters(queue=filters.queue) else None
    page = Page(queries.case_list(current_user, filters), request.args.get("page", 1, type=int),
                per_page=25, options=queries.LIST_LOADS, total=total)
    categories = db.session.scalars(select(Category).order_by(Category.sort_order)).all()
    return render_template("cases/queue.html", page=page, filters=filters,
                           counts=counts,
                           categories=categories, states=list(CaseState), levels=list(Level),
                           risks=list(RiskLevel), locale=str(get_locale()))


@bp.route("/new", methods=["GET", "POST"])
@require("cases.create")
def new():
    grids = _grids_in_scope()
    if not grids:
        flash(_("You have no grid in your jurisdiction to register a case in."), "error")
        return redirect(url_for("cases.queue"))
    form = CaseForm(grids=grids, locale=str(get_locale()), data={"version": "0"})
    if request.method == "GET":
        form.source.data = quick.default_source(current_user).value  # by role, e.g. patrol
        if len(grids) == 1:
            form.grid.data = str(grids[0].id)
    if form.validate_on_submit():
        if not form.applicant.form.name.data:
            form.applicant.form.name.errors = [_("The applicant's name is required.")]
        else:
            holder = {}

            def create():
                holder["case"] = operations.create_case(current_user, _case_input(form))

            if _save(form, create, success=_("Case registered.")):
                return redirect(url_for("cases.detail", number=holder["case"].number))
    return render_template("cases/form.html", form=form, case=None)


@bp.url_value_preprocessor
def _room_for_photos(endpoint, values):
    """A quick report carries its photos: more than the app's limit on a request. Set here:
    URL processors run before any request hook, and CSRF protection reads the form in one."""
    if endpoint == "cases.quick_report" and request.method == "POST":
        request.max_content_length = quick.MAX_PHOTOS * photos.MAX_BYTES + 1024 * 1024


@bp.route("/report", methods=["GET", "POST"])
@require("cases.create")
def quick_report():
    """快速上报: one short form on a phone, photos included (the full intake is /cases/new)."""
    grids = _grids_in_scope()
    if not grids:
        flash(_("You have no grid in your jurisdiction to register a case in."), "error")
        return redirect(url_for("cases.queue"))
    form = QuickReportForm(grids=grids, locale=str(get_locale()))
    if form.validate_on_submit():
        holder = {}
        sent = form.photos  # (field name, upload) of each photo taken

        def report():
            try:
                holder["case"] = _quick_report(form, [upload for _name, upload in sent])
            except photos.PhotoRefused as error:  # on the photo's own field
                raise OperationError(error.message, field=sent[error.position - 1][0]) \
                    from None

        if _save(form, report, success=None):
            case = holder["case"]
            flash(_("Reported: case %(number)s, waiting to be accepted in %(grid)s, with "
                    "%(n)d photos.", number=case.number, grid=case.grid.name,
                    n=len(sent)), "success")
            return redirect(url_for("cases.detail", number=case.number))
    return render_template("cases/quick_report.html", form=form,
                           max_photos=quick.MAX_PHOTOS), 422 if form.errors else 200


def _quick_report(form: QuickReportForm, uploads: list) -> Case:
    category = db.session.get(Category, int(form.category.data)) \
        if form.category.data.isdigit() else None
    return quick.quick_report(current_user, quick.QuickReport(
        narrative=form.narrative.data, category=category, grid=form.grids.get(form.grid.data),
        address=form.address.data, applicant_name=form.applicant_name.data,
        applicant_phone=form.applicant_phone.data, other_name=form.other_name.data,
        other_phone=form.other_phone.data, in_danger=form.in_danger.data,
        photos=[_read_upload(upload, photos.MAX_BYTES) for upload in uploads]))


@bp.route("/<number>/edit", methods=["GET", "POST"])
@require("cases.handle")
def edit(number: str):
    case = _load(number, "cases.handle")
    grids = _grids_in_scope()
    if case.grid not in grids:
        grids.append(case.grid)
    form = CaseForm(obj=case, grids=grids, locale=str(get_locale()), editing=True,
                    current_source=case.source)
    if request.method == "GET":
        form.grid.data, form.category.data = str(case.grid_id), str(case.category_id)
        form.source.data, form.version.data = case.source.value, case.version
        form.amount.data = case.amount_yuan.replace(",", "") if case.amount_fen is not None \
            else ""
        form.risks.data = [name for name, on in case.risk_flags.items() if on]
    if form.validate_on_submit():
        if _save(form, lambda: operations.update_case(current_user, case, _case_input(form),
                                                      form.seen_version), success=_("Saved.")):
            return redirect(url_for("cases.detail", number=number))
    return render_template("cases/form.html", form=form, case=case)


# ---- the case page ----------------------------------------------------------------------

def _action_forms(case: Case) -> dict:
    """The forms for what this person may do now; the template shows only these."""
    user = current_user
    forms: dict = {}
    version = {"version": case.version}
    allowed = ALLOWED[case.state]
    if access.can(user, "cases.handle", case):
        if operations.awaits_handler(case):
            forms["take_over"] = NoteForm(data=version, prefix="take_over")
        if S.ACCEPTED in allowed:
            form = AcceptForm(data=version, prefix="accept")
            form.handler.choices = options([("", _("Me"))] + [
                (u.username, u.full_name) for u in access.possible_handlers(case)])
            forms["accept"] = form
        if S.DECLINED in allowed:
            forms["decline"] = DeclineForm(data=version, prefix="decline")
        if S.IN_MEDIATION in allowed:
            forms["start"] = NoteForm(data=version, prefix="start")
        if S.SETTLED in allowed:
            forms["settle"] = SettleForm(data=version, prefix="settle")
        if S.FAILED in allowed:
            forms["fail"] = FailForm(data=version, prefix="fail")
        if S.WITHDRAWN in allowed:
            forms["withdraw"] = WithdrawForm(data=version, prefix="withdraw")
        if S.REFERRED_OUT in allowed:
            forms["refer"] = ReferForm(data=version, prefix="refer")
        if case.state in {S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.REFERRED_OUT, S.FOLLOW_UP}:
            forms["follow_up"] = FollowUpForm(data={**version, "visited_on": rules.today()},
                                              prefix="follow")
        if S.CLOSED in allowed:
            forms["close"] = NoteForm(data=version, prefix="close")
        if case.is_open:
            forms["refusal"] = RefusalForm(data=version, prefix="refusal")
            forms["refusal"].party_id.choices = options((p.id, p.name) for p in case.parties)
            if case.level is not Level.STREET:
                forms["request_escalation"] = _level_form(case, "request")
        if case.state is not S.CLOSED:  # an archived case no longer changes
            forms["note"] = TextForm(data=version, prefix="note")
            forms["attachment"] = AttachmentForm(data=version, prefix="file")
    if case.is_open and case.level is not Level.STREET and access.can(user, "cases.decide", case):
        forms["escalate"] = _level_form(case, "escalate")
    if case.is_open and access.can(user, "cases.supervise", case):
        forms["supervise"] = SupervisionForm(data=version, prefix="supervise")
    if case.is_open and access.can(user, "cases.request_help", case):
        forms["help"] = HelpForm(data=version, prefix="help")
    if access.can(user, "cases.assign", case) and case.state is not S.CLOSED:
        forms["assign"] = AssignForm(data=version, prefix="assign")
    if access.can(user, "cases.opinion", case):
        forms["opinion"] = TextForm(data=version, prefix="opinion")
    return forms


def _level_form(case: Case, prefix: str) -> LevelForm:
    form = LevelForm(data={"version": case.version}, prefix=prefix)
    form.to_level.choices = options((lv.value, lv.title) for lv in Level
                                    if lv.rank > case.level.rank)
    return form


@bp.get("/<number>")
@require("cases.view")
def detail(number: str):
    case = _load(number)
    return render_template("cases/detail.html", **_detail_context(case))


def _detail_context(case: Case, forms: dict | None = None) -> dict:
    proposals = db.session.scalars(select(EscalationProposal).where(
        EscalationProposal.case_id == case.id).order_by(EscalationProposal.id.desc())).all()
    notices = db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id).order_by(SupervisionNotice.id.desc())).all()
    helps = db.session.scalars(select(HelpRequest).where(
        HelpRequest.case_id == case.id).order_by(HelpRequest.id.desc())).all()
    visits = db.session.scalars(select(FollowUp).where(
        FollowUp.case_id == case.id).order_by(FollowUp.visited_on.desc())).all()
    files = db.session.scalars(select(Attachment).where(
        Attachment.case_id == case.id).order_by(Attachment.id)).all()
    repeats = {p.id: queries.other_cases_of(current_user, p) for p in case.parties}
    on = rules.today()
    return {
        "case": case, "forms": {**_action_forms(case), **(forms or {})},
        "proposals": proposals, "notices": notices, "helps": helps, "visits": visits,
        "files": files, "repeats": repeats, "today": on,
        "status": deadline_status_of(case),
        "calendar_warning": rules.calendar_warning(case),
        "action_form": ActionForm(), "decision_form": DecisionForm(),
        "response_form": ResponseForm(), "risk_factors": RISK_FACTORS,
        "departments": Department, "can": lambda perm: access.can(current_user, perm, case),
        "locale": str(get_locale()),
    } | {key: value for extra in CASE_PAGE_EXTRAS for key, value in extra(case).items()}


# Each action: the permission it needs, its form, and the operation it calls.
ACTIONS = {
    "take_over": ("cases.handle", NoteForm, lambda case, f: operations.take_over(
        current_user, case)),
    "accept": ("cases.handle", AcceptForm, lambda case, f: operations.accept_case(
        current_user, case, handler=find_user(f.handler.data) if f.handler.data else None,
        seen_version=f.seen_version)),
    "decline": ("cases.handle", DeclineForm, lambda case, f: operations.decline_case(
        current_user, case, f.reason.data, f.referred_to.data, seen_version=f.seen_version)),
    "start": ("cases.handle", NoteForm, lambda case, f: operations.start_mediation(
        current_user, case, seen_version=f.seen_version)),
    "settle": ("cases.handle", SettleForm, lambda case, f: operations.settle_case(
        current_user, case, partly=f.partly.data, oral_agreement=f.oral_agreement.data,
        note=f.note.data, seen_version=f.seen_version)),
    "fail": ("cases.handle", FailForm, lambda case, f: operations.fail_case(
        current_user, case, f.reason.data, f.routes_told.data, seen_version=f.seen_version)),
    "withdraw": ("cases.handle", WithdrawForm, lambda case, f: operations.withdraw_case(
        current_user, case, f.reason.data, seen_version=f.seen_version)),
    "refer": ("cases.handle", ReferForm, lambda case, f: operations.refer_out(
        current_user, case, f.referred_to.data, f.reason.data, seen_version=f.seen_version)),
    "follow_up": ("cases.handle", FollowUpForm, lambda case, f: operations.record_follow_up(
        current_user, case, visited_on=f.visited_on.data, performance=f.performance.data,
        satisfaction=f.satisfaction.data, new_lawsuit=f.new_lawsuit.data,
        remaining_risk=f.remaining_risk.data, measures=f.measures.data,
        seen_version=f.seen_version)),
    "close": ("cases.handle", NoteForm, lambda case, f: operations.close_case(
        current_user, case, f.note.data, seen_version=f.seen_version)),
    "refusal": ("cases.handle", RefusalForm, lambda case, f: operations.record_refusal(
        current_user, _party_of(case, f.party_id.data), f.reason.data)),
    "request_escalation": ("cases.request_escalation", LevelForm,
                           lambda case, f: operations.request_escalation(
                               current_user, case, Level(f.to_level.data), f.reason.data)),
    "escalate": ("cases.decide", LevelForm, lambda case, f: operations.move_level(
        current_user, case, Level(f.to_level.data), f.reason.data)),
    "supervise": ("cases.supervise", SupervisionForm, lambda case, f: operations.issue_supervision(
        current_user, case, f.message.data, f.respond_by.data)),
    "help": ("cases.request_help", HelpForm, lambda case, f: operations.request_help(
        current_user, case, Department(f.department.data), f.department_detail.data,
        f.message.data)),
    "assign": ("cases.assign", AssignForm, lambda case, f: operations.assign_person(
        current_user, case, f.username.data, f.role.data)),
    "opinion": ("cases.opinion", TextForm, lambda case, f: operations.add_opinion(
        current_user, case, f.text.data)),
    "note": ("cases.handle", TextForm, lambda case, f: operations.add_note(
        current_user, case, f.text.data)),
    "attachment": ("cases.handle", AttachmentForm, lambda case, f: attachments.add_attachment(
        current_user, case, f.file.data.filename or "", _read_upload(f.file.data),
        f.description.data)),
}
PREFIXES = {"follow_up": "follow", "attachment": "file", "request_escalation": "request"}

# What each action did, said once it is saved, with where the case now stands.
DONE = {
    "take_over": _l("You now handle the case."),
    "accept": _l("Accepted: %(handler)s handles it, %(level)s, time limit %(deadline)s."),
    "decline": _l("Declined: the case is not mediated here."),
    "start": _l("Mediation started: %(level)s, time limit %(deadline)s."),
    "settle": _l("Settlement recorded."),
    "fail": _l("Recorded as failed; the other routes told to the parties are on the timeline."),
    "withdraw": _l("Recorded as withdrawn: the case is no longer mediated."),
    "refer": _l("Referred out: recorded on the timeline."),
    "follow_up": _l("Follow-up visit recorded."),
    "close": _l("Closed and archived."),
    "refusal": _l("The party's refusal is recorded."),
    "request_escalation": _l("Escalation proposed: it waits for a decision at the higher "
                             "level."),
    "escalate": _l("Escalated: %(level)s, time limit %(deadline)s."),
    "supervise": _l("Supervision notice issued."),
    "help": _l("Help requested: the department's answer is recorded on the case."),
    "assign": _l("Assigned."),
    "opinion": _l("Legal opinion added."),
    "note": _l("Note added."),
    "attachment": _l("File attached."),
}


def _done(action: str, case: Case) -> str:
    deadline = case.level_deadline
    return str(DONE[action]) % {
        "handler": case.handler.full_name if case.handler else "—",
        "level": case.level.title,
        "deadline": format_date(deadline, "long") if deadline else "—"}


def _read_upload(storage, limit: int | None = None) -> bytes:
    """The uploaded bytes (at most one byte over the limit, which is enough to refuse)."""
    with storage.stream as stream:
        return stream.read((limit or attachments.upload_limit()) + 1)


def _party_or_404(case: Case, party_id: int) -> Party:
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        abort(404)
    return party


def _party_of(case: Case, party_id: int) -> Party:
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        raise OperationError(_("Choose a party of this case."), field="party_id")
    return party


@bp.post("/<number>/do/<action>")
@require("cases.view")
def act(number: str, action: str):
    if action not in ACTIONS:
        abort(404)
    permission, form_class, operation = ACTIONS[action]
    case = _load(number, permission)
    form = form_class(prefix=PREFIXES.get(action, action))
    if hasattr(form, "handler"):
        form.handler.choices = options([("", "")] + [(u.username, u.username)
                                                     for u in access.possible_handlers(case)])
    if hasattr(form, "party_id"):
        form.party_id.choices = options((p.id, p.name) for p in case.parties)
    if hasattr(form, "to_level"):
        form.to_level.choices = options((lv.value, lv.title) for lv in Level
                                        if lv.rank > case.level.rank)
    if form.validate_on_submit():
        if _save(form, lambda: operation(case, form), success=None):
            flash(_done(action, case), "success")
            return redirect(url_for("cases.detail", number=number))
    elif not form.errors:
        abort(400)
    flash(_("Please correct the form below."), "error")
    return render_template("cases/detail.html", **_detail_context(case, {action: form}),
                           open_action=action), 422


# ---- parties ----------------------------------------------------------------------------

def _party_input(form: PartyForm):
    return form.party.form.to_input(PartyRole(form.role.data))


@bp.route("/<number>/parties/new", methods=["GET", "POST"])
@bp.route("/<number>/parties/<int:party_id>/edit", methods=["GET", "POST"])
@require("cases.handle")
def party_form(number: str, party_id: int | None = None):
    case = _load(number, "cases.handle")
    party = _party_or_404(case, party_id) if party_id else None
    form = PartyForm(data={"version": case.version})
    if request.method == "GET" and party is not None:
        form.role.data = party.role.value
        sub = form.party.form
        # Phones are not put back in the form (they show masked on the case page); left
        # empty, the recorded numbers stay.
        for name in ("name", "ethnicity", "nationality", "id_issuing_country", "birth_date",
                     "occupation", "address",
                     "uscc", "legal_representative", "legal_representative_title",
                     "agent_name", "agent_power_of_attorney"):
            getattr(sub, name).data = getattr(party, name)
        if party.id_number_encrypted:
            # The birth date is part of the recorded number: shown, it would complete the
            # mask. Left empty, the recorded one stays.
            sub.birth_date.data = None
        sub.kind.data = party.kind.value
        sub.gender.data = party.gender.value if party.gender else ""
        sub.id_type.data = party.id_type or sub.id_type.data
        sub.community.data = str(party.community_id) if party.community_id else ""
    if form.validate_on_submit():
        if not form.party.form.name.data:
            form.party.form.name.errors = [_("The name is required.")]
        else:
            def save():
                if party is None:
                    operations.add_party(current_user, case, _party_input(form),
                                         seen_version=form.seen_version)
                else:
                    operations.update_party(current_user, party, _party_input(form),
                                            seen_version=form.seen_version)

            # A refused detail (birth date, nationality…) shows beside its field.
            if _save(form.party.form, save, success=_("Saved.")):
                return redirect(url_for("cases.detail", number=number))
    return render_template("cases/party_form.html", form=form, case=case, party=party)


@bp.post("/<number>/parties/<int:party_id>/reveal")
@require("cases.reveal")
def reveal(number: str, party_id: int):
    """Show a full ID number once; the read is audited."""
    case = _load(number, "cases.reveal")
    party = _party_or_404(case, party_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        value = operations.reveal_id_number(current_user, party)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("cases.detail", number=number))
    db.session.commit()
    return render_template("cases/reveal.html", case=case, party=party, value=value,
                           title=_("ID number"))


@bp.post("/<number>/parties/<int:party_id>/phone")
@require("cases.view")
def reveal_phone(number: str, party_id: int):
    """Show a party's full phone number, to call them (a tel: link); the read is audited."""
    case = _load(number)
    party = _party_or_404(case, party_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        value = operations.reveal_phone(current_user, party)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("cases.detail", number=number))
    db.session.commit()
    return render_template("cases/reveal.html", case=case, party=party, value=value,
                           title=_("Phone"), call=value)


# ---- proposals, supervision, help, files ------------------------------------------------

@bp.post("/proposals/<int:proposal_id>")
@require("cases.decide")
def decide(proposal_id: int):
    proposal = db.get_or_404(EscalationProposal, proposal_id)
    case = _load(proposal.case.number, "cases.decide")
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose to confirm or dismiss."), "error")
    else:
        _save(form, lambda: operations.decide_proposal(
            current_user, proposal, form.decision.data == "confirm", form.note.data),
            success=_("Decision recorded."))
        if form.errors:
            for errors in form.errors.values():
                for message in errors:
                    flash(message, "error")
    return redirect(url_for("cases.detail", number=case.number))


@bp.post("/supervision/<int:notice_id>/respond")
@require("cases.view")
def respond(notice_id: int):
    notice = db.get_or_404(SupervisionNotice, notice_id)
    case = _load(notice.case.number, "cases.handle")
    form = ResponseForm()
    if form.validate_on_submit():
        _save(form, lambda: operations.respond_supervision(current_user, notice,
                                                           form.response.data),
              success=_("Response recorded."))
    else:
        flash(_("Please write the response."), "error")
    return redirect(url_for("cases.detail", number=case.number))


@bp.post("/help/<int:help_id>/response")
@require("cases.request_help")
def help_response(help_id: int):
    help_request = db.get_or_404(HelpRequest, help_id)
    case = _load(help_request.case.number, "cases.request_help")
    form = ResponseForm()
    if form.validate_on_submit():
        _save(form, lambda: operations.record_help_response(current_user, help_request,
                                                            form.response.data),
              success=_("Response recorded."))
    else:
        flash(_("Please write the response."), "error")
    return redirect(url_for("cases.detail", number=case.number))


@bp.get("/files/<int:attachment_id>/thumbnail")
@require("cases.view")
def thumbnail(attachment_id: int):
    """A small copy of a photo for the case page (the photo itself: ``download``)."""
    attachment = db.get_or_404(Attachment, attachment_id)
    _load(attachment.case.number)
    if not attachment.content_type.startswith("image/"):
        abort(404)
    data = photos.thumbnail(attachments.read_attachment(attachment))
    return Response(data, mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.get("/files/<int:attachment_id>")
@require("cases.view")
def download(attachment_id: int):
    """Served only to those who may see the case, never from the static folder."""
    attachment = db.get_or_404(Attachment, attachment_id)
    _load(attachment.case.number)
    db.session.commit()  # end the read transaction; the audited read writes (SQLite: queue)
    write_intent.set(True)
    path = attachments.open_attachment(current_user, attachment)
    db.session.commit()
    return send_file(path,
                     mimetype=attachment.content_type, download_name=attachment.filename,
                     as_attachment=attachment.content_type == "application/pdf",
                     max_age=0)
