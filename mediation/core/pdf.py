"""PDF documents: a Jinja template in templates/pdf/ rendered by WeasyPrint.

The URL fetcher loads nothing from outside the app (no files, no network): documents
carry their styles inline and images as data: URIs.  The Chinese text needs a real
Song (serif) font from fontconfig; without one we say which package to install rather
than print a PDF full of empty boxes.
"""

import shutil
import subprocess
from functools import cache

from flask import render_template
from flask_babel import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from mediation.core.errors import OperationError

# Serif CJK families, best first; fonts-noto-cjk provides the first on Debian/Ubuntu.
SERIF_FAMILIES = ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Serif SC",
                  "AR PL UMing CN", "SimSun", "Songti SC")
FONT_PACKAGE = "fonts-noto-cjk"


class MissingFont(OperationError):
    """No Chinese serif font is installed: the PDF would show empty boxes."""


@cache
def serif_family() -> str | None:
    """The first installed Chinese serif family, as fontconfig knows it."""
    if shutil.which("fc-list") is None:
        return None
    listing = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True,
                             text=True, check=False).stdout
    installed = {name.strip() for line in listing.splitlines() for name in line.split(",")}
    return next((family for family in SERIF_FAMILIES if family in installed), None)


def require_font() -> str:
    family = serif_family()
    if family is None:
        raise MissingFont(_("No Chinese serif font is installed, so the PDF cannot be made. "
                            "Ask the administrator to install the %(package)s package "
                            "(sudo apt-get install %(package)s).", package=FONT_PACKAGE))
    return family


def inside_only_fetcher() -> URLFetcher:
    """Only data: URIs; a document that asks for a file or a web address gets nothing."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def render_pdf(template: str, *, title: str, **context) -> bytes:
    """Render ``templates/pdf/<template>`` to PDF bytes, A4, with the serif CJK font."""
    family = require_font()
    html = render_template(f"pdf/{template}", font_family=family, title=title, **context)
    return HTML(string=html, url_fetcher=inside_only_fetcher()).write_pdf()
