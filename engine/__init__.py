"""Siyu 私域 — a vectorized discrete-event simulator for private-traffic strategy.

Dependencies point one way: scenario → model → ledger → metrics → runner → CLI.
"""

__version__ = "0.1.0"
