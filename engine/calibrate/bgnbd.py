"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While active, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each repeat purchase
they become inactive for good with probability p ~ Beta(a, b). This is exactly the engine's buying
behaviour without membership (``behaviour.purchase_rate`` gamma(r, α), ``behaviour.dropout`` beta(a, b)).
Equation numbers are those of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import betaln, digamma, gammaln, hyp2f1, roots_legendre

from engine.calibrate.customers import CustomerSummary
from engine.calibrate.estimation import Fit, compress, maximise

NAMES = ("r", "alpha", "a", "b")


def log_likelihood(
    parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, weight: np.ndarray | None = None
) -> float:
    """Total log-likelihood of customers (x, t_x, T) (equation 6), each counted ``weight`` times."""
    r, alpha, a, b = parameters
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)
    died = betaln(a + 1, b + safe_x - 1) - betaln(a, b) - (r + safe_x) * np.log(alpha + t_x)
    per_customer = common + np.where(repeat, np.logaddexp(alive, died), alive)
    return float(np.sum(per_customer if weight is None else per_customer * weight))


def gradient(
    parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of :func:`log_likelihood` in (r, α, a, b): each customer's likelihood is a sum of an
    'alive at T' and a 'dropped out after t_x' term, so its derivative is their derivatives weighted by
    each term's share."""
    r, alpha, a, b = parameters
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    died = betaln(a + 1, b + safe_x - 1) - betaln(a, b) - (r + safe_x) * np.log(alpha + t_x)
    share = np.where(repeat, 1.0 / (1.0 + np.exp(np.clip(died - alive, -700, 700))), 1.0)  # of 'alive'
    rest = 1.0 - share
    psi_ab, psi_abx, psi_a, psi_b = digamma(a + b), digamma(a + b + x), digamma(a), digamma(b)
    d_r = (
        digamma(r + x) - digamma(r) + np.log(alpha) - share * np.log(alpha + age) - rest * np.log(alpha + t_x)
    )
    d_alpha = r / alpha - share * (r + x) / (alpha + age) - rest * (r + x) / (alpha + t_x)
    d_a = share * (psi_ab - psi_abx) + rest * (digamma(a + 1) - psi_abx - psi_a + psi_ab)
    d_b = share * (digamma(b + x) - psi_abx - psi_b + psi_ab) + rest * (
        digamma(b + safe_x - 1) - psi_abx - psi_b + psi_ab
    )
    terms = np.vstack([d_r, d_alpha, d_a, d_b])
    return terms @ (np.ones(x.size) if weight is None else weight)


@dataclass(frozen=True)
class BGNBD:
    """A fitted BG/NBD model: expectations and probabilities for the goodness-of-fit checks."""

    r: float
    alpha: float
    a: float
    b: float

    @classmethod
    def from_fit(cls, fit: Fit) -> BGNBD:
        return cls(**fit.values)

    def expected_repeat_purchases(self, t: np.ndarray) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer within ``t`` (equation 9)."""
        t = np.asarray(t, dtype=np.float64)
        return _growth(self.r, self.a, self.b, 0.0, t / (self.alpha + t))

    def purchase_count_probabilities(self, t: np.ndarray, counts: int) -> np.ndarray:
        """P(X(t) = x) for x = 0 … counts−1 (equation 8); rows follow ``t``."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        t = np.asarray(t, dtype=np.float64)[:, None]
        x = np.arange(counts, dtype=np.float64)[None, :]
        log_nbd = (
            gammaln(r + x)
            - gammaln(r)
            - gammaln(x + 1)
            + r * np.log(alpha / (alpha + t))
            + x * np.log(np.where(t > 0, t / (alpha + t), 1.0))
        )
        nbd = np.where((t > 0) | (x == 0), np.exp(log_nbd), 0.0)
        first = np.exp(betaln(a, b + x) - betaln(a, b)) * nbd
        # 1 − (α/(α+t))^r Σ_{j<x} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j = 1 − Σ_{j<x} NBD(j)
        below = np.cumsum(nbd, axis=1) - nbd
        tail = 1.0 - below
        safe = np.where(x > 0, x, 1.0)
        second = np.where(x > 0, np.exp(betaln(a + 1, b + safe - 1) - betaln(a, b)) * tail, 0.0)
        return first + second

    def probability_alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """P(still active | x, t_x, T)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        safe = np.where(x > 0, x, 1.0)
        with np.errstate(over="ignore"):  # odds → ∞: P(alive) → 0
            odds = a / (b + safe - 1) * ((alpha + age) / (alpha + t_x)) ** (r + safe)
        return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)

    def conditional_expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` of a customer with that history
        (equation 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        growth = _growth(r, a, b, x, t / (alpha + age + t))
        safe = np.where(x > 0, x, 1.0)
        with np.errstate(over="ignore"):  # a long-silent heavy buyer: odds → ∞, expectation → 0
            odds = np.where(x > 0, a / (b + safe - 1) * ((alpha + age) / (alpha + t_x)) ** (r + safe), 0.0)
        return growth / (1.0 + odds)


A_NEAR_ONE = 1e-4
"""Within this of a = 1, equations 9 and 10 are 0/0: they are taken as the mean of a = 1 ± this."""
QUADRATURE_NODES, QUADRATURE_WEIGHTS = roots_legendre(64)
"""Gauss–Legendre nodes and weights on [−1, 1], for equations 9 and 10 where scipy's ₂F₁ fails."""


def _growth(r: float, a: float, b: float, x: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """(a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)], the bracket of equations 9 (x = 0)
    and 10, with Euler's transformation (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z),
    c = a+b+x−1: no overflow times underflow for a heavy buyer (large x), where the left side is nan. Where
    scipy's ₂F₁ still fails (a and b in the hundred thousands: the data do not pin them down), the integral
    it stands for is taken by quadrature (:func:`_growth_by_quadrature`)."""
    x, z = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(z, dtype=np.float64))
    if abs(a - 1) < A_NEAR_ONE:
        closed = (_transformed(r, 1 - A_NEAR_ONE, b, x, z) + _transformed(r, 1 + A_NEAR_ONE, b, x, z)) / 2
    else:
        closed = _transformed(r, a, b, x, z)
    closed = np.array(closed, dtype=np.float64, ndmin=1)
    failed = ~np.isfinite(closed)
    if failed.any():
        closed[failed] = _growth_by_quadrature(
            r, a, b, x.reshape(closed.shape)[failed], z.reshape(closed.shape)[failed]
        )
    return closed.reshape(z.shape)


def _transformed(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    c = a + b + x - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        transformed = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        return c / (a - 1) * (1 - transformed)


def _growth_by_quadrature(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The bracket as the expectation it is: E[(1 − (1 + p w)^−(r+x)) / p] over p ~ Beta(a, b+x), with
    w = z/(1−z) (= t/(α+T)), by Gauss–Legendre in the Beta's quantiles (the integrand is bounded: r+x w
    as p → 0)."""
    u = (QUADRATURE_NODES + 1) / 2
    w = (z / (1 - z))[:, None]
    power = (r + x)[:, None]
    p = stats.beta.ppf(u[None, :], a, (b + x)[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(p > 0, -np.expm1(-power * np.log1p(p * w)) / p, power * w)
    return value @ (QUADRATURE_WEIGHTS / 2)


def fit(summary: CustomerSummary) -> Fit:
    """Maximum-likelihood BG/NBD fit to the calibration cohort."""
    (x, t_x, age), weight = compress(summary.frequency, summary.recency, summary.age)
    mean_rate = max(float(np.mean(summary.frequency)), 0.05) / max(float(np.mean(summary.age)), 1e-6)
    start = np.array([1.0, 1.0 / mean_rate, 1.0, 1.0])
    return maximise(
        lambda p: log_likelihood(p, x, t_x, age, weight),
        start,
        NAMES,
        "bgnbd",
        summary.customers,
        gradient=lambda p: gradient(p, x, t_x, age, weight),
    )
