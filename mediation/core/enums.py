"""Enums whose members carry a translated title for display."""

import enum

from flask_babel import LazyString


class TitledEnum(enum.StrEnum):
    """A string enum; subclasses define ``__titles__`` mapping members to lazy strings."""

    @property
    def title(self) -> LazyString | str:
        return type(self).__titles__().get(self, self.value)

    @classmethod
    def __titles__(cls) -> dict:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, LazyString | str]]:
        return [(member.value, member.title) for member in cls]
