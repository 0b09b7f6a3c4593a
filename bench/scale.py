"""Replications per second on 1, 2 and N local worker processes (N: every core), and parallel efficiency.

    .venv/bin/python bench/scale.py                                  # retail scenario, 32 replications
    .venv/bin/python bench/scale.py --reps 32 --workers 1 2 4
    .venv/bin/python bench/scale.py --scenario scenarios/examples/seed004_retained.yaml

Prints one JSON line ``{"workers": [..], "reps_per_s": [..], "efficiency": [..], ...}`` where efficiency
is speed-up over one worker divided by workers. One worker runs in this process (what ``--workers 1``
does); more workers are a fresh process pool each, and the time includes starting it. Exits 1 if the
worker counts disagree on any replication's metrics (they must be identical).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.execution import Executor, ProcessExecutor, SerialExecutor, default_workers
from engine.output import replications_csv
from engine.runner import run
from engine.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "retail_store_wecom.yaml"


def measure(scenario_path: Path, reps: int, seed: int, workers: list[int]) -> dict[str, object]:
    scenario = load_scenario(scenario_path).scenario
    seconds: list[float] = []
    tables: set[str] = set()
    for count in workers:
        executor: Executor = SerialExecutor() if count == 1 else ProcessExecutor(count)
        started = time.perf_counter()
        with executor:
            result = run(scenario, reps, seed, executor=executor)
        seconds.append(time.perf_counter() - started)
        tables.add(replications_csv(result))
        print(f"{count} workers: {seconds[-1]:.2f} s", file=sys.stderr)
    if len(tables) != 1:
        print("worker counts disagree on the replications' metrics", file=sys.stderr)
        raise SystemExit(1)
    rates = [reps / s for s in seconds]
    base = rates[workers.index(1)] if 1 in workers else None
    return {
        "workers": workers,
        "reps_per_s": [round(r, 3) for r in rates],
        "efficiency": [
            None if base is None else round(r / base / w, 3) for r, w in zip(rates, workers, strict=True)
        ],
        "seconds": [round(s, 2) for s in seconds],
        "reps": reps,
        "scenario": str(scenario_path),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--reps", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", help="worker counts (default: 1, 2 and every core)")
    options = parser.parse_args()
    workers = sorted(set(options.workers or [1, 2, default_workers()]))
    print(json.dumps(measure(options.scenario, options.reps, options.seed, workers)))


if __name__ == "__main__":  # worker processes import this file again: run only as a script
    main()
