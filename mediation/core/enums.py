"""Enums whose members carry a translated title for display."""

import enum

from flask_babel import LazyString

# Each enum's titles, made once: lazy strings are translated when shown, in the reader's
# language, so one dict serves every request (a list page asks for hundreds of titles).
_TITLES: dict[type, dict] = {}


class TitledEnum(enum.StrEnum):
    """A string enum; subclasses define ``__titles__`` mapping members to lazy strings."""

    @property
    def title(self) -> LazyString | str:
        titles = _TITLES.get(type(self))
        if titles is None:
            titles = _TITLES[type(self)] = type(self).__titles__()
        return titles.get(self, self.value)

    @classmethod
    def __titles__(cls) -> dict:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, LazyString | str]]:
        return [(member.value, member.title) for member in cls]
