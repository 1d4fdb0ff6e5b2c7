"""The demo city for ``flask seed-demo``: a district, 3 streets, 9 communities, 60 grids."""

from datetime import date

from flask import current_app
from sqlalchemy import select

from mediation import demo_activity
from mediation.areas import operations as area_ops
from mediation.areas.models import AreaNode, Centre, Committee, Court
from mediation.cases.demo import ESTATES
from mediation.extensions import db
from mediation.users import operations as user_ops
from mediation.users.roles import Role

DISTRICT = ("370599", "东湖区")
STREETS = [
    ("001", "文汇街道", [("文苑社区", 7), ("清风社区", 7), ("明德社区", 6)]),
    ("002", "黄河路街道", [("河畔社区", 7), ("龙居社区", 7), ("新华社区", 6)]),
    ("003", "胜园街道", [("胜园社区", 7), ("锦华社区", 7), ("康宁社区", 6)]),
]
SEAL_HOLDERS = ["王秀兰", "孙建华", "周国庆", "吴桂芳", "郑海涛", "冯淑珍", "陈立军", "褚红霞",
                "卫东升", "蒋玉梅", "沈德明", "韩春燕"]
CENTRES = [
    ("文汇街道矛盾纠纷调处化解中心", "370599001", "东湖区文汇路88号", "0546-8310001",
     [("第一调解室", 8, True), ("第二调解室", 6, False), ("远程视频调解室", 4, True),
      ("联合调解大厅", 20, True)]),
    ("东湖区社会治理综合服务中心", "370599", "东湖区府前大街126号", "0546-8300012",
     [("调解一室", 10, True), ("调解二室", 6, False)]),
]
# username, full name, role, area codes, committee short names
ACCOUNTS = [
    ("admin", "赵立新", Role.ADMIN, [], []),
    ("coordinator", "李红梅", Role.COORDINATOR, ["370599001"], []),
    ("mediator", "张志强", Role.MEDIATOR, [], ["文苑社区"]),
    ("gridworker", "刘晓燕", Role.GRID_WORKER,
     ["370599001001-01", "370599001001-02", "370599001001-03"], []),
    ("legalaid", "陈思远", Role.LEGAL_AID, [], []),
]


def accounts_summary():
    return [(username, full_name, str(role.title)) for username, full_name, role, _a, _c
            in ACCOUNTS]


def _node(code: str) -> AreaNode | None:
    return db.session.scalar(select(AreaNode).where(AreaNode.code == code))


def _area(parent: AreaNode | None, code: str, name: str, households: int | None = None,
          hints: str | None = None):
    return _node(code) or area_ops.create_area(None, parent=parent, code=code, name=name,
                                               households=households, address_hints=hints)


def _grid_hints(community_name: str, grid_no: int, grid_count: int) -> str:
    """The buildings of the community's estates that a grid covers (for address matching)."""
    lines = [f"{estate}{building}号楼"
             for index, estate in enumerate(ESTATES[community_name])
             for building in range(1, 33) if (index * 11 + building) % grid_count == grid_no - 1]
    return "\n".join(lines)


# The district's basic court, which confirms the demo committees' agreements.
COURT = ("东湖区人民法院", "东湖区府前大街66号", "0546-8316000")


def _committee(area: AreaNode, name: str, short_name: str, number: int) -> None:
    if db.session.scalar(select(Committee).where(Committee.short_name == short_name)):
        return
    area_ops.save_committee(
        None, None, area=area, name=name, short_name=short_name,
        registration_number=f"东司调备〔2024〕{number:03d}号", registered_on=date(2024, 3, 15),
        registration_authority="东湖区司法局",
        seal_holder=SEAL_HOLDERS[number % len(SEAL_HOLDERS)],
        address=f"{area.name}党群服务中心", phone=f"0546-83{number:05d}", active=True,
    )


def seed() -> bool:
    """Create whatever of the demo city is missing; True if anything was created."""
    created = _node(DISTRICT[0]) is None
    district = _area(None, *DISTRICT)
    number = 0
    for street_no, street_name, communities in STREETS:
        street = _area(district, f"{DISTRICT[0]}{street_no}", street_name)
        number += 1
        _committee(street, f"{street_name}人民调解委员会", street_name, number)
        for community_no, (community_name, grid_count) in enumerate(communities, start=1):
            community = _area(street, f"{street.code}{community_no:03d}", community_name)
            number += 1
            _committee(community, f"{community_name}人民调解委员会", community_name, number)
            for grid_no in range(1, grid_count + 1):
                _area(community, f"{community.code}-{grid_no:02d}",
                      f"{community_name}第{grid_no}网格", 180 + (grid_no * 37 + number * 11) % 170,
                      _grid_hints(community_name, grid_no, grid_count))
    for name, area_code, address, phone, rooms in CENTRES:
        centre = db.session.scalar(select(Centre).where(Centre.name == name))
        if centre is None:
            centre = area_ops.save_centre(None, None, area=_node(area_code), name=name,
                                          address=address, phone=phone, notes=None)
            for room_name, capacity, video in rooms:
                area_ops.save_room(None, None, centre=centre, name=room_name,
                                   capacity=capacity, video_capable=video)
    if db.session.scalar(select(Court).where(Court.name == COURT[0])) is None:
        area_ops.save_court(None, None, area=district, name=COURT[0], address=COURT[1],
                            phone=COURT[2], active=True)
    password = current_app.config["DEMO_PASSWORD"]
    for username, full_name, role, area_codes, committee_names in ACCOUNTS:
        if user_ops.find_user(username):
            continue
        committees = list(db.session.scalars(
            select(Committee).where(Committee.short_name.in_(committee_names))))
        user_ops.create_user(None, username=username, full_name=full_name, role=role,
                             password=password, areas=[_node(c) for c in area_codes],
                             committees=committees, must_change_password=False)
        created = True
    # About 360 demo disputes over eighteen months (and the staff who work them), with their
    # sessions, agreements and ratings.  Not under the testing config unless DEMO_CASES is
    # set: the test fixtures seed the city for every test.
    if current_app.config.get("DEMO_CASES", not current_app.testing) and \
            demo_activity.seed_living_cases() > 0:
        created = True
    return created
