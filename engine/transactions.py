"""The transaction log: every purchase of a replication as an Arrow table, the shape CLV tools read.

A worker turns its ledger into a table (:func:`purchase_table`); the run folder writes each replication's
table as a part file as it arrives and joins the parts in replication order at the end
(:func:`join_parts`), so the log is the same whatever executor ran the replications, and no process holds
more than one replication's purchases.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.ledger import Ledger

TRANSACTION_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("customer_id", pa.int64()),
        ("day", pa.float64()),
        ("amount", pa.float64()),
        ("product", pa.string()),
        ("source", pa.string()),
        ("carrier", pa.string()),
    ]
)


def purchase_table(replication: int, ledger: Ledger) -> pa.Table:
    """One replication's purchases (customer_id is the person's row in that replication)."""
    purchases, people = ledger.purchases, ledger.people
    products = np.array(ledger.product_ids, dtype=object)
    sources = np.array(ledger.source_ids, dtype=object)
    carriers = np.array((*ledger.carrier_ids, ""), dtype=object)  # index -1 → ""
    return pa.table(
        {
            "replication": np.full(len(purchases), replication, dtype=np.int32),
            "customer_id": purchases.person,
            "day": purchases.day,
            "amount": purchases.amount,
            "product": products[purchases.product],
            "source": sources[people.source[purchases.person]],
            "carrier": carriers[people.carrier[purchases.person]],
        },
        schema=TRANSACTION_SCHEMA,
    )


def write_part(table: pa.Table, target: Path) -> None:
    """Write one replication's table as a Parquet file (the caller makes the write atomic)."""
    pq.write_table(table, target)


def join_parts(parts: Iterable[Path], target: Path) -> None:
    """Write the parts, in the order given, into one Parquet file, reading one part at a time."""
    with pq.ParquetWriter(target, TRANSACTION_SCHEMA) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part, schema=TRANSACTION_SCHEMA))
