"""The scenario fragment: the fitted buying behaviour and spend as YAML that a scenario ``extends:``.

Every number is commented with where it came from (file, date range, fit, confidence interval). The mapping
to the engine:

* **Buying (BG/NBD).** ``behaviour.purchase_rate`` is gamma(shape r, rate α) in days — a fit in weeks has
  α_days = 7 α_weeks (a rate λ per week is λ/7 per day) — and ``behaviour.dropout`` is beta(a, b), dropout
  after each repeat purchase: the engine's buying is BG/NBD exactly.
* **Membership.** The data's customers bought at the rates they had, members or not, so the fitted rates
  already include whatever membership they had. The fragment sets ``membership_rate_multiplier`` (and the
  deal-seekers' ``deal_seeker_rate_multiplier``) to 1, so the simulated buyers buy like the data's whether
  or not they join. The comment says how to restore a lift k for a base that was a share m members.
* **Pareto/NBD** has a lifetime clock in calendar time, which the engine does not have; it gets no fragment
  (:class:`~engine.errors.CalibrationError`), only its fit for comparison.
* **Spend (Gamma-Gamma)** has a per-customer mean spend; the engine's products draw each purchase's amount
  independently. The fragment gives the price a lognormal with the mean and standard deviation of one
  purchase of a random customer under the fitted Gamma-Gamma (pγ/(q−1) and its variance, finite for q > 2;
  otherwise those of the data's repeat purchases, and it says so). That keeps revenue per purchase and its
  spread, not the persistence of a customer's spend level (so the top-20% revenue share is understated).
* **Parameters the data do not pin down** (at the search bound, or no standard error) are still written,
  under a ``# WARNING`` line that names them (:func:`unidentified_warning`; the CLI says it on stderr too).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from engine.calibrate.calibration import MODEL_TITLES, Calibration
from engine.calibrate.choices import ModelName
from engine.errors import CalibrationError, ScenarioError
from engine.output import atomic_path
from engine.scenario import load_scenario
from engine.scenario.schema import Behaviour, Product

CALIBRATED_PRODUCT = "calibrated"
"""Id of the product the fragment defines when it has no base scenario."""


@dataclass(frozen=True)
class EngineBuying:
    """The fitted buying behaviour in the engine's units (days)."""

    shape: float
    rate_days: float
    a: float
    b: float


@dataclass(frozen=True)
class EnginePrice:
    """The price distribution a product gets, and how it was chosen."""

    mean: float
    sd: float
    source: str
    """'gamma_gamma' (the fit's moments) or 'data' (the repeat purchases', when the fit's are infinite)."""


def engine_buying(calibration: Calibration) -> EngineBuying:
    """The BG/NBD fit in days.

    Raises:
        CalibrationError: the fit is Pareto/NBD, which the engine's buying cannot express.
    """
    if calibration.request.model is not ModelName.bgnbd:
        raise CalibrationError(pareto_refusal())
    values = calibration.buying.values
    return EngineBuying(
        shape=values["r"],
        rate_days=values["alpha"] * calibration.summary.unit.days,
        a=values["a"],
        b=values["b"],
    )


def pareto_refusal() -> str:
    return (
        "--out with --model paretonbd: the engine's buyers drop out after a purchase (BG/NBD), while "
        "Pareto/NBD's dropout is a lifetime clock in calendar time, which no scenario setting expresses; "
        "fit --model bgnbd for a fragment (compare the two fits' log-likelihoods and holdout errors)"
    )


def engine_price(calibration: Calibration) -> EnginePrice:
    """Lognormal price moments: the Gamma-Gamma fit's, or the data's when the fit's are infinite."""
    model = calibration.spend_model
    mean, sd = model.mean_purchase_value(), model.purchase_value_sd()
    if math.isfinite(mean) and math.isfinite(sd):
        return EnginePrice(mean, sd, "gamma_gamma")
    amounts = calibration.repeat_amounts[calibration.repeat_amounts > 0]
    return EnginePrice(float(np.mean(amounts)), float(np.std(amounts, ddof=1)), "data")


def _number(value: float) -> str:
    return f"{value:.6g}"


def _ci(calibration: Calibration, name: str, scale: float = 1.0) -> str:
    p = calibration.buying[name] if name in calibration.buying.values else calibration.spend[name]
    return f"{p.estimate * scale:.4g} (95% CI {p.ci_low * scale:.4g}–{p.ci_high * scale:.4g})"


def fragment_text(calibration: Calibration, out: Path, base: Path | None = None) -> str:
    """The fragment's YAML text (see the module docstring).

    Args:
        calibration: the fit.
        out: where it will be written (``extends`` is relative to it).
        base: a scenario the fragment extends, or None for a fragment without ``extends``.
    """
    buying = engine_buying(calibration)
    price = engine_price(calibration)
    summary, occasions = calibration.summary, calibration.occasions
    unit = summary.unit.value
    title = MODEL_TITLES[calibration.request.model]
    period = (
        f"first purchases {calibration.label(summary.first_purchase_range[0])} to "
        f"{calibration.label(summary.first_purchase_range[1])}, calibration period to "
        f"{calibration.label(summary.calibration_end_day)}"
    )
    if summary.holdout_length > 0:
        period += f", holdout to {calibration.label(summary.observation_end_day)}"
    spend = calibration.spend_model
    check = calibration.independence
    lines = [
        "# Siyu calibration fragment (私域 校准片段), written by `siyu calibrate` on "
        f"{dt.date.today().isoformat()}.",
        f"# Data: {calibration.request.path.name} — {occasions.transactions:,} transactions, "
        f"{occasions.day.size:,} purchase occasions, {summary.customers:,} customers in the cohort;",
        f"#   {period}.",
        f"# Buying: {title} by maximum likelihood in {unit}s, {summary.customers:,} customers, "
        f"log-likelihood {calibration.buying.log_likelihood:.1f}.",
        f"# Spend: Gamma-Gamma on {calibration.spend.customers:,} repeat buyers' mean spend "
        f"(p = {_ci(calibration, 'p')}, q = {_ci(calibration, 'q')}, γ = {_ci(calibration, 'gamma')}); "
        f"spend vs frequency: {check.verdict} (r = {check.correlation:.2f}).",
        *_unidentified_lines(calibration),
        "# Use: give a scenario `extends: "
        + out.name
        + "` and state the rest (sources, carriers, ...) there;",
        "#   with --base the fragment itself extends that scenario and is complete.",
    ]
    if base is not None:
        relative = os.path.relpath(base.resolve(), out.parent.resolve())
        lines.append(f"extends: {relative}")
    lines += [
        "behaviour:",
        f"  # BG/NBD purchase rate per day: r = {_ci(calibration, 'r')}; α = {_ci(calibration, 'alpha')} "
        f"in {unit}s, × {summary.unit.days:g} = {buying.rate_days:.4g} days",
        f"  purchase_rate: {{dist: gamma, shape: {_number(buying.shape)}, "
        f"rate: {_number(buying.rate_days)}}}",
        f"  # BG/NBD dropout after each repeat purchase: a = {_ci(calibration, 'a')}, "
        f"b = {_ci(calibration, 'b')}",
        f"  dropout: {{dist: beta, a: {_number(buying.a)}, b: {_number(buying.b)}}}",
        "  timing: poisson",
        "  # 1: the fitted rates are the data's customers' as they were, members or not. To model a",
        "  # membership lift k instead, on data where a share m of customers were members: multiply",
        "  # purchase_rate.rate by (1 + m(k − 1)) and set this to k.",
        "  membership_rate_multiplier: 1",
        "  # 1: deal-seekers are among the data's customers already; their rates are in the fit.",
        "  deal_seeker_rate_multiplier: 1",
    ]
    if price.source == "gamma_gamma":
        origin = (
            f"Gamma-Gamma's spend of one purchase: mean pγ/(q−1) = {price.mean:.4g}, "
            f"sd {price.sd:.4g} (q > 2)"
        )
    else:
        origin = (
            f"Gamma-Gamma's q = {spend.q:.3g} ≤ 2 gives one purchase an infinite variance, so the data's "
            f"{calibration.repeat_amounts.size:,} repeat purchases: mean {price.mean:.4g}, sd {price.sd:.4g}"
        )
    price_lines = [
        f"    # {origin}.",
        "    # Kept: spend per purchase (mean and spread). Not kept: a customer's own spend level across",
        "    # purchases (the engine draws each purchase's amount afresh), so revenue concentration is",
        "    # understated.",
        f"    price: {{dist: lognormal, mean: {_number(price.mean)}, sd: {_number(price.sd)}}}",
    ]
    lines.append("products:")
    if base is None:
        lines += [f"  - id: {CALIBRATED_PRODUCT}", "    role: core", *price_lines]
    else:
        for product in _base_products(base):
            lines += [f"  - id: {product}", *price_lines]
    return "\n".join(lines) + "\n"


def unidentified_warning(calibration: Calibration) -> str | None:
    """What the data leave undetermined (parameters at the search bound or without a standard error), or
    None."""
    names = [
        f"{fit.model} {', '.join(fit.unidentified)}"
        for fit in (calibration.buying, calibration.spend)
        if fit.unidentified
    ]
    if not names:
        return None
    return (
        f"the data do not pin down {'; '.join(names)} (at the search bound or no standard error): the "
        "estimates are where the likelihood runs off to, not measurements; check the histogram and holdout "
        "fit before using them"
    )


def _unidentified_lines(calibration: Calibration) -> list[str]:
    warning = unidentified_warning(calibration)
    return [] if warning is None else [f"# WARNING: {warning}."]


def _base_products(base: Path) -> list[str]:
    try:
        loaded = load_scenario(base)
    except ScenarioError as error:
        raise CalibrationError(f"--base {base}: not a valid scenario:\n{error}") from None
    return [product.id for product in loaded.scenario.products]


def write_fragment(calibration: Calibration, out: Path, base: Path | None = None) -> str:
    """Write the fragment to ``out`` (atomically) after checking that it loads; return its text.

    With ``base`` the fragment is a complete scenario and is loaded as one; without, its behaviour and
    product are validated against the scenario schema.

    Raises:
        CalibrationError: the fragment would not load (a fitted value outside the schema's range) or cannot
            be written.
    """
    text = fragment_text(calibration, out, base)
    data = YAML(typ="safe").load(text)
    try:
        Behaviour.model_validate(data["behaviour"])
        for product in data["products"]:
            Product.model_validate(product)
    except ValueError as error:
        raise CalibrationError(
            f"--out {out}: the fitted values do not fit the scenario schema: {error}"
        ) from None
    try:
        with atomic_path(out) as temporary:
            temporary.write_text(text, encoding="utf-8")
            if base is not None:
                try:
                    load_scenario(temporary)
                except ScenarioError as error:
                    raise CalibrationError(
                        f"--out {out}: the fragment with its base does not load:\n{error}"
                    ) from None
    except OSError as error:
        raise CalibrationError(f"--out {out}: cannot write ({error.strerror or error})") from None
    return text
