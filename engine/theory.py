"""Closed-form results that the simulator is tested against.

Everything here is a plain function of its parameters: no randomness, no state. The formulas are

* the BG/NBD model of Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
  Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284 — the mean number of
  repeat purchases E[X(t)] (their eq. 9) and its distribution P(X(t) = x) (their eq. 8);
* constant-hazard (exponential) survival and the conversion of a per-period churn rate into a hazard;
* the expected purchase count of one customer whose purchases are a Poisson process and who stops
  buying with a fixed probability after each purchase (the BG/NBD story for known ``lambda`` and ``p``).

BG/NBD conventions: the customer is alive at time 0 (just after the first purchase), purchases while
alive form a Poisson process of rate ``lambda ~ Gamma(shape=r, rate=alpha)``, after each *repeat*
purchase the customer drops out with probability ``p ~ Beta(a, b)``, and ``X(t)`` counts the repeat
purchases in ``(0, t]`` (including the one after which the customer drops out). Time is in whatever
unit ``alpha`` is expressed in (weeks for the published CDNOW fit).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import integrate, special

__all__ = [
    "CDNOW_BGNBD_PARAMS",
    "bgnbd_expected_repeat_purchases",
    "bgnbd_prob_repeat_purchases",
    "exponential_survival",
    "geometric_poisson_expected_purchases",
    "hazard_from_period_rate",
]

#: BG/NBD maximum-likelihood estimates for the CDNOW sample published by Fader, Hardie & Lee (2005);
#: time unit is weeks.
CDNOW_BGNBD_PARAMS: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

# Within this distance of a == 1 the factor (a + b - 1) / (a - 1) of eq. 9 makes the closed form lose
# digits to cancellation (and at a == 1 it is 0/0); there E[X(t)] is computed by quadrature instead.
_A_NEAR_ONE = 1e-4


def _to_output(values: np.ndarray) -> float | np.ndarray:
    """Return a Python float for a 0-d result and the array itself otherwise."""
    return float(values) if values.ndim == 0 else values


def _check_bgnbd_params(r: float, alpha: float, a: float, b: float) -> None:
    """Raise ``ValueError`` unless all four BG/NBD parameters are finite and strictly positive."""
    for name, value in (("r", r), ("alpha", alpha), ("a", a), ("b", b)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"BG/NBD parameter {name} must be finite and > 0, got {value!r}")


def _check_times(t: npt.ArrayLike, name: str = "t") -> np.ndarray:
    """Return ``t`` as a float array, raising ``ValueError`` if any entry is negative or not finite."""
    times = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {t!r}")
    return times


def _bgnbd_mean_by_quadrature(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """E[X(t)] as the Beta(a, b) average over p of E[X(t) | p], used where eq. 9 is ill-conditioned.

    Given ``p`` and averaging over ``lambda ~ Gamma(r, alpha)``,
    ``E[X(t) | p] = (1 - (alpha / (alpha + p t))**r) / p``, which is bounded (it tends to
    ``r t / alpha`` as ``p -> 0``); the Beta density's end-point singularities go into the quadrature
    weight.
    """
    if t == 0:
        return 0.0

    def conditional_mean(p: float) -> float:
        if p == 0.0:
            return r * t / alpha
        return float(-np.expm1(-r * np.log1p(p * t / alpha)) / p)

    value, _ = integrate.quad(conditional_mean, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0))
    return float(value / special.beta(a, b))


def bgnbd_expected_repeat_purchases(
    t: float | npt.ArrayLike, r: float, alpha: float, a: float, b: float
) -> float | np.ndarray:
    """Expected number of repeat purchases E[X(t)] of a new customer under the BG/NBD model.

    Eq. 9 of Fader, Hardie & Lee (2005)::

        E[X(t)] = (a + b - 1) / (a - 1)
                  * [1 - (alpha / (alpha + t))**r * 2F1(r, b; a + b - 1; t / (alpha + t))]

    Parameters
    ----------
    t : float or array_like
        Length(s) of the observation window ``(0, t]``, in the time unit of ``alpha``; must be >= 0.
    r, alpha : float
        Shape and rate of the Gamma distribution of the purchase rate ``lambda`` (both > 0).
    a, b : float
        Parameters of the Beta distribution of the dropout probability ``p`` (both > 0).

    Returns
    -------
    float or numpy.ndarray
        E[X(t)]; a float for scalar ``t``, otherwise an array of the shape of ``t``.

    Raises
    ------
    ValueError
        If a parameter is not finite and positive, or a time is negative or not finite.

    Notes
    -----
    Eq. 9 is 0/0 at ``a == 1``; for ``|a - 1| < 1e-4`` the same expectation is computed instead by
    one-dimensional quadrature over ``p``, ``E_p[(1 - (alpha / (alpha + p t))**r) / p]``.
    """
    _check_bgnbd_params(r, alpha, a, b)
    times = _check_times(t)
    if abs(a - 1.0) < _A_NEAR_ONE:
        flat = [_bgnbd_mean_by_quadrature(float(ti), r, alpha, a, b) for ti in times.ravel()]
        return _to_output(np.asarray(flat, dtype=float).reshape(times.shape))
    z = times / (alpha + times)
    # (alpha / (alpha + t))**r computed as exp(r * log1p(-z)) so that large t stays accurate.
    bracket = 1.0 - np.exp(r * np.log1p(-z)) * special.hyp2f1(r, b, a + b - 1.0, z)
    return _to_output(np.asarray((a + b - 1.0) / (a - 1.0) * bracket, dtype=float))


def bgnbd_prob_repeat_purchases(x: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """Probability P(X(t) = x) that a new customer makes exactly ``x`` repeat purchases in ``(0, t]``.

    Eq. 8 of Fader, Hardie & Lee (2005)::

        P(X(t) = x) = B(a, b + x) / B(a, b) * Gamma(r + x) / (Gamma(r) x!)
                      * (alpha / (alpha + t))**r * (t / (alpha + t))**x
                    + delta_{x > 0} * B(a + 1, b + x - 1) / B(a, b)
                      * [1 - (alpha / (alpha + t))**r
                             * sum_{j=0}^{x-1} Gamma(r + j) / (Gamma(r) j!) * (t / (alpha + t))**j]

    The first term is "still alive after ``x`` purchases and made exactly ``x``"; the second is
    "dropped out right after purchase ``x``, which happened before ``t``".

    Parameters
    ----------
    x : int
        Number of repeat purchases, >= 0.
    t : float
        Length of the observation window ``(0, t]``, in the time unit of ``alpha``; must be >= 0.
    r, alpha : float
        Shape and rate of the Gamma distribution of the purchase rate ``lambda`` (both > 0).
    a, b : float
        Parameters of the Beta distribution of the dropout probability ``p`` (both > 0).

    Returns
    -------
    float
        P(X(t) = x).

    Raises
    ------
    ValueError
        If ``x`` is not a non-negative integer, ``t`` is negative or not finite, or a parameter is not
        finite and positive.

    Notes
    -----
    The first term is evaluated in log space (``gammaln``, ``betaln``). The bracket of the second term
    is the upper tail ``P(Y >= x)`` of the negative binomial ``Y`` with pmf
    ``Gamma(r + j) / (Gamma(r) j!) (1 - z)**r z**j``, ``z = t / (alpha + t)``, i.e. the regularized
    incomplete beta function ``I_z(x, r)``; using ``scipy.special.betainc`` for it avoids the
    cancellation of ``1 - sum`` when the sum is close to 1. Stable for ``x`` in the hundreds.
    """
    if isinstance(x, bool) or int(x) != x or x < 0:
        raise ValueError(f"x must be a non-negative integer, got {x!r}")
    x = int(x)
    _check_bgnbd_params(r, alpha, a, b)
    t = float(_check_times(t))
    if t == 0.0:
        return 1.0 if x == 0 else 0.0
    log_alive_share = np.log(alpha) - np.log(alpha + t)  # log(alpha / (alpha + t))
    log_z = np.log(t) - np.log(alpha + t)  # log(t / (alpha + t))
    log_still_alive = (
        special.betaln(a, b + x)
        - special.betaln(a, b)
        + special.gammaln(r + x)
        - special.gammaln(r)
        - special.gammaln(x + 1.0)
        + r * log_alive_share
        + x * log_z
    )
    prob = float(np.exp(log_still_alive))
    if x > 0:
        z = t / (alpha + t)
        nb_tail = float(special.betainc(x, r, z))  # P(Y >= x) = 1 - sum_{j<x} P(Y = j)
        prob += float(np.exp(special.betaln(a + 1.0, b + x - 1.0) - special.betaln(a, b))) * nb_tail
    return prob


def exponential_survival(t: float | npt.ArrayLike, hazard: float | npt.ArrayLike) -> float | np.ndarray:
    """Survival probability ``exp(-hazard * t)`` under a constant hazard.

    Parameters
    ----------
    t : float or array_like
        Elapsed time(s), >= 0.
    hazard : float or array_like
        Constant hazard rate(s) per unit time, >= 0; broadcast against ``t``.

    Returns
    -------
    float or numpy.ndarray
        Probability of still being present at ``t``; a float when both inputs are scalars.

    Raises
    ------
    ValueError
        If a time or a hazard is negative or not finite.
    """
    times = _check_times(t)
    hazards = _check_times(hazard, name="hazard")
    return _to_output(np.exp(-hazards * times))


def hazard_from_period_rate(rate: float | npt.ArrayLike, period_days: float) -> float | np.ndarray:
    """Constant daily hazard whose probability of leaving within ``period_days`` equals ``rate``.

    Solves ``1 - exp(-h * period_days) = rate`` for ``h``: ``h = -ln(1 - rate) / period_days``.

    Parameters
    ----------
    rate : float or array_like
        Probability of leaving within one period, in ``[0, 1)``.
    period_days : float
        Length of the period in days, > 0.

    Returns
    -------
    float or numpy.ndarray
        Hazard per day; a float for scalar ``rate``.

    Raises
    ------
    ValueError
        If ``rate`` is outside ``[0, 1)`` or ``period_days`` is not finite and positive.
    """
    rates = np.asarray(rate, dtype=float)
    if not np.all((rates >= 0) & (rates < 1)):
        raise ValueError(f"rate must lie in [0, 1), got {rate!r}")
    if not (np.isfinite(period_days) and period_days > 0):
        raise ValueError(f"period_days must be finite and > 0, got {period_days!r}")
    return _to_output(-np.log1p(-rates) / period_days)


def geometric_poisson_expected_purchases(
    rate: float | npt.ArrayLike, dropout: float | npt.ArrayLike, duration: float | npt.ArrayLike
) -> float | np.ndarray:
    """Expected purchases in ``[0, duration]`` of a Poisson buyer who may stop after each purchase.

    The customer is active at time 0 and buys at the times of a Poisson process of intensity ``rate``;
    after each purchase (which is counted) they stop buying for good with probability ``dropout``.
    Thinning the purchase process, the customer is killed at rate ``rate * dropout`` while buying at
    rate ``rate``, so

        E[N] = integral_0^duration rate * exp(-rate * dropout * s) ds
             = (1 - exp(-rate * dropout * duration)) / dropout        (dropout > 0)
             = rate * duration                                        (dropout = 0).

    This is the BG/NBD ``E[X(t) | lambda, p]`` with ``lambda = rate`` and ``p = dropout``.

    Parameters
    ----------
    rate : float or array_like
        Purchase intensity while active, per unit time, >= 0.
    dropout : float or array_like
        Probability of stopping after each purchase, in ``[0, 1]``.
    duration : float or array_like
        Length of the observation window, >= 0. The three inputs broadcast against each other.

    Returns
    -------
    float or numpy.ndarray
        E[N]; a float when all inputs are scalars.

    Raises
    ------
    ValueError
        If ``rate`` or ``duration`` is negative or not finite, or ``dropout`` is outside ``[0, 1]``.
    """
    rates = _check_times(rate, name="rate")
    durations = _check_times(duration, name="duration")
    dropouts = np.asarray(dropout, dtype=float)
    if not np.all((dropouts >= 0) & (dropouts <= 1)):
        raise ValueError(f"dropout must lie in [0, 1], got {dropout!r}")
    # E[N] = rate * duration * g(k) with k = rate * dropout * duration and g(k) = (1 - e^-k) / k,
    # g(0) = 1: one expression for dropout = 0 and dropout > 0, accurate for small k via expm1.
    exposure = rates * durations
    k = exposure * dropouts
    safe_k = np.where(k > 0, k, 1.0)
    g = np.where(k > 0, -np.expm1(-safe_k) / safe_k, 1.0)
    return _to_output(np.asarray(exposure * g, dtype=float))


def erlang_c_wait_probability(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait (all ``servers`` busy).

    With offered load a = λ/μ < c: C(c, a) = [a^c / c! · c/(c − a)] / [Σ_{k<c} a^k/k! + a^c / c! · c/(c − a)].
    """
    load = arrival_rate / service_rate
    if not 0 < load < servers:
        raise ValueError(f"offered load λ/μ = {load:g} must lie in (0, servers = {servers})")
    terms = [load**k / math.factorial(k) for k in range(servers)]
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(terms) + top)


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue of an M/M/c queue: W_q = C(c, λ/μ) / (c·μ − λ)."""
    wait_probability = erlang_c_wait_probability(arrival_rate, service_rate, servers)
    return wait_probability / (servers * service_rate - arrival_rate)
