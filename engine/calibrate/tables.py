"""Terminal tables of a calibration (rich), labelled in Chinese and English."""

from __future__ import annotations

import math

from rich.table import Table

from engine.calibrate.calibration import MODEL_TITLES, Calibration
from engine.calibrate.estimation import Fit
from engine.calibrate.fragment import engine_buying, engine_price
from engine.errors import CalibrationError

TRACKING_ROWS = 12
"""Weeks shown in the tracking table (the JSON has every week)."""


def data_table(calibration: Calibration) -> Table:
    """What was read and who is in the cohort."""
    summary, occasions = calibration.summary, calibration.occasions
    table = Table(title=f"数据 data — {calibration.request.path}", title_justify="left", show_header=False)
    table.add_column("what", no_wrap=True)
    table.add_column("value")
    first, last = summary.first_purchase_range
    rows = [
        ("交易 transactions", f"{occasions.transactions:,} rows (dates: {calibration.log.dates.format})"),
        ("购买 purchase occasions", f"{occasions.day.size:,} (a customer's transactions on one day are one)"),
        (
            "客户 customers (cohort)",
            f"{summary.customers:,}, first purchase {calibration.label(first)} to {calibration.label(last)}",
        ),
        (
            "复购客户 repeat customers",
            f"{int(summary.repeaters.sum()):,} bought again in the calibration period",
        ),
        ("校准期 calibration period", f"to {calibration.label(summary.calibration_end_day)}"),
        (
            "验证期 holdout",
            f"to {calibration.label(summary.observation_end_day)} ({summary.holdout_length:.1f} "
            f"{summary.unit.value}s)"
            if summary.holdout_length > 0
            else "none (give --calibration-end)",
        ),
    ]
    if summary.late_customers:
        rows.append(
            ("不在队列 left out", f"{summary.late_customers:,} customers whose first purchase is later")
        )
    if occasions.returns:
        rows.append(
            (
                "退货 returns",
                f"{occasions.returns:,} rows ({occasions.returned_amount:,.2f}) — {occasions.treatment.value}"
                + (
                    f"; {occasions.unmatched_returns:,} with no earlier purchase dropped"
                    if occasions.unmatched_returns
                    else ""
                )
                + (
                    f"; {occasions.fully_returned:,} purchases fully returned"
                    if occasions.fully_returned
                    else ""
                ),
            )
        )
    for row in rows:
        table.add_row(*row)
    return table


def parameters_table(calibration: Calibration) -> Table:
    """Every fitted parameter with its standard error and 95% CI."""
    unit = calibration.summary.unit.value
    table = Table(title="参数 parameters (maximum likelihood, 95% CI)", title_justify="left")
    for name, justify in (
        ("模型 model", "left"),
        ("参数 parameter", "left"),
        ("估计 estimate", "right"),
        ("标准误 SE", "right"),
        ("95% CI", "right"),
        ("说明 note", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    notes = {
        "r": "purchase-rate shape",
        "alpha": f"purchase-rate scale ({unit}s)",
        "a": "dropout beta a",
        "b": "dropout beta b",
        "s": "lifetime shape",
        "beta": f"lifetime scale ({unit}s)",
        "p": "spend shape per purchase",
        "q": "spend heterogeneity shape",
        "gamma": "spend scale (money)",
    }
    for fit, title in (
        (calibration.buying, MODEL_TITLES[calibration.request.model]),
        (calibration.spend, "Gamma-Gamma"),
    ):
        _add_fit(table, fit, title, notes)
    return table


def _add_fit(table: Table, fit: Fit, title: str, notes: dict[str, str]) -> None:
    for i, p in enumerate(fit.parameters):
        note = notes[p.name] + (" — at the search bound: not identified" if p.at_bound else "")
        table.add_row(
            title if i == 0 else "",
            p.name,
            f"{p.estimate:.4g}",
            f"{p.se:.3g}",
            f"{p.ci_low:.4g} – {p.ci_high:.4g}",
            note,
        )
    converged = "" if fit.converged else "; did NOT converge"
    table.add_row(
        "",
        "log L",
        f"{fit.log_likelihood:,.1f}",
        "",
        "",
        f"{fit.customers:,} customers, AIC {fit.aic:,.1f}{converged}",
    )


def histogram_table(calibration: Calibration) -> Table:
    """Calibration-period repeat purchases, actual against expected."""
    h = calibration.histogram
    test = (
        f"chi-square {h.chi_square:.2f} on {h.degrees_of_freedom} df, p = {h.p_value:.3f}"
        if h.chi_square is not None
        else "too few customers per bin for a chi-square test"
    )
    table = Table(
        title=f"复购次数分布 repeat purchases in the calibration period — {test}", title_justify="left"
    )
    table.add_column("复购 repeat purchases", justify="right")
    table.add_column("实际 actual", justify="right")
    table.add_column("期望 expected", justify="right")
    for label, actual, expected in zip(h.labels, h.actual, h.expected, strict=True):
        table.add_row(label, f"{actual:,}", f"{expected:,.1f}")
    return table


def tracking_table(calibration: Calibration) -> Table:
    """Cumulative repeat purchases at some weeks (the JSON has each week)."""
    t = calibration.tracking
    table = Table(
        title="累计复购 cumulative repeat purchases by week (all weeks: --format json)", title_justify="left"
    )
    table.add_column("周 week", justify="right")
    table.add_column("实际 actual", justify="right")
    table.add_column("期望 expected", justify="right")
    table.add_column("", justify="left")
    step = max(1, -(-t.week.size // TRACKING_ROWS))
    end_row = min(max(math.ceil(t.calibration_end_week) - 1, 0), t.week.size - 1)
    shown = sorted({*range(step - 1, t.week.size, step), t.week.size - 1, end_row})
    for i in shown:
        mark = "calibration ends in this week" if i == end_row else ""
        table.add_row(str(t.week[i]), f"{t.actual[i]:,}", f"{t.expected[i]:,.1f}", mark)
    return table


def holdout_table(calibration: Calibration) -> Table | None:
    """Holdout purchases by calibration frequency, actual against conditional expectation."""
    h = calibration.holdout
    if h is None:
        return None
    title = (
        f"验证期 holdout ({h.length:.1f} {calibration.summary.unit.value}s): {h.actual_total:,} purchases, "
        f"expected {h.expected_total:,.1f}; per customer MAE {h.mean_absolute_error:.3f}, "
        f"correlation {h.correlation:.3f}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("校准期复购 calibration repeats", justify="right")
    table.add_column("客户 customers", justify="right")
    table.add_column("实际均值 actual mean", justify="right")
    table.add_column("期望均值 expected mean", justify="right")
    for row in h.by_frequency:
        table.add_row(row.label, f"{row.customers:,}", f"{row.actual_mean:.3f}", f"{row.expected_mean:.3f}")
    return table


def engine_lines(calibration: Calibration) -> list[str]:
    """The fit in the engine's terms (or why there is none), and the spend check."""
    lines = [f"spend vs frequency: {calibration.independence.message}"]
    try:
        buying = engine_buying(calibration)
    except CalibrationError as reason:
        return [*lines, f"engine: no fragment for this model — {reason}"]
    price = engine_price(calibration)
    lines += [
        f"engine: behaviour.purchase_rate gamma(shape {buying.shape:.4g}, rate {buying.rate_days:.4g} days); "
        f"behaviour.dropout beta(a {buying.a:.4g}, b {buying.b:.4g}); membership and deal-seeker rate "
        "multipliers 1 (the fitted rates are the data's customers' as they were)",
        f"engine: product price lognormal(mean {price.mean:,.2f}, sd {price.sd:,.2f}) "
        + (
            "(Gamma-Gamma moments)"
            if price.source == "gamma_gamma"
            else "(the data's: Gamma-Gamma's variance is infinite)"
        ),
    ]
    return lines
