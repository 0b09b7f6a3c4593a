"""Speed of ``siyu calibrate``'s fits against ``lifetimes`` (an independent implementation) on the same data.

Workload: the engine simulates N organic buyers (BG/NBD with r = 0.6, α = 25 days, a = 1.2, b = 5; each
arrives over 180 days, buys on arrival and is followed to day 540; lognormal spend), and writes their
purchases as a Parquet transaction log (``tests/engine/calibrate/buyers.py``, the data of the engine-loop
tests). Then, in this one process:

1. ``calibrate_s``: the whole ``calibrate()`` of Siyu — read the log, build each customer's frequency,
   recency, age and spend, fit BG/NBD and Gamma-Gamma with standard errors, and compute the histogram,
   weekly tracking and holdout checks;
2. ``bgnbd_s`` / ``lifetimes_bgnbd_s``: the BG/NBD fit alone, Siyu's and ``lifetimes.BetaGeoFitter`` on
   the same (x, t_x, T);
3. ``gamma_gamma_s`` / ``lifetimes_gamma_gamma_s``: the same for Gamma-Gamma.

It prints one JSON line with the times, the ratios ``lifetimes / siyu`` and the largest relative
difference between the two implementations' estimates, and exits 1 if that exceeds 1e-3.

Run from the project root: ``.venv/bin/python bench/calibration_speed.py --customers 100000``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.calibrate import bgnbd, gamma_gamma
from engine.calibrate.calibration import CalibrationRequest, calibrate
from engine.calibrate.customers import TimeUnit
from engine.calibrate.reading import Columns
from tests.engine.calibrate.buyers import HORIZON, write_buyers_log

T = TypeVar("T")
AGREEMENT = 1e-3


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """``work()`` and the wall seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241125)
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes (2020) warns about pandas options pandas 3 deprecated
        import lifetimes

    with tempfile.TemporaryDirectory() as folder:
        log = write_buyers_log(Path(folder) / "transactions.parquet", args.customers, args.seed)
        request = CalibrationRequest(
            log,
            Columns(("customer_id",), "day", "amount"),
            unit=TimeUnit.week,
            observation_end=str(HORIZON),
        )
        result, calibrate_s = timed(lambda: calibrate(request))

    summary = result.summary
    x, t_x, age = summary.frequency.astype(np.float64), summary.recency, summary.age
    ours_bg, bgnbd_s = timed(lambda: bgnbd.fit(summary))
    theirs_bg, lifetimes_bgnbd_s = timed(lambda: lifetimes.BetaGeoFitter().fit(x, t_x, age))
    spend_x, spend = gamma_gamma.spend_customers(summary)[:2]
    ours_gg, gamma_gamma_s = timed(lambda: gamma_gamma.fit(summary, "bench"))
    theirs_gg, lifetimes_gamma_gamma_s = timed(
        lambda: lifetimes.GammaGammaFitter().fit(pd.Series(spend_x), pd.Series(spend))
    )
    differences = [abs(ours_bg.values[n] / theirs_bg.params_[n] - 1) for n in bgnbd.NAMES]
    differences += [
        abs(ours_gg.values[n] / theirs_gg.params_[m] - 1) for n, m in (("p", "p"), ("q", "q"), ("gamma", "v"))
    ]
    report = {
        "customers": summary.customers,
        "purchases": int(result.occasions.day.size),
        "calibrate_s": round(calibrate_s, 3),
        "bgnbd_s": round(bgnbd_s, 3),
        "lifetimes_bgnbd_s": round(lifetimes_bgnbd_s, 3),
        "bgnbd_speedup": round(lifetimes_bgnbd_s / bgnbd_s, 2),
        "gamma_gamma_s": round(gamma_gamma_s, 3),
        "lifetimes_gamma_gamma_s": round(lifetimes_gamma_gamma_s, 3),
        "gamma_gamma_speedup": round(lifetimes_gamma_gamma_s / gamma_gamma_s, 2),
        "max_relative_difference": float(f"{max(differences):.2e}"),
        "estimates": {
            **{k: round(v, 4) for k, v in ours_bg.values.items()},
            **{k: round(v, 4) for k, v in ours_gg.values.items()},
        },
    }
    print(json.dumps(report))
    if max(differences) > AGREEMENT:
        print(f"estimates differ from lifetimes by {max(differences):.2e} > {AGREEMENT}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
