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
from scipy.special import gammaln, hyp2f1, logsumexp, roots_legendre

from engine.calibrate.customers import CustomerSummary
from engine.calibrate.estimation import Fit, compress, maximise

NAMES = ("r", "alpha", "s", "beta")
QUADRATURE_NODES = 64
NODES, WEIGHTS = roots_legendre(QUADRATURE_NODES)
"""Gauss–Legendre nodes and weights on [−1, 1] (count probabilities; A0 where its closed form fails)."""


def _log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """log A0 of the note (the two cases α ≥ β and α < β), as log(first − second).

    Each term is computed after Euler's transformation, ₂F₁(m, b; m+1; z) = (1−z)^(1−b) ₂F₁(1, m+1−b; m+1; z)
    (m = r+s+x), whose series has positive terms; where scipy's ₂F₁ still fails (a heavy buyer, or extreme
    parameters on the optimiser's way), A0 is the integral it stands for, by quadrature
    (:func:`_log_a0_quadrature`).
    """
    power = r + s + x
    if alpha >= beta:
        scale_tx, scale_t, b = alpha + t_x, alpha + age, s + 1
        difference = alpha - beta
    else:
        scale_tx, scale_t, b = beta + t_x, beta + age, r + x
        difference = beta - alpha

    def log_term(scale: np.ndarray) -> np.ndarray:
        z = difference / scale
        return (
            (1 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, power + 1 - b, power + 1, z)) - power * np.log(scale)
        )

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        first, second = log_term(scale_tx), log_term(scale_t)
        closed = first + np.log1p(-np.exp(second - first))
    failed = ~np.isfinite(closed) & (t_x < age)
    if failed.any():
        closed[failed] = _log_a0_quadrature(r, alpha, s, beta, x[failed], t_x[failed], age[failed])
    return closed


def _log_a0_quadrature(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """log A0 = log[(r+s+x) ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ], by Gauss–Legendre.

    With u = ((α+t_x)/(α+τ))^m (m = r+s+x) the integral is (α+t_x)^−m / m · ∫ ((α+τ)/(β+τ))^(s+1) du over
    [((α+t_x)/(α+T))^m, 1], a bounded monotone integrand; the nodes are spread evenly in log u, so a steep
    start (large x) is resolved. Sums are taken in logarithms.
    """
    power = r + s + x
    log_start = np.log(alpha + t_x)
    log_low = power * (log_start - np.log(alpha + age))  # log u at τ = T (negative)
    v = ((NODES + 1) / 2)[None, :] * (-log_low[:, None]) + log_low[:, None]
    weights = WEIGHTS[None, :] * (-log_low[:, None]) / 2
    log_alpha_tau = log_start[:, None] - v / power[:, None]
    log_beta_tau = np.log(np.exp(log_alpha_tau) + (beta - alpha))
    log_h = (s + 1) * (log_alpha_tau - log_beta_tau)
    return -power * log_start + logsumexp(log_h + v, b=weights, axis=1)


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
    # when t_x = T the died term is zero: the customer is alive at T for sure
    per_customer = np.where(t_x < age, np.logaddexp(alive, died), alive)
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
        upper = 1.0 - survive  # F(t)
        f = (NODES[None, :] + 1) / 2 * upper[:, None]
        tau = beta * ((1 - f) ** (-1 / s) - 1)
        inner = np.einsum("tn,tnx->tx", WEIGHTS[None, :] * upper[:, None] / 2, _nbd(r, alpha, tau, x))
        return survive[:, None] * _nbd(r, alpha, t, x) + inner

    def probability_alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """P(still active | x, t_x, T)."""
        alive, died = _per_customer(np.array([self.r, self.alpha, self.s, self.beta]), x, t_x, age)
        with np.errstate(over="ignore"):
            return np.where(t_x < age, 1.0 / (1.0 + np.exp(died - alive)), 1.0)

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
