"""Text a person typed comes back as text, never as markup: labels and form errors built
with it, read with an HTML parser (the browser crawl in test_browser_hostile.py does every
page; these are the quick checks of the holes found before)."""

import ast
from html.parser import HTMLParser
from pathlib import Path

import pytest
from agreements_helpers import full_person
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import Auth

from mediation.agreements import operations
from mediation.cases.states import CaseState
from mediation.extensions import db

MARK = "data-pwned"
META = f'<meta {MARK} http-equiv="refresh" content="0;url=/verify?pwned=1">'
IMG = f'"><img {MARK} src=x onerror=alert(1)>'
SVG = f"<svg/{MARK}/onload=alert(1)>"  # one word: the accounts form splits codes at spaces
PACKAGE = Path(__file__).resolve().parent.parent / "mediation"


class Page(HTMLParser):
    """The elements of a page, and the text of each element with an id or a ``for``."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str]] = []  # (tag, key) of the elements being read
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        key = attrs.get("id") or (f"for:{attrs['for']}" if "for" in attrs else None)
        if key:
            self._open.append((tag, key))
            self.texts[key] = ""

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for _tag, key in self._open:
            self.texts[key] += data

    def injected(self) -> list[tuple[str, dict]]:
        return [(tag, attrs) for tag, attrs in self.tags if MARK in attrs]


def _login(app, username: str) -> Auth:
    auth = Auth(app.test_client())
    assert auth.login(username).status_code == 302
    return auth


def test_a_party_name_in_the_responsibility_label_stays_text(demo_city):
    mediator = user("mediator")
    case = make_case(mediator, grid=area("370599001001-01"), parties=[
        full_person(applicant, META), full_person(respondent, IMG)])
    walk_to(case, CaseState.IN_MEDIATION, mediator)
    case.handler = mediator
    agreement = operations.start_draft(mediator, case)
    ids = [entry.party_id for entry in agreement.parties]
    db.session.commit()

    response = _login(demo_city, "mediator").client.get(f"/agreements/{agreement.id}")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.injected() == []
    assert META in page.texts[f"for:responsibility_{ids[0]}"]
    assert IMG in page.texts[f"for:responsibility_{ids[1]}"]


@pytest.mark.parametrize(("url", "field", "code"), [
    ("/committees/new", "area_code", META),
    ("/courts/new", "area_code", IMG),
    ("/admin/users/new", "area_codes", SVG),
], ids=["committee", "court", "account"])
def test_a_typed_area_code_comes_back_as_text_in_the_error(demo_city, url, field, code):
    auth = _login(demo_city, "admin")
    response = auth.post(url, {field: code, "name": IMG, "username": "x"})
    assert response.status_code == 200  # sent back with its errors
    page = Page(response.get_data(as_text=True))
    assert page.injected() == []
    assert code in page.texts[f"{field}-error"]
    tag, attrs = next((tag, attrs) for tag, attrs in page.tags if attrs.get("id") == field)
    typed = attrs["value"] if tag == "input" else page.texts[field]
    assert typed.strip() == code  # and in the box, as typed


def test_only_the_escaping_lazy_gettext_is_used():
    """flask_babel's lazy strings declare themselves safe markup: every module takes
    ``lazy_gettext`` from mediation.core.i18n, which escapes, and only it makes them."""
    lazy = {"lazy_gettext", "lazy_ngettext", "lazy_pgettext", "lazy_npgettext"}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "core" / "i18n.py":
            continue
        name = path.relative_to(PACKAGE)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_babel"):
                offenders += [f"{name}:{node.lineno} {alias.name}" for alias in node.names
                              if alias.name in lazy or alias.name == "*"]
            elif isinstance(node, ast.Attribute) and node.attr in lazy \
                    and ast.unparse(node.value).startswith("flask_babel"):
                offenders.append(f"{name}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.Call) and "LazyString" in ast.unparse(node.func):
                offenders.append(f"{name}:{node.lineno} LazyString(…)")
    assert offenders == []
