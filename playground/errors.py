"""Errors of the playground: bad input from the page, said so the trainer can fix it."""

from __future__ import annotations

from engine.errors import SiyuError


class PlaygroundError(SiyuError):
    """A request the playground cannot serve (an unknown scenario, a bad slider value, a bad folder).

    ``field`` is the lever path the problem belongs to (the page shows the message next to that slider), or
    None when it concerns the request as a whole.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
