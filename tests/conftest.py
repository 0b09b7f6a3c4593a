"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import pytest

MINIMAL_SCENARIO_YAML = """\
meta:
  name: Minimal
sources:
  - id: douyin
products:
  - id: tea
"""


@pytest.fixture(scope="session")
def minimal_scenario_yaml() -> str:
    """The text of the smallest valid scenario file: a name, one source, one product."""
    return MINIMAL_SCENARIO_YAML
