"""A case through the web pages, as the people at a centre use them; scope by URL; bad input."""

import io
import re
from datetime import timedelta

import pytest
from cases_helpers import applicant, area, category, make_case, respondent, user
from conftest import Auth
from sqlalchemy import event, func, select

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import operations, rules
from mediation.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    EscalationProposal,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.states import CaseState, Level
from mediation.core.audit import AuditEntry
from mediation.extensions import db

S = CaseState
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _case(number: str) -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.number == number))


def _intake(auth: Auth, **overrides):
    grid = area("370599001001-01")
    data = {"version": "0", "title": "楼上漏水导致天花板受损", "source": "grid_patrol",
            "grid": str(grid.id),
            "category": str(category("water_leak").id),
            "narrative": "住户王某家中卫生间漏水，导致楼下李某家天花板受损。", "amount": "3500",
            "applicant-kind": "person", "applicant-name": "李秀英",
            "applicant-id_type": "resident_id", "applicant-id_number": "11010519491231002X",
            "applicant-phone": "138 1234 5678", "applicant-ethnicity": "汉族",
            "respondent-kind": "person", "respondent-name": "王建军",
            "respondent-id_type": "resident_id", "respondent-ethnicity": "汉族"}
    data.update(overrides)
    return auth.post("/cases/new", data)


def _act(auth: Auth, case: Case, action: str, prefix: str | None = None, **fields):
    prefix = prefix or action
    data = {f"{prefix}-{key}": value for key, value in fields.items()}
    data[f"{prefix}-version"] = str(case.version)
    return auth.post(f"/cases/{case.number}/do/{action}", data,
                     form_url=f"/cases/{case.number}")


def _english(auth: Auth):
    auth.post("/language", {"lang": "en", "next": "/"}, form_url="/login")


def test_a_case_from_intake_to_closure_through_the_pages(demo_city, app):
    grid_client = app.test_client()
    gridworker = Auth(grid_client)
    gridworker.login("gridworker")
    response = _intake(gridworker)
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"\d{4}-\d{6}", number)
    case = _case(number)
    assert case.state is S.REPORTED and case.level is Level.GRID
    assert case.parties[0].phone == "13812345678"
    assert case.parties[0].id_number_masked == "**************002X"
    page = grid_client.get(f"/cases/{number}").get_data(as_text=True)
    assert "**************002X" in page and "11010519491231002X" not in page
    assert "*******5678" in page

    assert _act(gridworker, case, "accept").status_code == 302
    case = _case(number)
    assert case.state is S.ACCEPTED and case.handler.username == "gridworker"
    assert _act(gridworker, case, "start").status_code == 302
    assert _case(number).state is S.IN_MEDIATION

    # The grid worker asks to escalate; the community mediator confirms.
    assert _act(gridworker, _case(number), "request_escalation", "request",
                to_level="community", reason="双方分歧较大，需社区调委会介入").status_code == 302
    proposal = db.session.scalar(select(EscalationProposal).where(
        EscalationProposal.case_id == case.id, EscalationProposal.status == ProposalStatus.OPEN))
    mediator_client = app.test_client()
    mediator = Auth(mediator_client)
    mediator.login("mediator")
    response = mediator.post(f"/cases/proposals/{proposal.id}",
                             {"decision": "confirm", "note": "同意"},
                             form_url=f"/cases/{number}")
    assert response.status_code == 302
    case = _case(number)
    assert case.level is Level.COMMUNITY
    # Now above the grid: the grid worker follows but no longer acts; the mediator takes over.
    assert _act(gridworker, case, "note", text="跟进").status_code == 403
    assert case.handler is None
    assert _act(mediator, case, "take_over", "take_over").status_code == 302
    case = _case(number)
    assert case.handler.username == "mediator"

    # The community deadline passes: the nightly check proposes the street level.
    late = case.level_deadline + timedelta(days=1)
    result = app.test_cli_runner().invoke(args=["check-deadlines", "--date", late.isoformat()])
    assert result.exit_code == 0 and "1 new supervision notices" in result.output
    coordinator_client = app.test_client()
    coordinator = Auth(coordinator_client)
    coordinator.login("coordinator")
    proposal = db.session.scalar(select(EscalationProposal).where(
        EscalationProposal.case_id == case.id, EscalationProposal.status == ProposalStatus.OPEN))
    assert proposal.to_level is Level.STREET
    coordinator.post(f"/cases/proposals/{proposal.id}", {"decision": "confirm", "note": ""},
                     form_url=f"/cases/{number}")
    case = _case(number)
    assert case.level is Level.STREET

    # Supervision (督办): the coordinator presses, the handler answers.
    assert _act(coordinator, case, "supervise", message="请于三日内报告进展").status_code == 302
    notice = db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.automatic.is_(False))).one()
    assert notice.to_user.username == "mediator"
    response = mediator.post(f"/cases/supervision/{notice.id}/respond",
                             {"response": "已约双方当事人本周五到街道调解室面谈"},
                             form_url=f"/cases/{number}")
    assert response.status_code == 302
    db.session.expire_all()
    assert notice.response and notice.responded_at

    # Settled with an oral agreement, followed up, closed.
    assert _act(coordinator, _case(number), "settle", oral_agreement="王某赔偿李某维修费3000元",
                note="当场履行").status_code == 302
    case = _case(number)
    assert case.state is S.SETTLED and case.settled_level is Level.STREET
    response = _act(coordinator, case, "follow_up", "follow",
                    visited_on=rules.today().isoformat(), performance="已全部履行",
                    satisfaction="5", remaining_risk="")
    assert response.status_code == 302
    assert _case(number).state is S.FOLLOW_UP
    assert _act(coordinator, _case(number), "close", note="归档").status_code == 302
    case = _case(number)
    assert case.state is S.CLOSED and case.closed_at is not None

    # Every step on the timeline and in the audit log.
    kinds = [e.kind.value for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
    assert kinds.count("level") == 2 and "supervision" in kinds and "follow_up" in kinds
    states = [e.to_state for e in case.events if e.to_state]
    assert states == [S.REPORTED, S.ACCEPTED, S.IN_MEDIATION, S.SETTLED, S.FOLLOW_UP, S.CLOSED]
    actions = set(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id == number)))
    assert {"case.create", "case.transition", "case.escalate", "case.supervise",
            "case.follow_up", "case.proposal.confirm"} <= actions
    timeline = coordinator_client.get(f"/cases/{number}").get_data(as_text=True)
    assert "请于三日内报告进展" in timeline and "王某赔偿李某维修费3000元" in timeline


def test_other_roles_get_404_for_cases_outside_their_scope(demo_city, app):
    admin = user("admin")
    inside = make_case(admin, grid=area("370599001001-02"))
    elsewhere = make_case(admin, grid=area("370599002001-01"))  # 黄河路街道
    db.session.commit()
    expected = {"gridworker": (200, 404), "mediator": (200, 404), "coordinator": (200, 404),
                "legalaid": (404, 404), "admin": (200, 200)}
    for username, (own, other) in expected.items():
        client = app.test_client()
        Auth(client).login(username)
        assert client.get(f"/cases/{inside.number}").status_code == own, username
        assert client.get(f"/cases/{elsewhere.number}").status_code == other, username
        listing = client.get("/cases/?queue=all").get_data(as_text=True)
        assert (elsewhere.number in listing) == (other == 200), username
        # Actions on an unseen case are 404 too, not 403: no hint that it exists.
        events = len(_case(elsewhere.number).events)
        response = Auth(client).post(f"/cases/{elsewhere.number}/do/note",
                                     {"note-text": "x", "note-version": str(elsewhere.version)},
                                     form_url="/")
        if other == 200:
            assert response.status_code == 302, username
            events += 1
        else:
            assert response.status_code == 404, username
        assert len(_case(elsewhere.number).events) == events, username


def test_legal_aid_sees_only_assigned_cases_and_adds_an_opinion(demo_city, app):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    operations.assign(admin, case, user("legalaid"), operations.AssignmentRole.LEGAL_AID)
    db.session.commit()
    client = app.test_client()
    volunteer = Auth(client)
    volunteer.login("legalaid")
    listing = client.get("/cases/?queue=mine").get_data(as_text=True)
    assert case.number in listing
    assert _act(volunteer, case, "opinion", text="依据《民法典》第一千一百六十五条，"
                "漏水方应承担赔偿责任。").status_code == 302
    assert any(e.kind.value == "opinion" for e in _case(case.number).events)
    assert _act(volunteer, case, "accept").status_code == 403


def test_search_finds_chinese_substrings_party_names_and_phones(demo_city, app, auth):
    admin = user("admin")
    case = make_case(admin, narrative="楼上漏水导致天花板受损，墙面发霉",
                     parties=[applicant("周晓梅"), respondent("钱立新")])
    other = make_case(admin, title="装修噪声扰民", narrative="夜间装修噪声影响休息")
    db.session.commit()
    auth.login("admin")
    for query in ("漏水", "天花板", case.parties[0].name):
        page = auth.client.get("/cases/", query_string={"queue": "all", "q": query}) \
            .get_data(as_text=True)
        assert case.number in page and other.number not in page, query
    page = auth.client.get("/cases/", query_string={"queue": "all", "q": "噪声"}) \
        .get_data(as_text=True)
    assert other.number in page and case.number not in page


def test_the_level_deadline_reads_the_same_in_the_queue_and_on_the_case_page(demo_city,
                                                                            auth):
    admin = user("admin")
    late, soon = make_case(admin, title="逾期的纠纷"), make_case(admin, title="将到期的纠纷")
    late.level_deadline = rules.today() - timedelta(days=2)
    soon.level_deadline = rules.today() + timedelta(days=3)
    db.session.commit()
    auth.login("admin")
    queue = auth.client.get("/cases/", query_string={"queue": "all", "q": "的纠纷"}) \
        .get_data(as_text=True)
    for case, colour, phrase in ((late, "red", "已超期 2 天"), (soon, None, "剩余 3 天")):
        shown = (f'<span class="deadline{" deadline--" + colour if colour else ""}">'
                 f"{case.level_deadline.isoformat()}（{phrase}）</span>")
        assert shown in queue, phrase
        assert shown in auth.client.get(f"/cases/{case.number}").get_data(as_text=True)


@pytest.mark.parametrize("overrides, field", [
    ({"applicant-id_number": "11010519491231002Y"}, "applicant-id_number"),  # checksum
    ({"applicant-id_number": "11010520991231001X"}, "applicant-id_number"),  # future birth
    ({"applicant-id_type": "resident_id", "applicant-id_number": "123"}, "applicant-id_number"),
    ({"category": "99999"}, "category"),
    ({"grid": "99999"}, "grid"),
    ({"amount": "三千元"}, "amount"),
    ({"applicant-name": ""}, "applicant-name"),
    ({"applicant-phone": "12345"}, "applicant-phone"),
])
def test_bad_intake_gets_a_message_and_saves_nothing(demo_city, auth, overrides, field):
    auth.login("gridworker")
    response = _intake(auth, **overrides)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html or 'class="flash flash--error"' in html, field
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_nul_character_in_a_form_or_search_is_a_clear_400(demo_city, auth):
    """PostgreSQL's text cannot hold NUL: it is refused with a message, not a server error."""
    auth.login("gridworker")
    response = _intake(auth, narrative="漏水\x00")
    assert response.status_code == 400
    assert "无法保存的控制字符" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    search = auth.client.get("/cases/", query_string={"q": "漏水\x00"})
    assert search.status_code == 400


def test_illegal_transition_is_refused_with_a_message(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    auth.login("gridworker")
    _english(auth)
    response = _act(auth, case, "close", note="")  # closing a case never accepted
    assert response.status_code == 422
    assert "cannot become" in response.get_data(as_text=True)
    response = _act(auth, case, "settle", oral_agreement="x", note="")
    assert response.status_code == 422
    assert "cannot become" in response.get_data(as_text=True)
    assert _case(case.number).state is S.REPORTED


def test_stale_edit_is_refused(demo_city, app):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    first, second = Auth(app.test_client()), Auth(app.test_client())
    first.login("gridworker")
    second.login("admin")
    seen = case.version
    assert _act(first, case, "accept").status_code == 302
    stale = {"decline-reason": "已起诉", "decline-referred_to": "法院",
             "decline-confirm": "y", "decline-version": str(seen)}
    response = second.post(f"/cases/{case.number}/do/decline", stale,
                           form_url=f"/cases/{case.number}")
    assert response.status_code == 422
    assert _case(case.number).state is S.ACCEPTED


def test_declining_or_withdrawing_takes_a_ticked_confirmation(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    auth.login("mediator")
    response = _act(auth, case, "decline", reason="已向法院起诉", referred_to="东湖区人民法院")
    assert response.status_code == 422
    assert "请勾选确认：此操作不可撤销。" in response.get_data(as_text=True)
    assert _case(case.number).state is S.REPORTED
    assert _act(auth, _case(case.number), "decline", reason="已向法院起诉",
                confirm="y").status_code == 302
    assert _case(case.number).state is S.DECLINED

    other = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    operations.accept_case(admin, other, handler=user("mediator"))
    db.session.commit()
    assert _act(auth, _case(other.number), "withdraw", reason="申请人撤回").status_code == 422
    assert _case(other.number).state is S.ACCEPTED
    assert _act(auth, _case(other.number), "withdraw", reason="申请人撤回",
                confirm="y").status_code == 302
    assert _case(other.number).state is S.WITHDRAWN


def test_a_flash_says_what_happened_and_where_the_case_now_stands(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    auth.login("mediator")
    page = auth.client.get(_act(auth, case, "accept").headers["Location"]) \
        .get_data(as_text=True)
    deadline = _case(case.number).level_deadline
    assert f"已受理：由张志强承办，网格级办理，本级办理时限至{deadline.year}年{deadline.month}月" \
        f"{deadline.day}日。" in page
    page = auth.client.get(_act(auth, _case(case.number), "escalate", to_level="community",
                                reason="涉及多户，需社区协调。").headers["Location"]) \
        .get_data(as_text=True)
    deadline = _case(case.number).level_deadline
    assert f"已提级至社区级，本级办理时限至{deadline.year}年{deadline.month}月{deadline.day}日。" \
        in page


def test_a_flash_naming_a_person_escapes_what_was_typed_for_the_name(demo_city, auth):
    mediator = user("mediator")
    mediator.full_name = "<b>张志强</b>"
    case = make_case(user("admin"), grid=area("370599001001-01"))
    db.session.commit()
    auth.login("mediator")
    page = auth.client.get(_act(auth, case, "accept").headers["Location"]) \
        .get_data(as_text=True)
    assert "由&lt;b&gt;张志强&lt;/b&gt;承办" in page and "<b>张志强</b>" not in page


def test_attachments_are_checked_and_served_only_in_scope(demo_city, app, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    auth.login("gridworker")

    def upload(name, data):
        return auth.post(f"/cases/{case.number}/do/attachment",
                         {"file-file": (io.BytesIO(data), name), "file-description": "现场",
                          "file-version": str(_case(case.number).version)},
                         form_url=f"/cases/{case.number}",
                         content_type="multipart/form-data")

    assert upload("fake.jpg", b"MZ\x90\x00 not an image").status_code == 422
    app.config["MAX_ATTACHMENT_BYTES"] = 1024
    assert upload("big.png", PNG + b"\x00" * 1024).status_code == 422
    app.config["MAX_ATTACHMENT_BYTES"] = 10 * 1024 * 1024
    assert upload("现场照片.png", PNG).status_code == 302
    attachment = db.session.scalars(select(Attachment)).one()
    with auth.client.get(f"/cases/files/{attachment.id}") as response:
        assert response.status_code == 200 and response.data == PNG
    outsider = app.test_client()
    Auth(outsider).login("legalaid")
    assert outsider.get(f"/cases/files/{attachment.id}").status_code == 404
    with outsider.get(f"/static/../instance/attachments/{attachment.sha256[:2]}/"
                      f"{attachment.sha256}") as response:
        assert response.status_code == 404


def test_revealing_an_id_number_is_audited(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    operations.add_party(admin, case, operations.PartyInput(
        role=operations.PartyRole.RESPONDENT, kind=operations.PartyKind.PERSON, name="赵敏",
        id_type="resident_id", id_number="440524188001010014"))
    db.session.commit()
    party = _case(case.number).parties[-1]
    auth.login("mediator")
    page = auth.post(f"/cases/{case.number}/parties/{party.id}/reveal", {},
                     form_url=f"/cases/{case.number}").get_data(as_text=True)
    assert "440524188001010014" in page
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.id_number.read")).one()
    assert entry.actor_name == "mediator" and entry.object_id == str(party.id)
    auth.logout()
    auth.login("gridworker")  # grid workers see masked numbers only
    response = auth.client.post(f"/cases/{case.number}/parties/{party.id}/reveal",
                                data={"csrf_token": auth.token(f"/cases/{case.number}")})
    assert response.status_code == 403


def test_a_grid_worker_shows_a_party_s_phone_to_call_and_the_read_is_audited(demo_city,
                                                                             auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"),
                     parties=[applicant("周晓梅", phone="13912345678"), respondent()])
    db.session.commit()
    party = case.parties[0]
    auth.login("gridworker")
    page = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "13912345678" not in page and "*******5678" in page
    shown = auth.post(f"/cases/{case.number}/parties/{party.id}/phone", {},
                      form_url=f"/cases/{case.number}").get_data(as_text=True)
    assert 'href="tel:13912345678"' in shown
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.phone.read")).one()
    assert (entry.actor_name, entry.object_id) == ("gridworker", str(party.id))
    # Outside one's jurisdiction the case does not exist.
    other = make_case(admin, grid=area("370599002001-01"),
                      parties=[applicant("钱立新", phone="13700001111"), respondent()])
    db.session.commit()
    response = auth.client.post(f"/cases/{other.number}/parties/{other.parties[0].id}/phone",
                                data={"csrf_token": auth.token(f"/cases/{case.number}")})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "party.phone.read")) == 1


def test_editing_a_party_keeps_the_recorded_id_number(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"), parties=[
        applicant("周晓梅", id_type="resident_id", id_number="11010519491231002X")])
    db.session.commit()
    party = case.parties[0]
    auth.login("gridworker")
    response = auth.post(f"/cases/{case.number}/parties/{party.id}/edit", {
        "version": str(case.version), "role": "applicant", "party-kind": "person",
        "party-name": "周晓梅", "party-id_type": "resident_id", "party-id_number": "",
        "party-phone": "13900001111", "party-ethnicity": "汉族"})
    assert response.status_code == 302
    db.session.expire_all()
    assert party.id_number_masked == "**************002X" and party.phone == "13900001111"


def test_intake_picks_the_grid_from_the_address(demo_city, auth):
    grid = area("370599001001-01")
    hint = grid.hints[0]
    auth.login("mediator")
    response = _intake(auth, grid="", address=f"东湖区文汇街道文苑社区{hint}2单元302室")
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert case.grid_id == grid.id
    response = _intake(auth, grid="", address="东湖区某某路1号")
    assert response.status_code == 200 and 'id="grid-error"' in response.get_data(as_text=True)


def test_a_closed_case_no_longer_changes(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    for state in (S.ACCEPTED, S.IN_MEDIATION, S.SETTLED, S.CLOSED):
        operations.transition(case, state, admin, reason="x")
    db.session.commit()
    auth.login("mediator")
    for action, fields in [("note", {"text": "补记"}), ("help", {"department": "police",
                                                                 "message": "x"})]:
        assert _act(auth, case, action, **fields).status_code == 403, action
    assert auth.client.get(f"/cases/{case.number}/edit").status_code == 403
    assert auth.client.get(f"/cases/{case.number}").status_code == 200


def test_urls_of_another_case_or_scope_are_404(demo_city, app, auth):
    admin = user("admin")
    mine = make_case(admin, grid=area("370599001001-01"))
    other = make_case(admin, grid=area("370599002001-01"))  # another street
    operations.issue_supervision(admin, other, "请报告进展", None)
    proposal = operations.propose(other, operations.ProposalRule.MEDIATOR_REQUEST,
                                  Level.COMMUNITY, "x", by=admin)
    db.session.commit()
    notice = db.session.scalars(select(SupervisionNotice)).one()
    auth.login("mediator")
    party = other.parties[0]
    assert auth.client.get(f"/cases/{mine.number}/parties/{party.id}/edit").status_code == 404
    for url, data in [(f"/cases/supervision/{notice.id}/respond", {"response": "x"}),
                      (f"/cases/proposals/{proposal.id}", {"decision": "dismiss", "note": "x"}),
                      (f"/cases/{mine.number}/parties/{party.id}/reveal", {})]:
        assert auth.post(url, data, form_url="/").status_code == 404, url


def test_only_the_handler_answers_a_supervision_notice(demo_city, app):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    operations.accept_case(admin, case, handler=user("mediator"))
    operations.issue_supervision(user("coordinator"), case, "请三日内报告", None)
    db.session.commit()
    notice = db.session.scalars(select(SupervisionNotice)).one()
    coordinator = Auth(app.test_client())
    coordinator.login("coordinator")
    coordinator.post(f"/cases/supervision/{notice.id}/respond", {"response": "代答"},
                     form_url=f"/cases/{case.number}")
    db.session.expire_all()
    assert notice.response is None
    mediator = Auth(app.test_client())
    mediator.login("mediator")
    mediator.post(f"/cases/supervision/{notice.id}/respond", {"response": "已约谈双方"},
                  form_url=f"/cases/{case.number}")
    db.session.expire_all()
    assert notice.response == "已约谈双方"


def test_escalation_hands_the_case_over(demo_city):
    case = make_case(user("gridworker"), grid=area("370599001001-01"))
    operations.accept_case(user("gridworker"), case)
    operations.move_level(user("mediator"), case, Level.COMMUNITY, "分歧较大")
    db.session.commit()
    case = _case(case.number)
    assert case.handler is None
    assert [(a.user.username, a.role.value) for a in case.assignments] == \
        [("gridworker", "co_handler")]
    operations.set_handler(user("mediator"), case, user("mediator"))
    assert case.handler.username == "mediator"


def test_the_overall_time_limit_is_supervised_too(demo_city):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    operations.accept_case(admin, case, handler=user("mediator"))
    operations.move_level(admin, case, Level.STREET, "高风险")
    db.session.commit()
    # At street level the level deadline (15 days) outlasts an overall limit cut short.
    case.overall_deadline = rules.today() - timedelta(days=1)
    db.session.commit()
    report = operations.check_deadlines()
    db.session.commit()
    assert report.notices == 1
    notice = db.session.scalars(select(SupervisionNotice)).one()
    assert notice.deadline == case.overall_deadline and notice.automatic
    assert operations.check_deadlines().notices == 0  # once only
    page_case = _case(case.number)
    assert rules.deadline_status(page_case, rules.today()).colour == "red"


def test_fixing_a_typo_does_not_move_the_deadlines(demo_city, auth):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"))
    db.session.commit()
    before = (case.level_deadline, case.overall_deadline)
    operations.update_case(admin, case, operations.CaseInput(
        title="楼上漏水导致天花板受损（已更正）", source=case.source, grid=case.grid,
        category=case.category, narrative=case.narrative), case.version)
    db.session.commit()
    assert (case.level_deadline, case.overall_deadline) == before


def test_a_full_page_of_cases_sends_no_more_statements_than_one_case(demo_city, auth):
    """A queue page reads what its rows show (grid, category, handler) for the whole page
    at once: 20 cases in 20 grids, 4 categories and 3 handlers cost the same statements as
    one case."""
    admin, mediator, coordinator = user("admin"), user("mediator"), user("coordinator")
    grids = db.session.scalars(select(AreaNode).where(AreaNode.kind == AreaKind.GRID,
                                                      AreaNode.code.startswith("370599001"))
                               .order_by(AreaNode.code).limit(20)).all()
    assert len(grids) == 20
    operations.accept_case(admin, make_case(admin, title="孤例甲乙纠纷", grid=grids[0]),
                           handler=coordinator)
    for n, grid in enumerate(grids):
        case = make_case(admin, title=f"成批丙丁纠纷{n}", grid=grid,
                         category=("water_leak", "noise", "neighbour", "pets")[n % 4])
        handler = mediator if grid.code.startswith("370599001001") and n % 3 == 0 else \
            (coordinator, admin)[n % 2]
        operations.accept_case(admin, case, handler=handler)
    db.session.commit()
    auth.login("admin")
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    def statements(**query) -> int:
        sent.clear()
        response = auth.client.get("/cases/", query_string=query)
        assert response.status_code == 200
        return len(sent)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        one = statements(queue="all", q="孤例甲乙")
        many = statements(queue="all", q="成批丙丁")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert one == many
    page = auth.client.get("/cases/", query_string={"queue": "all", "q": "成批丙丁"})
    assert page.get_data(as_text=True).count("成批丙丁纠纷") == 20
