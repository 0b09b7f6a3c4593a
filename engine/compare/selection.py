"""Selecting the best plan: Kim & Nelson's fully sequential procedure KN (ACM TOMACS 11(3), 2001).

KN picks, among ``k`` simulated systems, the one with the largest (or smallest) mean. It guarantees

    P(the system selected is the best) ≥ 1 − α   whenever the best mean is at least δ better than all others,

where δ, the *indifference zone*, is the smallest difference worth detecting (in the metric's units). When
some plans are within δ of the best, KN usually selects one of those, but the 2001 proof promises nothing
then (a "good selection" is not its theorem). The guarantee assumes that each system's outputs are
independent and identically distributed across replications and normally distributed; variances may differ
between systems, and outputs may be correlated *across* systems by common random numbers — KN works with
the variance of pairwise differences, which CRN makes smaller, so CRN means fewer replications.
Replications are independent by construction (one seed each); normality is an approximation, good for means
over many customers (CAC, CLV, retention, profit of a whole run).

The procedure (maximisation; a minimised metric is negated):

1. Setup: confidence 1 − α, indifference zone δ, first-stage size n0 ≥ 2.
   η = ½ [ (2α / (k − 1))^(−2/(n0−1)) − 1 ],  h² = 2η(n0 − 1).
2. Initialisation: n0 replications of every system (the same indices: CRN). For each pair i ≠ l, S²_il is the
   sample variance of the differences X_ij − X_lj over the n0 replications; N_il = ⌊h² S²_il / δ²⌋ and
   N_i = max_{l≠i} N_il. If n0 > max_i N_i, select the system with the largest first-stage mean. Otherwise
   I = all systems, r = n0.
3. Screening: keep i in I only if X̄_i(r) ≥ X̄_l(r) − W_il(r) for every other l in I, where
   W_il(r) = max{0, (δ / 2r)(h² S²_il / δ² − r)}.
4. Stopping: if |I| = 1 select it. Otherwise run replication r + 1 of every system still in I (and of no
   other), r ← r + 1; if r = max_{i∈I} N_i + 1 select the system in I with the largest X̄_i(r), else go to 3.
   (The paper stops at max_i N_i + 1 over all systems. Stopping at the contenders' max selects the same
   system: once r > N_il for every pair of contenders, every W_il(r) is 0, so the paper's next screening
   keeps only the contender with the largest mean.)

Replications are added only to the plans still in contention. ``max_reps`` caps the replications of a plan:
if the cap stops the procedure before it ends, no plan is selected (the guarantee would not hold) and the
plans still in contention are reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Sampler = Callable[[Sequence[int], int], Sequence[float]]
"""``sample(systems, r)``: the metric in replication ``r`` (0-based) of each of ``systems``, in order."""


def eta(alpha: float, systems: int, first_stage: int) -> float:
    """KN's η = ½[(2α/(k−1))^(−2/(n0−1)) − 1]."""
    return 0.5 * ((2 * alpha / (systems - 1)) ** (-2 / (first_stage - 1)) - 1)


@dataclass(frozen=True)
class SystemResult:
    """One system's part in a KN run."""

    reps: int
    """Replications of this system the procedure used."""
    mean: float
    """Mean of the metric over them."""
    eliminated_at: int | None
    """Replications per system when it was screened out; None for a system never eliminated."""

    def as_json(self) -> dict[str, Any]:
        return {"reps": self.reps, "mean": self.mean, "eliminated_at": self.eliminated_at}


@dataclass(frozen=True)
class Selection:
    """Outcome of KN: the best system (None if ``max_reps`` stopped the procedure first), and each one's."""

    best: int | None
    systems: tuple[SystemResult, ...]
    contenders: tuple[int, ...]
    """Systems not eliminated when the procedure stopped."""
    delta: float
    pcs: float
    first_stage: int
    eta: float
    h2: float
    max_reps: int
    observations: dict[int, list[float]] = field(repr=False, compare=False, default_factory=dict)
    """Per system, the metric in each replication used (in replication order)."""

    @property
    def total_reps(self) -> int:
        return sum(s.reps for s in self.systems)


def select_best(
    first_stage: np.ndarray,
    sample: Sampler,
    delta: float,
    pcs: float = 0.95,
    maximize: bool = True,
    max_reps: int = 1_000,
    on_stage: Callable[[int], None] | None = None,
) -> Selection:
    """Run KN from a first stage of ``first_stage[i, j]`` (system i, replication j = 0 … n0−1).

    Args:
        first_stage: k × n0 outputs, k ≥ 2, n0 ≥ 2; column j is replication j of every system (CRN allowed).
        sample: Runs one more replication of the systems still in contention.
        delta: Indifference zone δ > 0, in the metric's units.
        pcs: Probability of correct selection 1 − α, with 1/k < pcs < 1.
        maximize: The best system has the largest mean (else the smallest).
        max_reps: Most replications of any system (≥ n0).
        on_stage: Called with the replications per contender after each added stage (for progress).
    """
    k, n0 = first_stage.shape
    if k < 2 or n0 < 2:
        raise ValueError(f"KN needs at least 2 systems and 2 first-stage replications, got {k} and {n0}")
    if not delta > 0:
        raise ValueError(f"the indifference zone must be positive, got {delta}")
    if not 1 / k < pcs < 1:
        raise ValueError(f"the probability of correct selection must be between 1/k and 1, got {pcs}")
    sign = 1.0 if maximize else -1.0
    alpha = 1 - pcs
    eta_value = eta(alpha, k, n0)
    h2 = 2 * eta_value * (n0 - 1)
    data = sign * np.asarray(first_stage, dtype=np.float64)
    diffs = data[:, None, :] - data[None, :, :]  # [i, l, j] = X_ij − X_lj
    s2 = diffs.var(axis=2, ddof=1)
    n_il = np.floor(h2 * s2 / delta**2)
    np.fill_diagonal(n_il, 0)
    n_i = n_il.max(axis=1)
    observations = {i: [float(v) for v in data[i]] for i in range(k)}
    eliminated: dict[int, int] = {}
    contenders = list(range(k))
    r = n0

    def means(systems: Sequence[int]) -> np.ndarray:
        return np.array([math.fsum(observations[i]) / len(observations[i]) for i in systems])

    best: int | None
    if n0 > n_i.max():
        best = int(np.argmax(means(contenders)))
    else:
        best = None
        while True:
            current = means(range(k))
            survivors = []
            for i in contenders:
                w = np.maximum(0.0, (delta / (2 * r)) * (h2 * s2[i] / delta**2 - r))
                if all(current[i] >= current[other] - w[other] for other in contenders if other != i):
                    survivors.append(i)
                else:
                    eliminated[i] = r
            contenders = survivors
            if len(contenders) == 1:
                best = contenders[0]
                break
            if r >= max_reps:
                break
            values = sample(contenders, r)
            for i, value in zip(contenders, values, strict=True):
                observations[i].append(sign * float(value))
            r += 1
            if on_stage is not None:
                on_stage(r)
            if r >= n_i[contenders].max() + 1:  # "r = max N_i + 1"; ≥ as eliminations can lower the max
                best = contenders[int(np.argmax(means(contenders)))]
                break
    systems = tuple(
        SystemResult(len(observations[i]), sign * float(means([i])[0]), eliminated.get(i)) for i in range(k)
    )
    return Selection(
        best,
        systems,
        tuple(contenders),
        delta,
        pcs,
        n0,
        eta_value,
        h2,
        max_reps,
        {i: [sign * v for v in observations[i]] for i in range(k)},
    )


def worst_case_reps(first_stage: np.ndarray, delta: float, pcs: float, max_reps: int) -> int:
    """Upper bound on the replications per system KN can use (max N_i + 1, capped at ``max_reps``)."""
    k, n0 = first_stage.shape
    h2 = 2 * eta(1 - pcs, k, n0) * (n0 - 1)
    data = np.asarray(first_stage, dtype=np.float64)
    s2 = (data[:, None, :] - data[None, :, :]).var(axis=2, ddof=1)
    bound = math.floor(h2 * float(s2.max()) / delta**2) + 1
    return max(n0, min(bound, max_reps))
