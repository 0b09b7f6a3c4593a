"""A run's ``--out`` folder, written as the run goes so that an interrupted run loses nothing.

Layout::

    run.json                         what was run: scenario file and the hash of its resolved form, seed,
                                     reps, transactions, Siyu version (written first)
    resolved.yaml                    the scenario with every default filled
    replications/rep-00017.json      a finished replication's metrics, written atomically as it finishes
    replications/rep-00017.parquet   its purchases (with --transactions), written before its .json
    replications.csv                 when every replication has finished ...
    transactions.parquet             ... (with --transactions: the parts joined in replication order) ...
    summary.json                     ... and last: its presence marks a complete run

A resumed run (:meth:`RunFolder.resume`) runs only the replications without a ``.json``; since a
replication's result depends only on (seed, index), the final files equal an uninterrupted run's byte for
byte. The ``replications/`` folder is removed once the final files are written.
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
from engine.output import (
    atomic_path,
    dumps_json,
    prepare_output_dir,
    replications_csv,
    write_text_atomic,
)
from engine.runner import Outcome, Replication, RunResult
from engine.scenario import LoadedScenario, Scenario, load_scenario, resolved_yaml
from engine.transactions import join_parts, write_part

MANIFEST = "run.json"
RESOLVED = "resolved.yaml"
SUMMARY = "summary.json"
REPLICATIONS_CSV = "replications.csv"
TRANSACTIONS = "transactions.parquet"
CHECKPOINTS = "replications"
_RESULT_FILES = (SUMMARY, REPLICATIONS_CSV, TRANSACTIONS, MANIFEST)  # summary first: never stale-complete


def siyu_version() -> str:
    """The installed Siyu's version ("unknown" when it runs from a source tree without being installed)."""
    try:
        return version("siyu")
    except PackageNotFoundError:
        return "unknown"


SIYU_VERSION = siyu_version()
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
            valid = (
                isinstance(manifest.scenario_file, str)
                and isinstance(manifest.scenario_sha256, str)
                and type(manifest.seed) is int
                and type(manifest.reps) is int
                and manifest.reps >= 1
                and isinstance(manifest.transactions, bool)
                and isinstance(manifest.siyu_version, str)
            )
        except (OSError, ValueError, TypeError) as error:
            raise ExecutionError(f"{path}: cannot be read as a run manifest ({error})") from None
        if not valid:
            raise ExecutionError(f"{path}: cannot be read as a run manifest (a field has the wrong type)")
        return manifest


class RunFolder:
    """The output folder of one run; create it with :meth:`create` or :meth:`resume`."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
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
        return cls(path, manifest), _scenario_of(path, manifest)

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
        kept = {}
        for index in range(self.manifest.reps):
            if f"rep-{index:05d}.json" not in names:
                continue
            if self.manifest.transactions and f"rep-{index:05d}.parquet" not in names:
                continue
            replication = _read_replication(self._checkpoint(index, "json"), index)
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
        data = {key: getattr(outcome.replication, key) for key in ("index", "metrics", "breakdown")}
        write_text_atomic(self._checkpoint(index, "json"), json.dumps(data, ensure_ascii=False))

    def finish(self, result: RunResult, summary: dict[str, Any]) -> None:
        """Write the final files (``summary.json`` last) and drop the per-replication files."""
        write_text_atomic(self.path / REPLICATIONS_CSV, replications_csv(result))
        if self.manifest.transactions:
            parts = [self._checkpoint(index, "parquet") for index in range(result.reps)]
            with atomic_path(self.path / TRANSACTIONS) as tmp:
                join_parts(parts, tmp)
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


def _read_replication(path: Path, index: int) -> Replication | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        replication = Replication(data["index"], data["metrics"], data["breakdown"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return replication if replication.index == index else None
