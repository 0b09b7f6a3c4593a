"""The scenarios a playground offers: every ``*.yaml`` under a folder (its subfolders included)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import ScenarioError
from engine.scenario import Scenario, load_scenario
from playground.errors import PlaygroundError


@dataclass(frozen=True)
class Entry:
    """One scenario the trainer can pick."""

    key: str
    """Its file relative to the folder, without ``.yaml`` (``examples/seed002_ads``): the page's id for it."""
    path: Path
    scenario: Scenario


@dataclass(frozen=True)
class Catalogue:
    """The valid scenarios of a folder, in file order, and the files that did not load (with why)."""

    root: Path
    entries: tuple[Entry, ...]
    problems: tuple[str, ...]
    """One message per file that is not a valid scenario (shown at start-up and on the page)."""

    def get(self, key: str) -> Entry:
        """The scenario called ``key``; a :class:`PlaygroundError` lists the known ones otherwise."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        known = ", ".join(entry.key for entry in self.entries)
        raise PlaygroundError(f"scenario '{key}': not in {self.root}; known scenarios: {known}", "scenario")


def load_catalogue(root: Path) -> Catalogue:
    """Load every ``*.yaml`` under ``root`` (sorted: the folder's own files first, then subfolders').

    Raises:
        PlaygroundError: ``root`` is not a folder, or holds no valid scenario.
    """
    if not root.exists():
        raise PlaygroundError(
            f"{root}: no such folder; give a folder of scenario YAML files (e.g. scenarios/)"
        )
    if not root.is_dir():
        raise PlaygroundError(
            f"{root}: not a folder; give the folder that holds the scenario files (e.g. scenarios/), "
            "not a single file"
        )
    files = sorted(root.rglob("*.yaml"), key=lambda path: (len(path.relative_to(root).parts), str(path)))
    entries: list[Entry] = []
    problems: list[str] = []
    for file in files:
        try:
            scenario = load_scenario(file).scenario
        except ScenarioError as error:
            problems.append(str(error))
            continue
        key = file.relative_to(root).with_suffix("").as_posix()
        entries.append(Entry(key, file, scenario))
    if not entries:
        found = f"{len(files)} YAML files, none valid" if files else "no *.yaml files"
        raise PlaygroundError(f"{root}: no scenario to show ({found}); give a folder of scenario files")
    return Catalogue(root, tuple(entries), tuple(problems))
