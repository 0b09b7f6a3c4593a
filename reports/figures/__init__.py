"""The report's figures: ``plot_*(results, lang) -> plotly.graph_objects.Figure``, one module per family.

Each function reads a :class:`reports.loading.RunResults` (files of a finished run, never the model) and
returns a figure without a title: the page (or the classroom playground) puts the title and the one-line
caption beside it (:data:`reports.figures.catalogue.FIGURES`).
"""
