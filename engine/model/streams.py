"""Random streams of one replication: one numpy Generator per subsystem (common random numbers).

A replication's streams depend only on the root seed and the replication index, so results are the same
whatever executor runs them; two scenarios that differ in one lever keep the other subsystems' draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUBSYSTEMS = ("arrivals", "traits", "buying", "purchases", "campaigns")


@dataclass(frozen=True)
class Streams:
    """Named generators. Per source: ``arrivals`` (visitors, who buys and joins), ``traits`` (what a new
    person is like) and ``buying`` (purchases on the visit and lifetimes of people who never join); shared:
    ``purchases`` (members' purchases, drawn at reviews)."""

    arrivals: tuple[np.random.Generator, ...]
    traits: tuple[np.random.Generator, ...]
    buying: tuple[np.random.Generator, ...]
    purchases: np.random.Generator
    campaigns: tuple[np.random.Generator, ...]  # one per campaign: reach, annoyance, responses


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication ``replication`` under ``root_seed`` (independent of worker count)."""
    return np.random.SeedSequence(root_seed, spawn_key=(replication,))


def make_streams(seed: np.random.SeedSequence, n_sources: int, n_campaigns: int = 0) -> Streams:
    """Split a replication's seed into its subsystem streams."""
    children = seed.spawn(len(SUBSYSTEMS))
    named = dict(zip(SUBSYSTEMS, children, strict=True))
    arrivals = tuple(np.random.default_rng(s) for s in named["arrivals"].spawn(n_sources))
    return Streams(
        arrivals=arrivals,
        traits=tuple(np.random.default_rng(s) for s in named["traits"].spawn(n_sources)),
        buying=tuple(np.random.default_rng(s) for s in named["buying"].spawn(n_sources)),
        purchases=np.random.default_rng(named["purchases"]),
        campaigns=tuple(np.random.default_rng(s) for s in named["campaigns"].spawn(n_campaigns)),
    )
