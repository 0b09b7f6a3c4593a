"""Random streams of one replication: one numpy Generator per subsystem (common random numbers).

A replication's streams depend only on the root seed and the replication index, so results are the same
whatever executor runs them; two scenarios that differ in one lever keep the other subsystems' draws. Streams
of a source or a campaign are keyed by its id (not its position), so adding or removing one source leaves
the others' draws alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SUBSYSTEMS = ("arrivals", "traits", "buying", "purchases", "campaigns", "membership")


@dataclass(frozen=True)
class Streams:
    """Named generators. Per source: ``arrivals`` (visitors, who buys and joins), ``traits`` (what a new
    person is like), ``membership`` (deal-seekers, activation, carriers, leads of new members) and ``buying``
    (purchases on the visit and lifetimes of people who never join); shared: ``purchases`` (members'
    purchases); per campaign: ``campaigns``."""

    arrivals: tuple[np.random.Generator, ...]
    traits: tuple[np.random.Generator, ...]
    buying: tuple[np.random.Generator, ...]
    purchases: np.random.Generator
    campaigns: tuple[np.random.Generator, ...]  # one per campaign: reach, annoyance, responses
    membership: tuple[np.random.Generator, ...]


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication ``replication`` under ``root_seed`` (independent of worker count)."""
    return np.random.SeedSequence(root_seed, spawn_key=(replication,))


def _keyed(
    seed: np.random.SeedSequence, subsystem: int, ids: Sequence[str]
) -> tuple[np.random.Generator, ...]:
    """One generator per id, from (seed, subsystem, a checksum of the id)."""
    return tuple(
        np.random.default_rng(
            np.random.SeedSequence(
                seed.entropy, spawn_key=(*seed.spawn_key, subsystem, zlib.crc32(i.encode()))
            )
        )
        for i in ids
    )


def make_streams(
    seed: np.random.SeedSequence, source_ids: Sequence[str], campaign_ids: Sequence[str] = ()
) -> Streams:
    """Split a replication's seed into its subsystem streams."""
    index = {name: i for i, name in enumerate(SUBSYSTEMS)}
    return Streams(
        arrivals=_keyed(seed, index["arrivals"], source_ids),
        traits=_keyed(seed, index["traits"], source_ids),
        buying=_keyed(seed, index["buying"], source_ids),
        purchases=np.random.default_rng(seed.spawn(len(SUBSYSTEMS))[index["purchases"]]),
        campaigns=_keyed(seed, index["campaigns"], campaign_ids),
        membership=_keyed(seed, index["membership"], source_ids),
    )
