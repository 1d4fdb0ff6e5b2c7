"""Errors that operations raise for the caller to show to a person."""


class OperationError(Exception):
    """A rule refused the change; ``message`` is already translated for the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(OperationError):
    """The acting user may not do this."""
