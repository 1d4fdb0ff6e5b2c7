"""Language selection: Simplified Chinese unless the person switched to English."""

from flask import current_app, has_request_context, request, session
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import escape

# Machine clients say their language in Accept-Language; people choose it in the session.
HEADER_LANGUAGE_PREFIXES = ("/api/",)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if has_request_context() and request.path.startswith(HEADER_LANGUAGE_PREFIXES):
        return request.accept_languages.best_match(list(languages)) \
            or current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang") if has_request_context() else None
    if lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """The BCP 47 tag for <html lang>, so screen readers and fonts pick the right script."""
    return "zh-Hans-CN" if locale.startswith("zh") else locale


class _EscapedLazyString(LazyString):
    """A lazy translation that templates escape like any other text.

    Flask-Babel's LazyString declares itself safe markup (``__html__`` returns the plain
    text), so a label or message built with user data, ``_l("…%(name)s", name=party.name)``,
    would reach the page unescaped.
    """

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables) -> LazyString:
    """``flask_babel.lazy_gettext``, but escaped when rendered: import this one as ``_l``."""
    return _EscapedLazyString(gettext, string, **variables)


def sentences(*parts: str) -> str:
    """Translated sentences run together: Chinese puts no space after 。, English does."""
    from flask_babel import get_locale

    locale = get_locale()
    separator = "" if locale is not None and locale.language == "zh" else " "
    return separator.join(str(part) for part in parts if part)
