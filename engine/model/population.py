"""The people of one replication as a struct of numpy arrays that grows by doubling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NEVER = np.nan
NOT_YET = np.inf
UNLIMITED_PURCHASES = np.int64(2**62)

# name -> (dtype, fill value of a new row)
PERSON_COLUMNS: dict[str, tuple[type, float | int | bool]] = {
    "source": (np.int16, -1),
    "lure": (np.int16, -1),
    "carrier": (np.int16, -1),
    "visit_day": (np.float64, NEVER),
    "join_day": (np.float64, NEVER),
    "leave_day": (np.float64, NEVER),
    "activation_day": (np.float64, NEVER),
    "fulfilment_day": (np.float64, -np.inf),
    "deal_seeker": (np.bool_, False),
    "rate": (np.float64, 0.0),  # purchases per day outside the private domain (deal-seeker factor included)
    "purchases_left": (np.int64, 0),
    "purchases": (np.int64, 0),
    "first_purchase_day": (np.float64, NEVER),
    "last_purchase_day": (np.float64, NEVER),
    "next_regular_day": (np.float64, NOT_YET),
    "purchases_drawn_to": (np.float64, -np.inf),  # time up to which a member's purchase clock is drawn
    "stage": (np.int8, -1),
    "dropout": (np.float64, 0.0),  # probability of stopping buying after each repeat purchase
    "spend": (np.float64, 0.0),
    "tier": (np.int8, -1),
    "touches": (np.int64, 0),  # touches that reached the person
    "interactions": (np.int64, 0),  # responses to touches
    "last_touch_day": (np.float64, NEVER),
    "annoyance": (np.float64, 0.0),  # leaky count of recent touches, scaled (campaigns.Annoyance)
    "annoyed_out": (np.bool_, False),  # left a carrier because of over-touching
    "dormant_since": (np.float64, NEVER),
    "service_cost": (np.float64, 0.0),  # discounted touch costs inside the person's CLV window
}


def repeat_purchases(rng: np.random.Generator, dropout: np.ndarray) -> np.ndarray:
    """Repeat purchases each buyer makes before dropping out: Geometric(dropout) on 1, 2, …, the last one
    followed by dropout (BG/NBD); unlimited where the dropout probability is zero."""
    repeats = np.full(dropout.size, UNLIMITED_PURCHASES, dtype=np.int64)
    dies = dropout > 0
    repeats[dies] = rng.geometric(dropout[dies])
    return repeats


def distinct(rows: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``rows`` (``np.unique`` without its hash-table path, which numpy 2.4
    takes for a plain call and which is about 30 times slower than sorting on arrays of row numbers)."""
    if rows.size == 0:
        return rows
    ordered = np.sort(rows)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


class Population:
    """Rows ``0 .. size-1`` are people; per-carrier membership columns are 2-D (carrier, person)."""

    def __init__(
        self,
        n_carriers: int,
        capacity: int = 1024,
        extra_columns: dict[str, tuple[type, float | int | bool]] | None = None,
    ) -> None:
        self.size = 0
        self.n_carriers = n_carriers
        self._capacity = max(16, capacity)
        self._column_specs = {**PERSON_COLUMNS, **(extra_columns or {})}
        self.columns: dict[str, np.ndarray] = {
            name: np.full(self._capacity, fill, dtype=dtype)
            for name, (dtype, fill) in self._column_specs.items()
        }
        shape = (n_carriers, self._capacity)
        self.member_start = np.full(shape, NEVER)  # when the membership started (nan: never)
        self.member_exit = np.full(shape, NEVER)  # exit time; inf: still on; nan: never joined
        # an exit clock's unit-exponential budget, as left at exit_budget_from (its start or last restage)
        self.exit_budget = np.zeros(shape)
        self.exit_budget_from = np.full(shape, -np.inf)

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            return columns[name][: self.size]
        raise AttributeError(name)

    def add(self, count: int) -> slice:
        """Append ``count`` rows with default values; returns their slice."""
        if self.size + count > self._capacity:
            self._grow(self.size + count)
        rows = slice(self.size, self.size + count)
        self.size += count
        return rows

    def column(self, name: str) -> np.ndarray:
        """The full backing array of a column (write through a slice from :meth:`add`)."""
        return self.columns[name]

    def _grow(self, needed: int) -> None:
        new_capacity = max(needed, 2 * self._capacity)
        for name, (dtype, fill) in self._column_specs.items():
            grown = np.full(new_capacity, fill, dtype=dtype)
            grown[: self.size] = self.columns[name][: self.size]
            self.columns[name] = grown
        for attr, fill in (
            ("member_start", NEVER),
            ("member_exit", NEVER),
            ("exit_budget", 0.0),
            ("exit_budget_from", -np.inf),
        ):
            old = getattr(self, attr)
            grown2 = np.full((self.n_carriers, new_capacity), fill)
            grown2[:, : self.size] = old[:, : self.size]
            setattr(self, attr, grown2)
        self._capacity = new_capacity


class ActiveRows:
    """Rows still taking part in some process (open memberships, live buyers), kept without full scans.

    Each :meth:`refresh` looks only at the rows kept last time plus the rows added since, and keeps those for
    which ``still_active`` holds; a row that drops out is only looked at again if :meth:`add` brings it back.
    """

    def __init__(self) -> None:
        self.rows = np.zeros(0, dtype=np.int64)
        self._scanned = 0
        self._listed = np.zeros(0, dtype=bool)  # row → currently in ``rows``

    def refresh(
        self, size: int, still_active: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(active, dropped)``: the candidates (previous rows and rows ``scanned .. size-1``) for which
        ``still_active`` holds, and the others."""
        new = np.arange(self._scanned, size, dtype=np.int64)
        candidates = np.concatenate((self.rows, new)) if new.size else self.rows
        self._scanned = size
        if self._listed.size < size:
            grown = np.zeros(max(size, 2 * self._listed.size), dtype=bool)
            grown[: self._listed.size] = self._listed
            self._listed = grown
        active = still_active(candidates)
        if active.all():
            self.rows, dropped = candidates, candidates[:0]
        else:
            self.rows, dropped = candidates[np.flatnonzero(active)], candidates[np.flatnonzero(~active)]
            self._listed[dropped] = False
        self._listed[new[active[candidates.size - new.size :]]] = True
        return self.rows, dropped

    def add(self, rows: np.ndarray) -> None:
        """Bring rows back (rows already in the set or not yet scanned are left as they are)."""
        rows = rows[rows < self._scanned]
        rows = rows[~self._listed[rows]]
        self.rows = np.concatenate((self.rows, rows))
        self._listed[rows] = True
