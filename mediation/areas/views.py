"""Browse the area tree within one's jurisdiction; administrators edit it."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from mediation.areas import operations
from mediation.areas.forms import AreaForm, CentreForm, CommitteeForm, CourtForm, RoomForm
from mediation.areas.models import AreaNode, Centre, Committee, Court, Room
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, show_operation_error
from mediation.core.permissions import can_view_path, require, scope_query
from mediation.extensions import db

bp = Blueprint("areas", __name__)


def _visible_node(area_id: int) -> AreaNode:
    node = db.get_or_404(AreaNode, area_id)
    if not can_view_path(current_user, node.path):
        abort(404)
    return node


def _ancestors(node: AreaNode) -> list[AreaNode]:
    ids = node.ancestor_ids
    if not ids:
        return []
    found = {n.id: n for n in db.session.scalars(select(AreaNode).where(AreaNode.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@bp.get("/areas/")
@require("areas.view")
def index():
    query = request.args.get("q", "").strip()
    results = None
    if query:
        stmt = scope_query(current_user, select(AreaNode), AreaNode.path).where(
            or_(AreaNode.name.icontains(query, autoescape=True),
                AreaNode.code.icontains(query, autoescape=True))
        ).order_by(AreaNode.path).limit(100)
        results = db.session.scalars(stmt).all()
    if current_user.has_global_scope:
        roots = db.session.scalars(
            select(AreaNode).where(AreaNode.parent_id.is_(None)).order_by(AreaNode.code)
        ).all()
    else:
        roots = current_user.jurisdiction_nodes
    counts = dict(db.session.execute(
        scope_query(current_user, select(AreaNode.kind, func.count()), AreaNode.path)
        .group_by(AreaNode.kind)
    ).all())
    return render_template("areas/index.html", roots=roots, results=results, q=query,
                           counts=counts)


@bp.get("/areas/<int:area_id>")
@require("areas.view")
def detail(area_id: int):
    node = _visible_node(area_id)
    return render_template("areas/detail.html", node=node, ancestors=_ancestors(node),
                           action_form=ActionForm())


def _area_fields(form: AreaForm) -> dict:
    return {"code": form.code.data, "name": form.name.data, "households": form.households.data,
            "address_hints": form.address_hints.data}


@bp.route("/areas/new", methods=["GET", "POST"])
@require("areas.edit")
def area_new():
    parent_id = request.args.get("parent", type=int)
    parent = db.get_or_404(AreaNode, parent_id) if parent_id else None
    if parent is not None and parent.kind.child_kind is None:
        abort(400)
    form = AreaForm()
    if form.validate_on_submit():
        try:
            node = operations.create_area(current_user, parent=parent, **_area_fields(form))
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s added.", name=node.name), "success")
            return redirect(url_for("areas.detail", area_id=node.id))
    return render_template("areas/area_form.html", form=form, node=None, parent=parent)


@bp.route("/areas/<int:area_id>/edit", methods=["GET", "POST"])
@require("areas.edit")
def area_edit(area_id: int):
    node = db.get_or_404(AreaNode, area_id)
    form = AreaForm(obj=node)
    if form.validate_on_submit():
        try:
            operations.update_area(current_user, node, **_area_fields(form))
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=node.name), "success")
            return redirect(url_for("areas.detail", area_id=node.id))
    return render_template("areas/area_form.html", form=form, node=node, parent=node.parent)


@bp.post("/areas/<int:area_id>/delete")
@require("areas.edit")
def area_delete(area_id: int):
    node = db.get_or_404(AreaNode, area_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    parent_id, name = node.parent_id, node.name
    try:
        operations.delete_area(current_user, node)
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("areas.detail", area_id=area_id))
    db.session.commit()
    flash(_("%(name)s deleted.", name=name), "success")
    return redirect(url_for("areas.detail", area_id=parent_id) if parent_id
                    else url_for("areas.index"))


# ---- committees ----------------------------------------------------------------------

def _committee_fields(form: CommitteeForm) -> dict:
    return {key: getattr(form, key).data or (False if key == "active" else None)
            for key in ("name", "short_name", "agreement_number_pattern",
                        "registration_number", "registered_on",
                        "registration_authority", "seal_holder", "address", "phone", "active")}


@bp.get("/committees/")
@require("areas.view")
def committee_list():
    stmt = scope_query(current_user, select(Committee).join(Committee.area), AreaNode.path) \
        .order_by(AreaNode.path, Committee.name)
    return render_template("areas/committee_list.html",
                           committees=db.session.scalars(stmt).all())


@bp.route("/committees/new", methods=["GET", "POST"])
@bp.route("/committees/<int:committee_id>/edit", methods=["GET", "POST"])
@require("areas.edit")
def committee_form(committee_id: int | None = None):
    committee = db.get_or_404(Committee, committee_id) if committee_id else None
    form = CommitteeForm(obj=committee)
    if request.method == "GET":
        area = committee.area if committee else db.session.get(
            AreaNode, request.args.get("area", 0, type=int))
        form.area_code.data = area.code if area else ""
    if form.validate_on_submit():
        try:
            committee = operations.save_committee(current_user, committee,
                                                  area=form.area_code.node,
                                                  **_committee_fields(form))
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=committee.name), "success")
            return redirect(url_for("areas.detail", area_id=committee.area_id))
    return render_template("areas/committee_form.html", form=form, committee=committee)


# ---- centres and rooms ---------------------------------------------------------------

@bp.get("/centres/")
@require("areas.view")
def centre_list():
    stmt = scope_query(current_user, select(Centre).join(Centre.area), AreaNode.path) \
        .order_by(AreaNode.path, Centre.name)
    return render_template("areas/centre_list.html", centres=db.session.scalars(stmt).all())


@bp.get("/centres/<int:centre_id>")
@require("areas.view")
def centre_detail(centre_id: int):
    centre = db.get_or_404(Centre, centre_id)
    if not can_view_path(current_user, centre.area.path):
        abort(404)
    return render_template("areas/centre_detail.html", centre=centre)


@bp.route("/centres/new", methods=["GET", "POST"])
@bp.route("/centres/<int:centre_id>/edit", methods=["GET", "POST"])
@require("areas.edit")
def centre_form(centre_id: int | None = None):
    centre = db.get_or_404(Centre, centre_id) if centre_id else None
    form = CentreForm(obj=centre)
    if request.method == "GET":
        area = centre.area if centre else db.session.get(
            AreaNode, request.args.get("area", 0, type=int))
        form.area_code.data = area.code if area else ""
    if form.validate_on_submit():
        try:
            centre = operations.save_centre(
                current_user, centre, area=form.area_code.node, name=form.name.data.strip(),
                address=form.address.data or None, phone=form.phone.data or None,
                notes=form.notes.data or None)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=centre.name), "success")
            return redirect(url_for("areas.centre_detail", centre_id=centre.id))
    return render_template("areas/centre_form.html", form=form, centre=centre)


@bp.route("/centres/<int:centre_id>/rooms/new", methods=["GET", "POST"])
@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@require("areas.edit")
def room_form(centre_id: int | None = None, room_id: int | None = None):
    room = db.get_or_404(Room, room_id) if room_id else None
    centre = room.centre if room else db.get_or_404(Centre, centre_id)
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        try:
            operations.save_room(current_user, room, centre=centre, name=form.name.data,
                                 capacity=form.capacity.data,
                                 video_capable=form.video_capable.data,
                                 active=form.active.data)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Room %(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("areas.centre_detail", centre_id=centre.id))
    return render_template("areas/room_form.html", form=form, room=room, centre=centre)


# ---- courts --------------------------------------------------------------------------

@bp.get("/courts/")
@require("areas.view")
def court_list():
    courts = db.session.scalars(select(Court).join(Court.area).order_by(AreaNode.path,
                                                                         Court.name)).all()
    return render_template("areas/court_list.html", courts=courts)


@bp.route("/courts/new", methods=["GET", "POST"])
@bp.route("/courts/<int:court_id>/edit", methods=["GET", "POST"])
@require("areas.edit")
def court_form(court_id: int | None = None):
    court = db.get_or_404(Court, court_id) if court_id else None
    form = CourtForm(obj=court)
    if request.method == "GET" and court is not None:
        form.area_code.data = court.area.code
    if form.validate_on_submit():
        try:
            court = operations.save_court(
                current_user, court, area=form.area_code.node, name=form.name.data,
                address=form.address.data or None, phone=form.phone.data or None,
                active=form.active.data)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=court.name), "success")
            return redirect(url_for("areas.court_list"))
    return render_template("areas/court_form.html", form=form, court=court)
