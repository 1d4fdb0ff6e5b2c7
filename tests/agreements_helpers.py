"""A settled case with complete party details, a committee and a court, for agreement tests."""

from datetime import date
from types import SimpleNamespace

from cases_helpers import applicant, make_case, make_city, respondent, walk_to

from mediation.agreements import operations
from mediation.areas import operations as area_ops
from mediation.areas.models import Court
from mediation.cases.models import Gender
from mediation.cases.states import CaseState
from mediation.extensions import db

VERIFY_URL = "https://tiaojie.example.gov.cn/v/{code}"


def full_person(make, name, **fields):
    details = {"gender": Gender.MALE, "ethnicity": "汉族", "birth_date": date(1975, 3, 8),
               "occupation": "职工", "phone": "13805461234",
               "address": "东营市东湖区东苑小区3号楼502室"}
    details.update(fields)
    return make(name, **details)


def agreement_city() -> SimpleNamespace:
    """The test city with a committee in 东苑社区 and a basic court for the district."""
    city = make_city()
    city.committee = area_ops.save_committee(
        None, None, area=city.east, name="东苑社区人民调解委员会", short_name="东苑社区",
        registration_number=None, registered_on=None, registration_authority=None,
        seal_holder=None, address="东苑社区居委会", phone=None, active=True)
    city.court = Court(name="测试区人民法院", area=city.district, address="测试区法院路1号")
    db.session.add(city.court)
    db.session.commit()
    return city


def settled_case(city, **overrides):
    fields = {"parties": [full_person(applicant, "王建国"),
                          full_person(respondent, "李卫东", gender=Gender.FEMALE,
                                      phone="13905467788",
                                      address="东营市东湖区东苑小区3号楼402室")],
              "grid": city.east_1}
    fields.update(overrides)
    case = make_case(city.mediator, **fields)
    walk_to(case, CaseState.IN_MEDIATION, city.mediator)
    case.handler = city.mediator
    db.session.commit()
    return case


def ready_draft(city, case, *, terms=None, disputed="漏水损失的赔偿数额及维修责任。"):
    """A draft with every element filled in, ready to issue."""
    agreement = operations.start_draft(city.mediator, case)
    first, second = (e.party for e in agreement.parties)
    operations.update_draft(city.mediator, agreement, operations.DraftInput(
        facts=case.narrative, disputed_matters=disputed, copies=3, mediator=city.mediator,
        recorder_name="刘晓燕", inviting_court=None, concerns_status=False,
        determines_ownership=False,
        responsibilities={first.id: "对漏水造成的损失无过错。",
                          second.id: "卫生间防水层老化未及时维修，对损失负全部责任。"}))
    for term in terms or [
        operations.TermInput(content="李卫东赔偿王建国天花板修复费用", obligor_id=second.id,
                             obligee_id=first.id, amount="3800", method="银行转账",
                             place="东苑社区人民调解委员会", due_on=date(2026, 12, 31)),
        operations.TermInput(content="李卫东于本协议签订后十五日内修复卫生间防水层",
                             obligor_id=second.id, due_on=date(2026, 12, 15),
                             method="自行委托施工", place="东苑小区3号楼502室"),
    ]:
        operations.save_term(city.mediator, agreement, None, term)
    db.session.commit()
    return agreement
