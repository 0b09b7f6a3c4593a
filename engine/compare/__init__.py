"""Comparing strategies: scenarios run on common random numbers, paired differences with verdicts, and the
selection of the best plan (Kim–Nelson's KN procedure).

Modules: :mod:`~engine.compare.paired` (runs and paired differences), :mod:`~engine.compare.verdicts` (plain
zh/en verdicts under multiple-comparison control), :mod:`~engine.compare.selection` (KN),
:mod:`~engine.compare.output` (the JSON contract and the ``--out`` folder), :mod:`~engine.compare.tables`
(terminal tables).
"""
