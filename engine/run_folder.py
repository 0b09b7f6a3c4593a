"""A run's ``--out`` folder, written as the run goes so that an interrupted run loses nothing.

Layout::

    run.json                         what was run: scenario file and the hash of its resolved form, seed,
                                     reps, transactions, Siyu version (written first)
    resolved.yaml                    the scenario with every default filled
    replications/rep-00017.json      a finished replication's metrics and figure data (engine.series),
                                     written atomically as it finishes
    replications/rep-00017.parquet   its purchases (with --transactions), written before its .json
    replications.csv                 when every replication has finished ...
    transactions.parquet             ... (with --transactions: the parts joined in replication order) ...
    series.json                      ... the figure data summarised over replications (for the report) ...
    summary.json                     ... and last: its presence marks a complete run
    index.html, summary.csv/.xlsx    the report and exports, written by the CLI from the files above
                                     (:mod:`reports`; ``siyu report DIR`` writes them again)

A resumed run (:meth:`RunFolder.resume`) runs only the replications without a ``.json`` (or whose ``.json``
is damaged: unreadable, or not the metrics and breakdown this scenario produces); since a replication's
result depends only on (seed, index), the final files equal an uninterrupted run's byte for byte. The
``replications/`` folder is removed once the final files are written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from engine.errors import ExecutionError, OutputError, ScenarioError
from engine.metrics import DIMENSION_METRICS, METRIC_NAMES
from engine.output import (
    atomic_path,
    dumps_compact_json,
    dumps_json,
    prepare_output_dir,
    replications_csv,
    write_text_atomic,
)
from engine.runner import Outcome, Replication, RunResult
from engine.scenario import LoadedScenario, Scenario, load_scenario, resolved_yaml
from engine.series import is_replication_series
from engine.transactions import join_parts, write_part

MANIFEST = "run.json"
RESOLVED = "resolved.yaml"
SUMMARY = "summary.json"
REPLICATIONS_CSV = "replications.csv"
TRANSACTIONS = "transactions.parquet"
SERIES = "series.json"
CHECKPOINTS = "replications"
REPORT_FILES = ("index.html", "summary.csv", "summary.xlsx")
"""Files the CLI writes from a finished run's results (the report and the exports, :mod:`reports`)."""
# summary first: never stale-complete
_RESULT_FILES = (SUMMARY, REPLICATIONS_CSV, TRANSACTIONS, SERIES, *REPORT_FILES, MANIFEST)
MAX_REPS = 100_000
"""The most replications of a run (as ``siyu run --reps``)."""
MAX_SEED = 2**63 - 1
"""The largest root seed (as ``siyu run --seed``)."""


def siyu_version() -> str:
    """The installed Siyu's version ("unknown" when it runs from a source tree without being installed)."""
    try:
        return version("siyu")
    except PackageNotFoundError:
        return "unknown"


SIYU_VERSION = siyu_version()
_CHECKPOINT_KEYS = ("index", "metrics", "breakdown", "series")
_CHECKPOINT = re.compile(r"rep-(\d{5,})\.(json|parquet)|\..*\.tmp")


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario: equal hashes, equal scenarios (defaults and ``extends`` applied)."""
    return hashlib.sha256(resolved_yaml(scenario).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a run folder holds the results of (``run.json``)."""

    scenario_file: str
    """The scenario file, as an absolute path."""
    scenario_sha256: str
    """:func:`scenario_hash` of the scenario when the run started."""
    seed: int
    reps: int
    transactions: bool
    siyu_version: str = SIYU_VERSION

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest in ``path``; :class:`ExecutionError` saying what is wrong if it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except (OSError, ValueError, TypeError, RecursionError) as error:
            raise ExecutionError(f"{path}: cannot be read as a run manifest ({error})") from None
        for name, valid, expected in (
            ("scenario_file", isinstance(manifest.scenario_file, str), "a string"),
            ("scenario_sha256", isinstance(manifest.scenario_sha256, str), "a string"),
            ("seed", _whole_number(manifest.seed, 0, MAX_SEED), f"a whole number from 0 to {MAX_SEED}"),
            ("reps", _whole_number(manifest.reps, 1, MAX_REPS), f"a whole number from 1 to {MAX_REPS}"),
            ("transactions", isinstance(manifest.transactions, bool), "true or false"),
            ("siyu_version", isinstance(manifest.siyu_version, str), "a string"),
        ):
            if not valid:
                value = json.dumps(getattr(manifest, name), ensure_ascii=False)
                raise ExecutionError(
                    f"{path}: cannot be read as a run manifest ({name} is {value}; it must be {expected})"
                )
        return manifest


def _whole_number(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


class RunFolder:
    """The output folder of one run; create it with :meth:`create` or :meth:`resume`."""

    def __init__(self, path: Path, manifest: Manifest, scenario: Scenario) -> None:
        self.path = path
        self.manifest = manifest
        self.scenario = scenario
        self.checkpoints = path / CHECKPOINTS

    @classmethod
    def create(
        cls, path: Path, loaded: LoadedScenario, reps: int, seed: int, transactions: bool, force: bool
    ) -> RunFolder:
        """Start a run in ``path``; a non-empty folder needs ``force`` (then its earlier results go)."""
        if not force and (path / MANIFEST).is_file() and not (path / SUMMARY).exists():
            raise OutputError(
                f"{path}: holds an interrupted run; finish it with `siyu run --resume {path}`, "
                "or use --force to start over"
            )
        prepare_output_dir(path, force)
        folder = cls(
            path,
            Manifest(str(loaded.path.resolve()), scenario_hash(loaded.scenario), seed, reps, transactions),
            loaded.scenario,
        )
        for name in _RESULT_FILES:
            (path / name).unlink(missing_ok=True)
        folder._remove_checkpoints()
        write_text_atomic(path / RESOLVED, resolved_yaml(loaded.scenario))
        write_text_atomic(path / MANIFEST, dumps_json(asdict(folder.manifest)) + "\n")
        return folder

    @classmethod
    def resume(cls, path: Path) -> tuple[RunFolder, Scenario]:
        """Reopen the run in ``path``, refusing when its scenario file changed since the run started."""
        if not path.is_dir():
            raise ExecutionError(f"--resume {path}: no such folder")
        if not (path / MANIFEST).is_file():
            raise ExecutionError(
                f"--resume {path}: not a siyu run folder (no {MANIFEST}); give the --out folder of a "
                "`siyu run` that was interrupted"
            )
        manifest = Manifest.read(path / MANIFEST)
        if manifest.siyu_version != SIYU_VERSION:
            raise ExecutionError(
                f"--resume {path}: the run was started by Siyu {manifest.siyu_version}, this is "
                f"{SIYU_VERSION}; results could differ, so start a new run"
            )
        scenario = _scenario_of(path, manifest)
        return cls(path, manifest, scenario), scenario

    @property
    def complete(self) -> bool:
        """Every replication has finished and the final files are written."""
        return (self.path / SUMMARY).is_file()

    def summary_text(self) -> str:
        """``summary.json`` of a complete run."""
        return (self.path / SUMMARY).read_text(encoding="utf-8")

    def finished(self) -> dict[int, Replication]:
        """The replications kept so far (a damaged or incomplete one is left out, to be run again)."""
        if not self.checkpoints.is_dir():
            return {}
        names = {entry.name for entry in self.checkpoints.iterdir()}
        shape = breakdown_shape(self.scenario)
        kept = {}
        for index in range(self.manifest.reps):
            if f"rep-{index:05d}.json" not in names:
                continue
            if self.manifest.transactions and f"rep-{index:05d}.parquet" not in names:
                continue
            replication = _read_replication(self._checkpoint(index, "json"), index, shape)
            if replication is not None:
                kept[index] = replication
        return kept

    def save(self, outcome: Outcome) -> None:
        """Keep one finished replication (its purchases first: the .json marks it complete)."""
        index = outcome.replication.index
        self.checkpoints.mkdir(exist_ok=True)
        if outcome.purchases is not None:
            with atomic_path(self._checkpoint(index, "parquet")) as tmp:
                write_part(outcome.purchases, tmp)
        data = {key: getattr(outcome.replication, key) for key in _CHECKPOINT_KEYS}
        write_text_atomic(self._checkpoint(index, "json"), json.dumps(data, ensure_ascii=False))

    def finish(self, result: RunResult, summary: dict[str, Any]) -> None:
        """Write the final files (``summary.json`` last) and drop the per-replication files."""
        write_text_atomic(self.path / REPLICATIONS_CSV, replications_csv(result))
        if self.manifest.transactions:
            parts = [self._checkpoint(index, "parquet") for index in range(result.reps)]
            with atomic_path(self.path / TRANSACTIONS) as tmp:
                join_parts(parts, tmp)
        series = result.series_summary()
        if series is not None:
            write_text_atomic(self.path / SERIES, dumps_compact_json(series) + "\n")
        write_text_atomic(self.path / SUMMARY, dumps_json(summary) + "\n")
        self._remove_checkpoints()

    def _checkpoint(self, index: int, suffix: str) -> Path:
        return self.checkpoints / f"rep-{index:05d}.{suffix}"

    def _remove_checkpoints(self) -> None:
        """Remove this run's per-replication files (and the folder, unless someone put other files there)."""
        if not self.checkpoints.is_dir():
            return
        for entry in self.checkpoints.iterdir():
            if _CHECKPOINT.fullmatch(entry.name) and entry.is_file():
                entry.unlink()
        if not any(self.checkpoints.iterdir()):
            self.checkpoints.rmdir()


def _scenario_of(path: Path, manifest: Manifest) -> Scenario:
    """The scenario the run started with: from its file if it is still there (and unchanged), else from
    the folder's ``resolved.yaml``."""
    original = Path(manifest.scenario_file)
    if original.is_file():
        try:
            loaded = load_scenario(original)
        except ScenarioError as error:
            raise ExecutionError(
                f"--resume {path}: {original} changed since the run started and no longer loads:\n{error}"
            ) from None
        source, scenario = original, loaded.scenario
    else:
        source = path / RESOLVED
        scenario = load_scenario(source).scenario
    if scenario_hash(scenario) != manifest.scenario_sha256:
        raise ExecutionError(
            f"--resume {path}: {source} changed since the run started, and results of two scenarios must "
            f"not be mixed; restore it, or start a new run (siyu run {original} --out NEW_FOLDER)"
        )
    return scenario


BreakdownShape = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
"""Per breakdown dimension, in order: its groups and the metrics of each group, in order."""


def breakdown_shape(scenario: Scenario) -> BreakdownShape:
    """The groups and metrics of a replication's breakdown of ``scenario`` (as
    :func:`engine.metrics.compute_breakdown` makes it)."""
    groups = {
        "source": scenario.sources,
        "lure": scenario.lures,
        "carrier": scenario.carriers,
        "campaign": scenario.campaigns,
        "tier": scenario.tiers,
    }
    return {
        dimension: (tuple(item.id for item in groups[dimension]), tuple(info.name for info in metrics))
        for dimension, metrics in DIMENSION_METRICS.items()
    }


def _read_replication(path: Path, index: int, shape: BreakdownShape) -> Replication | None:
    """Replication ``index`` as saved in ``path``; None if the file is damaged: unreadable, or not the
    metrics and breakdown (every name, in order, each value a number or null) that ``shape`` asks for, and
    figure data."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or list(data) != list(_CHECKPOINT_KEYS):
        return None
    metrics, breakdown = data["metrics"], data["breakdown"]
    well_formed = (
        type(data["index"]) is int
        and data["index"] == index
        and _is_row(metrics, METRIC_NAMES)
        and is_replication_series(data["series"])
        and isinstance(breakdown, dict)
        and list(breakdown) == list(shape)
        and all(
            isinstance(breakdown[dimension], dict)
            and list(breakdown[dimension]) == list(groups)
            and all(_is_row(row, names) for row in breakdown[dimension].values())
            for dimension, (groups, names) in shape.items()
        )
    )
    return Replication(index, metrics, breakdown, data["series"]) if well_formed else None


def _is_row(row: object, names: tuple[str, ...]) -> bool:
    """``row`` maps exactly ``names`` (in order) to numbers or None."""
    return (
        isinstance(row, dict)
        and list(row) == list(names)
        and all(value is None or type(value) in (int, float) for value in row.values())
    )
