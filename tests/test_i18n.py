"""Chinese by default, English by a switch, and a complete compiled catalog."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "mediation" / "translations" / "zh" / "LC_MESSAGES"
METHODS = [("mediation/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _po():
    with open(CATALOG / "messages.po", "rb") as handle:
        return read_po(handle)


def test_chinese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in html
    assert "用户名" in html and "密码" in html


def test_switch_to_english_and_back(client, auth):
    auth.post("/language", {"lang": "en", "next": "/login"}, form_url="/login")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Username" in html
    auth.post("/language", {"lang": "zh", "next": "/login"}, form_url="/login")
    assert "用户名" in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client, auth):
    auth.post("/language", {"lang": "xx", "next": "/login"}, form_url="/login")
    assert "用户名" in client.get("/login").get_data(as_text=True)


def test_validation_messages_are_in_chinese(client, auth):
    response = auth.post("/login", {"username": "", "password": ""})
    assert "必填" in response.get_data(as_text=True)


def test_every_string_in_the_code_is_in_the_catalog():
    catalog = _po()
    missing = sorted({
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT, METHODS, OPTIONS, KEYWORDS,
            # Babel skips folders starting with "_" by default: templates/_macros has strings.
            directory_filter=lambda path: not Path(path).name.startswith("."))
        if (message if isinstance(message, str) else message[0]) not in catalog
    })
    assert missing == [], "run `make translations` and translate these"


def test_every_entry_is_translated_and_compiled():
    catalog = _po()
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = read_mo(handle)
    stale = [m.id for m in catalog if m.id and compiled.get(m.id) is None
             or (m.id and compiled.get(m.id).string != m.string)]
    assert stale == [], "run `pybabel compile -d mediation/translations`"
