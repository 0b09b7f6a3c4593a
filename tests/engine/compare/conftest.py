"""Tiny scenarios for the comparison tests (a replication takes about 10 ms)."""

from __future__ import annotations

from pathlib import Path

import pytest

BASE_YAML = """\
meta: {name: Base}
horizon: {acquisition_days: 40, horizon_days: 100, clv_horizon_days: 40}
sources:
  - id: ads
    kind: paid
    spend_per_day: 200
    reach: {max_paid_per_day: 400, saturation_spend: 300}
    visit_rate: 0.1
    take_rate: 0.5
    first_purchase_probability: 0.3
    path: p
paths:
  - id: p
    carrier: wecom
carriers:
  - {id: wecom, kind: wecom, monthly_exit_rate: 0.05}
behaviour:
  purchase_rate: {dist: gamma, shape: 1.0, rate: 30}
  dropout: {dist: beta, a: 1, b: 6}
products:
  - id: tea
    price: {dist: lognormal, mean: 100, sd: 30}
    unit_cost_share: 0.5
"""

SHORT = "horizon: {acquisition_days: 20, horizon_days: 50, clv_horizon_days: 20}\n"

VARIANTS = {
    # one lever: a higher take rate (more members and customers from the same spend: lower CAC)
    "take.yaml": (
        "extends: base.yaml\nmeta: {name: Higher take rate}\nsources:\n  - {id: ads, take_rate: 0.6}\n"
    ),
    # the same lever, pushed further
    "take_more.yaml": (
        "extends: base.yaml\nmeta: {name: Much higher take rate}\nsources:\n  - {id: ads, take_rate: 0.8}\n"
    ),
    # the very same plan under another name
    "same.yaml": "extends: base.yaml\nmeta: {name: Same plan}\n",
    # the same plan in distribution, but its source has another id and so its own random streams
    "renamed.yaml": (
        "extends: base.yaml\nmeta: {name: Renamed source}\n"
        "sources:\n  - {id: ads, remove: true}\n"
        "  - id: ads_again\n    kind: paid\n    spend_per_day: 200\n"
        "    reach: {max_paid_per_day: 400, saturation_spend: 300}\n"
        "    visit_rate: 0.1\n    take_rate: 0.5\n    first_purchase_probability: 0.3\n    path: p\n"
    ),
    # short horizons, for the many runs of the coverage test
    "short.yaml": f"extends: base.yaml\n{SHORT}",
    "short_renamed.yaml": f"extends: renamed.yaml\n{SHORT}",
    "usd.yaml": "extends: base.yaml\nmeta: {name: In dollars, currency: USD}\n",
}


@pytest.fixture(scope="session")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Scenario files by stem: base, take, take_more, same, renamed, short, short_renamed, usd."""
    folder = tmp_path_factory.mktemp("plans")
    (folder / "base.yaml").write_text(BASE_YAML, encoding="utf-8")
    for name, text in VARIANTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return {path.stem: path for path in folder.glob("*.yaml")}
