"""Small validated distributions used by scenario files.

Each distribution is a frozen pydantic model tagged by ``dist`` that checks its own parameters, samples with
an explicit ``numpy.random.Generator`` and states its analytic mean, so tests can hold simulation to theory.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = np.ndarray


class _Distribution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Fixed(_Distribution):
    """Always the same value (a degenerate distribution): for worked examples and teaching scenarios."""

    dist: Literal["fixed"] = "fixed"
    """Distribution tag: fixed."""
    value: float = Field(strict=True, ge=0, le=1e9)
    """The value every draw takes."""

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value, dtype=np.float64)

    def mean(self) -> float:
        return self.value


class Gamma(_Distribution):
    """Gamma(shape, rate): mean shape/rate. The purchase-rate heterogeneity of BG/NBD (r, α)."""

    dist: Literal["gamma"] = "gamma"
    """Distribution tag: gamma."""
    shape: float = Field(strict=True, gt=0, le=1e6)
    """Shape parameter (BG/NBD's r). Small values mean very unequal customers."""
    rate: float = Field(strict=True, gt=0, le=1e9)
    """Rate parameter (BG/NBD's α), in the unit of the quantity's inverse (days for purchase rates)."""

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape, 1.0 / self.rate, size)

    def mean(self) -> float:
        return self.shape / self.rate


class Beta(_Distribution):
    """Beta(a, b) on [0, 1]: mean a/(a+b). The dropout-probability heterogeneity of BG/NBD."""

    dist: Literal["beta"] = "beta"
    """Distribution tag: beta."""
    a: float = Field(strict=True, gt=0, le=1e6)
    """First shape parameter."""
    b: float = Field(strict=True, gt=0, le=1e6)
    """Second shape parameter."""

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.beta(self.a, self.b, size)

    def mean(self) -> float:
        return self.a / (self.a + self.b)


class Exponential(_Distribution):
    """Exponential with the given mean (memoryless durations: service times of a queue)."""

    dist: Literal["exponential"] = "exponential"
    """Distribution tag: exponential."""
    mean_value: float = Field(strict=True, gt=0, le=1e9, alias="mean")
    """Mean of the distribution."""

    model_config = ConfigDict(populate_by_name=True)  # merged with the base's

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_value, size)

    def mean(self) -> float:
        return self.mean_value


class LogNormal(_Distribution):
    """Log-normal stated by its own mean and standard deviation (not those of the logarithm)."""

    dist: Literal["lognormal"] = "lognormal"
    """Distribution tag: lognormal."""
    mean_value: float = Field(strict=True, gt=0, le=1e9, alias="mean")
    """Mean of the distribution (for a price: the average ticket)."""
    sd: float = Field(strict=True, ge=0, le=1e9)
    """Standard deviation of the distribution."""

    model_config = ConfigDict(populate_by_name=True)  # merged with the base's

    def _log_parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean_value) ** 2)
        return math.log(self.mean_value) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        mu, sigma = self._log_parameters()
        return rng.lognormal(mu, sigma, size)

    def mean(self) -> float:
        return self.mean_value


class Uniform(_Distribution):
    """Uniform on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    """Distribution tag: uniform."""
    low: float = Field(strict=True, ge=0, le=1e9)
    """Lower bound."""
    high: float = Field(strict=True, ge=0, le=1e9)
    """Upper bound (≥ low)."""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        return (self.low + self.high) / 2


Distribution = Annotated[Fixed | Gamma | Beta | LogNormal | Uniform, Field(discriminator="dist")]
"""Any distribution, chosen by its ``dist`` key."""

RateDistribution = Annotated[Fixed | Gamma | LogNormal | Uniform, Field(discriminator="dist")]
"""A distribution of non-negative rates (per day)."""

ProbabilityDistribution = Annotated[Fixed | Beta | Uniform, Field(discriminator="dist")]
"""A distribution on [0, 1]; ``fixed`` and ``uniform`` bounds are checked by the scenario."""

PriceDistribution = Annotated[Fixed | LogNormal | Gamma | Uniform, Field(discriminator="dist")]
"""A distribution of amounts of money per purchase."""

DurationDistribution = Annotated[
    Fixed | Exponential | Gamma | LogNormal | Uniform, Field(discriminator="dist")
]
"""A distribution of durations (minutes of staff time)."""
