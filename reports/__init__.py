"""Siyu reports: figures and HTML built from results, never from the model (see DESIGN.md).

The core engine writes ``summary.json``, ``replications.csv`` and the transaction log; the report issue adds
the plotly figures and the self-contained HTML here. ``engine`` never imports this package.
"""
