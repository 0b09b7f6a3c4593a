"""The Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987).

While active, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); their active lifetime is
exponential with rate μ ~ Gamma(s, β), in calendar time. The likelihood is the one of Fader & Hardie's note
"A note on deriving the Pareto/NBD model and related expressions" (2005), computed in logarithms.

The engine has no lifetime clock in calendar time: its buyers drop out after a purchase (BG/NBD). So a
Pareto/NBD fit is offered for comparison (is the choice of dropout story material?), not as a scenario
fragment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1, roots_legendre

from engine.calibrate.customers import CustomerSummary
from engine.calibrate.estimation import Fit, compress, maximise

NAMES = ("r", "alpha", "s", "beta")
QUADRATURE_NODES = 64


def _log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """log A0 of the note (the two cases α ≥ β and α < β), as log(first − second)."""
    power = r + s + x
    if alpha >= beta:
        scale_tx, scale_t, b = alpha + t_x, alpha + age, s + 1
        difference = alpha - beta
    else:
        scale_tx, scale_t, b = beta + t_x, beta + age, r + x
        difference = beta - alpha
    first = np.log(hyp2f1(power, b, power + 1, difference / scale_tx)) - power * np.log(scale_tx)
    second = np.log(hyp2f1(power, b, power + 1, difference / scale_t)) - power * np.log(scale_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return first + np.log1p(-np.exp(second - first))


def _per_customer(
    parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log of the likelihood's two terms (still alive at T; died after t_x), common factor included."""
    r, alpha, s, beta = parameters
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    died = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, t_x, age)
    return common + alive, common + died


def log_likelihood(
    parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, weight: np.ndarray | None = None
) -> float:
    """Total log-likelihood of customers (x, t_x, T), each counted ``weight`` times."""
    alive, died = _per_customer(parameters, x, t_x, age)
    # when t_x = T the died term is zero (log −inf): the customer is alive at T for sure
    per_customer = np.where(np.isfinite(died), np.logaddexp(alive, died), alive)
    return float(np.sum(per_customer if weight is None else per_customer * weight))


@dataclass(frozen=True)
class ParetoNBD:
    """A fitted Pareto/NBD model: expectations and probabilities for the goodness-of-fit checks."""

    r: float
    alpha: float
    s: float
    beta: float

    @classmethod
    def from_fit(cls, fit: Fit) -> ParetoNBD:
        return cls(**fit.values)

    def expected_repeat_purchases(self, t: np.ndarray) -> np.ndarray:
        """E[X(t)] = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)]."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        t = np.asarray(t, dtype=np.float64)
        if abs(s - 1) < 1e-9:
            return r * beta / alpha * np.log1p(t / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def purchase_count_probabilities(self, t: np.ndarray, counts: int) -> np.ndarray:
        """P(X(t) = x) for x = 0 … counts−1, rows following ``t``.

        Given the lifetime τ, purchases up to t are NBD(r, α) over min(τ, t); τ is Lomax(s, β). So
        P(X(t)=x) = P(τ>t) NBD_x(t) + ∫_0^{F(t)} NBD_x(τ(F)) dF, integrated by Gauss–Legendre in the
        lifetime's distribution function F (smooth where the density is steep).
        """
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        t = np.asarray(t, dtype=np.float64)
        x = np.arange(counts, dtype=np.float64)
        survive = (beta / (beta + t)) ** s
        nodes, weights = roots_legendre(QUADRATURE_NODES)
        upper = 1.0 - survive  # F(t)
        f = (nodes[None, :] + 1) / 2 * upper[:, None]
        tau = beta * ((1 - f) ** (-1 / s) - 1)
        inner = np.einsum("tn,tnx->tx", weights[None, :] * upper[:, None] / 2, _nbd(r, alpha, tau, x))
        return survive[:, None] * _nbd(r, alpha, t, x) + inner

    def probability_alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """P(still active | x, t_x, T)."""
        alive, died = _per_customer(np.array([self.r, self.alpha, self.s, self.beta]), x, t_x, age)
        return np.where(np.isfinite(died), 1.0 / (1.0 + np.exp(died - alive)), 1.0)

    def conditional_expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T] = (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        if abs(s - 1) < 1e-9:
            growth = (r + x) * (beta + age) / (alpha + age) * np.log1p(t / (beta + age))
        else:
            growth = (
                (r + x)
                * (beta + age)
                / ((alpha + age) * (s - 1))
                * (1 - ((beta + age) / (beta + age + t)) ** (s - 1))
            )
        return growth * self.probability_alive(x, t_x, age)


def _nbd(r: float, alpha: float, exposure: np.ndarray, x: np.ndarray) -> np.ndarray:
    """NBD probabilities of x purchases over ``exposure`` (any shape; x on a new last axis)."""
    e = np.asarray(exposure, dtype=np.float64)[..., None]
    with np.errstate(divide="ignore"):
        log_p = (
            gammaln(r + x)
            - gammaln(r)
            - gammaln(x + 1)
            + r * np.log(alpha / (alpha + e))
            + x * np.log(e / (alpha + e))
        )
    return np.where((e > 0) | (x == 0), np.exp(np.where(np.isfinite(log_p), log_p, -np.inf)), 0.0)


def fit(summary: CustomerSummary) -> Fit:
    """Maximum-likelihood Pareto/NBD fit to the calibration cohort."""
    (x, t_x, age), weight = compress(summary.frequency, summary.recency, summary.age)
    mean_rate = max(float(np.mean(summary.frequency)), 0.05) / max(float(np.mean(summary.age)), 1e-6)
    scale = max(float(np.mean(summary.age)), 1e-6)
    start = np.array([1.0, 1.0 / mean_rate, 1.0, scale])
    return maximise(
        lambda p: log_likelihood(p, x, t_x, age, weight), start, NAMES, "paretonbd", summary.customers
    )
