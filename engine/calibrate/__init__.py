"""Calibration: fit buying behaviour and spend to a user's own transaction log (``siyu calibrate``).

``transaction log ──► engine.calibrate`` (DESIGN.md): :mod:`.reading`, :mod:`.dates` and :mod:`.values`
read the file, :mod:`.occasions` makes purchase occasions and treats returns, :mod:`.customers` summarises
each customer, :mod:`.bgnbd`, :mod:`.paretonbd` and :mod:`.gamma_gamma` are the models (fitted by
:mod:`.estimation`), :mod:`.fit_quality` checks them, :mod:`.calibration` runs the steps, and
:mod:`.fragment`, :mod:`.result_json`, :mod:`.tables` and :mod:`.customer_table` present the result.
Nothing here runs the model (files are written with :mod:`engine.output`'s atomic writes); the fragment is
validated against the scenario schema.
"""
