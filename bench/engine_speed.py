"""Speed of the vectorized engine against a textbook simpy model of the same buy-till-you-die workload.

Reference workload: N customers arrive uniformly over the first 365 of 730 days and buy on arrival; then
they buy again at exponential intervals of mean 30 days (rate 1/30), and after each repeat purchase stop
buying for good with probability 0.1; each purchase costs lognormal(mean 100, sd 50).

Both models run in this one process, the engine first (so the process's peak RSS read between the two is
the engine's), and the script prints one JSON line::

    {"customers", "purchases_engine", "purchases_simpy", "engine_s", "simpy_s", "speedup",
     "engine_peak_rss_mb"}

It then checks that both give the same mean purchases per customer (two-sample z-test, |z| < 4) and that
each agrees with the closed form (one-sample z-test against theory, |z| < 4); if not, it says why on
stderr and exits with status 1. ``--skip-simpy`` runs the engine only (simpy fields null).

Run from the project root: ``.venv/bin/python bench/engine_speed.py --customers 100000``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
import simpy
from scipy import integrate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.model.simulation import simulate
from engine.scenario.schema import Scenario

ACQUISITION_DAYS = 365.0
HORIZON_DAYS = 730.0
RATE = 1.0 / 30.0  # repeat purchases per day
DROPOUT = 0.1  # probability of stopping after each repeat purchase
PRICE_MEAN = 100.0
PRICE_SD = 50.0
Z_LIMIT = 4.0


def scenario_dict(customers: int) -> dict:
    """The reference workload as an engine scenario."""
    return {
        "meta": {"name": "engine speed benchmark"},
        "horizon": {"acquisition_days": ACQUISITION_DAYS, "horizon_days": HORIZON_DAYS,
                    "clv_horizon_days": 365, "step_days": 7},
        "sources": [{
            "id": "organic",
            "arrivals": "fixed",
            "reach": {"organic_per_day": customers / ACQUISITION_DAYS},
            "first_purchase_probability": 1.0,
        }],
        "behaviour": {
            "purchase_rate": {"dist": "fixed", "value": RATE},
            "dropout": {"dist": "fixed", "value": DROPOUT},
        },
        "products": [{"id": "item", "price": {"dist": "lognormal", "mean": PRICE_MEAN, "sd": PRICE_SD}}],
    }


def operations_scenario_dict(customers: int) -> dict:
    """The reference workload with everyone joining the private domain and operations running on them
    (issue 4's speed check): every customer joins WeCom and a store group, a daily group deal, a weekly
    Moments post, and one in ten new members queueing for a 1-on-1 adviser."""
    scenario = scenario_dict(customers)
    source = dict(scenario["sources"][0], take_rate=1.0, path="join")
    source["consultation"] = {
        "staff": "advisers",
        "minutes": {"dist": "exponential", "mean": 20},
        "conversion": 0.3,
        "lead_share": 0.1,
    }
    return scenario | {
        "sources": [source],
        "paths": [{"id": "join", "carrier": "wecom"}],
        "carriers": [
            {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.03, "capacity_per_account": 10**7},
            {"id": "group", "kind": "group", "monthly_exit_rate": 0.06, "capacity_per_account": 10**7},
        ],
        "activation": {"second_carrier": "group", "second_carrier_rate": 1.0, "activation_rate": 1.0},
        "staff": [{"id": "advisers", "role": "adviser", "headcount": 4, "hours_per_day": 24}],
        "campaigns": [
            {"id": "daily_group", "channel": "wecom_group", "carrier": "group",
             "schedule": {"every_days": 1}, "response": {"default": 0.002}},
            {"id": "weekly_moments", "channel": "moments", "carrier": "wecom",
             "schedule": {"every_days": 7}, "response": {"default": 0.01}},
        ],
        "disturbance": {"category_frequency": "daily"},
    }


def run_operations(customers: int, seed: int) -> float:
    """Wall seconds of the engine on the operations workload."""
    start = time.perf_counter()
    simulate(Scenario.model_validate(operations_scenario_dict(customers)), seed)
    return time.perf_counter() - start


def run_engine(customers: int, seed: int) -> tuple[np.ndarray, float]:
    """Per-customer purchase counts from the engine, and the wall seconds it took."""
    start = time.perf_counter()
    scenario = Scenario.model_validate(scenario_dict(customers))
    ledger = simulate(scenario, seed)
    elapsed = time.perf_counter() - start
    counts = np.bincount(ledger.purchases.person, minlength=len(ledger.people))
    return counts, elapsed


def run_simpy(customers: int, seed: int) -> tuple[np.ndarray, float]:
    """Per-customer purchase counts from a textbook simpy model (one process per customer)."""
    start = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1_000_003,)))
    sigma2 = math.log1p((PRICE_SD / PRICE_MEAN) ** 2)
    mu, sigma = math.log(PRICE_MEAN) - sigma2 / 2, math.sqrt(sigma2)
    mean_gap = 1.0 / RATE
    env = simpy.Environment()
    buyers: list[int] = []
    days: list[float] = []
    amounts: list[float] = []

    def purchase(customer: int) -> None:
        buyers.append(customer)
        days.append(env.now)
        amounts.append(rng.lognormal(mu, sigma))

    def customer_process(customer: int, arrival: float):  # type: ignore[no-untyped-def]
        yield env.timeout(arrival)
        purchase(customer)
        while True:
            yield env.timeout(rng.exponential(mean_gap))
            if env.now > HORIZON_DAYS:
                return
            purchase(customer)
            if rng.random() < DROPOUT:
                return

    for customer in range(customers):
        env.process(customer_process(customer, rng.uniform(0.0, ACQUISITION_DAYS)))
    env.run()
    elapsed = time.perf_counter() - start
    counts = np.bincount(np.asarray(buyers, dtype=np.int64), minlength=customers)
    return counts, elapsed


def expected_purchases() -> float:
    """Closed form: 1 + E[repeats], E[repeats | T] = (1 − exp(−rate·p·T)) / p, T = 730 − a, a ~ U[0, 365]."""

    def repeats(arrival: float) -> float:
        remaining = HORIZON_DAYS - arrival
        return -math.expm1(-RATE * DROPOUT * remaining) / DROPOUT

    integral, _ = integrate.quad(repeats, 0.0, ACQUISITION_DAYS)
    return 1.0 + integral / ACQUISITION_DAYS


def z_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se)


def z_theory(a: np.ndarray, expected: float) -> float:
    return float((a.mean() - expected) / math.sqrt(a.var(ddof=1) / a.size))


def check(engine: np.ndarray, simpy_counts: np.ndarray | None, customers: int) -> list[str]:
    """Messages for every failed check (empty: all passed)."""
    failures: list[str] = []
    if engine.size != customers:
        failures.append(f"engine created {engine.size} customers, expected {customers}")
    expected = expected_purchases()
    samples = {"engine": engine} if simpy_counts is None else {"engine": engine, "simpy": simpy_counts}
    for name, counts in samples.items():
        z = z_theory(counts, expected)
        if not abs(z) < Z_LIMIT:
            failures.append(f"{name} mean purchases per customer {counts.mean():.5f} vs closed form "
                            f"{expected:.5f}: z = {z:.2f} (|z| must be < {Z_LIMIT:g})")
    if simpy_counts is not None:
        z = z_two_sample(engine, simpy_counts)
        if not abs(z) < Z_LIMIT:
            failures.append(f"engine mean {engine.mean():.5f} vs simpy mean {simpy_counts.mean():.5f} "
                            f"purchases per customer: z = {z:.2f} (|z| must be < {Z_LIMIT:g})")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers N (default 100000)")
    parser.add_argument("--seed", type=int, default=20240611, help="root seed of both models")
    parser.add_argument("--skip-simpy", action="store_true", help="run the engine only (for big N)")
    parser.add_argument("--operations", action="store_true",
                        help="also time the operations workload (campaigns, advisers) against the core one")
    args = parser.parse_args(argv)
    if args.customers < 2:
        parser.error("--customers must be at least 2")

    engine_counts, engine_s = run_engine(args.customers, args.seed)
    # ru_maxrss is KiB on Linux; it is the peak of the whole process so far (interpreter and imports
    # included), hence the engine runs before simpy.
    engine_peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    simpy_counts: np.ndarray | None = None
    simpy_s: float | None = None
    if not args.skip_simpy:
        simpy_counts, simpy_s = run_simpy(args.customers, args.seed)

    operations = {}
    if args.operations:
        operations_s = run_operations(args.customers, args.seed)
        ratio = round(operations_s / engine_s, 2)
        operations = {"operations_s": round(operations_s, 4), "operations_ratio": ratio}
    print(json.dumps({
        "customers": args.customers,
        "purchases_engine": int(engine_counts.sum()),
        "purchases_simpy": None if simpy_counts is None else int(simpy_counts.sum()),
        "engine_s": round(engine_s, 4),
        "simpy_s": None if simpy_s is None else round(simpy_s, 4),
        "speedup": None if simpy_s is None else round(simpy_s / engine_s, 2),
        "engine_peak_rss_mb": round(engine_peak_rss_mb, 1),
        **operations,
    }), flush=True)

    failures = check(engine_counts, simpy_counts, args.customers)
    for failure in failures:
        print(f"engine_speed: check failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
