"""BG/NBD, Pareto/NBD and Gamma-Gamma against the published CDNOW estimates and against ``lifetimes``.

Published values: Fader, Hardie & Lee (2005), "Counting your customers the easy way" (BG/NBD on the 2 357
CDNOW customers, weeks: r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood −9 582.4) and
"RFM and CLV" (Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74, γ = 15.44; correlation of spend and
frequency 0.11); Fader & Hardie's note on the Pareto/NBD (r = 0.553, α = 10.578, s = 0.606, β = 11.669,
log-likelihood −9 595.0). ``lifetimes`` 0.11.3 is the independent implementation (its own likelihoods,
autograd Hessians for the standard errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.calibrate import bgnbd, gamma_gamma, paretonbd
from engine.calibrate.calibration import Calibration, CalibrationRequest, ModelName, calibrate
from engine.calibrate.reading import Columns
from tests.engine.calibrate.conftest import CDNOW_CALIBRATION_END, import_lifetimes, summary_arrays


def test_bgnbd_published_cdnow_estimates(cdnow: Calibration) -> None:
    values = cdnow.buying.values
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert values[name] == pytest.approx(published, abs=0.0015), name
    assert cdnow.buying.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert cdnow.buying.converged


def test_bgnbd_against_lifetimes(cdnow: Calibration) -> None:
    lifetimes = import_lifetimes()
    x, t_x, age = summary_arrays(cdnow)
    reference = lifetimes.BetaGeoFitter().fit(x, t_x, age)
    for p in cdnow.buying.parameters:
        assert p.estimate == pytest.approx(reference.params_[p.name], rel=2e-4), p.name
        # delta-method SE from a finite-difference Hessian against autograd's exact one
        assert p.se == pytest.approx(reference.standard_errors_[p.name], rel=2e-3), p.name
    model = bgnbd.BGNBD.from_fit(cdnow.buying)
    reference.params_ = pd.Series(cdnow.buying.values)
    t = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        model.expected_repeat_purchases(t), reference.expected_number_of_purchases_up_to_time(t), rtol=1e-9
    )
    np.testing.assert_allclose(
        model.conditional_expected_purchases(39.0, x, t_x, age),
        reference.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, age),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age), reference.conditional_probability_alive(x, t_x, age), rtol=1e-9
    )
    probabilities = model.purchase_count_probabilities(np.array([39.0]), 6)[0]
    expected = [reference.probability_of_n_purchases_up_to_time(39.0, k) for k in range(6)]
    np.testing.assert_allclose(probabilities, expected, rtol=1e-9)


def test_bgnbd_count_probabilities_are_a_distribution_with_the_right_mean() -> None:
    model = bgnbd.BGNBD(r=0.8, alpha=5.0, a=2.0, b=5.0)
    t = np.array([0.0, 5.0, 52.0])
    probabilities = model.purchase_count_probabilities(t, 400)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(probabilities @ np.arange(400), model.expected_repeat_purchases(t), rtol=1e-9)


def test_paretonbd_published_cdnow_estimates_and_lifetimes(cdnow_csv) -> None:
    fit = calibrate(
        CalibrationRequest(
            cdnow_csv, Columns(), calibration_end=CDNOW_CALIBRATION_END, model=ModelName.paretonbd
        )
    )
    values = fit.buying.values
    # β is weakly identified (SE ≈ 6): the published 11.669 and lifetimes' 11.667 sit within 0.01 of ours
    for name, published, tolerance in (
        ("r", 0.553, 0.001),
        ("alpha", 10.578, 0.005),
        ("s", 0.606, 0.001),
        ("beta", 11.669, 0.01),
    ):
        assert values[name] == pytest.approx(published, abs=tolerance), name
    assert fit.buying.log_likelihood == pytest.approx(-9595.0, abs=0.05)
    lifetimes = import_lifetimes()
    x, t_x, age = summary_arrays(fit)
    reference = lifetimes.ParetoNBDFitter()
    reference.params_ = pd.Series(values)
    model = paretonbd.ParetoNBD.from_fit(fit.buying)
    params = np.array([values["r"], values["alpha"], values["s"], values["beta"]])
    theirs = -reference._negative_log_likelihood(params, x, t_x, age, np.ones_like(x), 0.0)  # a total
    assert paretonbd.log_likelihood(params, x, t_x, age) == pytest.approx(theirs, rel=1e-10)
    t = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(
        model.expected_repeat_purchases(t), reference.expected_number_of_purchases_up_to_time(t), rtol=1e-9
    )
    np.testing.assert_allclose(
        model.conditional_expected_purchases(39.0, x, t_x, age),
        reference.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, age),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age), reference.conditional_probability_alive(x, t_x, age), rtol=1e-8
    )


def test_paretonbd_count_probabilities_against_simulation() -> None:
    """P(X(t) = x) by quadrature against 400 000 simulated Pareto/NBD customers (4 standard errors)."""
    model = paretonbd.ParetoNBD(r=0.55, alpha=10.6, s=0.6, beta=11.7)
    rng = np.random.default_rng(5)
    n, t = 400_000, 39.0
    rate = rng.gamma(model.r, 1 / model.alpha, n)
    lifetime = rng.exponential(1 / rng.gamma(model.s, 1 / model.beta, n))
    counts = rng.poisson(rate * np.minimum(lifetime, t))
    simulated = np.bincount(counts, minlength=6)[:6] / n
    theory = model.purchase_count_probabilities(np.array([t]), 6)[0]
    se = np.sqrt(theory * (1 - theory) / n)
    assert np.all(np.abs(simulated - theory) < 4 * se), (simulated, theory)
    full = model.purchase_count_probabilities(np.array([t]), 3000)[0]
    assert full.sum() == pytest.approx(1.0, abs=1e-6)
    assert full @ np.arange(3000) == pytest.approx(
        model.expected_repeat_purchases(np.array([t]))[0], rel=1e-4
    )


def test_gamma_gamma_published_cdnow_estimates_and_lifetimes(cdnow: Calibration) -> None:
    values = cdnow.spend.values
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert values[name] == pytest.approx(published, abs=0.01), name
    assert cdnow.spend.customers == 946
    lifetimes = import_lifetimes()
    x, spend, _ = gamma_gamma.spend_customers(cdnow.summary)
    reference = lifetimes.GammaGammaFitter().fit(x, spend)
    for name, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert values[name] == pytest.approx(reference.params_[theirs], rel=2e-4), name
    model = cdnow.spend_model
    np.testing.assert_allclose(
        model.conditional_expected_spend(x, spend),
        reference.conditional_expected_average_profit(pd.Series(x), pd.Series(spend)),
        rtol=1e-4,
    )
    check = cdnow.independence
    assert check.correlation == pytest.approx(0.11, abs=0.005)
    assert check.verdict == "weakly correlated"


def test_gamma_gamma_purchase_moments_against_simulation() -> None:
    """One purchase of a random customer: mean pγ/(q−1) and the closed-form sd, against 10^6 draws."""
    model = gamma_gamma.GammaGamma(p=6.25, q=3.74, gamma=15.44)
    rng = np.random.default_rng(11)
    nu = rng.gamma(model.q, 1 / model.gamma, 1_000_000)
    z = rng.gamma(model.p, 1 / nu)
    assert z.mean() == pytest.approx(model.mean_purchase_value(), abs=4 * z.std() / 1000)
    # the sd's sampling error is wide for this heavy tail (4th moment finite only for q > 4): 2% is ~4 SE
    assert z.std() == pytest.approx(model.purchase_value_sd(), rel=0.02)
    assert gamma_gamma.GammaGamma(p=2, q=1.5, gamma=3).purchase_value_sd() == np.inf


def test_independence_verdicts() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(1, 10, 2000)
    assert gamma_gamma.independence_check(x, rng.gamma(5, 10, 2000)).verdict == "independent"
    correlated = gamma_gamma.independence_check(x, 10 * x + rng.gamma(5, 10, 2000))
    assert correlated.verdict == "correlated" and "biased" in correlated.message


def test_independence_untestable_when_constant() -> None:
    check = gamma_gamma.independence_check(np.full(50, 2), np.linspace(10, 20, 50))
    assert check.verdict == "untestable" and "same frequency" in check.message
