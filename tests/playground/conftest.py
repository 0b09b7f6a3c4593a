"""Fixtures of the playground's tests: a tiny scenario folder, a live server on a free port, and
``siyu serve`` as a real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from engine.cli_serve import listen
from playground.app import create_app
from playground.catalogue import load_catalogue
from playground.simulation import Simulator

SIYU = Path(sys.executable).with_name("siyu")

TINY_SHOP = """\
meta:
  name: "小店加企微 Tiny shop"
  description: "测试用的小场景：广告加企业微信。A tiny test scenario: ads onto WeCom."
horizon: {acquisition_days: 60, horizon_days: 150, clv_horizon_days: 90}
sources:
  - id: ads
    label: {zh: 信息流广告, en: feed ads}
    spend_per_day: 500
    reach: {max_paid_per_day: 3000, saturation_spend: 1000}
    visit_rate: 0.05
    take_rate: 0.4
    lure: coupon
    path: to_wecom
lures:
  - {id: coupon, label: {zh: 优惠券, en: coupon}, take_rate_multiplier: 1.2, cost_per_taker: 5}
  - {id: community, label: {zh: 社群, en: community}, kind: relationship, take_rate_multiplier: 0.8}
paths:
  - id: to_wecom
    label: {zh: 扫码加企微, en: scan to WeCom}
    carrier: wecom
    steps: [{name: scan, pass_rate: 0.8}, {name: add friend, pass_rate: 0.9}]
carriers:
  - {id: wecom, label: {zh: 企业微信, en: WeCom}, kind: wecom, monthly_exit_rate: 0.03}
  - {id: group, label: {zh: 社群, en: group}, kind: group, monthly_exit_rate: 0.08}
campaigns:
  - id: weekly
    label: {zh: 每周群发, en: weekly broadcast}
    channel: wecom_1on1
    carrier: wecom
    schedule: {every_days: 7}
    response: {default: 0.02}
    cost_per_touch: 0.05
staff:
  - {id: operators, role: operator, headcount: 2, monthly_cost: 8000}
behaviour:
  purchase_rate: {dist: gamma, shape: 1.0, rate: 20}
products:
  - {id: tea, price: {dist: lognormal, mean: 80, sd: 20}, unit_cost_share: 0.5}
"""
"""A scenario with every kind of main lever that runs in a few hundredths of a second."""

PLAIN = """\
meta:
  name: Plain store
sources:
  - id: store
    kind: offline
    reach: {organic_per_day: 100}
    first_purchase_probability: 0.3
products:
  - id: tea
"""
"""A scenario without any carrier: a store whose visitors buy."""

BROKEN = "meta: {name: Broken}\nsources: []\nproducts: [{id: tea}]\n"
"""Not a valid scenario (no source): the playground lists it as a problem and goes on."""


@pytest.fixture(scope="session")
def scenario_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the tiny shop, and in ``more/`` a plain store and a broken file."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "tiny_shop.yaml").write_text(TINY_SHOP, encoding="utf-8")
    (folder / "more").mkdir()
    (folder / "more" / "plain.yaml").write_text(PLAIN, encoding="utf-8")
    (folder / "more" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and body (JSON decoded when it is JSON)."""

    status: int
    body: Any
    content_type: str


def request(url: str, payload: Any = None, data: bytes | None = None) -> Answer:
    """GET ``url``, or POST ``payload`` as JSON (or raw ``data``); errors are answers too."""
    if payload is not None:
        data = json.dumps(payload).encode()
    request_ = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request_, timeout=60) as response:
            raw, status, kind = response.read(), response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get("Content-Type", "")
    body: Any = json.loads(raw) if kind.startswith("application/json") else raw.decode()
    return Answer(status, body, kind)


@contextmanager
def running_server(folder: Path, reps: int = 2, workers: int = 1) -> Iterator[str]:
    """The playground over ``folder`` served by uvicorn in a thread on a free port; yields its base URL."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(load_catalogue(folder), Simulator(reps, 1, workers))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


@pytest.fixture(scope="module")
def server(scenario_folder: Path) -> Iterator[str]:
    """Base URL of a live playground over :func:`scenario_folder` (2 replications, in-process)."""
    with running_server(scenario_folder) as url:
        yield url


@contextmanager
def siyu_serve(
    folder: Path, reps: int, *, stderr: int = subprocess.DEVNULL, must_stop: bool = False
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``siyu serve folder --port 0 --reps N --workers 1`` as a real process; yields it and the first line it
    prints (the address). On leaving it is sent Ctrl-C and given 20 s to stop, then killed (and with
    ``must_stop`` the timeout is raised)."""
    process = subprocess.Popen(
        [str(SIYU), "serve", str(folder), "--port", "0", "--reps", str(reps), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            if must_stop:
                raise
