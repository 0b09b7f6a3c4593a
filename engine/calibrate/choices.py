"""The choices a calibration is asked for (model, time unit, treatment of returns): light enough for the
command line to import without the fitting code and its data libraries."""

from __future__ import annotations

from enum import StrEnum


class ModelName(StrEnum):
    """The purchase/dropout model to fit."""

    bgnbd = "bgnbd"
    paretonbd = "paretonbd"


class TimeUnit(StrEnum):
    """The unit the models are fitted in."""

    day = "day"
    week = "week"

    @property
    def days(self) -> float:
        return 1.0 if self is TimeUnit.day else 7.0


class Returns(StrEnum):
    """What to do with negative amounts."""

    error = "error"
    net = "net"
    drop = "drop"
