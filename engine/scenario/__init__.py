"""Scenario files: the schema, YAML loading with ``extends:`` inheritance, and clear errors."""

from engine.scenario.loading import LoadedScenario, load_scenario, resolved_yaml
from engine.scenario.schema import Scenario

__all__ = ["LoadedScenario", "Scenario", "load_scenario", "resolved_yaml"]
