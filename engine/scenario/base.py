"""Building blocks shared by every part of the scenario schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Identifier = str
ID_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
MAX_DAYS = 3650.0
MAX_MONEY = 1e9


class Frozen(BaseModel):
    """Base of every scenario section: immutable, unknown keys rejected, field docstrings kept."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Label(Frozen):
    """A display name in Chinese and English."""

    zh: str = Field(default="", max_length=80)
    """Chinese label, e.g. 企业微信."""
    en: str = Field(default="", max_length=80)
    """English label, e.g. WeCom."""


class Named(Frozen):
    """An item of a list that other sections refer to by ``id``; variants merge such lists by ``id``."""

    id: Identifier = Field(pattern=ID_PATTERN)
    """Lower-case letters, digits and underscores, starting with a letter; other sections refer to it."""
    label: Label = Label()
    """Display names in Chinese and English (defaults to the id)."""


__all__ = ["ID_PATTERN", "MAX_DAYS", "MAX_MONEY", "Frozen", "Identifier", "Label", "Named"]
