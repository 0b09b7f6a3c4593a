"""Writing a run's results: the JSON contract, the output folder, the per-replication CSV. Writes are atomic.

The transaction log is :mod:`engine.transactions`; the folder of a run as it goes, :mod:`engine.run_folder`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.errors import OutputError
from engine.metrics import METRIC_NAMES
from engine.runner import RunResult


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: Path, target: Path) -> None:
    """Give a finished temporary file ordinary permissions and rename it onto ``target``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


def run_summary(name: str, result: RunResult) -> dict[str, Any]:
    """The JSON object of ``siyu run --format json`` and ``summary.json``."""
    breakdown = {
        dimension: {
            group: {metric: summary.as_json() for metric, summary in metrics.items()}
            for group, metrics in groups.items()
        }
        for dimension, groups in result.breakdown_summary().items()
    }
    return {
        "scenario": name,
        "reps": result.reps,
        "seed": result.seed,
        "metrics": {metric: summary.as_json() for metric, summary in result.summary().items()},
        "breakdown": breakdown,
    }


def dumps_json(data: Any) -> str:
    """JSON with no NaN or Infinity (a non-finite number is a bug upstream: fail loudly)."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)


def dumps_compact_json(data: Any) -> str:
    """JSON on one line without spaces (large figure data: ``series.json``); no NaN or Infinity either."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def prepare_output_dir(path: Path, force: bool) -> Path:
    """Create ``path``; refuse an existing non-empty folder unless ``force``."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(
            f"{path}: folder exists and is not empty; use --force to overwrite its results, "
            "or choose another --out"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{path}: cannot create the output folder ({error.strerror})") from error
    return path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _publish(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: Path, text: str) -> None:
    """Write UTF-8 text to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def replications_csv(result: RunResult) -> str:
    """One row per replication, one column per metric (empty cell: undefined)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["replication", *METRIC_NAMES])
    for replication in result.replications:
        row = [replication.metrics[name] for name in METRIC_NAMES]
        writer.writerow([replication.index, *("" if v is None else repr(v) for v in row)])
    return buffer.getvalue()
