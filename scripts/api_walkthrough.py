#!/usr/bin/env python3
"""A case from the hotline to the court's ruling, through the JSON API alone.

What an integrator's client does, with nothing but a token and the standard library:

  1. takes in a hotline case (with the hotline's ticket number), accepts it, starts mediation,
     assigns a legal-aid volunteer;
  2. finds the rooms serving the case and a time free for everyone — the mediator, the
     volunteer, the parties and an invited guest — and books the session there; booking the
     same people again at that time is refused (409) with other free times;
  3. once the session has been held: records who attended and the minutes (and fetches the
     minutes PDF), records the settlement, draws up and issues the written agreement, records
     every signature and the seal, the performance of its terms, and files it for judicial
     confirmation with a competent court, then the court's ruling; and closes the case.

Step 3 can only run after the session has begun (minutes are written afterwards):

  scripts/api_walkthrough.py --base http://127.0.0.1:5000 --token … --grid 370599001001-01 \\
      --volunteer legalaid                        # steps 1–2: prints the case and session
  scripts/api_walkthrough.py --base … --token … --held 2026-000123:45   # step 3, later

The token's account must handle cases in that grid; the volunteer is a legal-aid account.
Any refusal stops the script with the API's problem details (RFC 9457).
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
GUEST = {"name": "刘医生", "organisation": "区心理咨询中心", "phone": "13905460001",
         "consent_recorded": True}


class Refused(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(f"{status}: {problem.get('title')} — {problem.get('detail')} "
                         f"{problem.get('errors') or ''}")
        self.status, self.problem = status, problem


def urllib_send(method: str, url: str, headers: dict, body: bytes | None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Api:
    """``send(method, url, headers, body) -> (status, headers, bytes)``: urllib by default."""

    def __init__(self, base: str, token: str, send=urllib_send, log=print):
        self.base, self.token, self.send, self.log = base.rstrip("/"), token, send, log

    def call(self, method: str, path: str, body: dict | None = None, expect=(200, 201, 204)):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode()
        status, answer_headers, content = self.send(method, f"{self.base}/api/v1{path}",
                                                     headers, data)
        kind = {k.lower(): v for k, v in answer_headers.items()}.get("content-type", "")
        if status not in expect:
            raise Refused(status, json.loads(content) if "json" in kind else
                          {"title": content[:200].decode(errors="replace")})
        if "json" in kind:
            return json.loads(content) if content else None
        return content

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)


def person(role: str, name: str, **fields) -> dict:
    details = {"role": role, "kind": "person", "name": name, "gender": "male",
               "ethnicity": "汉族", "birth_date": "1975-03-08", "occupation": "职工",
               "address": "文苑小区3号楼"}
    return {**details, **fields}


def intake_and_book(api: Api, *, grid: str, volunteer: str, ticket: str,
                    around: datetime) -> tuple[dict, dict]:
    """Steps 1 and 2: the case in mediation and its session booked; (case, session)."""
    case = api.post("/cases", {
        "title": "楼上漏水导致天花板受损", "source": "hotline", "hotline_ticket": ticket,
        "category": "water_leak", "grid": grid, "address": "文苑小区3号楼",
        "narrative": "3号楼502室卫生间漏水，402室天花板受损，双方就维修费用协商未果。",
        "parties": [person("applicant", "王建国", phone="13805461234"),
                    person("respondent", "李卫东", gender="female", phone="13905467788")]})
    number = case["number"]
    api.log(f"case {number} taken in (hotline ticket {case['hotline_ticket']})")
    api.post(f"/cases/{number}/accept")
    api.post(f"/cases/{number}/start")
    api.post(f"/cases/{number}/assignments", {"username": volunteer, "role": "legal_aid"})
    api.log(f"accepted, mediation started, {volunteer} assigned as legal-aid volunteer")

    rooms = api.get(f"/rooms?case={number}")["items"]
    room = next(r for r in rooms if r["capacity"] >= 6)
    people = {"place_kind": "room", "room_id": room["id"], "legal_aid": [volunteer],
              "invited": [GUEST]}
    slots = api.post(f"/cases/{number}/free_slots", {
        **people, "around": around.isoformat(), "duration_minutes": 90})["slots"]
    if not slots:
        raise SystemExit("no free time for everyone in the two weeks searched")
    starts = datetime.fromisoformat(slots[0])
    booking = {**people, "starts_at": starts.isoformat(),
               "ends_at": (starts + timedelta(minutes=90)).isoformat(),
               "purpose": "听取双方陈述，确定维修方案与赔偿数额"}
    session = api.post(f"/cases/{number}/sessions", booking)
    api.log(f"session {session['id']} booked in {room['name']} at {starts:%Y-%m-%d %H:%M}, "
            f"{len(session['participants'])} participants")
    clash = api.post(f"/cases/{number}/sessions", booking, expect=(409,))
    api.log(f"booking them again then is refused: {clash['detail']}")
    return case, session


def after_session(api: Api, number: str, session_id: int, *, on: date) -> dict:
    """Step 3, once the session has been held: through to the court's ruling; the case."""
    session = api.get(f"/sessions/{session_id}")
    api.post(f"/sessions/{session_id}/attendance", {"attendance": [
        {"participant_id": p["id"], "attendance": "attended"}
        for p in session["participants"]]})
    api.call("PUT", f"/sessions/{session_id}/minutes", {
        "matter": "漏水损失赔偿", "outcome": "settled",
        "body": "申请人陈述天花板受损情况并出示照片；被申请人认可漏水系其卫生间防水层老化所致。"
                "心理咨询师疏导双方情绪，法律援助志愿者释明相邻关系的法律规定。"
                "双方同意由被申请人赔偿修复费用并修复防水层。"})
    minutes_pdf = api.get(f"/sessions/{session_id}/minutes/pdf")
    api.log(f"attendance and minutes recorded (minutes PDF {len(minutes_pdf):,} bytes)")

    case = api.post(f"/cases/{number}/settle", {"partly": False})
    applicant, respondent = (p["id"] for p in case["parties"])
    draft = api.post(f"/cases/{number}/agreements", {
        "disputed_matters": "漏水损失的赔偿数额及维修责任。", "recorder_name": "刘晓燕",
        "copies": 3,
        "responsibilities": [
            {"party_id": applicant, "text": "对漏水造成的损失无过错。"},
            {"party_id": respondent, "text": "卫生间防水层老化未及时维修，对损失负全部责任。"}],
        "terms": [
            {"content": "李卫东赔偿王建国天花板修复费用", "obligor_id": respondent,
             "obligee_id": applicant, "amount": "3800", "method": "银行转账",
             "place": "文苑社区人民调解委员会", "due_on": (on + timedelta(days=15)).isoformat()},
            {"content": "李卫东于本协议签订后十五日内修复卫生间防水层",
             "obligor_id": respondent, "method": "自行委托施工", "place": "文苑小区3号楼502室",
             "due_on": (on + timedelta(days=15)).isoformat()}]})
    agreement = api.post(f"/agreements/{draft['id']}/issue")
    api.log(f"agreement {agreement['number']} issued "
            f"(verification code {agreement['verification_code']})")
    for party in agreement["responsibilities"]:
        api.post(f"/agreements/{agreement['id']}/signatures",
                 {"signer": "party", "party_id": party["party_id"], "signed_on": on.isoformat()})
    for signer in ("mediator", "recorder", "seal"):
        api.post(f"/agreements/{agreement['id']}/signatures",
                 {"signer": signer, "signed_on": on.isoformat()})
    scan = api.get(f"/agreements/{agreement['id']}/pdf")  # stands for the signed paper's scan
    api.post(f"/agreements/{agreement['id']}/signed_copy", {
        "file": base64.b64encode(scan).decode(), "filename": "signed.pdf",
        "completed_on": on.isoformat()})
    agreement = api.get(f"/agreements/{agreement['id']}")
    api.log(f"signed by everyone and sealed; in force from {agreement['effective_on']}")
    for term in agreement["terms"]:
        api.post(f"/agreements/terms/{term['id']}/performed", {"performed_on": on.isoformat()})
    api.log(f"{len(agreement['terms'])} terms performed")

    eligibility = api.get(f"/agreements/{agreement['id']}/eligibility")
    if eligibility["refusals"]:
        raise SystemExit(f"not eligible for judicial confirmation: {eligibility['refusals']}")
    court = eligibility["competent_courts"][0]
    application = api.post(f"/agreements/{agreement['id']}/application",
                           {"court_index": court["index"]})
    confirmation = api.post(f"/agreements/{agreement['id']}/confirmations", {
        "court_id": court["court_id"], "filed_on": on.isoformat()})
    api.log(f"filed with {court['name']} for judicial confirmation "
            f"(application PDF {len(application):,} bytes)")
    ruled = api.post(f"/agreements/confirmations/{confirmation['id']}/ruling", {
        "result": "confirmed", "ruling_number": f"（{on.year}）鲁0502民特12号",
        "ruled_on": on.isoformat()})
    api.log(f"ruling recorded: {ruled['result']} {ruled['ruling_number']}")
    case = api.post(f"/cases/{number}/close", {"note": "协议已履行完毕，法院裁定确认有效。"})
    timeline = api.get(f"/cases/{number}/events")["items"]
    api.log(f"case {number} {case['state']}; {len(timeline)} entries on its timeline")
    return case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--token", default=os.environ.get("MEDIATION_TOKEN"),
                        help="an API token (default: $MEDIATION_TOKEN)")
    parser.add_argument("--grid", default="370599001001-01")
    parser.add_argument("--volunteer", default="legalaid")
    parser.add_argument("--ticket", default=f"SD12345-{date.today():%Y%m%d}-0001")
    parser.add_argument("--held", metavar="NUMBER:SESSION",
                        help="step 3 for a case and session booked by an earlier run")
    args = parser.parse_args()
    if not args.token:
        parser.error("give --token or set MEDIATION_TOKEN")
    api = Api(args.base, args.token)
    try:
        if args.held:
            number, _sep, session_id = args.held.partition(":")
            after_session(api, number, int(session_id), on=datetime.now(CHINA).date())
        else:
            case, session = intake_and_book(
                api, grid=args.grid, volunteer=args.volunteer, ticket=args.ticket,
                around=datetime.now(CHINA) + timedelta(days=1))
            print(f"after the session: {sys.argv[0]} --held {case['number']}:{session['id']}")
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
