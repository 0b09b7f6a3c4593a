"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While active, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each repeat purchase
they become inactive for good with probability p ~ Beta(a, b). This is exactly the engine's buying
behaviour without membership (``behaviour.purchase_rate`` gamma(r, α), ``behaviour.dropout`` beta(a, b)).
Equation numbers are those of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

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
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))

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
        odds = a / (b + safe - 1) * ((alpha + age) / (alpha + t_x)) ** (r + safe)
        return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)

    def conditional_expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` of a customer with that history
        (equation 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + age + t)
        growth = (
            (a + b + x - 1)
            / (a - 1)
            * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
        )
        safe = np.where(x > 0, x, 1.0)
        odds = np.where(x > 0, a / (b + safe - 1) * ((alpha + age) / (alpha + t_x)) ** (r + safe), 0.0)
        return growth / (1.0 + odds)


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
