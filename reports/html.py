"""The run report as one self-contained HTML page: plotly.js embedded once, no request leaves the file.

The page is made for a projector as much as for a desk: large type, the key numbers first, every figure with
its title and a one-line caption saying what to read from it, then the metrics with their CIs and
definitions, the breakdowns and the resolved assumptions. The same results give the same bytes (figure
element ids are fixed, nothing records the time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from engine.presentation import format_value
from reports.figures.catalogue import FIGURES, FigureSpec
from reports.figures.common import FONT_FAMILY
from reports.labels import Lang, text
from reports.loading import RunResults
from reports.tables import breakdown_tables, key_numbers, metric_rows

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"scale": 2}}

PAGE_HEAD = """<!DOCTYPE html>
<html lang="{{ html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="siyu {{ version }}">
<link rel="icon" href="data:,">
"""
"""The start of every report page's head (doctype, meta, no favicon request); the title follows."""

PAGE_STYLE = """<style>
  :root { --ink: #1f2430; --muted: #5b6170; --line: #d9dce3; --accent: #332288; --soft: #f4f5f8; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: {{ font_family }}; color: var(--ink); font-size: 18px; line-height: 1.55;
         background: #fff; }
  main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; }
  header h1 { font-size: 2.1em; margin: 0.2em 0; }
  header .kicker { color: var(--muted); font-size: 0.95em; margin: 0; }
  header .description { max-width: 70em; color: var(--muted); white-space: pre-line; }
  nav { position: sticky; top: 0; background: rgba(255,255,255,0.95); border-bottom: 1px solid var(--line);
        padding: 8px 0; z-index: 10; font-size: 0.9em; }
  nav a { color: var(--accent); text-decoration: none; margin-right: 1.2em; white-space: nowrap; }
  h2 { font-size: 1.5em; margin: 1.6em 0 0.3em; border-left: 6px solid var(--accent); padding-left: 0.5em; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 14px; }
  .card { background: var(--soft); border-radius: 10px; padding: 14px 16px; }
  .card .label { color: var(--muted); font-size: 0.9em; }
  .card .value { font-size: 1.6em; font-weight: 700; line-height: 1.25; overflow-wrap: anywhere; }
  .card .ci { color: var(--muted); font-size: 0.85em; }
  figure { margin: 0 0 12px; }
  figcaption { color: var(--muted); margin: 0 0 6px; }
  .plot { width: 100%; }
  table { border-collapse: collapse; width: 100%; font-size: 0.85em; margin: 8px 0 20px; }
  th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
  td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
  tbody tr:nth-child(even) { background: var(--soft); }
  pre { background: var(--soft); padding: 16px; overflow-x: auto; font-size: 0.8em; line-height: 1.4; }
  .muted { color: var(--muted); }
  @media print { nav { display: none; } section.figure { break-inside: avoid; } }
</style>
"""
"""The look every report page shares (type, cards, tables, figures)."""

PAGE_BODY_START = """<script>{{ plotly_js }}</script>
</head>
<body>
<main>
<header>
"""
"""plotly.js once, the end of the head and the start of the body up to the header's content."""

FIGURE_LINKS = """  {% for figure in figures %}<a href="#{{ figure.key }}">{{ figure.title }}</a>
  {% endfor %}
  <a href="#metrics">{{ t('metrics_table') }}</a>
"""
"""The navigation's links to the figures (``figures``: key, title) and to the metrics table."""

FIGURE_SECTIONS = """{% for figure in figures %}
<section class="figure" id="{{ figure.key }}" data-figure="{{ figure.key }}">
  <h2>{{ figure.title }}</h2>
  <figure>
    <figcaption>{{ figure.caption }}</figcaption>
    <div class="plot">{{ figure.html }}</div>
  </figure>
</section>
{% endfor %}
"""
"""One section per figure (``figures``: key, title, caption, html), in page order."""

PAGE_END = """</main>
</body>
</html>
"""
"""The end of every report page."""


def section_head(section_id: str, title_key: str, intro_key: str) -> str:
    """The start of a section with its id, its heading and a muted introduction (``t`` keys)."""
    return (
        f'<section id="{section_id}">\n'
        f"  <h2>{{{{ t('{title_key}') }}}}</h2>\n"
        f"  <p class=\"muted\">{{{{ t('{intro_key}') }}}}</p>\n"
    )


TEMPLATE = (
    PAGE_HEAD
    + """<title>{{ scenario_name }} — {{ t('report') }}</title>
"""
    + PAGE_STYLE
    + PAGE_BODY_START
    + """  <p class="kicker">{{ t('report') }} · Siyu 私域</p>
  <h1>{{ scenario_name }}</h1>
  <p class="kicker">{{ reps_seed }} · {{ t('currency') }} {{ currency }}{% if scenario_file %}
    · {{ t('scenario_file') }} <code>{{ scenario_file }}</code>{% endif %}</p>
  {% if description %}<p class="description">{{ description }}</p>{% endif %}
</header>
<nav>
  <a href="#key-numbers">{{ t('key_numbers') }}</a>
"""
    + FIGURE_LINKS
    + """  <a href="#breakdowns">{{ t('breakdowns') }}</a>
  <a href="#assumptions">{{ t('assumptions') }}</a>
</nav>
<section id="key-numbers">
  <h2>{{ t('key_numbers') }}</h2>
  <div class="cards">
  {% for row in cards %}
    <div class="card" data-metric="{{ row.name }}">
      <div class="label">{{ row.label }}{% if row.unit %} ({{ row.unit }}){% endif %}</div>
      <div class="value">{{ row.mean }}</div>
      <div class="ci">95% CI {{ row.ci }}</div>
    </div>
  {% endfor %}
  </div>
</section>
"""
    + FIGURE_SECTIONS
    + section_head("metrics", "metrics_table", "metrics_intro")
    + """  <table>
    <thead><tr><th>{{ t('metric') }}</th><th class="num">{{ t('mean') }}</th>
      <th class="num">{{ t('ci') }}</th><th>{{ t('definition') }}</th><th>{{ t('note') }}</th></tr></thead>
    <tbody>
    {% for row in metrics %}
      <tr data-metric="{{ row.name }}"><td>{{ row.label }}{% if row.unit %} ({{ row.unit }}){% endif %}
        <br><code class="muted">{{ row.name }}</code></td>
        <td class="num">{{ row.mean }}</td><td class="num">{{ row.ci }}</td>
        <td>{{ row.definition }}</td><td>{{ row.note }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
</section>
"""
    + section_head("breakdowns", "breakdowns", "breakdown_intro")
    + """  {% for table in breakdowns %}
  <h3>{{ table.title }}</h3>
  <table data-dimension="{{ table.dimension }}">
    <thead><tr><th>{{ t('metric') }}</th>
      {% for group in table.groups %}<th class="num">{{ group }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for label, cells in table.rows %}
      <tr><td>{{ label }}</td>{% for cell in cells %}<td class="num">{{ cell }}</td>{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  {% endfor %}
</section>
"""
    + section_head("assumptions", "assumptions", "assumptions_intro")
    + """  <pre>{{ resolved_yaml }}</pre>
</section>
"""
    + PAGE_END
)

_ENVIRONMENT = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def figure_html(figure: go.Figure, element_id: str) -> Markup:
    """A figure as a ``<div>`` and its script, without plotly.js (the page embeds it once); the element id
    is fixed so that the same results give the same page."""
    return Markup(
        figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=f"plot-{element_id}",
            config=PLOTLY_CONFIG,
            auto_play=False,
        )
    )


def render_page(template: str, lang: Lang, words: Callable[[str, Lang], str], **values: Any) -> str:
    """``template`` rendered with what every report page uses (``t``: ``words`` in ``lang``, the page's
    language, the font, plotly.js) and the page's own ``values``."""
    return _ENVIRONMENT.from_string(template).render(
        t=lambda key: words(key, lang),
        html_lang="zh-CN" if lang == "zh" else "en",
        font_family=Markup(FONT_FAMILY),
        plotly_js=Markup(get_plotlyjs()),
        **values,
    )


R = TypeVar("R")


def figure_views(
    specs: Iterable[FigureSpec[R]], results: R, lang: Lang, words: Callable[[str, Lang], str]
) -> list[dict[str, Any]]:
    """Each figure of ``specs`` drawn from ``results`` for the page: its id, title (from ``words``),
    caption and HTML."""
    return [
        {
            "key": spec.key,
            "title": words(spec.title_key, lang),
            "caption": spec.caption(results, lang),
            "html": figure_html(spec.plot(results, lang), spec.key),
        }
        for spec in specs
    ]


def render_run_report(results: RunResults, lang: Lang) -> str:
    """The run report of ``results`` in ``lang``, as one self-contained HTML page."""
    figures = figure_views(FIGURES, results, lang, text)
    cards = key_numbers(results, lang)
    manifest = results.manifest
    return render_page(
        TEMPLATE,
        lang,
        text,
        version=manifest.get("siyu_version", ""),
        scenario_name=results.scenario.meta.name,
        description=results.scenario.meta.description,
        reps_seed=text("reps_seed", lang, reps=results.reps, seed=results.summary["seed"]),
        currency=results.currency,
        scenario_file=manifest.get("scenario_file", ""),
        figures=figures,
        cards=cards,
        metrics=metric_rows(results, lang),
        breakdowns=breakdown_tables(results, lang),
        resolved_yaml=results.resolved_yaml,
        format_value=format_value,
    )
