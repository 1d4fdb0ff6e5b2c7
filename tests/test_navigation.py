"""The main menu offers each role the pages its work uses, every one of which opens for it,
and marks the section being shown."""

import re

import pytest
from conftest import Auth

MENUS = {
    "gridworker": ["/", "/cases/", "/cases/report", "/cases/new", "/sessions/mine"],
    "legalaid": ["/", "/cases/", "/sessions/mine", "/sessions/duty"],
    "mediator": ["/", "/cases/", "/cases/new", "/sessions/mine", "/stats/", "/centres/"],
    "coordinator": ["/", "/cases/", "/cases/new", "/sessions/mine", "/stats/", "/centres/",
                    "/areas/", "/committees/", "/courts/"],
    "admin": ["/", "/cases/", "/cases/new", "/sessions/mine", "/stats/", "/centres/",
              "/areas/", "/committees/", "/courts/", "/admin/users", "/admin/api-tokens/",
              "/admin/webhooks/", "/admin/rules/", "/admin/audit"],
}
NAV = re.compile(r'<nav class="main-nav"[^>]*>\s*<ul>(.*?)</ul>', re.S)


def _menu(html: str) -> list[tuple[str, bool]]:
    """The menu's links, each with whether it is marked as the current section."""
    return [(href, bool(current)) for href, current in re.findall(
        r'<a href="([^"]+)"( aria-current="page")?>', NAV.search(html).group(1))]


@pytest.mark.parametrize("username", list(MENUS))
def test_each_role_is_offered_the_pages_it_works_with(demo_city, client, username):
    auth = Auth(client)
    auth.login(username)
    menu = _menu(client.get("/").get_data(as_text=True))
    assert [href for href, _current in menu] == MENUS[username]
    assert [href for href, current in menu if current] == ["/"]
    for href in MENUS[username]:
        assert client.get(href).status_code == 200, href


def test_the_section_shown_is_marked_and_a_grid_worker_is_not_offered_the_office_pages(
        demo_city, client):
    Auth(client).login("gridworker")
    html = client.get("/cases/new").get_data(as_text=True)
    assert [href for href, current in _menu(html) if current] == ["/cases/new"]
    assert "区域</a>" not in NAV.search(html).group(1)
    # Not in the menu, still open to the role's permission (a committee looked up from a case).
    assert client.get("/committees/").status_code == 200
