"""Maximum likelihood with standard errors and confidence intervals, for positive parameters.

Every parameter of the buying and spend models is positive, so the likelihood is maximised over their
logarithms (scipy's BFGS; L-BFGS-B within [1e-6, 1e6] when a parameter runs off, and Nelder–Mead when
that stops early). The observed information is the Hessian of the negative log-likelihood in the log
parameters (central differences, of the analytic gradient where a model has one); its inverse is the
covariance of the log parameters. Each parameter gets a delta-method standard error (θ × se(log θ)) and a
95% Wald interval on the log scale, exp(log θ ± 1.96 se), which stays positive as the parameter must.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

Z95 = float(stats.norm.ppf(0.975))
HESSIAN_STEP = 1e-3
"""Step in log parameters for the central differences of the Hessian."""
LOG_BOUND = float(np.log(1e6))
"""Parameters are sought in [1e-6, 1e6] (the scenario schema's range); one at a bound is not identified."""


@dataclass(frozen=True)
class Parameter:
    """One fitted parameter."""

    name: str
    estimate: float
    se: float
    """Standard error (delta method); nan when the information matrix is singular."""
    ci_low: float
    ci_high: float
    at_bound: bool = False
    """The estimate sits at the edge of the search range: the data do not pin it down."""


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit."""

    model: str
    parameters: tuple[Parameter, ...]
    log_likelihood: float
    customers: int
    converged: bool
    message: str
    log_covariance: np.ndarray
    """Covariance matrix of the log parameters (the inverse observed information)."""

    @property
    def values(self) -> dict[str, float]:
        return {p.name: p.estimate for p in self.parameters}

    def __getitem__(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def unidentified(self) -> tuple[str, ...]:
        """Parameters the data do not pin down: at the search bound, or without a standard error."""
        return tuple(p.name for p in self.parameters if p.at_bound or not np.isfinite(p.se))

    @property
    def aic(self) -> float:
        return 2 * len(self.parameters) - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return len(self.parameters) * np.log(self.customers) - 2 * self.log_likelihood


def compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how many customers share each: the likelihood of identical
    customers is computed once and weighted."""
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)


def maximise(
    log_likelihood: Callable[[np.ndarray], float],
    start: np.ndarray,
    names: tuple[str, ...],
    model: str,
    customers: int,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Fit:
    """Maximise ``log_likelihood(parameters)`` (the total over customers) over positive parameters.

    Args:
        log_likelihood: total log-likelihood at the parameters (natural scale).
        start: starting values (natural scale, positive).
        names: parameter names, in order.
        model: the model's name, for the result.
        customers: customers in the data (for BIC).
        gradient: the log-likelihood's gradient in the natural parameters, if known (else differences).
    """

    def objective(log_theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):  # a trial step far off may overflow: it is just rejected
            value = log_likelihood(np.exp(log_theta))
        return -value / customers if np.isfinite(value) else 1e300

    theta0 = np.log(np.asarray(start, dtype=np.float64))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * theta0.size
    jacobian = None
    if gradient is not None:

        def jacobian(log_theta: np.ndarray) -> np.ndarray:
            theta = np.exp(log_theta)
            with np.errstate(all="ignore"):
                slope = -gradient(theta) * theta / customers  # chain rule: d/d log θ = θ d/dθ
            return np.where(np.isfinite(slope), slope, 0.0)

    result = optimize.minimize(objective, theta0, jac=jacobian, method="BFGS", options={"gtol": 1e-7})
    if not result.success or np.any(np.abs(result.x) > LOG_BOUND):
        # off to a boundary (a parameter the data do not pin down) or stuck: search within the bounds
        inside = np.clip(result.x if np.all(np.isfinite(result.x)) else theta0, -LOG_BOUND, LOG_BOUND)
        result = optimize.minimize(objective, inside, jac=jacobian, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        result = optimize.minimize(
            objective,
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000},
        )
    theta = result.x
    if gradient is None:
        covariance = _inverse_information(lambda t: -log_likelihood(np.exp(t)), theta)
    else:
        covariance = _inverse_information_from_gradient(lambda t: -gradient(np.exp(t)) * np.exp(t), theta)
    se_log = np.sqrt(np.diag(covariance))
    estimate = np.exp(theta)
    parameters = tuple(
        Parameter(
            name=name,
            estimate=float(estimate[i]),
            se=float(estimate[i] * se_log[i]),
            ci_low=float(np.exp(theta[i] - Z95 * se_log[i])),
            ci_high=float(np.exp(theta[i] + Z95 * se_log[i])),
            at_bound=bool(abs(theta[i]) > LOG_BOUND - 1e-3),
        )
        for i, name in enumerate(names)
    )
    return Fit(
        model=model,
        parameters=parameters,
        log_likelihood=float(log_likelihood(estimate)),
        customers=customers,
        converged=bool(result.success),
        message=str(result.message),
        log_covariance=covariance,
    )


def _inverse_information_from_gradient(
    negative_gradient: Callable[[np.ndarray], np.ndarray], theta: np.ndarray
) -> np.ndarray:
    """As :func:`_inverse_information`, from central differences of the gradient (2k evaluations)."""
    step = np.eye(theta.size) * HESSIAN_STEP
    columns = [
        (negative_gradient(theta + step[j]) - negative_gradient(theta - step[j])) / (2 * HESSIAN_STEP)
        for j in range(theta.size)
    ]
    hessian = np.column_stack(columns)
    return _inverse(0.5 * (hessian + hessian.T))


def _inverse(hessian: np.ndarray) -> np.ndarray:
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return np.full(hessian.shape, np.nan)
    return np.linalg.inv(hessian)


def _inverse_information(negative: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Inverse of the Hessian of ``negative`` at ``theta`` (central differences); nan if not positive
    definite (a parameter the data do not identify)."""
    k = theta.size
    h = HESSIAN_STEP
    f0 = negative(theta)
    hessian = np.empty((k, k))
    step = np.eye(k) * h
    for i in range(k):
        hessian[i, i] = (negative(theta + step[i]) - 2 * f0 + negative(theta - step[i])) / h**2
        for j in range(i):
            value = (
                negative(theta + step[i] + step[j])
                - negative(theta + step[i] - step[j])
                - negative(theta - step[i] + step[j])
                + negative(theta - step[i] - step[j])
            ) / (4 * h**2)
            hessian[i, j] = hessian[j, i] = value
    return _inverse(hessian)
