"""The likelihoods' gradients, the standard errors, and numerical stability for heavy buyers and extreme
parameters (where scipy's ₂F₁ overflows or returns nan)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate

from engine.calibrate import bgnbd, gamma_gamma, paretonbd
from engine.calibrate.calibration import Calibration
from engine.calibrate.customers import CustomerSummary, TimeUnit
from tests.engine.calibrate.conftest import import_lifetimes

X = np.array([0.0, 1, 5, 50, 500, 5000])
T_X = np.array([0.0, 3, 40, 300, 360, 364.9])
AGE = np.full(6, 365.0)
"""From a one-off buyer to one who bought 5 000 times in a year (days)."""


def central_difference(
    function: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-6
) -> np.ndarray:
    """d function / d log θ by central differences."""
    out = np.empty(theta.size)
    for i in range(theta.size):
        up, down = np.log(theta), np.log(theta)
        up[i] += step
        down[i] -= step
        out[i] = (function(np.exp(up)) - function(np.exp(down))) / (2 * step)
    return out


@pytest.mark.parametrize(
    "parameters",
    [[0.243, 4.41, 0.793, 2.43], [1e-4, 1e-4, 1e-4, 1e-4], [1e4, 1e4, 1e4, 1e4], [50, 0.1, 0.01, 100]],
)
def test_bgnbd_gradient(parameters: list[float]) -> None:
    theta = np.array(parameters)
    analytic = bgnbd.gradient(theta, X, T_X, AGE) * theta
    numeric = central_difference(lambda p: bgnbd.log_likelihood(p, X, T_X, AGE), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("parameters", [[6.25, 3.74, 15.4], [1e-3, 1e-3, 1e-3], [1e3, 1e3, 1e3]])
def test_gamma_gamma_gradient(parameters: list[float]) -> None:
    theta = np.array(parameters)
    x, spend = np.array([1.0, 2, 3, 50, 500]), np.array([10.0, 20, 35, 100, 5000])
    analytic = gamma_gamma.gradient(theta, x, spend) * theta
    numeric = central_difference(lambda p: gamma_gamma.log_likelihood(p, x, spend), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


def test_gamma_gamma_standard_errors_against_lifetimes(cdnow: Calibration) -> None:
    lifetimes = import_lifetimes()
    x, spend, _ = gamma_gamma.spend_customers(cdnow.summary)
    reference = lifetimes.GammaGammaFitter().fit(x, spend)
    for ours, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert cdnow.spend[ours].se == pytest.approx(reference.standard_errors_[theirs], rel=1e-3), ours


def test_bgnbd_heavy_buyers_conditional_expectation() -> None:
    """A customer who bought 5 000 times in 365 days, the last just now: the expectation is finite (the
    untransformed equation 10 is inf × 0 there) and just under the purchase rate times the period."""
    model = bgnbd.BGNBD(r=0.243, alpha=4.41, a=0.793, b=2.43)
    expected = model.conditional_expected_purchases(30.0, X, T_X, AGE)
    assert np.all(np.isfinite(expected))
    ceiling = (model.r + X[-1]) / (model.alpha + AGE[-1]) * 30.0  # E[λ | history] × t, no dropout
    assert 0.9 * ceiling < expected[-1] < ceiling
    # where the untransformed equation is finite, the two agree
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, age, t = X[:4], T_X[:4], AGE[:4], 30.0
    z = t / (alpha + age + t)
    plain = (
        (a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (r + x) * bgnbd.hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0)
    np.testing.assert_allclose(expected[:4], plain / (1 + odds), rtol=1e-10)


def test_bgnbd_expectations_near_a_equal_one() -> None:
    """Equations 9 and 10 are 0/0 at a = 1: continuous across it, no division by zero."""
    t = np.array([10.0, 52.0])
    at_one = bgnbd.BGNBD(0.24, 4.4, 1.0, 2.4)
    for a in (1 - 1e-3, 1 + 1e-3):
        np.testing.assert_allclose(
            at_one.expected_repeat_purchases(t),
            bgnbd.BGNBD(0.24, 4.4, a, 2.4).expected_repeat_purchases(t),
            rtol=2e-3,
        )
    assert np.all(np.isfinite(at_one.conditional_expected_purchases(52.0, X, T_X, AGE)))


def a0_by_quad(parameters: list[float], x: float, t_x: float, age: float) -> float:
    """log A0 from its integral, by adaptive quadrature (the independent reference)."""
    r, alpha, s, beta = parameters
    power = r + s + x

    def log_integrand(tau: float) -> float:
        return -(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau)

    top = log_integrand(t_x)
    width = (alpha + t_x) / (power + 1)
    value, _ = integrate.quad(
        lambda tau: np.exp(log_integrand(tau) - top),
        t_x,
        age,
        epsabs=0,
        epsrel=1e-13,
        limit=500,
        points=[t_x + k * width for k in (1, 5, 20) if t_x + k * width < age],
    )
    return float(np.log(power) + top + np.log(value))


@pytest.mark.parametrize(
    "parameters",
    [
        [0.553, 10.58, 0.606, 11.67],
        [0.553, 11.67, 0.606, 10.58],
        [5.0, 1.0, 0.01, 1e4],
        [0.1, 0.01, 0.1, 100],
    ],
)
def test_paretonbd_a0_against_its_integral(parameters: list[float]) -> None:
    """log A0 against adaptive quadrature of the integral it stands for, heavy buyers included (where
    scipy's ₂F₁ returns nan for the last two parameter sets, the quadrature fallback answers)."""
    ours = paretonbd._log_a0(*parameters, X[1:], T_X[1:], AGE[1:])
    reference = [
        a0_by_quad(parameters, x, t_x, age) for x, t_x, age in zip(X[1:], T_X[1:], AGE[1:], strict=True)
    ]
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-9)
    direct = paretonbd._log_a0_quadrature(*parameters, X[1:], T_X[1:], AGE[1:])
    np.testing.assert_allclose(direct, reference, rtol=1e-10, atol=1e-9)
    assert np.isfinite(paretonbd.log_likelihood(np.array(parameters), X, T_X, AGE))


def pareto_nbd_customers(rng: np.random.Generator, n: int, truth: dict[str, float]) -> CustomerSummary:
    """n Pareto/NBD customers (weeks), first purchases spread over 12 weeks, observed to week 39."""
    age = 39.0 - rng.uniform(0, 12, n)
    rate = rng.gamma(truth["r"], 1 / truth["alpha"], n)
    active = np.minimum(rng.exponential(1 / rng.gamma(truth["s"], 1 / truth["beta"], n)), age)
    x = rng.poisson(rate * active)
    # the last of x uniform times in (0, active)
    t_x = np.where(x > 0, active * rng.uniform(size=n) ** (1 / np.maximum(x, 1)), 0.0)
    return CustomerSummary(
        unit=TimeUnit.week,
        customer=np.arange(n),
        frequency=x,
        recency=t_x,
        age=age,
        first_day=(39.0 - age) * 7,
        mean_spend=np.full(n, np.nan),
        holdout_purchases=np.zeros(n, dtype=np.int64),
        repeat_days=np.zeros(0),
        calibration_end_day=273.0,
        observation_end_day=273.0,
        first_purchase_range=(0.0, 84.0),
        late_customers=0,
    )


@pytest.mark.slow
def test_paretonbd_standard_errors_are_right_size() -> None:
    """lifetimes gives no Pareto/NBD standard errors, so they are checked by simulation: over 12 samples of
    3 000 customers, (log estimate − log truth) / se(log) has mean ≈ 0 and sd ≈ 1 for each parameter."""
    truth = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
    rng = np.random.default_rng(2024)
    scores = []
    for _ in range(12):
        fit = paretonbd.fit(pareto_nbd_customers(rng, 3000, truth))
        se_log = np.sqrt(np.diag(fit.log_covariance))
        scores.append([np.log(fit[name].estimate / true) for name, true in truth.items()] / se_log)
    z = np.array(scores)
    # 12 samples: SE of the mean 0.29, of the sd about 0.21
    assert np.all(np.abs(z.mean(axis=0)) < 1.0), z.mean(axis=0)
    assert np.all((z.std(axis=0, ddof=1) > 0.5) & (z.std(axis=0, ddof=1) < 1.6)), z.std(axis=0, ddof=1)


def test_bgnbd_expectations_when_a_and_b_run_off() -> None:
    """a, b in the hundred thousands (dropout p fixed near a/(a+b), a fit the data do not pin down): scipy's
    ₂F₁ returns nan there, and the quadrature of the same expectation answers, agreeing with the closed form
    where both work and with the fixed-p limit E[X(t)] = (1 − (α/(α+pt))^r) / p here."""
    t = np.array([1.0, 10, 52, 200])
    for r, alpha, a, b in ((0.243, 4.41, 0.793, 2.43), (0.8, 5.0, 2.0, 5.0)):
        z = t / (alpha + t)
        np.testing.assert_allclose(
            bgnbd._growth_by_quadrature(r, a, b, np.zeros(4), z),
            bgnbd._transformed(r, a, b, np.zeros(4), z),
            rtol=1e-4,
        )
    r, alpha, a, b = 0.63, 2.0, 6.2e5, 1e6
    model = bgnbd.BGNBD(r, alpha, a, b)
    p = a / (a + b)
    np.testing.assert_allclose(
        model.expected_repeat_purchases(t), (1 - (alpha / (alpha + p * t)) ** r) / p, rtol=1e-3
    )
    assert np.all(np.isfinite(model.conditional_expected_purchases(30.0, X, T_X, AGE)))
