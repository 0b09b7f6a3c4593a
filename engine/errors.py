"""The one exception hierarchy of Siyu; the CLI turns these into a message and exit code 2."""

from __future__ import annotations


class SiyuError(Exception):
    """Base of every error Siyu raises on purpose (bad input, impossible request)."""


class ScenarioError(SiyuError):
    """A scenario file cannot be read, merged or validated. The message is complete and user-facing."""


class OutputError(SiyuError):
    """An output folder cannot be written (exists and is not empty, not writable, ...)."""


class ExecutionError(SiyuError):
    """Replications cannot be run as asked: a bad executor option, an unreachable or unusable cluster, a
    run folder that cannot be resumed."""


class CalibrationError(SiyuError):
    """A transaction log cannot be read or fitted as asked (``siyu calibrate``): the message names the file,
    the rows, the column, the value and what is allowed."""


class OptionError(SiyuError):
    """A command-line option has a value Siyu cannot use (the message names the option and what is
    allowed)."""
