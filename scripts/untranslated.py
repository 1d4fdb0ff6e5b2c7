"""List the catalog entries still to translate (empty or fuzzy), for `make translations`."""

import sys
from pathlib import Path

from babel.messages.pofile import read_po

po = Path(__file__).resolve().parent.parent / "mediation/translations/zh/LC_MESSAGES/messages.po"
with po.open("rb") as handle:
    catalog = read_po(handle)
todo = [m for m in catalog if m.id and (not m.string or m.fuzzy)]
for message in todo:
    print(f"{'fuzzy ' if message.fuzzy else ''}{message.id!r} -> {message.string!r}")
sys.exit(1 if todo else 0)
