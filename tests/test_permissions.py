"""Who sees what: the jurisdiction scope (scope_query/can_view_path) and the role checks."""

import re
from types import SimpleNamespace

import pytest
from conftest import Auth
from sqlalchemy import false, func, select

from mediation.areas.models import AreaKind, AreaNode, Centre, Committee
from mediation.core.permissions import can_view_path, scope_filter, scope_query
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.passwords import hash_password
from mediation.users.roles import Role

WENYUAN_GRIDS = [f"370599001001-{n:02d}" for n in range(1, 8)]  # 文苑社区, 7 grids
ORPHAN_PASSWORD = "Binhai-Kite-Orchard-93"
WENHUI_COMMUNITIES = ["370599001001", "370599001002", "370599001003"]  # 文苑、清风、明德


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _node(code: str) -> AreaNode:
    return db.session.scalar(select(AreaNode).where(AreaNode.code == code))


def _visible_codes(user) -> set[str]:
    stmt = scope_query(user, select(AreaNode), AreaNode.path)
    return {node.code for node in db.session.scalars(stmt)}


def _codes_under(prefix: str) -> set[str]:
    return set(db.session.scalars(select(AreaNode.code).where(AreaNode.code.startswith(prefix))))


def _area_ids_linked(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/areas/(\d+)"', html)}


def _ids(codes) -> set[int]:
    return set(db.session.scalars(select(AreaNode.id).where(AreaNode.code.in_(codes))))


# ---- scope_query / can_view_path -------------------------------------------------------

def test_scope_query_gives_each_account_its_jurisdiction(demo_city):
    counts = dict(db.session.execute(
        select(AreaNode.kind, func.count()).group_by(AreaNode.kind)).all())
    assert counts == {AreaKind.DISTRICT: 1, AreaKind.STREET: 3, AreaKind.COMMUNITY: 9,
                      AreaKind.GRID: 60}

    # The grid worker: exactly its three grids.
    assert _visible_codes(_user("gridworker")) == {
        "370599001001-01", "370599001001-02", "370599001001-03"}
    # The mediator of 文苑社区's committee: that community and its 7 grids.
    assert _visible_codes(_user("mediator")) == {"370599001001", *WENYUAN_GRIDS}
    # The coordinator of 文汇街道: the street, its 3 communities and their 20 grids.
    coordinator = _visible_codes(_user("coordinator"))
    assert coordinator == _codes_under("370599001")
    assert len(coordinator) == 1 + 3 + 20
    assert {"370599001", *WENHUI_COMMUNITIES} <= coordinator
    assert "370599" not in coordinator  # not the district above
    assert not coordinator & _codes_under("370599002")
    # The legal-aid volunteer: no area at all; the administrator: the whole city.
    assert _visible_codes(_user("legalaid")) == set()
    assert len(_visible_codes(_user("admin"))) == 73


def test_scope_applies_to_joined_rows(demo_city):
    """Committees and centres are scoped through their area's path."""
    def committees(username):
        stmt = scope_query(_user(username), select(Committee).join(Committee.area),
                           AreaNode.path)
        return {c.short_name for c in db.session.scalars(stmt)}

    def centres(username):
        stmt = scope_query(_user(username), select(Centre).join(Centre.area), AreaNode.path)
        return {c.name for c in db.session.scalars(stmt)}

    assert committees("coordinator") == {"文汇街道", "文苑社区", "清风社区", "明德社区"}
    assert committees("mediator") == {"文苑社区"}
    assert committees("gridworker") == set()
    assert len(committees("admin")) == 12
    assert centres("coordinator") == {"文汇街道矛盾纠纷调处化解中心"}
    assert centres("mediator") == set()
    assert len(centres("admin")) == 2


def test_can_view_path_matches_scope_query(demo_city):
    nodes = db.session.scalars(select(AreaNode)).all()
    for username in ("admin", "coordinator", "mediator", "gridworker", "legalaid"):
        user = _user(username)
        visible = _visible_codes(user)
        assert {n.code for n in nodes if can_view_path(user, n.path)} == visible, username


def test_can_view_path_examples(demo_city):
    gridworker, coordinator = _user("gridworker"), _user("coordinator")
    assert can_view_path(gridworker, _node("370599001001-01").path)
    assert not can_view_path(gridworker, _node("370599001001-04").path)  # a sibling grid
    assert not can_view_path(gridworker, _node("370599001001").path)  # its community above
    assert can_view_path(coordinator, _node("370599001003-06").path)
    assert not can_view_path(coordinator, _node("370599").path)
    assert not can_view_path(coordinator, _node("370599003").path)
    assert can_view_path(_user("admin"), _node("370599003002-07").path)
    assert not can_view_path(None, _node("370599").path)


def test_a_path_prefix_only_matches_whole_ids():
    """/1/5/ covers /1/5/9/ but not /1/55/: the trailing slash is part of the prefix."""
    user = SimpleNamespace(is_authenticated=True, has_global_scope=False,
                           jurisdiction_paths=["/1/5/"])
    assert can_view_path(user, "/1/5/")
    assert can_view_path(user, "/1/5/9/")
    assert not can_view_path(user, "/1/55/")
    assert not can_view_path(user, "/1/")


def test_path_prefix_in_sql_matches_whole_ids(demo_city):
    """The same in SQL: a node whose id starts with the same digits is not inside."""
    nodes = db.session.scalars(select(AreaNode)).all()
    by_id = {n.id: n for n in nodes}
    # Find two nodes where one's last path segment is a digit-prefix of the other's sibling.
    pair = next(((a, b) for a in nodes for b in nodes
                 if a.id != b.id and str(b.id).startswith(str(a.id))
                 and a.parent_id == b.parent_id), None)
    assert pair is not None  # e.g. the streets 2 and 26 of the demo city
    outer, other = pair
    user = SimpleNamespace(is_authenticated=True, has_global_scope=False,
                           jurisdiction_paths=[outer.path])
    stmt = scope_query(user, select(AreaNode.id), AreaNode.path)
    visible = set(db.session.scalars(stmt))
    assert outer.id in visible and other.id not in visible
    assert all(by_id[i].path.startswith(outer.path) for i in visible)


def test_user_attached_to_nothing_sees_nothing(demo_city, client, auth):
    # Built directly: the account forms would refuse a grid worker without grids.
    orphan = User(username="orphan", full_name="无辖区", role=Role.GRID_WORKER,
                  password_hash=hash_password(ORPHAN_PASSWORD), areas=[], committees=[])
    db.session.add(orphan)
    db.session.commit()
    assert orphan.is_authenticated and not orphan.has_global_scope
    assert scope_filter(orphan, AreaNode.path).compare(false())
    assert _visible_codes(orphan) == set()
    assert not can_view_path(orphan, _node("370599001001-01").path)

    # And through the pages: no area listed or reachable.
    assert auth.login("orphan", ORPHAN_PASSWORD).status_code == 302
    for url in ("/", "/areas/", "/areas/?q=社区", "/committees/", "/centres/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert _area_ids_linked(html) == set(), url
        assert "文苑社区" not in html and "文汇街道" not in html, url
    assert client.get(f"/areas/{_node('370599001001-01').id}").status_code == 404


def test_nobody_logged_in_sees_nothing(demo_city):
    anonymous = SimpleNamespace(is_authenticated=False)
    assert scope_filter(None, AreaNode.path).compare(false())
    assert scope_filter(anonymous, AreaNode.path).compare(false())
    assert _visible_codes(anonymous) == set()


# ---- through the pages -----------------------------------------------------------------

def _pages_show_only(app, url: str, expectations: dict) -> None:
    """Each account logs in on its own client; ``url`` shows its names and hides the others."""
    for username, (shown, hidden) in expectations.items():
        user = Auth(app.test_client())
        assert user.login(username).status_code == 302, username
        response = user.client.get(url)
        assert response.status_code == 200, username
        html = response.get_data(as_text=True)
        for name in shown:
            assert name in html, (username, name)
        for name in hidden:
            assert name not in html, (username, name)


def test_home_page_lists_own_jurisdiction_only(demo_city, app):
    _pages_show_only(app, "/", {
        "gridworker": (["文苑社区第1网格", "文苑社区第2网格", "文苑社区第3网格"],
                       ["文苑社区第4网格", "清风社区", "文汇街道", "东湖区"]),
        "mediator": (["文苑社区"], ["清风社区", "文汇街道", "黄河路街道"]),
        "coordinator": (["文汇街道"], ["黄河路街道", "胜园街道", "东湖区"]),
        "legalaid": ([], ["文苑社区", "文汇街道", "东湖区"]),
    })


def _check_detail_pages(client, inside, outside):
    for code in inside:
        assert client.get(f"/areas/{_node(code).id}").status_code == 200, code
    for code in outside:
        assert client.get(f"/areas/{_node(code).id}").status_code == 404, code


def test_area_pages_inside_and_outside_the_jurisdiction(demo_city, app, client, auth):
    auth.login("gridworker")
    _check_detail_pages(client, inside=["370599001001-01", "370599001001-03"],
                        outside=["370599001001-04", "370599001001", "370599001", "370599",
                                 "370599002001-01"])
    assert client.get("/areas/999999").status_code == 404

    mediator = Auth(app.test_client())
    mediator.login("mediator")
    _check_detail_pages(mediator.client, inside=["370599001001", "370599001001-07"],
                        outside=["370599001002", "370599001002-01", "370599001", "370599"])

    coordinator = Auth(app.test_client())
    coordinator.login("coordinator")
    _check_detail_pages(coordinator.client,
                        inside=["370599001", "370599001003", "370599001002-05"],
                        outside=["370599", "370599002", "370599003001", "370599002001-01"])

    admin = Auth(app.test_client())
    admin.login("admin")
    _check_detail_pages(admin.client, inside=["370599", "370599003003-06"], outside=[])


def test_detail_page_links_only_to_areas_in_scope(demo_city, client, auth):
    auth.login("mediator")
    html = client.get(f"/areas/{_node('370599001001').id}").get_data(as_text=True)
    linked = _area_ids_linked(html)
    assert _ids(WENYUAN_GRIDS) <= linked
    assert linked <= _ids({"370599001001", *WENYUAN_GRIDS})
    # The ancestors are named in the breadcrumbs but not linked.
    assert "文汇街道" in html and _node("370599001").id not in linked


def test_area_search_stays_within_scope(demo_city, app):
    expectations = {
        "gridworker": ["370599001001-01", "370599001001-02", "370599001001-03"],
        "mediator": [*WENYUAN_GRIDS, "370599001001"],
        # the street (linked as the root), its 3 communities and their 20 grids
        "coordinator": _codes_under("370599001"),
    }
    for username, expected in expectations.items():
        user = Auth(app.test_client())
        user.login(username)
        response = user.client.get("/areas/?q=社区")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert _area_ids_linked(html) == _ids(expected), username
        assert "河畔社区" not in html and "胜园社区" not in html, username
        # Searching for something outside finds nothing of it.
        html = user.client.get("/areas/?q=370599002").get_data(as_text=True)
        assert _area_ids_linked(html).isdisjoint(_ids(_codes_under("370599002"))), username
        assert "黄河路街道" not in html, username


def test_admin_search_finds_every_community(demo_city, client, auth):
    auth.login("admin")
    html = client.get("/areas/?q=社区").get_data(as_text=True)
    communities = {n.code for n in db.session.scalars(
        select(AreaNode).where(AreaNode.kind == AreaKind.COMMUNITY))}
    assert _ids(communities) <= _area_ids_linked(html)


def test_committee_list_is_scoped(demo_city, app):
    _pages_show_only(app, "/committees/", {
        "coordinator": (["文汇街道人民调解委员会", "文苑社区人民调解委员会",
                         "清风社区人民调解委员会", "明德社区人民调解委员会"],
                        ["黄河路街道人民调解委员会", "河畔社区人民调解委员会",
                         "胜园社区人民调解委员会"]),
        "mediator": (["文苑社区人民调解委员会"],
                     ["文汇街道人民调解委员会", "清风社区人民调解委员会",
                      "河畔社区人民调解委员会"]),
        "gridworker": ([], ["文苑社区人民调解委员会", "文汇街道人民调解委员会"]),
        "admin": (["胜园街道人民调解委员会", "康宁社区人民调解委员会", "文苑社区人民调解委员会"],
                  []),
    })


def test_centre_list_is_scoped(demo_city, app):
    _pages_show_only(app, "/centres/", {
        "coordinator": (["文汇街道矛盾纠纷调处化解中心"], ["东湖区社会治理综合服务中心"]),
        "mediator": ([], ["文汇街道矛盾纠纷调处化解中心", "东湖区社会治理综合服务中心"]),
        "admin": (["文汇街道矛盾纠纷调处化解中心", "东湖区社会治理综合服务中心"], []),
    })


def test_centre_page_outside_the_jurisdiction_is_not_found(demo_city, client, auth):
    street_centre = db.session.scalar(select(Centre).where(Centre.name.startswith("文汇街道")))
    district_centre = db.session.scalar(select(Centre).where(Centre.name.startswith("东湖区")))
    auth.login("coordinator")
    assert client.get(f"/centres/{street_centre.id}").status_code == 200
    assert client.get(f"/centres/{district_centre.id}").status_code == 404
    auth.logout()
    auth.login("mediator")
    assert client.get(f"/centres/{street_centre.id}").status_code == 404


# ---- role checks -----------------------------------------------------------------------

def _admin_only_pages():
    grid = _node("370599001001-01")
    admin = _user("admin")
    return ["/admin/users/new", f"/admin/users/{admin.id}/edit",
            f"/admin/users/{admin.id}/password", "/admin/audit", "/areas/new",
            f"/areas/new?parent={grid.parent_id}", f"/areas/{grid.id}/edit",
            "/committees/new", "/centres/new"]


def test_non_admins_cannot_open_admin_pages(demo_city, app):
    urls = ["/admin/users", f"/admin/users/{_user('admin').id}", *_admin_only_pages()]
    for username in ("coordinator", "mediator", "gridworker", "legalaid"):
        user = Auth(app.test_client())
        user.login(username)
        for url in urls:
            assert user.client.get(url).status_code == 403, (username, url)


def test_admin_opens_the_admin_pages(demo_city, client, auth):
    auth.login("admin")
    for url in ["/admin/users", *_admin_only_pages()]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("username", ["coordinator", "gridworker"])
def test_admin_actions_without_permission_are_forbidden(demo_city, auth, username):
    auth.login(username)
    target = _user("mediator")
    grid = _node("370599001001-07")
    for action in ("disable", "enable", "unlock"):
        response = auth.post(f"/admin/users/{target.id}/{action}", form_url="/")
        assert response.status_code == 403, action
    response = auth.post("/admin/users/new", {
        "username": "intruder", "full_name": "闯入者", "role": "admin",
        "password": "Binhai-Kite-Orchard-93", "confirm": "Binhai-Kite-Orchard-93"},
        form_url="/")
    assert response.status_code == 403
    response = auth.post(f"/admin/users/{target.id}/password", {
        "password": "Binhai-Kite-Orchard-93", "confirm": "Binhai-Kite-Orchard-93"},
        form_url="/")
    assert response.status_code == 403
    response = auth.post(f"/areas/{grid.id}/edit",
                         {"code": grid.code, "name": "改名网格"}, form_url="/")
    assert response.status_code == 403
    assert auth.post(f"/areas/{grid.id}/delete", form_url="/").status_code == 403

    target = _user("mediator")
    assert target.active and target.must_change_password is False
    assert _user("intruder") is None
    db.session.expire_all()
    assert _node("370599001001-07").name == "文苑社区第7网格"


def test_legal_aid_volunteer_cannot_browse_areas(demo_city, client, auth):
    auth.login("legalaid")
    assert client.get("/").status_code == 200
    for url in ("/areas/", f"/areas/{_node('370599').id}", "/committees/", "/centres/"):
        assert client.get(url).status_code == 403, url


def test_area_pages_need_a_login(demo_city, client):
    for url in ("/areas/", "/committees/", "/admin/users", "/admin/audit"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


# Pages anyone may open without logging in, each on purpose; every other page asks for it.
PUBLIC = {
    "core.home": "the residents' front page for visitors (staff get their workbench)",
    "core.set_language": "the language switch is on every page, the public ones too",
    "users.login": "where staff log in",
    "agreements.verify": "anyone holding an agreement checks it by its code",
    "agreements.check": "what an agreement's QR code opens, for a court clerk or a party",
    "portal.home": "the residents' front page",
    "portal.report": "residents report a dispute without an account",
    "portal.receipt": "the report's number and access code, shown once to whoever sent it",
    "portal.status": "a party opens its case with the case number and its access code",
    "portal.case": "the party's view that number and code opened (no login: no account)",
    "portal.reply": "a party confirms or declines a session from that view",
    "portal.rate": "a party rates the service from that view once the case has its outcome",
    "portal.notice": "a party downloads its own session notice from that view",
    "portal.agreement": "a party downloads its agreement from that view",
    "portal.leave": "a party closes its view on a shared phone",
    "portal.type_size": "the large-type switch is on every residents' page",
}


def _example_url(app, rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        items = getattr(converter, "items", None)
        values[name] = sorted(items)[0] if items else 1
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_every_page_asks_for_a_login_but_the_public_ones(demo_city, client):
    token = Auth(client).token("/login")
    rules = [r for r in demo_city.url_map.iter_rules()
             if r.endpoint != "static" and not r.rule.startswith("/api/")]
    assert set(PUBLIC) <= {r.endpoint for r in rules}, "a public page is gone: update PUBLIC"
    for rule in rules:
        url = _example_url(demo_city, rule)
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        to_login = response.status_code == 302 and response.headers["Location"].startswith(
            "/login")
        if rule.endpoint in PUBLIC:
            assert not to_login, f"{rule.endpoint} ({url}) is public: {PUBLIC[rule.endpoint]}"
        else:
            assert to_login, f"{rule.endpoint} ({url}) answers {response.status_code} " \
                             "without a login: add it to PUBLIC with the reason, or protect it"
