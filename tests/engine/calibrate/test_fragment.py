"""The scenario fragment: fitted numbers in the engine's units, commented, and loadable with ``extends:``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.calibrate.calibration import Calibration, ModelName
from engine.calibrate.fragment import CALIBRATED_PRODUCT, engine_buying, write_fragment
from engine.errors import CalibrationError
from engine.scenario import load_scenario
from engine.scenario.schema import Gamma, LogNormal

ROOT = Path(__file__).resolve().parents[3]
RETAIL = ROOT / "scenarios" / "retail_store_wecom.yaml"

VARIANT = """\
extends: {fragment}
meta: {{name: "CDNOW buyers"}}
horizon: {{acquisition_days: 84, horizon_days: 273, clv_horizon_days: 189}}
sources:
  - {{id: stores, arrivals: fixed, reach: {{organic_per_day: 20}}, first_purchase_probability: 1}}
"""


def test_fragment_is_the_base_of_a_scenario(cdnow: Calibration, tmp_path: Path) -> None:
    fragment = tmp_path / "cdnow_buyers.yaml"
    text = write_fragment(cdnow, fragment)
    assert fragment.read_text(encoding="utf-8") == text
    variant = tmp_path / "plan.yaml"
    variant.write_text(VARIANT.format(fragment=fragment.name), encoding="utf-8")
    scenario = load_scenario(variant).scenario
    behaviour = scenario.behaviour
    values = cdnow.buying.values
    assert isinstance(behaviour.purchase_rate, Gamma)
    assert behaviour.purchase_rate.shape == pytest.approx(values["r"], rel=1e-5)
    assert behaviour.purchase_rate.rate == pytest.approx(7 * values["alpha"], rel=1e-5)  # weeks → days
    assert behaviour.dropout.a == pytest.approx(values["a"], rel=1e-5)  # type: ignore[union-attr]
    assert behaviour.dropout.b == pytest.approx(values["b"], rel=1e-5)  # type: ignore[union-attr]
    assert behaviour.membership_rate_multiplier == 1 and behaviour.deal_seeker_rate_multiplier == 1
    (product,) = scenario.products
    assert product.id == CALIBRATED_PRODUCT and isinstance(product.price, LogNormal)
    spend = cdnow.spend.values
    assert product.price.mean_value == pytest.approx(spend["p"] * spend["gamma"] / (spend["q"] - 1), rel=1e-5)
    assert product.price.sd == pytest.approx(cdnow.spend_model.purchase_value_sd(), rel=1e-5)


def test_fragment_says_where_each_number_comes_from(cdnow: Calibration, tmp_path: Path) -> None:
    text = write_fragment(cdnow, tmp_path / "f.yaml")
    for needed in (
        "cdnow.csv",
        "6,919 transactions",
        "2,357 customers",
        "1997-01-01",
        "1997-09-30",
        "holdout to 1998-06-30",
        "BG/NBD by maximum likelihood in weeks",
        "log-likelihood -9582.4",
        "Gamma-Gamma",
        "× 7 =",
        "Not kept",
    ):
        assert needed in text, needed
    lines = text.splitlines()
    for key in ("purchase_rate:", "dropout:", "membership_rate_multiplier:", "price:"):
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(key))
        assert lines[at - 1].strip().startswith("#"), f"{key} has no comment above it"
    assert "95% CI" in lines[next(i for i, line in enumerate(lines) if "purchase_rate:" in line) - 1]


def test_fragment_extending_a_shipped_scenario(cdnow: Calibration, tmp_path: Path) -> None:
    fragment = tmp_path / "retail_calibrated.yaml"
    write_fragment(cdnow, fragment, base=RETAIL)
    data = YAML(typ="safe").load(fragment.read_text(encoding="utf-8"))
    assert (fragment.parent / data["extends"]).resolve() == RETAIL.resolve()
    base = load_scenario(RETAIL).scenario
    scenario = load_scenario(fragment).scenario  # complete on its own
    assert [p.id for p in scenario.products] == [p.id for p in base.products]
    for calibrated, original in zip(scenario.products, base.products, strict=True):
        assert isinstance(calibrated.price, LogNormal)
        assert calibrated.price.mean_value == pytest.approx(cdnow.spend_model.mean_purchase_value(), rel=1e-5)
        assert calibrated.unit_cost_share == original.unit_cost_share  # the base's cost structure is kept
    assert scenario.sources == base.sources


def test_no_fragment_for_pareto_nbd(cdnow: Calibration) -> None:
    pareto = dataclasses.replace(cdnow, request=dataclasses.replace(cdnow.request, model=ModelName.paretonbd))
    with pytest.raises(CalibrationError, match="Pareto/NBD's dropout is a lifetime clock in calendar time"):
        engine_buying(pareto)


def test_bad_base(cdnow: Calibration, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("meta: {name: x}\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"--base .*broken\.yaml: not a valid scenario"):
        write_fragment(cdnow, tmp_path / "f.yaml", base=broken)
    assert not (tmp_path / "f.yaml").exists()
