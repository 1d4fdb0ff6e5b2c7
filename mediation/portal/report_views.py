"""The residents' front page, and reporting a dispute without an account (申请调解)."""

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from mediation.core import photos
from mediation.core.errors import OperationError
from mediation.core.forms import show_operation_error
from mediation.core.ratelimit import limit_views
from mediation.core.views import PUBLIC_HOME
from mediation.extensions import db
from mediation.portal import places, reports
from mediation.portal.blueprint import bp
from mediation.portal.report_forms import ReportForm

RECEIPT = "portal_receipt"  # the session key holding the receipt until it is shown

# Reports sent from one client address, counted where every worker and server counts.
limit_views(bp, lambda: current_app.config["REPORT_RATE_LIMIT"], "portal.report",
            methods=["POST"], scope="portal-report")


@bp.url_value_preprocessor
def _room_for_photos(endpoint, values):
    """A report carries up to six photos, more than the app's limit on a request. Set here:
    URL processors run before any request hook, and CSRF protection reads the form in one."""
    if endpoint == "portal.report" and request.method == "POST":
        request.max_content_length = photos.MAX_PHOTOS * photos.MAX_BYTES + 1024 * 1024


@bp.get("/portal")
def home():
    """Report a dispute, check my case, verify an agreement; where to come and call."""
    return render_template("portal/home.html", centres=places.centres())


PUBLIC_HOME.append(home)


@bp.route("/report", methods=["GET", "POST"])
def report():
    where = places.Where.from_args(request.args)
    if not where.chosen:
        return render_template("portal/report_where.html", where=where,
                               choices=where.choices())
    form = ReportForm(grids=where.grids(), choose_grid=not where.by_address,
                      locale=str(get_locale()))
    if request.method == "POST" and form.robot:
        # A robot filled in the field people never see: say nothing, keep nothing.
        return redirect(url_for("core.home"), 303)
    if form.validate_on_submit():
        try:
            receipt = reports.report_dispute(_input(form))
            db.session.commit()
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            session[RECEIPT] = {"number": receipt.case.number, "code": receipt.access_code,
                                "grid": receipt.case.grid.name}
            return redirect(url_for("portal.receipt"), 303)
    return render_template("portal/report.html", form=form, where=where,
                           max_photos=photos.MAX_PHOTOS), 422 if request.method == "POST" \
        else 200


def _input(form: ReportForm) -> reports.ReportInput:
    uploads = [f for f in form.photos.data or [] if f and f.filename]
    return reports.ReportInput(
        name=form.name.data, phone=form.phone.data, grid=form.picked_grid,
        narrative=form.narrative.data, category=form.picked_category,
        address=form.address.data, other_name=form.other_name.data,
        other_phone=form.other_phone.data, in_danger=form.in_danger.data == "yes",
        minor=form.minor.data, guardian_name=form.guardian_name.data,
        guardian_phone=form.guardian_phone.data, consent=form.consent.data,
        photos=[_read(upload) for upload in uploads])


def _read(upload) -> bytes:
    """The uploaded bytes (at most one byte over the limit, which is enough to refuse)."""
    with upload.stream as stream:
        return stream.read(photos.MAX_BYTES + 1)


@bp.get("/report/receipt")
def receipt():
    """The case number and the access code, shown once: the code is kept nowhere else."""
    return render_template("portal/receipt.html", receipt=session.pop(RECEIPT, None))
