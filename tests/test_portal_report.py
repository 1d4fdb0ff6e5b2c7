"""Residents: the public front page, and reporting a dispute without an account."""

import io
import re
from pathlib import Path

import pytest
from alembic import command
from cases_helpers import area, make_case, respondent, user
from conftest import Auth, csrf_from
from flask import current_app
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from mediation import demo
from mediation.cases import operations as case_ops
from mediation.cases.models import Attachment, Case, PartyRole
from mediation.cases.states import CaseState, Level, RiskLevel, Source
from mediation.core.audit import AuditEntry
from mediation.core.photos import clean_photo
from mediation.core.ratelimit import RateLimitCounter
from mediation.extensions import db
from mediation.portal import codes
from mediation.portal.models import AccessCode
from mediation.sessions.reminders import ACCESS, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
COMMUNITY = "370599001001"  # 文苑社区, whose first three grids are the grid worker's
GRID = "370599001001-02"
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def city(demo_city, tmp_path):
    demo_city.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    return demo_city


def photo(kind: str = "JPEG", *, gps: bool = True, size=(60, 40)) -> bytes:
    """A small photo as a phone makes it: camera make, orientation and GPS position."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "ShanzhaiPhone"  # make
    exif[0x0112] = 6  # orientation: turned a quarter
    if gps:
        exif[0x8825] = {1: "N", 2: (37.0, 27.0, 36.0), 3: "E", 4: (118.0, 29.0, 24.0)}
    out = io.BytesIO()
    image.save(out, kind, exif=exif)
    return out.getvalue()


def _form_url() -> str:
    return f"/report?community={area(COMMUNITY).id}"


def _fields(**overrides) -> dict:
    if "grid" not in overrides:
        overrides["grid"] = str(area(GRID).id)
    fields = {"name": "赵桂兰", "phone": "139 0546 1234", "other_name": "楼上住户",
              "other_phone": "", "address": "文苑小区3号楼",
              "category": "", "narrative": "楼上每天夜里十二点以后还在装修，敲打声很大。\n"
                                           "多次敲门沟通无果。",
              "in_danger": "no", "consent": "y"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def report(client, *, photos=(), url: str | None = None, **overrides):
    url = url or _form_url()
    data = {"csrf_token": csrf_from(client.get(url).get_data(as_text=True)),
            **_fields(**overrides)}
    fields = MultiDict(data)
    for name, content in photos:
        fields.add("photos", FileStorage(io.BytesIO(content), filename=name))
    # Encoded here, in memory: the test client would spool a large body to a file it leaves
    # open.
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _cases() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


def _stored_files() -> list[Path]:
    folder = Path(current_app.config["ATTACHMENT_DIR"])
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ---- the front page ---------------------------------------------------------------------

def test_anonymous_visitors_get_the_front_page_and_staff_their_workbench(city, client):
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for words in ("申请调解", "查询进度", "核验协议书", "工作人员登录"):
        assert words in page
    for link in ('href="/report"', 'href="/status"', 'href="/verify"', 'href="/login"'):
        assert link in page
    # The centres: address, hours, phone.
    assert "文汇街道矛盾纠纷调处化解中心" in page and "东湖区文汇路88号" in page
    assert "0546-8310001" in page and "工作日08:30—17:30" in page
    assert "css/app.css" not in page and "<script" not in page
    assert client.get("/portal").status_code == 200
    Auth(client).post("/language", {"lang": "en", "next": "/"}, form_url="/")
    english = client.get("/").get_data(as_text=True)
    assert "Ask for mediation" in english and "Staff login" in english
    Auth(client).post("/language", {"lang": "zh", "next": "/"}, form_url="/")
    # Every other staff page still asks for the login.
    for url in ("/cases/", "/account", "/admin/audit"):
        refused = client.get(url)
        assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")

    Auth(client).login("mediator")
    workbench = client.get("/").get_data(as_text=True)
    assert "张志强" in workbench and "申请调解" not in workbench


# ---- reporting --------------------------------------------------------------------------

def test_a_resident_reports_a_dispute_and_it_lands_in_the_grid_queue(city, client):
    # Where: street, then community, then the grid on the form; one GET form a step.
    first = client.get("/report").get_data(as_text=True)
    assert 'name="street"' in first and "文汇街道" in first and "黄河路街道" in first
    second = client.get(f"/report?street={area('370599001').id}").get_data(as_text=True)
    assert 'name="community"' in second and "文苑社区" in second and "河畔社区" not in second
    form = client.get(_form_url()).get_data(as_text=True)
    assert "文苑社区第7网格" in form and "清风社区第1网格" not in form

    response = report(client, in_danger="yes", photos=[("IMG_0001.JPG", photo())])
    assert response.status_code == 303
    assert response.headers["Location"] == "/report/receipt"
    assert "赵桂兰" not in response.headers["Location"]
    receipt = client.get("/report/receipt").get_data(as_text=True)
    number = re.search(r"<dd>(\d{4}-\d{6})</dd>", receipt).group(1)
    code = "".join(re.search(r'class="p-code">(\d{4}) (\d{4})<', receipt).groups())
    assert "文苑社区第2网格" in receipt and "只显示这一次" in receipt
    # Shown once: the receipt is gone on the next visit.
    again = client.get("/report/receipt").get_data(as_text=True)
    assert number not in again and code[:4] not in again and "回执已经显示过" in again

    case = db.session.scalar(select(Case).where(Case.number == number))
    assert (case.state, case.source, case.level) == (CaseState.REPORTED,
                                                    Source.RESIDENT_REPORT, Level.GRID)
    assert case.grid.code == GRID and case.reported_by is None
    assert case.category.code == "other" and case.address == "文苑小区3号楼"
    assert case.title == "楼上每天夜里十二点以后还在装修，敲打声很大。"
    assert case.violence_threat and case.risk_level is RiskLevel.HIGH
    applicant, other = case.parties
    assert (applicant.role, applicant.name, applicant.phone) == (
        PartyRole.APPLICANT, "赵桂兰", "13905461234")
    assert (other.role, other.name, other.phone) == (PartyRole.RESPONDENT, "楼上住户", None)
    assert codes.party_for(number, code) == applicant  # the code opens the applicant's view
    assert db.session.get(AccessCode, applicant.id).issued_by_id is None
    consent = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.resident_consent", AuditEntry.object_id == number))
    assert consent.actor_name == "resident" and consent.after["consent"]
    # The photo is the case's attachment, never served to the public.
    (attachment,) = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id))
    assert attachment.content_type == "image/jpeg" and attachment.filename == "photo-1.jpg"
    assert attachment.uploaded_by_id is None
    assert client.get(f"/cases/files/{attachment.id}").status_code == 302  # to the login

    worker = Auth(client)
    worker.login("gridworker")
    queue = client.get("/cases/?queue=awaiting").get_data(as_text=True)
    row = queue[queue.index(number):].split("</tr>")[0]
    assert "已登记" in row and "居民线上申请" in row  # reported, via resident
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "居民线上申请" in page and "赵桂兰" in page


def test_the_residents_own_code_is_logged_as_the_residents_doing(city, client):
    assert report(client).status_code == 303
    case = db.session.scalar(select(Case))
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.access_code.issue", AuditEntry.object_id == case.number))
    assert (entry.actor_id, entry.actor_name) == (None, "resident")
    assert entry.after == {"party": case.parties[0].id}


def test_a_report_sent_from_a_staff_browser_is_still_the_residents(city, client):
    """A mediator helping a resident on the centre's computer: the report, its photo and its
    code are logged as the resident's doing, not the mediator's — every entry of it."""
    Auth(client).login("mediator")
    assert report(client, photos=[("a.jpg", photo())]).status_code == 303
    case = db.session.scalar(select(Case))
    entries = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_id == case.number)))
    assert {e.action for e in entries} == {"case.create", "case.resident_consent",
                                           "case.attachment.add", "party.access_code.issue"}
    assert {(e.actor_id, e.actor_name) for e in entries} == {(None, "resident")}


def _access_sms(party) -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.party_id == party.id, OutboxMessage.kind == ACCESS)))


def test_the_other_side_of_a_report_gets_its_code_when_staff_accept_the_case(city, app):
    resident = app.test_client()
    assert report(resident, other_phone="139 1234 5678").status_code == 303
    case = db.session.scalar(select(Case))
    applicant, other = case.parties
    own = db.session.get(AccessCode, applicant.id).code_hash
    # Before staff have looked at the report, the side it names has no code, no SMS.
    assert other.phone == "13912345678" and db.session.get(AccessCode, other.id) is None
    assert _access_sms(other) == []
    worker = Auth(app.test_client())
    worker.login("gridworker")
    silent = case_ops.add_party(user("gridworker"), case, respondent("孙丽"))  # no phone
    db.session.commit()

    response = worker.post(f"/cases/{case.number}/do/accept",
                           {"accept-version": str(case.version)}, form_url=f"/cases/{case.number}")
    assert response.status_code == 302
    db.session.expire_all()
    assert case.state is CaseState.ACCEPTED
    # Shown once on the case page, texted to the phone the report gave, and it opens the
    # other side's own view.
    page = worker.client.get(response.headers["Location"]).get_data(as_text=True)
    shown = dict(re.findall(r"<li>(\S+?)：<strong class=\"mono\">(\d{8})</strong>", page))
    assert set(shown) == {"楼上住户"}
    assert codes.party_for(case.number, shown["楼上住户"]) == other
    [sms] = _access_sms(other)
    assert f"案件编号{case.number}，查询码{shown['楼上住户']}" in sms
    # The resident's own code is unchanged (no SMS: it was on the receipt); no phone, no code.
    assert db.session.get(AccessCode, applicant.id).code_hash == own
    assert _access_sms(applicant) == []
    assert db.session.get(AccessCode, silent.id) is None
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.access_code.issue",
        AuditEntry.object_id == case.number).order_by(AuditEntry.id)).all()
    assert [(e.actor_name, e.after["party"]) for e in entries] == [
        ("resident", applicant.id), ("gridworker", other.id)]


def test_photos_are_stored_without_their_location_and_camera(city, client):
    response = report(client, photos=[("a.jpg", photo()), ("b.png", photo("PNG")),
                                      ("c.webp", photo("WEBP"))])
    assert response.status_code == 303
    stored = sorted(_stored_files())
    assert len(stored) == 3
    for path in stored:
        data = path.read_bytes()
        image = Image.open(io.BytesIO(data))
        assert image.format in {"JPEG", "PNG", "WEBP"}
        assert dict(image.getexif()) == {} and b"ShanzhaiPhone" not in data
        assert image.size == (40, 60)  # turned upright before the orientation was dropped
    kinds = set(db.session.scalars(select(Attachment.content_type)))
    assert kinds == {"image/jpeg", "image/png", "image/webp"}


def test_clean_photo_refuses_what_is_not_a_whole_photo():
    jpeg = photo()
    for bad in (b"%PDF-1.7 not a photo", b"GIF89a" + b"\0" * 40, jpeg[: len(jpeg) // 2],
                b"\xff\xd8\xff\xe0" + b"junk" * 50, b"<svg onload=alert(1)></svg>"):
        with pytest.raises(Exception) as refused:
            clean_photo(bad)
        assert getattr(refused.value, "field", None) == "photos", bad[:10]
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    with pytest.raises(Exception, match="不是照片|not a photo"):
        clean_photo(gif.getvalue())


def test_a_non_image_photo_is_refused_and_nothing_is_saved(city, client):
    before = _cases()
    response = report(client, photos=[("ok.jpg", photo()),
                                      ("holiday.jpg", b"MZ\x90\x00 this is a program")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不是照片" in page and "申请没有提交" in page
    assert "赵桂兰" in page  # what was typed is kept
    assert _cases() == before and _stored_files() == []


def test_a_photo_over_the_size_limit_is_refused_with_a_message(city, client):
    """The request itself may be larger than the app's usual limit (six photos)."""
    big = b"\xff\xd8\xff\xe0" + b"\0" * (13 * 1024 * 1024)
    response = report(client, photos=[("big.jpg", big)])
    assert response.status_code == 422
    assert "超过8 MB" in response.get_data(as_text=True)
    assert _cases() == 0


def test_more_than_six_photos_are_refused(city, client):
    response = report(client, photos=[(f"{n}.jpg", photo()) for n in range(7)])
    assert response.status_code == 422
    assert "最多只能上传6张照片" in response.get_data(as_text=True)
    assert _cases() == 0


def test_what_a_resident_types_is_shown_as_text(city, client):
    refused = report(client, name=f"赵{SCRIPT}", narrative=SCRIPT, consent=None)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert SCRIPT not in page and "&lt;script&gt;alert(" in page

    response = report(client, name="赵<b>桂兰</b>", narrative=f"楼上装修{SCRIPT}",
                      other_name="<i>楼上</i>")
    assert response.status_code == 303
    receipt = client.get("/report/receipt").get_data(as_text=True)
    number = re.search(r"<dd>(\d{4}-\d{6})</dd>", receipt).group(1)
    Auth(client).login("mediator")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert SCRIPT not in page and "<b>桂兰</b>" not in page and "<i>楼上</i>" not in page
    assert "&lt;script&gt;alert(" in page and "赵&lt;b&gt;桂兰&lt;/b&gt;" in page


def test_a_report_without_consent_is_refused(city, client):
    response = report(client, consent=None)
    assert response.status_code == 422
    assert "请阅读个人信息告知并勾选同意" in response.get_data(as_text=True)
    assert _cases() == 0


def test_required_answers_and_a_minors_guardian(city, client):
    response = report(client, name="", phone="12345", narrative="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写您的姓名", "电话号码格式不正确", "请写一写发生了什么事"):
        assert message in page

    response = report(client, minor="y")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写监护人姓名" in page and "请填写监护人电话" in page
    assert _cases() == 0

    response = report(client, minor="y", guardian_name="赵大海", guardian_phone="13805460000")
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    applicant = case.parties[0]
    assert (applicant.agent_name, applicant.agent_phone) == ("赵大海（监护人）", "13805460000")
    assert case.vulnerable_party and not case.violence_threat


def test_the_grid_is_picked_from_the_address(city, client):
    grid = area("370599001001-05")
    hint = grid.hints[0]
    response = report(client, url="/report?by=address", grid=None,
                      address=f"东湖区{hint}2单元301")
    assert response.status_code == 303
    assert db.session.scalar(select(Case)).grid == grid

    unknown = report(client, url="/report?by=address", grid=None, address="火星路1号")
    assert unknown.status_code == 422
    assert "无法确定所属网格" in unknown.get_data(as_text=True)
    # On the community's form, "not sure" picks among the community's grids only.
    missing = report(client, grid="", address="")
    assert "请填写纠纷发生的地址" in missing.get_data(as_text=True)
    other = report(client, grid=str(area("370599001002-01").id))
    assert other.status_code == 422  # not one of this community's grids
    assert _cases() == 1


def test_robots_filling_the_hidden_field_are_refused_quietly(city, client):
    form = client.get(_form_url()).get_data(as_text=True)
    assert re.search(r'<div class="p-hp" aria-hidden="true">.*name="website"', form)
    response = report(client, website="http://cheap-pills.example")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert _cases() == 0
    assert "portal_receipt" not in (client.get_cookie("mediation_session").value
                                    if client.get_cookie("mediation_session") else "")


def test_reports_are_limited_per_client_address(app_factory, tmp_path):
    app = app_factory(RATELIMIT_ENABLED=True, REPORT_RATE_LIMIT="2 per hour",
                      ATTACHMENT_DIR=str(tmp_path))
    with app.app_context():
        demo.seed()
        db.session.commit()
        url, grid = _form_url(), str(area(GRID).id)
    # Requests outside the test's app context: the counters are written on connections of
    # their own, which a transaction held by the test would keep waiting on SQLite.
    client = app.test_client()
    assert report(client, url=url, grid=grid).status_code == 303
    assert report(client, url=url, grid=grid, consent=None).status_code == 422  # counts too
    refused = report(client, url=url, grid=grid)
    assert refused.status_code == 429
    assert "请求过于频繁" in refused.get_data(as_text=True)
    assert client.get(url).status_code == 200  # reading the form is not counted
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert report(other, url=url, grid=grid).status_code == 303  # counted on its own
    with app.app_context():
        assert _cases() == 2
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
        assert any("portal-report" in key for key in keys)


# ---- the migration ----------------------------------------------------------------------

def _migrate(step: str, revision: str) -> None:
    db.session.remove()
    getattr(command, step)(current_app.extensions["migrate"].migrate.get_config(), revision)


CHILDREN = ["parties", "case_events", "attachments", "access_codes", "escalation_proposals"]


def _children() -> dict[str, list]:
    return {table: db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            for table in CHILDREN}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_source_revision_down_and_up_keeps_every_row_of_the_cases(city, client):
    """SQLite changes the CHECK in place: nothing cascading from the cases is lost."""
    assert report(client, in_danger="yes", photos=[("a.jpg", photo())]).status_code == 303
    make_case(user("mediator"))
    db.session.commit()
    kept = _children()
    assert all(kept[table] for table in ("parties", "case_events", "attachments",
                                         "access_codes"))

    _migrate("downgrade", "b1a0d17a0009")
    assert _children() == kept
    assert db.session.execute(text("SELECT source FROM cases ORDER BY id")).scalars().all() \
        == ["party_application", "grid_patrol"]
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE cases SET source = 'resident_report'"))
        db.session.flush()
    db.session.rollback()

    _migrate("upgrade", "head")
    assert _children() == kept
    db.session.execute(text("UPDATE cases SET source = 'resident_report'"))
    db.session.commit()
    with pytest.raises(IntegrityError) as refused:
        db.session.execute(text("UPDATE cases SET source = 'carrier_pigeon'"))
        db.session.flush()
    assert "ck_cases_source" in str(refused.value) or "CHECK" in str(refused.value)
    db.session.rollback()
