"""The comparison report's words and tables as strings: verdicts in the page's language, the metrics of
every plan with CIs and paired differences, and the selection of the best plan.

Verdicts are written again from ``comparison.json`` (differences, adjusted p-values, detected or not) with
:func:`engine.compare.verdicts.verdict_text`, so ``siyu report --lang en`` on a comparison made with
``--lang zh`` reads in English throughout; the claims are the ones the comparison made.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.compare.selection import Selection, SystemResult
from engine.compare.tables import difference_ci, format_difference, selection_sentence
from engine.compare.verdicts import BETTER, Language, control_note, format_p, verdict_text
from engine.metrics import METRIC_INFO, METRICS
from engine.presentation import format_value
from reports.comparison import ComparisonResults
from reports.comparison_labels import text
from reports.labels import Lang, metric_definition, metric_label
from reports.tables import unit_label


@dataclass(frozen=True)
class VerdictLine:
    """One verdict: its metric, whether a difference is claimed (and better or worse) and its sentence."""

    metric: str
    detected: bool
    tone: str
    """``better``, ``worse``, ``neutral`` (a claimed difference with no agreed direction) or ``none``."""
    text: str


@dataclass(frozen=True)
class PlanVerdicts:
    """A variant's verdicts on the key metrics."""

    plan: str
    heading: str
    lines: list[VerdictLine]


def _tone(metric: str, diff: float | None, detected: bool) -> str:
    if not detected or diff is None:
        return "none"
    direction = BETTER.get(metric)
    if direction is None:
        return "neutral"
    return "better" if (diff > 0) == (direction == "higher") else "worse"


def plan_verdicts(comparison: ComparisonResults, lang: Lang) -> list[PlanVerdicts]:
    """Every variant's verdicts on the key metrics, in ``lang``."""
    language = Language(lang)
    names = comparison.names
    result = []
    for plan in range(1, len(names)):
        lines = []
        for metric, verdict in comparison.entry(plan)["verdicts"].items():
            difference = comparison.difference(plan, metric)
            sentence = verdict_text(
                names[plan],
                METRIC_INFO[metric],
                difference,
                verdict["p_adjusted"],
                verdict["detected"],
                comparison.currency,
                comparison.adjustment,
                language,
            )
            tone = _tone(metric, difference.diff_mean, verdict["detected"])
            lines.append(VerdictLine(metric, verdict["detected"], tone, sentence))
        heading = text("vs_baseline", lang, plan=names[plan], baseline=names[0])
        result.append(PlanVerdicts(names[plan], heading, lines))
    return result


def adjustment_note(comparison: ComparisonResults, lang: Lang) -> str:
    """How the verdicts control for multiple comparisons (:func:`engine.compare.verdicts.control_note`)."""
    entries = comparison.data["scenarios"][1:]
    family = sum(1 for e in entries for v in e["verdicts"].values() if v["p_adjusted"] is not None)
    return control_note(
        family, len(entries), len(comparison.key_metrics), comparison.adjustment, Language(lang)
    )


@dataclass(frozen=True)
class Cell:
    """A value and the lines under it (its CI; or the difference's CI, then its p-values)."""

    value: str
    details: tuple[str, ...]
    tone: str = "none"
    """``better``/``worse``/``neutral`` for a difference the verdicts claim; ``none`` otherwise."""


@dataclass(frozen=True)
class ComparisonRow:
    """One metric across plans: the baseline's mean, then per variant its mean and its difference."""

    name: str
    label: str
    unit: str
    definition: str
    key: bool
    cells: list[Cell]


def _mean_cell(summary: dict[str, float | None], metric: str) -> Cell:
    info = METRIC_INFO[metric]
    low, high = summary["ci_low"], summary["ci_high"]
    ci = "—" if low is None or high is None else f"{format_value(low, info)} – {format_value(high, info)}"
    return Cell(format_value(summary["mean"], info), (ci,))


def _difference_cell(comparison: ComparisonResults, plan: int, metric: str, lang: Lang) -> Cell:
    info = METRIC_INFO[metric]
    difference = comparison.difference(plan, metric)
    p_values = [] if difference.p_value is None else [f"p {format_p(difference.p_value)}"]
    verdict = comparison.entry(plan)["verdicts"].get(metric)
    tone = "none"
    if verdict is not None:
        if verdict["p_adjusted"] is not None:
            p_values.append(f"{text('adjusted', lang)} {format_p(verdict['p_adjusted'])}")
        tone = _tone(metric, difference.diff_mean, verdict["detected"])
    details = (difference_ci(difference, info), *([" · ".join(p_values)] if p_values else []))
    return Cell(format_difference(difference.diff_mean, info), details, tone)


def comparison_rows(comparison: ComparisonResults, lang: Lang) -> list[ComparisonRow]:
    """Every metric (in DESIGN.md's order): its name, unit and definition, the baseline's mean and CI, and
    for each variant its mean and CI and its paired difference with CI, p and (key metrics) adjusted p."""
    rows = []
    baseline = comparison.entry(0)["metrics"]
    for info in METRICS:
        if info.name not in baseline:
            continue
        cells = [_mean_cell(baseline[info.name], info.name)]
        for plan in range(1, len(comparison.names)):
            cells.append(_mean_cell(comparison.entry(plan)["metrics"][info.name], info.name))
            cells.append(_difference_cell(comparison, plan, info.name, lang))
        rows.append(
            ComparisonRow(
                name=info.name,
                label=metric_label(info, lang),
                unit=unit_label(info, comparison.currency),
                definition=metric_definition(info.name, lang),
                key=info.name in comparison.key_metrics,
                cells=cells,
            )
        )
    return rows


@dataclass(frozen=True)
class SelectionView:
    """The selection of the best plan as the page shows it."""

    intro: str
    sentence: str
    rows: list[tuple[str, str, str, str]]
    """Per plan: name, replications used, mean of the metric, outcome."""


def selection_view(comparison: ComparisonResults, lang: Lang) -> SelectionView | None:
    """The ``--select-best`` result (None without one): the sentence the CLI prints and each plan's part."""
    data = comparison.selection
    if data is None:
        return None
    names = list(comparison.names)
    info = METRIC_INFO[data["metric"]]
    systems = tuple(SystemResult(p["reps"], p["mean"], p["eliminated_at"]) for p in data["plans"])
    best = None if data["best"] is None else names.index(data["best"])
    selection = Selection(
        best=best,
        systems=systems,
        contenders=tuple(names.index(name) for name in data["contenders"]),
        delta=data["indifference"],
        pcs=data["pcs"],
        first_stage=data["first_stage"],
        eta=float("nan"),  # KN's constants are not kept in comparison.json; the sentence does not use them
        h2=float("nan"),
        max_reps=data["max_reps"],
    )
    rows = []
    for plan, system in enumerate(systems):
        if plan == best:
            outcome = text("selected", lang)
        elif system.eliminated_at is not None:
            outcome = text("eliminated_after", lang, reps=system.eliminated_at)
        else:
            outcome = text("in_contention" if best is None else "not_selected", lang)
        rows.append((names[plan], str(system.reps), format_value(system.mean, info), outcome))
    maximize = data["goal"] == "higher"
    return SelectionView(
        intro=text("selection_intro", lang, metric=metric_label(info, lang)),
        sentence=selection_sentence(selection, names, info, comparison.currency, maximize, Language(lang)),
        rows=rows,
    )
