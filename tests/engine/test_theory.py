"""Tests of engine.theory: closed forms against plain Monte Carlo of the stories they describe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from engine.theory import (
    CDNOW_BGNBD_PARAMS,
    bgnbd_expected_repeat_purchases,
    bgnbd_prob_repeat_purchases,
    exponential_survival,
    geometric_poisson_expected_purchases,
    hazard_from_period_rate,
)

R = CDNOW_BGNBD_PARAMS["r"]
ALPHA = CDNOW_BGNBD_PARAMS["alpha"]
A = CDNOW_BGNBD_PARAMS["a"]
B = CDNOW_BGNBD_PARAMS["b"]

HORIZONS = (13.0, 39.0, 78.0)  # weeks
N_CUSTOMERS = 200_000
SEED = 20050401


def simulate_repeat_purchases(
    lam: np.ndarray, p: np.ndarray, horizons: tuple[float, ...], rng: np.random.Generator
) -> np.ndarray:
    """Count each customer's purchases in (0, h] for every horizon h, event by event.

    Customer i is alive at time 0, buys at the arrival times of a Poisson process of rate ``lam[i]``
    while alive, and after each purchase drops out with probability ``p[i]`` (the purchase that
    triggers dropout is counted). Returns an int array of shape ``(len(horizons), len(lam))``.
    """
    n = lam.size
    counts = np.zeros((len(horizons), n), dtype=np.int64)
    clock = np.zeros(n)
    active = np.arange(n)  # alive and not yet past the last horizon
    last = max(horizons)
    with np.errstate(divide="ignore"):  # a purchase rate that underflowed to 0 never buys
        while active.size:
            clock[active] += rng.standard_exponential(active.size) / lam[active]
            active = active[clock[active] <= last]
            purchase_time = clock[active]
            for k, horizon in enumerate(horizons):
                counts[k, active] += purchase_time <= horizon
            active = active[rng.random(active.size) >= p[active]]
    return counts


@pytest.fixture(scope="module")
def bgnbd_monte_carlo() -> np.ndarray:
    """Repeat-purchase counts at HORIZONS of N_CUSTOMERS customers drawn from the CDNOW BG/NBD fit."""
    rng = np.random.default_rng(SEED)
    lam = rng.gamma(shape=R, scale=1.0 / ALPHA, size=N_CUSTOMERS)  # Gamma(shape r, rate alpha)
    p = rng.beta(A, B, size=N_CUSTOMERS)
    return simulate_repeat_purchases(lam, p, HORIZONS, rng)


# ---------------------------------------------------------------------------------------------------
# BG/NBD mean, eq. 9
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(len(HORIZONS)))
def test_bgnbd_mean_matches_monte_carlo(bgnbd_monte_carlo: np.ndarray, k: int) -> None:
    t = HORIZONS[k]
    sample = bgnbd_monte_carlo[k]
    mc_mean = sample.mean()
    standard_error = sample.std(ddof=1) / math.sqrt(sample.size)
    closed_form = bgnbd_expected_repeat_purchases(t, R, ALPHA, A, B)
    assert abs(closed_form - mc_mean) < 4 * standard_error, (t, closed_form, mc_mean, standard_error)


def test_bgnbd_mean_is_vectorised_and_zero_at_origin() -> None:
    times = np.array([[0.0, 13.0], [39.0, 78.0]])
    means = bgnbd_expected_repeat_purchases(times, R, ALPHA, A, B)
    assert isinstance(means, np.ndarray)
    assert means.shape == times.shape
    assert means[0, 0] == 0.0
    for t, value in zip(times.ravel(), means.ravel(), strict=True):
        assert value == pytest.approx(bgnbd_expected_repeat_purchases(float(t), R, ALPHA, A, B), rel=1e-14)
    assert isinstance(bgnbd_expected_repeat_purchases(39.0, R, ALPHA, A, B), float)
    assert np.all(np.diff(means.ravel()) > 0)  # increasing in t


def test_bgnbd_mean_small_t_is_poisson_rate() -> None:
    """For t -> 0 hardly anyone drops out, so E[X(t)] ~ E[lambda] t = r t / alpha."""
    t = 1e-6
    assert bgnbd_expected_repeat_purchases(t, R, ALPHA, A, B) == pytest.approx(R * t / ALPHA, rel=1e-5)


@pytest.mark.parametrize("a", [0.3, A, 0.9999, 1.0, 1.00005, 1.001, 2.5])
def test_bgnbd_mean_equals_mixture_of_conditional_means(a: float) -> None:
    """Eq. 9 equals E over lambda ~ Gamma(r, alpha), p ~ Beta(a, b) of the known-(lambda, p) mean.

    The double integral is done with Gauss quadrature: generalized Laguerre nodes for the Gamma
    weight x**(r-1) e**-x (lambda = x / alpha) and Gauss-Jacobi nodes for the Beta weight; it never
    touches the hypergeometric function, and covers a == 1 where eq. 9 is 0/0.
    """
    t = 39.0
    x, wx = special.roots_genlaguerre(200, R - 1.0)
    u, wu = special.roots_jacobi(200, B - 1.0, a - 1.0)  # weight (1-u)**(b-1) (1+u)**(a-1) on [-1, 1]
    lam = x / ALPHA
    p = (u + 1.0) / 2.0
    conditional = geometric_poisson_expected_purchases(lam[:, None], p[None, :], t)
    integral = wx @ conditional @ wu / (special.gamma(R) * 2.0 ** (a + B - 1.0) * special.beta(a, B))
    assert bgnbd_expected_repeat_purchases(t, R, ALPHA, a, B) == pytest.approx(integral, rel=1e-6)


def test_bgnbd_mean_at_a_equal_one_has_known_value() -> None:
    """r = alpha = a = b = 1, t = 1: E[X] = int_0^1 (1 - 1/(1+p)) / p dp = ln 2."""
    assert bgnbd_expected_repeat_purchases(1.0, 1.0, 1.0, 1.0, 1.0) == pytest.approx(math.log(2.0), rel=1e-10)


# ---------------------------------------------------------------------------------------------------
# BG/NBD distribution, eq. 8
# ---------------------------------------------------------------------------------------------------


def test_bgnbd_pmf_matches_monte_carlo_histogram(bgnbd_monte_carlo: np.ndarray) -> None:
    sample = bgnbd_monte_carlo[HORIZONS.index(39.0)]
    n = sample.size
    for x in range(8):
        prob = bgnbd_prob_repeat_purchases(x, 39.0, R, ALPHA, A, B)
        freq = np.count_nonzero(sample == x) / n
        standard_error = math.sqrt(prob * (1.0 - prob) / n)
        assert abs(freq - prob) < 4 * standard_error, (x, prob, freq, standard_error)


@pytest.mark.parametrize(("t", "x_max"), [(13.0, 200), (39.0, 200), (78.0, 5000)])
def test_bgnbd_pmf_sums_to_one_and_to_the_mean(t: float, x_max: int) -> None:
    # The tail is heavy (a < 1): at t = 78 the mass beyond x = 200 still moves the mean by ~4e-6.
    xs = np.arange(x_max + 1)
    probs = np.array([bgnbd_prob_repeat_purchases(int(x), t, R, ALPHA, A, B) for x in xs])
    assert np.all(probs >= 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    assert xs @ probs == pytest.approx(bgnbd_expected_repeat_purchases(t, R, ALPHA, A, B), abs=1e-6)


def _eq8_textbook(x: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """Eq. 8 transcribed literally (gamma functions and the finite sum), for small x."""
    share = alpha / (alpha + t)
    z = t / (alpha + t)
    first = (
        special.beta(a, b + x)
        / special.beta(a, b)
        * special.gamma(r + x)
        / (special.gamma(r) * math.factorial(x))
        * share**r
        * z**x
    )
    if x == 0:
        return float(first)
    finite_sum = sum(special.gamma(r + j) / (special.gamma(r) * math.factorial(j)) * z**j for j in range(x))
    second = special.beta(a + 1, b + x - 1) / special.beta(a, b) * (1.0 - share**r * finite_sum)
    return float(first + second)


@pytest.mark.parametrize("t", [0.5, 13.0, 39.0, 78.0])
@pytest.mark.parametrize("x", [0, 1, 2, 5, 10, 25, 50])
def test_bgnbd_pmf_matches_literal_eq8(x: int, t: float) -> None:
    # The literal "1 - finite sum" loses everything below ~1e-16 to cancellation, hence the abs floor;
    # the tiny probabilities are checked without cancellation in the next test.
    expected = _eq8_textbook(x, t, R, ALPHA, A, B)
    assert bgnbd_prob_repeat_purchases(x, t, R, ALPHA, A, B) == pytest.approx(expected, rel=1e-9, abs=1e-14)


def _eq8_direct_tail(x: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """Eq. 8 with its bracket summed as the upper tail sum_{j >= x} of the negative binomial pmf.

    Every term is positive, so there is no cancellation and tiny probabilities keep full precision.
    """
    log_share = math.log(alpha / (alpha + t))
    log_z = math.log(t / (alpha + t))

    def log_nb(j: int) -> float:
        return math.lgamma(r + j) - math.lgamma(r) - math.lgamma(j + 1) + r * log_share + j * log_z

    log_beta_ab = special.betaln(a, b)
    first = math.exp(special.betaln(a, b + x) - log_beta_ab + log_nb(x))
    if x == 0:
        return first
    tail = math.fsum(math.exp(log_nb(j)) for j in range(x, x + 5000))
    return first + math.exp(special.betaln(a + 1, b + x - 1) - log_beta_ab) * tail


@pytest.mark.parametrize("t", [0.5, 39.0])
@pytest.mark.parametrize("x", [1, 10, 50, 100])
def test_bgnbd_pmf_keeps_relative_precision_when_tiny(x: int, t: float) -> None:
    expected = _eq8_direct_tail(x, t, R, ALPHA, A, B)
    assert bgnbd_prob_repeat_purchases(x, t, R, ALPHA, A, B) == pytest.approx(expected, rel=1e-10)


def test_bgnbd_pmf_is_stable_for_large_x() -> None:
    probs = [bgnbd_prob_repeat_purchases(x, 39.0, R, ALPHA, A, B) for x in (50, 100, 200, 400)]
    assert all(np.isfinite(probs)) and all(q > 0 for q in probs)
    assert probs == sorted(probs, reverse=True)


def test_bgnbd_pmf_at_time_zero() -> None:
    assert bgnbd_prob_repeat_purchases(0, 0.0, R, ALPHA, A, B) == 1.0
    assert bgnbd_prob_repeat_purchases(3, 0.0, R, ALPHA, A, B) == 0.0


def test_bgnbd_matches_lifetimes_package() -> None:
    """Optional cross-check against the `lifetimes` implementation of eqs. 8 and 9."""
    pd = pytest.importorskip("pandas")
    lifetimes = pytest.importorskip("lifetimes")
    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series({"r": R, "alpha": ALPHA, "a": A, "b": B})
    for t in HORIZONS:
        ours = bgnbd_expected_repeat_purchases(t, R, ALPHA, A, B)
        assert ours == pytest.approx(float(fitter.expected_number_of_purchases_up_to_time(t)), rel=1e-10)
        for x in range(8):
            theirs = float(fitter.probability_of_n_purchases_up_to_time(t, x))
            assert bgnbd_prob_repeat_purchases(x, t, R, ALPHA, A, B) == pytest.approx(theirs, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"r": 0.0},
        {"alpha": -1.0},
        {"a": float("nan")},
        {"b": float("inf")},
    ],
)
def test_bgnbd_rejects_bad_parameters(kwargs: dict[str, float]) -> None:
    params = {"r": R, "alpha": ALPHA, "a": A, "b": B, **kwargs}
    with pytest.raises(ValueError):
        bgnbd_expected_repeat_purchases(39.0, **params)
    with pytest.raises(ValueError):
        bgnbd_prob_repeat_purchases(1, 39.0, **params)


def test_bgnbd_rejects_bad_x_and_t() -> None:
    with pytest.raises(ValueError):
        bgnbd_prob_repeat_purchases(-1, 39.0, R, ALPHA, A, B)
    with pytest.raises(ValueError):
        bgnbd_prob_repeat_purchases(1.5, 39.0, R, ALPHA, A, B)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bgnbd_prob_repeat_purchases(1, -1.0, R, ALPHA, A, B)
    with pytest.raises(ValueError):
        bgnbd_expected_repeat_purchases([1.0, -1.0], R, ALPHA, A, B)


# ---------------------------------------------------------------------------------------------------
# Exponential survival and hazards
# ---------------------------------------------------------------------------------------------------


def test_hazard_reproduces_period_rate() -> None:
    rates = np.array([0.0, 0.05, 0.3, 0.9, 0.999])
    for period in (1.0, 7.0, 30.0):
        hazards = hazard_from_period_rate(rates, period)
        np.testing.assert_allclose(1.0 - exponential_survival(period, hazards), rates, rtol=1e-12, atol=0)
    assert hazard_from_period_rate(0.0, 30.0) == 0.0
    assert hazard_from_period_rate(1.0 - math.exp(-1.0), 10.0) == pytest.approx(0.1, rel=1e-14)
    assert isinstance(hazard_from_period_rate(0.2, 30.0), float)


def test_exponential_survival_values() -> None:
    assert exponential_survival(0.0, 0.3) == 1.0
    assert exponential_survival(2.0, 0.5) == pytest.approx(math.exp(-1.0), rel=1e-15)
    values = exponential_survival(np.array([0.0, 1.0, 2.0]), 0.1)
    np.testing.assert_allclose(values, np.exp(-0.1 * np.array([0.0, 1.0, 2.0])), rtol=1e-15)
    # survival over 30 days = (survival over 1 day) ** 30 for a constant hazard
    h = hazard_from_period_rate(0.02, 1.0)
    assert exponential_survival(30.0, h) == pytest.approx(0.98**30, rel=1e-12)


def test_survival_and_hazard_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        hazard_from_period_rate(1.0, 30.0)
    with pytest.raises(ValueError):
        hazard_from_period_rate(-0.1, 30.0)
    with pytest.raises(ValueError):
        hazard_from_period_rate(0.1, 0.0)
    with pytest.raises(ValueError):
        exponential_survival(-1.0, 0.1)
    with pytest.raises(ValueError):
        exponential_survival(1.0, -0.1)


# ---------------------------------------------------------------------------------------------------
# Poisson purchases with geometric dropout
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "dropout", "duration"),
    [(0.5, 0.2, 30.0), (2.0, 0.05, 10.0), (0.1, 1.0, 20.0), (0.3, 0.0, 15.0)],
)
def test_geometric_poisson_matches_monte_carlo(rate: float, dropout: float, duration: float) -> None:
    n = 100_000
    rng = np.random.default_rng(SEED + 1)
    counts = simulate_repeat_purchases(np.full(n, rate), np.full(n, dropout), (duration,), rng)[0]
    standard_error = counts.std(ddof=1) / math.sqrt(n)
    expected = geometric_poisson_expected_purchases(rate, dropout, duration)
    assert abs(counts.mean() - expected) < 4 * standard_error, (expected, counts.mean(), standard_error)


def test_geometric_poisson_limits_and_vectorisation() -> None:
    assert geometric_poisson_expected_purchases(0.3, 0.0, 15.0) == pytest.approx(4.5, rel=1e-15)
    # dropout = 1: at most one purchase, made iff the first arrival comes before the end
    assert geometric_poisson_expected_purchases(0.1, 1.0, 20.0) == pytest.approx(1.0 - math.exp(-2.0))
    # continuity at dropout -> 0 and the long-run limit 1 / dropout
    assert geometric_poisson_expected_purchases(0.3, 1e-12, 15.0) == pytest.approx(4.5, rel=1e-9)
    assert geometric_poisson_expected_purchases(1.0, 0.25, 1e4) == pytest.approx(4.0, rel=1e-12)
    assert geometric_poisson_expected_purchases(0.0, 0.5, 10.0) == 0.0
    values = geometric_poisson_expected_purchases(0.5, np.array([0.0, 0.1, 0.5]), 10.0)
    assert isinstance(values, np.ndarray) and values.shape == (3,)
    np.testing.assert_allclose(values, [5.0, (1 - math.exp(-0.5)) / 0.1, (1 - math.exp(-2.5)) / 0.5])
    with pytest.raises(ValueError):
        geometric_poisson_expected_purchases(0.5, 1.5, 10.0)
    with pytest.raises(ValueError):
        geometric_poisson_expected_purchases(-0.5, 0.1, 10.0)
