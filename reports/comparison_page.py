"""The comparison report as one self-contained HTML page, in the run report's layout and style.

Top to bottom, what a board asks first: the verdicts against the baseline, the selection of the best plan
(``--select-best``), the paired differences with CI bars, the plans' curves overlaid, every metric per plan
with CIs and paired differences, and each plan's resolved assumptions (collapsible). plotly.js is embedded
once; the same comparison gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.output import write_text_atomic
from engine.run_folder import SIYU_VERSION
from reports.comparison import ComparisonResults, load_comparison
from reports.comparison_labels import text
from reports.comparison_tables import adjustment_note, comparison_rows, plan_verdicts, selection_view
from reports.figures.catalogue import FigureSpec
from reports.figures.common import color
from reports.figures.comparison import (
    plot_differences,
    plot_lorenz_overlay,
    plot_payback_overlay,
    plot_pool_overlay,
    plot_retention_overlay,
)
from reports.html import (
    FIGURE_LINKS,
    FIGURE_SECTIONS,
    PAGE_BODY_START,
    PAGE_END,
    PAGE_HEAD,
    PAGE_STYLE,
    figure_views,
    render_page,
    section_head,
)
from reports.labels import LANGS, Lang
from reports.loading import ReportError

REPORT = "index.html"


def _differences_caption(comparison: ComparisonResults, lang: Lang) -> str:
    detectable = text(f"detectable_{comparison.adjustment.value}", lang)
    return text("cap_differences", lang, detectable=detectable)


def _caption(key: str) -> Callable[[ComparisonResults, Lang], str]:
    return lambda comparison, lang: text(key, lang, reps=comparison.reps)


COMPARISON_FIGURES: tuple[FigureSpec[ComparisonResults], ...] = (
    FigureSpec("differences", plot_differences, "fig_differences", _differences_caption),
    FigureSpec(
        "retention_overlay",
        plot_retention_overlay,
        "fig_retention_overlay",
        _caption("cap_retention_overlay"),
    ),
    FigureSpec("pool_overlay", plot_pool_overlay, "fig_pool_overlay", _caption("cap_pool_overlay")),
    FigureSpec(
        "payback_overlay", plot_payback_overlay, "fig_payback_overlay", _caption("cap_payback_overlay")
    ),
    FigureSpec("lorenz_overlay", plot_lorenz_overlay, "fig_lorenz_overlay", _caption("cap_lorenz_overlay")),
)
"""Every figure of a comparison report, in page order."""


BODY = (
    """
<style>
  .verdicts { list-style: none; padding: 0; margin: 0 0 12px; }
  .verdicts li { padding: 6px 12px; margin: 4px 0; border-left: 6px solid var(--line);
                 background: var(--soft); border-radius: 4px; }
  .verdicts li.better { border-left-color: #117733; }
  .verdicts li.worse { border-left-color: #CC6677; }
  .verdicts li.neutral { border-left-color: #332288; }
  .plans { display: flex; flex-wrap: wrap; gap: 8px 20px; margin: 8px 0; }
  .swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; margin-right: 6px;
            vertical-align: -1px; }
  .scroll { overflow-x: auto; }
  td .detail { display: block; color: var(--muted); font-size: 0.85em; font-weight: 400; }
  #metrics table { font-size: 0.8em; }
  td.better { color: #117733; font-weight: 700; }
  td.worse { color: #CC6677; font-weight: 700; }
  td.neutral { color: #332288; font-weight: 700; }
  details { margin: 8px 0; }
  summary { cursor: pointer; font-weight: 600; }
</style>
"""
    + PAGE_BODY_START
    + """  <p class="kicker">{{ t('comparison_report') }} · Siyu 私域</p>
  <h1>{{ title }}</h1>
  <p class="kicker">{{ paired_reps }} · {{ t('currency') }} {{ currency }}</p>
  <div class="plans">
  {% for plan in plans %}<span><span class="swatch" style="background: {{ plan.color }}"></span>
    {{- plan.name }} {% if loop.first %}<span class="muted">({{ t('baseline') }})</span>{% endif %}</span>
  {% endfor %}
  </div>
</header>
<nav>
  <a href="#verdicts">{{ t('verdicts') }}</a>
  {% if selection %}<a href="#selection">{{ t('selection') }}</a>{% endif %}
"""
    + FIGURE_LINKS
    + """  <a href="#assumptions">{{ t('assumptions') }}</a>
</nav>
<section id="verdicts">
  <h2>{{ t('verdicts') }}</h2>
  {% for plan in verdicts %}
  <h3>{{ plan.heading }}</h3>
  <ul class="verdicts" data-plan="{{ plan.plan }}">
  {% for line in plan.lines %}
    <li class="{{ line.tone }}" data-metric="{{ line.metric }}" data-detected="{{ line.detected|lower }}">
      {{ line.text }}</li>
  {% endfor %}
  </ul>
  {% endfor %}
  <p class="muted">{{ note }}</p>
</section>
{% if selection %}
<section id="selection">
  <h2>{{ t('selection') }}</h2>
  <p class="muted">{{ selection.intro }}</p>
  <p><strong>{{ selection.sentence }}</strong></p>
  <table>
    <thead><tr><th>{{ t('plan') }}</th><th class="num">{{ t('replications') }}</th>
      <th class="num">{{ t('mean') }}</th><th>{{ t('outcome') }}</th></tr></thead>
    <tbody>
    {% for name, reps, mean, outcome in selection.rows %}
      <tr><td>{{ name }}</td><td class="num">{{ reps }}</td><td class="num">{{ mean }}</td>
        <td>{{ outcome }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
</section>
{% endif %}
"""
    + FIGURE_SECTIONS
    + section_head("metrics", "metrics_table", "compare_metrics_intro")
    + """  <div class="scroll">
  <table>
    <thead><tr><th>{{ t('metric') }}</th><th class="num">{{ plans[0].name }}<br>
      <span class="muted">{{ t('baseline') }}</span></th>
      {% for plan in plans[1:] %}<th class="num">{{ plan.name }}</th>
      <th class="num">{{ t('difference') }}<br><span class="muted">{{ plan.name }}</span></th>{% endfor %}
    </tr></thead>
    <tbody>
    {% for row in metrics %}
      <tr data-metric="{{ row.name }}"><td>{% if row.key %}★ {% endif %}{{ row.label }}{% if row.unit %}
        ({{ row.unit }}){% endif %} <code class="muted">{{ row.name }}</code>
        <span class="muted" style="display:block; font-size:0.85em">{{ row.definition }}</span></td>
        {% for cell in row.cells %}<td class="num {{ cell.tone }}">{{ cell.value }}
          {% for detail in cell.details %}<span class="detail">{{ detail }}</span>{% endfor %}</td>
        {% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  </div>
</section>
"""
    + section_head("assumptions", "assumptions", "plan_assumptions_intro")
    + """  {% for plan in plans %}
  <details data-plan="{{ plan.folder }}"><summary>{{ plan.name }}{% if plan.file %} —
    <code>{{ plan.file }}</code>{% endif %}</summary>
  <pre>{{ plan.resolved_yaml }}</pre></details>
  {% endfor %}
</section>
"""
    + PAGE_END
)


def _page_template() -> str:
    """The run page's head (meta, icon, style) with the comparison's title, then the comparison's body."""
    return PAGE_HEAD + "<title>{{ title }} — {{ t('comparison_report') }}</title>\n" + PAGE_STYLE + BODY


def render_comparison_report(comparison: ComparisonResults, lang: Lang) -> str:
    """The report of ``comparison`` in ``lang``, as one self-contained HTML page."""
    figures = figure_views(COMPARISON_FIGURES, comparison, lang, text)
    names = comparison.names
    plans = [
        {
            "name": name,
            "color": color(i),
            "folder": comparison.folders[i],
            "file": comparison.entry(i).get("file", ""),
            "resolved_yaml": comparison.plans[i].resolved_yaml,
        }
        for i, name in enumerate(names)
    ]
    return render_page(
        _page_template(),
        lang,
        text,
        version=SIYU_VERSION,
        title=" · ".join(names),
        paired_reps=text("paired_reps", lang, reps=comparison.reps, seed=comparison.seed),
        currency=comparison.currency,
        plans=plans,
        figures=figures,
        verdicts=plan_verdicts(comparison, lang),
        note=adjustment_note(comparison, lang),
        selection=selection_view(comparison, lang),
        metrics=comparison_rows(comparison, lang),
    )


def write_comparison_report(folder: Path, lang: str = "zh") -> Path:
    """Write ``index.html`` (in ``lang``) into the comparison folder ``folder``; a folder that is not a
    finished comparison raises :class:`ReportError`. Returns the file written."""
    if lang not in LANGS:
        raise ReportError(f"--lang {lang}: not a report language; allowed: {', '.join(LANGS)}")
    comparison = load_comparison(folder)
    write_text_atomic(folder / REPORT, render_comparison_report(comparison, lang))  # type: ignore[arg-type]
    return folder / REPORT
