"""Fixtures for the calibration tests: the CDNOW sample that ``lifetimes`` ships, as an order export.

CDNOW sample (origin and licence: README, "siyu calibrate"): 6 919 purchases of 2 357 customers who first
bought at the online CD store CDNOW in the first quarter of 1997, followed to the end of June 1998; the data
of Fader, Hardie & Lee (2005), distributed by Bruce Hardie and shipped in ``lifetimes/datasets/`` (an
MIT-licensed package). The tests read it from the installed package; it is not copied into this repository.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.calibration import Calibration, CalibrationRequest, calibrate
from engine.calibrate.reading import Columns

CDNOW_CALIBRATION_END = "1997-09-30"
"""FHL's calibration period: 39 weeks from 1997-01-01; the holdout is the next 39 weeks."""


def lifetimes_dataset(name: str) -> Path:
    """A data file of the installed ``lifetimes`` package (found without importing the package)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "the test extra installs lifetimes"
    return Path(spec.submodule_search_locations[0]) / "datasets" / name


def import_lifetimes() -> ModuleType:
    """The ``lifetimes`` package (2020), the independent implementation the fits are checked against; its
    import warns about pandas options that pandas 3 deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes

    return lifetimes


@pytest.fixture(scope="session")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt as a CSV order export: customer_id, date (YYYYMMDD), cds, amount."""
    raw = pd.read_csv(
        lifetimes_dataset("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
    )
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw[["customer_id", "date", "cds", "amount"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def cdnow_reference() -> pd.DataFrame:
    """Per-customer x, t_x, T (weeks) and mean repeat spend as published with the data (2 decimals)."""
    return pd.read_csv(lifetimes_dataset("cdnow_customers_summary_with_transactions.csv"))


@pytest.fixture(scope="session")
def cdnow(cdnow_csv: Path) -> Calibration:
    """BG/NBD and Gamma-Gamma on CDNOW, in weeks, calibration to 1997-09-30 (FHL's setting)."""
    return calibrate(CalibrationRequest(cdnow_csv, Columns(), calibration_end=CDNOW_CALIBRATION_END))


def summary_arrays(calibration: Calibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = calibration.summary
    return s.frequency.astype(np.float64), s.recency, s.age
