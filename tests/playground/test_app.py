"""The playground's HTTP API and page, against a live server over the tiny scenario folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from playground.catalogue import load_catalogue
from playground.errors import PlaygroundError
from tests.playground.conftest import request


def test_the_folder_s_scenarios_are_listed_and_broken_files_said_why(server: str) -> None:
    answer = request(f"{server}/api/scenarios")
    assert answer.status == 200
    listed = answer.body
    assert [s["key"] for s in listed["scenarios"]] == ["tiny_shop", "more/plain"]
    assert listed["scenarios"][0]["name"] == "小店加企微 Tiny shop"
    assert "A tiny test scenario" in listed["scenarios"][0]["description"]
    assert len(listed["problems"]) == 1 and "broken.yaml" in listed["problems"][0]
    assert (listed["reps"], listed["seed"]) == (2, 1)


def test_levers_of_a_scenario(server: str) -> None:
    answer = request(f"{server}/api/levers?scenario=tiny_shop")
    assert answer.status == 200
    sliders = {slider["path"]: slider for slider in answer.body["sliders"]}
    spend = sliders["sources.ads.spend_per_day"]
    assert (spend["value"], spend["minimum"], spend["unit"]) == (500.0, 0.0, "money")
    assert spend["allowed"] == {"zh": "≥ 0, ≤ 1,000,000,000", "en": "≥ 0, ≤ 1,000,000,000"}
    headcount = sliders["staff.operators.headcount"]
    assert headcount["allowed"] == {"zh": "≥ 1, ≤ 10,000, 整数", "en": "≥ 1, ≤ 10,000, whole numbers"}
    assert [group["note"]["en"] != "" for group in answer.body["groups"]].count(True) == 2
    assert [choice["path"] for choice in answer.body["choices"]] == [
        "sources.ads.lure",
        "paths.to_wecom.carrier",
    ]
    assert answer.body["currency"] == "CNY"
    missing = request(f"{server}/api/levers?scenario=nope")
    assert missing.status == 404 and "scenario 'nope': not in" in missing.body["error"]
    assert "known scenarios: tiny_shop, more/plain" in missing.body["error"]


def test_a_rerun_shows_the_lever_s_effect_beside_the_unchanged_baseline(server: str) -> None:
    baseline = request(f"{server}/api/run", {"scenario": "tiny_shop", "values": {}, "choices": {}})
    assert baseline.status == 200
    rows = {row["name"]: row for row in baseline.body["metrics"]}
    members = rows["new_members"]
    assert members["baseline"] == members["variant"]  # nothing moved: the variant is the baseline
    assert members["difference"]["diff_mean"] == 0.0
    assert {"cac", "clv", "retention_d90", "staff_utilisation", "touches_per_member"} <= set(rows)
    assert members["zh"] == "新增私域用户" and members["en"] == "new members"
    again = request(f"{server}/api/run", {"scenario": "tiny_shop"})
    assert again.body["cached"] is True and again.body["seconds"] == 0  # the baseline is kept, not rerun
    assert again.body["metrics"] == baseline.body["metrics"]

    doubled = request(
        f"{server}/api/run", {"scenario": "tiny_shop", "values": {"sources.ads.spend_per_day": 1500}}
    )
    assert doubled.status == 200
    after = {row["name"]: row for row in doubled.body["metrics"]}
    assert after["new_members"]["baseline"] == members["baseline"]  # the baseline stays put
    difference = after["new_members"]["difference"]
    assert difference["diff_mean"] > 0 and difference["ci_low"] > 0  # more spend, more members: clearly
    assert after["new_members"]["variant"]["mean"] > members["baseline"]["mean"]

    figures = doubled.body["figures"]
    assert [figure["key"] for figure in figures] == ["funnel", "retention_carrier", "pool", "waterfall"]
    for figure in figures:
        assert figure["title"]["zh"] and figure["title"]["en"]
        for side in ("baseline", "variant"):
            assert figure[side]["zh"]["data"] and figure[side]["en"]["data"], (figure["key"], side)
    assert figures[0]["baseline"]["zh"] != figures[0]["variant"]["zh"]  # the funnel moved with the spend


def test_a_choice_reruns_with_another_lure(server: str) -> None:
    answer = request(
        f"{server}/api/run", {"scenario": "tiny_shop", "choices": {"sources.ads.lure": "community"}}
    )
    assert answer.status == 200
    rows = {row["name"]: row for row in answer.body["metrics"]}
    assert rows["new_members"]["difference"]["diff_mean"] < 0  # multiplier 0.8 instead of 1.2: fewer join


def test_bad_values_get_the_cli_s_clear_errors(server: str) -> None:
    bad = request(
        f"{server}/api/run", {"scenario": "tiny_shop", "values": {"carriers.wecom.monthly_exit_rate": 1.5}}
    )
    assert bad.status == 422
    assert bad.body["field"] == "carriers.wecom.monthly_exit_rate"
    assert re.search(r"monthly_exit_rate = 1\.5: .*must be < 1 \(got 1\.5\)", bad.body["error"])
    text = request(
        f"{server}/api/run", {"scenario": "tiny_shop", "values": {"staff.operators.headcount": "abc"}}
    )
    assert text.status == 422 and "'abc': not a number" in text.body["error"]
    unknown = request(f"{server}/api/run", {"scenario": "nope"})
    assert unknown.status == 404 and unknown.body["field"] == "scenario"
    not_json = request(f"{server}/api/run", data=b"{values")
    assert not_json.status == 400 and "not JSON" in not_json.body["error"]
    wrong_shape = request(f"{server}/api/run", {"scenario": "tiny_shop", "values": [1, 2]})
    assert wrong_shape.status == 400 and "'values' must be an object" in wrong_shape.body["error"]


def test_the_page_and_its_scripts_come_from_this_server_only(server: str) -> None:
    page = request(f"{server}/")
    assert page.status == 200 and "text/html" in page.content_type
    script = request(f"{server}/static/playground.js")
    style = request(f"{server}/static/playground.css")
    plotly = request(f"{server}/plotly.min.js")
    assert plotly.status == 200 and "plotly" in plotly.body[:2000].lower() and len(plotly.body) > 1_000_000
    for text in (page.body, script.body, style.body):
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text)  # nothing loaded from elsewhere
        assert 'fetch("http' not in text and "fetch('http" not in text
    assert 'src="/plotly.min.js"' in page.body


def test_catalogue_refuses_a_folder_without_scenarios(tmp_path: Path) -> None:
    with pytest.raises(PlaygroundError, match=r"no scenario to show \(no \*\.yaml files\)"):
        load_catalogue(tmp_path)
    with pytest.raises(PlaygroundError, match=r"no such folder"):
        load_catalogue(tmp_path / "missing")
