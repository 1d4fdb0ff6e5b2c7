"""快速上报: a grid worker reports a dispute from the street in one form, photos included;
the case waits in the awaiting queue with its photos, stripped of their metadata."""

import io
import re

from cases_helpers import area, category
from conftest import Auth
from PIL import Image
from sqlalchemy import func, select

from mediation.cases.models import Attachment, Case
from mediation.cases.states import CaseState, Source
from mediation.extensions import db


def _photo(colour: str = "#3a7", kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, format=kind)
    return out.getvalue()


def _report(auth: Auth, **overrides):
    data = {"narrative": "3号楼502室卫生间漏水，楼下402室天花板受损。\n双方为维修费争执。",
            "category": str(category("water_leak").id),
            "grid": str(area("370599001001-01").id), "address": "文苑小区3号楼",
            "applicant_name": "王秀英", "applicant_phone": "138 1234 5678",
            "other_name": "楼上住户",
            "photo_1": (io.BytesIO(_photo()), "IMG_0001.jpg"),
            "photo_3": (io.BytesIO(_photo("#c53", "PNG")), "IMG_0002.png")}
    data.update(overrides)
    return auth.post("/cases/report", {k: v for k, v in data.items() if v is not None},
                     content_type="multipart/form-data")


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_a_grid_worker_reports_with_two_photos_and_finds_it_awaiting(demo_city, auth):
    auth.login("gridworker")
    form = auth.client.get("/cases/report").get_data(as_text=True)
    assert form.count('capture="environment"') == 3 and 'accept="image/*"' in form
    kinds = re.search(r'<select id="category".*?</select>', form, re.S).group(0)
    assert '<option value="">— 请选择 —</option>' in kinds and "selected" not in kinds

    response = _report(auth)
    assert response.status_code == 302
    case = db.session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
    assert response.headers["Location"] == f"/cases/{case.number}"
    assert (case.state, case.source, case.title) == (
        CaseState.REPORTED, Source.GRID_PATROL, "3号楼502室卫生间漏水，楼下402室天花板受损。")
    assert [(p.name, p.phone) for p in case.parties] == [("王秀英", "13812345678"),
                                                         ("楼上住户", None)]
    files = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                               .order_by(Attachment.id)).all()
    assert [f.filename for f in files] == ["photo-1.jpg", "photo-2.png"]

    page = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "已上报" in page and "2 张照片" in page
    for f in files:  # thumbnails on the case page, small JPEGs
        assert f"/cases/files/{f.id}/thumbnail" in page
        thumb = auth.client.get(f"/cases/files/{f.id}/thumbnail")
        assert thumb.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    queue = auth.client.get("/cases/?queue=awaiting").get_data(as_text=True)
    assert case.number in queue


def test_a_refused_photo_or_a_missing_kind_saves_nothing(demo_city, auth):
    auth.login("gridworker")
    before = _cases()
    response = _report(auth, photo_3=(io.BytesIO(b"%PDF-1.4 not a photo"), "x.jpg"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "不是照片" in page and 'id="photo_3-error"' in page
    response = _report(auth, category="", applicant_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请选择纠纷类型" in page
    # The errors summed up first, each a link to its field, the box focused on arrival.
    summary = re.search(r'<div class="error-summary"[^>]*>.*?</div>', page, re.S).group(0)
    assert "autofocus" in summary and "请更正以下 2 处" in summary
    assert '<a href="#category">' in summary and '<a href="#applicant_name">' in summary
    assert page.index("error-summary") < page.index("<h1>")
    assert _cases() == before


def test_a_grid_outside_ones_jurisdiction_is_refused_and_others_see_no_thumbnail(demo_city,
                                                                                 auth):
    auth.login("gridworker")
    before = _cases()
    response = _report(auth, grid=str(area("370599002001-01").id))  # another street
    assert response.status_code == 422 and _cases() == before
    assert _report(auth).status_code == 302
    photo = db.session.scalar(select(Attachment).order_by(Attachment.id.desc()).limit(1))
    auth.logout()
    other = Auth(auth.client)
    other.login("legalaid")  # not assigned: the case does not exist for them
    assert auth.client.get(f"/cases/files/{photo.id}/thumbnail").status_code == 404
