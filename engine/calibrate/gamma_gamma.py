"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV").

A customer's purchases are worth z ~ Gamma(p, ν) each, ν ~ Gamma(q, γ) across customers, so a customer's
average of x repeat purchases has the likelihood of equation (4) of the paper. The model assumes spend per
purchase does not depend on how often a customer buys; :func:`independence_check` tests that on the data
and says so when it does not hold.

For the engine (:mod:`engine.calibrate.fragment`): the spend of one purchase of a random customer has mean
pγ/(q−1) and variance pγ²(p+q−1)/((q−1)²(q−2)) (finite for q > 2); a product price distribution with that
mean and variance reproduces spend per purchase, though not that the same customer's purchases are alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import digamma, gammaln

from engine.calibrate.customers import CustomerSummary
from engine.calibrate.estimation import Fit, compress, maximise
from engine.errors import CalibrationError

NAMES = ("p", "q", "gamma")
WEAK_CORRELATION = 0.3
"""|correlation| from which spend and frequency are too related for Gamma-Gamma's independence."""


def log_likelihood(
    parameters: np.ndarray, x: np.ndarray, mean_spend: np.ndarray, weight: np.ndarray | None = None
) -> float:
    """Total log-likelihood of repeat buyers' mean spend (x ≥ 1 purchases averaging ``mean_spend``)."""
    p, q, gamma = parameters
    px = p * x
    per_customer = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(mean_spend)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * mean_spend)
    )
    return float(np.sum(per_customer if weight is None else per_customer * weight))


def gradient(
    parameters: np.ndarray, x: np.ndarray, mean_spend: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of :func:`log_likelihood` in (p, q, γ)."""
    p, q, gamma = parameters
    px = p * x
    log_total = np.log(gamma + x * mean_spend)
    psi = digamma(px + q)
    terms = np.vstack(
        [
            x * (psi - digamma(px) + np.log(mean_spend) + np.log(x) - log_total),
            psi - digamma(q) + np.log(gamma) - log_total,
            q / gamma - (px + q) / (gamma + x * mean_spend),
        ]
    )
    return terms @ (np.ones(x.size) if weight is None else weight)


@dataclass(frozen=True)
class GammaGamma:
    """A fitted Gamma-Gamma model."""

    p: float
    q: float
    gamma: float

    @classmethod
    def from_fit(cls, fit: Fit) -> GammaGamma:
        return cls(**fit.values)

    def mean_purchase_value(self) -> float:
        """Mean spend per purchase across customers, pγ/(q−1) (infinite for q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else math.inf

    def purchase_value_sd(self) -> float:
        """Standard deviation of one purchase's spend across customers and purchases (infinite for q ≤ 2)."""
        if self.q <= 2:
            return math.inf
        q1 = self.q - 1
        return math.sqrt(self.p * self.gamma**2 * (self.p + q1) / (q1**2 * (self.q - 2)))

    def conditional_expected_spend(self, x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
        """E[spend per purchase | x, mean spend]: a weighted mean of the population's and the customer's."""
        p, q, gamma = self.p, self.q, self.gamma
        weight = p * x / (p * x + q - 1)
        return (1 - weight) * p * gamma / (q - 1) + weight * mean_spend


@dataclass(frozen=True)
class IndependenceCheck:
    """Is spend per purchase unrelated to purchase frequency (Gamma-Gamma's assumption)?"""

    correlation: float
    """Pearson correlation of frequency and mean spend among repeat buyers."""
    ci_low: float
    ci_high: float
    p_value: float
    customers: int
    verdict: str
    """'independent', 'weakly correlated' or 'correlated'."""
    message: str


def independence_check(frequency: np.ndarray, mean_spend: np.ndarray) -> IndependenceCheck:
    """Pearson correlation of frequency and mean spend with its 95% CI (Fisher z), and what it means."""
    if np.ptp(frequency) == 0 or np.ptp(mean_spend) == 0:
        constant = "frequency" if np.ptp(frequency) == 0 else "mean spend"
        return IndependenceCheck(
            correlation=math.nan,
            ci_low=math.nan,
            ci_high=math.nan,
            p_value=math.nan,
            customers=int(frequency.size),
            verdict="untestable",
            message=f"every repeat buyer has the same {constant}: the correlation is undefined",
        )
    result = stats.pearsonr(frequency.astype(np.float64), mean_spend)
    interval = result.confidence_interval(0.95)
    r = float(result.statistic)
    if abs(r) >= WEAK_CORRELATION:
        verdict = "correlated"
        message = (
            f"spend per purchase and frequency are correlated (r = {r:.2f}): Gamma-Gamma assumes they are "
            "not, so its spend and any CLV built on it are biased; fit spend by segment or use a model "
            "with the dependence"
        )
    elif interval.low > 0 or interval.high < 0:
        verdict = "weakly correlated"
        message = (
            f"spend per purchase and frequency are weakly correlated (r = {r:.2f}, 95% CI {interval.low:.2f} "
            f"to {interval.high:.2f}); Gamma-Gamma's independence is a fair approximation"
        )
    else:
        verdict = "independent"
        message = (
            f"no evidence that spend per purchase depends on frequency (r = {r:.2f}, 95% CI "
            f"{interval.low:.2f} to {interval.high:.2f})"
        )
    return IndependenceCheck(
        correlation=r,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        p_value=float(result.pvalue),
        customers=int(frequency.size),
        verdict=verdict,
        message=message,
    )


def spend_customers(summary: CustomerSummary) -> tuple[np.ndarray, np.ndarray, int]:
    """Repeat buyers with a positive mean spend (x, mean spend), and how many repeat buyers were left out
    for a mean spend of zero or less (free orders)."""
    repeat = summary.repeaters
    positive = repeat & (np.nan_to_num(summary.mean_spend) > 0)
    return summary.frequency[positive], summary.mean_spend[positive], int(repeat.sum() - positive.sum())


def fit(summary: CustomerSummary, where: str) -> Fit:
    """Maximum-likelihood Gamma-Gamma fit to the repeat buyers' mean spend.

    Raises:
        CalibrationError: fewer than 10 repeat buyers spent anything.
    """
    x, spend, _ = spend_customers(summary)
    if x.size < 10:
        raise CalibrationError(
            f"{where}: only {x.size} customers bought again with a positive amount; spend per purchase "
            "cannot be fitted (Gamma-Gamma needs repeat buyers)"
        )
    (xu, mu), weight = compress(x, spend)
    mean, variance = float(np.mean(spend)), float(np.var(spend)) or 1.0
    # start near the moments of the customers' means: p from the CV, q moderately above 2
    q0 = 4.0
    p0 = max(mean**2 / variance, 0.5)
    start = np.array([p0, q0, mean * (q0 - 1) / p0])
    return maximise(
        lambda v: log_likelihood(v, xu, mu, weight),
        start,
        NAMES,
        "gamma_gamma",
        int(x.size),
        gradient=lambda v: gradient(v, xu, mu, weight),
    )
