"""Language selection: Simplified Chinese unless the person switched to English."""

from flask import current_app, has_request_context, session


def select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """The BCP 47 tag for <html lang>, so screen readers and fonts pick the right script."""
    return "zh-Hans-CN" if locale.startswith("zh") else locale
