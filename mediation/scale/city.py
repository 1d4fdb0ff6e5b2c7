"""The synthetic city: districts, streets, communities and grids, their committees, the
one-stop centres with their rooms, the courts, and the staff who work the cases.

Everything is made as rows with ids chosen here (the area tree's paths hold ids), written in
bulk by the caller's target.  The accounts with fixed usernames are the ones other tools
(benchmarks, load tests) log in as; see ``mediation.scale``'s docstring.
"""

import random
from dataclasses import dataclass, field

from mediation.cases.demo import PHONE_PREFIXES, SURNAMES
from mediation.demo import SEAL_HOLDERS
from mediation.scale import pools
from mediation.scale.pools import GIVEN

# Accounts other tools rely on.
ADMIN = "scale-admin"
COORDINATOR = "scale-coordinator"
MEDIATOR = "scale-mediator"
GRID_WORKER = "scale-gridworker"
STAFF = "scale-staff-{}"
STAFF_COUNT = 60
LEGAL_AID = "scale-legalaid-{}"
LEGAL_AID_COUNT = 10
GRIDS_PER_WORKER = 8


@dataclass(slots=True, eq=False)
class District:
    id: int
    code: str
    name: str
    court_id: int = 0
    court: str = ""
    rooms: list = field(default_factory=list)  # (room_id, centre address)


@dataclass(slots=True, eq=False)
class Street:
    id: int
    code: str
    name: str
    base: str
    district: District
    path: str = ""
    committee_id: int = 0
    roads: list = field(default_factory=list)
    police: str = ""
    coordinator: tuple = ()  # (user id, full name)
    mediator: tuple = ()
    rooms: list = field(default_factory=list)
    communities: list = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Community:
    id: int
    code: str
    name: str
    street: Street
    path: str = ""
    index: int = 0
    committee_id: int = 0
    estates: list = field(default_factory=list)
    grids: list = field(default_factory=list)
    mediator: tuple = ()


@dataclass(slots=True, eq=False)
class Grid:
    id: int
    code: str
    community: Community
    buildings: list = field(default_factory=list)  # (estate, building number)
    worker: tuple = ()


def person_name(rng: random.Random, male: bool | None = None, old: bool = False) -> str:
    male = rng.random() < 0.5 if male is None else male
    return rng.choice(SURNAMES) + rng.choice(GIVEN[("m" if male else "f",
                                                     "old" if old else "young")])


def mobile(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


class City:
    """The city's structure, with the rows that make it (``rows``: table -> (columns, rows))."""

    def __init__(self, rng: random.Random, ids: dict[str, int], password_hash: str,
                 ts, day, created: int):
        self.rng, self.ts, self.day = rng, ts, day
        self.next = dict(ids)  # table -> next id
        self.created = ts(created)
        self.password_hash = password_hash
        self.rows: dict[str, tuple[tuple, list]] = {}
        self.districts: list[District] = []
        self.streets: list[Street] = []
        self.communities: list[Community] = []
        self.grids: list[Grid] = []
        self.users: dict[str, tuple[int, str]] = {}  # username -> (id, full name)
        self.legal_aid: list[tuple[int, str]] = []
        self._areas()
        self._committees()
        self._centres()
        self._staff()

    def _id(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value

    def _add(self, table: str, columns: tuple, row: tuple) -> None:
        self.rows.setdefault(table, (columns, []))[1].append(row)

    # -- the area tree --------------------------------------------------------------------
    AREA = ("id", "code", "name", "kind", "parent_id", "path", "households", "address_hints",
            "created_at")

    def _area(self, code, name, kind, parent_id, parent_path, households=None, hints=None):
        node_id = self._id("area_nodes")
        path = f"{parent_path}{node_id}/"
        self._add("area_nodes", self.AREA, (node_id, code, name, kind, parent_id, path,
                                            households, hints, self.created))
        return node_id, path

    def _areas(self) -> None:
        rng = self.rng
        street_names = iter(pools.STREET_NAMES)
        community_number = 0
        for district_code, district_name in pools.DISTRICTS:
            node_id, district_path = self._area(district_code, district_name, "district",
                                                None, "/")
            district = District(node_id, district_code, district_name)
            self.districts.append(district)
            for street_no in range(1, pools.STREETS_PER_DISTRICT + 1):
                base = next(street_names)
                code = f"{district_code}{street_no:03d}"
                node_id, street_path = self._area(code, f"{base}街道", "street", district.id,
                                                  district_path)
                street = Street(node_id, code, f"{base}街道", base, district, street_path)
                roads = rng.sample(pools.ROAD_NAMES, 2)
                street.roads = [f"{base}路", *roads]
                street.police = f"{district_name}公安分局{base}派出所"
                self.streets.append(street)
                for community_no in range(1, pools.COMMUNITIES_PER_STREET + 1):
                    base_name = pools.COMMUNITY_NAMES[community_number
                                                      % len(pools.COMMUNITY_NAMES)]
                    quarter = pools.COMMUNITY_QUARTERS[community_number
                                                       // len(pools.COMMUNITY_NAMES)]
                    name = f"{base_name}{quarter}社区"
                    code = f"{street.code}{community_no:03d}"
                    node_id, path = self._area(code, name, "community", street.id, street_path)
                    community = Community(node_id, code, name, street, path,
                                          index=community_number)
                    community_number += 1
                    estates = [f"{base_name}{rng.choice(pools.ESTATE_SUFFIXES)}"]
                    while len(estates) < 3:
                        estate = rng.choice(pools.ESTATE_PREFIXES) + \
                            rng.choice(pools.ESTATE_SUFFIXES)
                        if estate not in estates:
                            estates.append(estate)
                    community.estates = estates
                    self.communities.append(community)
                    street.communities.append(community)
                    self._grids(community, path)

    def _grids(self, community: Community, community_path: str) -> None:
        rng = self.rng
        count = rng.randint(*pools.GRIDS_PER_COMMUNITY)
        buildings = [(estate, number) for estate in community.estates
                     for number in range(1, rng.randint(24, 40))]
        rng.shuffle(buildings)
        for grid_no in range(1, count + 1):
            mine = sorted(buildings[grid_no - 1::count], key=lambda b: (b[0], b[1]))
            hints = "\n".join(f"{estate}{number}号楼" for estate, number in mine)
            code = f"{community.code}-{grid_no:02d}"
            node_id, _path = self._area(code, f"{community.name}第{grid_no}网格", "grid",
                                        community.id, community_path,
                                        rng.randint(150, 420), hints)
            grid = Grid(node_id, code, community, mine or [(community.estates[0], 1)])
            community.grids.append(grid)
            self.grids.append(grid)

    # -- committees, centres, courts ------------------------------------------------------
    COMMITTEE = ("id", "name", "short_name", "area_id", "registration_number",
                 "registered_on", "registration_authority", "seal_holder", "address", "phone",
                 "active", "created_at")

    def _committee(self, area_id: int, area_name: str, district: District) -> int:
        committee_id = self._id("committees")
        number = committee_id % 1000
        self._add("committees", self.COMMITTEE, (
            committee_id, f"{area_name}人民调解委员会", area_name, area_id,
            f"{district.name[:2]}司调备〔2021〕{number:03d}号", "2021-03-15",
            f"{district.name}司法局", SEAL_HOLDERS[committee_id % len(SEAL_HOLDERS)],
            f"{district.name}{area_name}党群服务中心", f"0546-8{committee_id % 1_000_000:06d}",
            1, self.created))
        return committee_id

    def _committees(self) -> None:
        for street in self.streets:
            street.committee_id = self._committee(street.id, street.name, street.district)
        for community in self.communities:
            community.committee_id = self._committee(community.id, community.name,
                                                     community.street.district)

    CENTRE = ("id", "name", "area_id", "address", "phone", "created_at")
    ROOM = ("id", "centre_id", "name", "capacity", "video_capable", "active")
    COURT = ("id", "name", "area_id", "address", "phone", "active", "created_at")

    def _centre(self, name: str, area_id: int, address: str, rooms: list) -> list:
        centre_id = self._id("centres")
        self._add("centres", self.CENTRE, (centre_id, name, area_id, address,
                                           f"0546-83{centre_id % 100_000:05d}", self.created))
        made = []
        for room_name, capacity, video in rooms:
            room_id = self._id("rooms")
            self._add("rooms", self.ROOM, (room_id, centre_id, room_name, capacity, video, 1))
            made.append((room_id, address))
        return made

    def _centres(self) -> None:
        for district in self.districts:
            district.rooms = self._centre(
                f"{district.name}社会治理综合服务中心", district.id,
                f"{district.name}府前大街{100 + district.id % 90}号",
                [("调解一室", 10, 1), ("调解二室", 6, 0), ("远程视频调解室", 4, 1)])
            court_id = self._id("courts")
            district.court_id, district.court = court_id, f"{district.name}人民法院"
            self._add("courts", self.COURT, (court_id, district.court, district.id,
                                             f"{district.name}府前大街66号",
                                             f"0546-831{court_id % 10_000:04d}", 1,
                                             self.created))
        for street in self.streets:
            if int(street.code[-3:]) <= 2:  # the first two streets of each district
                street.rooms = self._centre(
                    f"{street.name}矛盾纠纷调处化解中心", street.id,
                    f"{street.district.name}{street.roads[0]}88号",
                    [("第一调解室", 8, 1), ("第二调解室", 6, 0), ("联合调解大厅", 20, 1)])
            else:
                street.rooms = street.district.rooms

    # -- staff ----------------------------------------------------------------------------
    USER = ("id", "username", "full_name", "role", "phone", "password_hash", "active",
            "must_change_password", "failed_logins", "lockouts", "password_changed_at",
            "created_at")

    def _user(self, username: str, role: str, *, areas=(), committees=()) -> tuple[int, str]:
        rng = self.rng
        user_id = self._id("users")
        full_name = person_name(rng, old=False)
        self._add("users", self.USER, (user_id, username, full_name, role, mobile(rng),
                                       self.password_hash, 1, 0, 0, 0, self.created,
                                       self.created))
        for area_id in areas:
            self._add("user_areas", ("user_id", "area_id"), (user_id, area_id))
        for committee_id in committees:
            self._add("user_committees", ("user_id", "committee_id"), (user_id, committee_id))
        self.users[username] = (user_id, full_name)
        return user_id, full_name

    def _staff(self) -> None:
        self._user(ADMIN, "admin")
        staff_of = {1 + (k - 1) * 4: STAFF.format(k) for k in range(1, STAFF_COUNT + 1)}
        for number, street in enumerate(self.streets):
            street.coordinator = self._user(
                COORDINATOR if number == 0 else f"scale-coordinator-{number + 1:02d}",
                "coordinator", areas=[street.id])
            street.mediator = self._user(f"scale-street-{number + 1:02d}", "mediator",
                                         committees=[street.committee_id])
        for community in self.communities:
            username = MEDIATOR if community.index == 0 else \
                staff_of.get(community.index, f"scale-mediator-{community.index + 1:03d}")
            community.mediator = self._user(username, "mediator",
                                            committees=[community.committee_id])
        worker_number = 0
        for community in self.communities:
            grids = community.grids
            spans = [grids[:3], grids[3:]] if community.index == 0 else [grids]
            for span_number, span in enumerate(spans):
                for first in range(0, len(span), GRIDS_PER_WORKER):
                    group = span[first:first + GRIDS_PER_WORKER]
                    if community.index == 0 and span_number == 0:
                        username = GRID_WORKER
                    else:
                        worker_number += 1
                        username = f"scale-grid-{worker_number:04d}"
                    worker = self._user(username, "grid_worker", areas=[g.id for g in group])
                    for grid in group:
                        grid.worker = worker
        for k in range(1, LEGAL_AID_COUNT + 1):
            self.legal_aid.append(self._user(LEGAL_AID.format(k), "legal_aid"))

    # -- summary --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, (_columns, rows) in self.rows.items()}
